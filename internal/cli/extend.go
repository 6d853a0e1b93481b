package cli

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// What a command defined outside this package may use. cmd/ssokeep adds the
// emulator and the demo through Register, so the lean ssokeep-keeper binary,
// which runs exec and serve for days, links neither.

// Stdout is where the command's output goes.
func (g *Globals) Stdout() io.Writer { return g.stdout }

// Stderr is where the command's messages go.
func (g *Globals) Stderr() io.Writer { return g.stderr }

// Logger logs at the level --log-level asked for.
func (g *Globals) Logger() *slog.Logger { return g.logger }

// LogLevel is the level --log-level asked for (warn when it is not valid:
// the root command refuses that before any command runs).
func (g *Globals) LogLevel() slog.Level {
	l, err := parseLogLevel(g.logLevel)
	if err != nil {
		return slog.LevelWarn
	}
	return l
}

// Root is the command tree Run executes, for tools that render it (the
// reference documentation).
func Root(stdout, stderr io.Writer) *cobra.Command {
	return newRootCmd(&Globals{stdin: os.Stdin, stdout: stdout, stderr: stderr})
}

// A Handover moves a long-running command into a leaner binary.
type Handover interface {
	// Target is the binary the command would continue in, or why it stays.
	Target() (string, error)
	// Continue replaces the process with Target running args; it returns
	// only when the command stays here (ctx done: interrupted before it).
	Continue(ctx context.Context, args []string, log *slog.Logger)
}

// Lean, when set, is where exec and serve continue once their flags are
// parsed, before they start anything (cmd/ssokeep sets it to
// ssokeep-keeper); doctor says when they would not.
var Lean Handover

func handOver(ctx context.Context, g *Globals) {
	if Lean != nil {
		Lean.Continue(ctx, g.args, g.logger)
	}
}
