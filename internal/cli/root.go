// Package cli is ssokeep's command line: every command but the emulator and the
// demo, which cmd/ssokeep adds through Register. cmd/ssokeep and
// cmd/ssokeep-keeper are both a main around Run.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command. status documents the ones it uses.
const (
	ExitOK          = 0
	ExitError       = 1 // a runtime failure (network, file system, ...)
	ExitUsage       = 2 // bad flags or arguments
	ExitConfig      = 3 // the AWS configuration is invalid or the profile is unknown
	ExitLoginNeeded = 4 // no usable token: a human must log in
	ExitExpiring    = 5 // usable now, but ends within --min-remaining and cannot be refreshed
)

// codedError carries an exit code through cobra's error return.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// WithCode makes the command exit with code, after printing err.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// SilentExit ends the command with a code and no further message: the command
// has already said what it had to.
func SilentExit(code int) error { return &codedError{code: code} }

// Globals are the flags every command shares.
type Globals struct {
	profile  string
	logLevel string
	noColor  bool

	args           []string // the command line Run was given, for Handover
	stdin          io.Reader
	stdout, stderr io.Writer
	logger         *slog.Logger
}

// profileName is the profile the user asked for: -p, then AWS_PROFILE, then
// AWS_DEFAULT_PROFILE, then "default" (the AWS CLI v2 order).
func (g *Globals) profileName() string {
	if p := g.explicitProfile(); p != "" {
		return p
	}
	return "default"
}

// Color reports whether output to w may use ANSI colours.
func (g *Globals) Color(w io.Writer) bool {
	if g.noColor || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

func newRootCmd(g *Globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "ssokeep",
		Short: "Keep AWS IAM Identity Center (SSO) credentials alive for long-running jobs",
		Long: `ssokeep keeps AWS credentials fresh for jobs that outlive an IAM Identity Center
(AWS SSO) access token, sign-in session or role credential. It shares the AWS CLI v2
SSO cache (~/.aws/sso/cache), so the CLI, boto3 and the SDKs see what it does.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			lvl, err := parseLogLevel(g.logLevel)
			if err != nil {
				return WithCode(ExitUsage, err)
			}
			g.logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: lvl}))
			return nil
		},
	}
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	pf := root.PersistentFlags()
	pf.StringVarP(&g.profile, "profile", "p", "", "AWS profile (default: $AWS_PROFILE, then $AWS_DEFAULT_PROFILE, then \"default\")")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	pf.BoolVar(&g.noColor, "no-color", false, "never colour the output (also: NO_COLOR set)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return WithCode(ExitUsage, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})

	for _, newCmd := range commands {
		root.AddCommand(newCmd(g))
	}
	return root
}

// commands holds the constructors of every subcommand. Each command's file adds
// its own from init, so commands can be written side by side without touching
// this one; cobra sorts them for help.
var commands []func(*Globals) *cobra.Command

// Register adds a subcommand; call it from init.
func Register(newCmd func(*Globals) *cobra.Command) { commands = append(commands, newCmd) }

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("--log-level %q: use debug, info, warn or error", s)
	}
	return l, nil
}

// Run executes the CLI and returns the process exit code.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &Globals{args: args, stdin: stdin, stdout: stdout, stderr: stderr,
		logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	root := newRootCmd(g)
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ce *codedError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(stderr, "ssokeep: %v\n", ce.err)
		}
		return ce.code
	}
	fmt.Fprintf(stderr, "ssokeep: %v\n", err)
	if strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		return ExitUsage
	}
	return ExitError
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
