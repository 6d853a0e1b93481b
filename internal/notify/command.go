package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kballard/go-shellquote"
)

// DefaultCommandTimeout bounds a hook that hangs.
const DefaultCommandTimeout = 30 * time.Second

// maxHookOutput is how much of a hook's output reaches the log.
const maxHookOutput = 4 << 10

// CommandOptions tunes Command; the zero value is fine.
type CommandOptions struct {
	Timeout time.Duration // default DefaultCommandTimeout
	Logger  *slog.Logger  // the hook's output goes here; default slog.Default()
}

// Command runs cmdline for each event with the event in SSOKEEP_EVENT,
// SSOKEEP_PROFILE, SSOKEEP_SESSION, SSOKEEP_VERIFICATION_URL,
// SSOKEEP_USER_CODE, SSOKEEP_DEADLINE (RFC 3339, empty when unknown) and
// SSOKEEP_MESSAGE.
//
// cmdline is split like a POSIX shell would (quotes, backslashes) but no
// shell runs it: event text reaches the hook only through the environment,
// never through a command line that a shell would re-parse, and the same
// setting works on Windows. Who wants a shell writes `sh -c '…'` explicitly.
// A cmdline that does not split makes every Notify fail with the reason;
// check it up front with ParseCommand.
func Command(cmdline string) Notifier { return CommandWith(cmdline, CommandOptions{}) }

// CommandWith is Command with options.
func CommandWith(cmdline string, o CommandOptions) Notifier {
	argv, err := ParseCommand(cmdline)
	if o.Timeout <= 0 {
		o.Timeout = DefaultCommandTimeout
	}
	return &command{argv: argv, parseErr: err, opts: o}
}

// ParseCommand splits a hook command line, or says what is wrong with it.
func ParseCommand(cmdline string) ([]string, error) {
	argv, err := shellquote.Split(cmdline)
	if err != nil {
		return nil, fmt.Errorf("notify command %q: %v; quote it as in a POSIX shell", cmdline, err)
	}
	if len(argv) == 0 {
		return nil, errors.New("notify command is empty; give a program and its arguments, e.g. notify-send ssokeep")
	}
	return argv, nil
}

type command struct {
	argv     []string
	parseErr error
	opts     CommandOptions
}

// String names the program only: the rest of a hook's command line may hold
// a webhook URL or an API key.
func (c *command) String() string {
	if len(c.argv) == 0 {
		return "command"
	}
	return "command " + filepath.Base(c.argv[0])
}

func (c *command) logger() *slog.Logger {
	if c.opts.Logger != nil {
		return c.opts.Logger
	}
	return slog.Default()
}

func (c *command) Notify(ctx context.Context, e Event) error {
	if c.parseErr != nil {
		return c.parseErr
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Env = eventEnv(os.Environ(), e)
	out := &cappedBuffer{max: maxHookOutput}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = time.Second // a grandchild holding the pipes open must not hold us
	err := cmd.Run()
	log := c.logger().With("hook", c.String(), "event", string(e.Kind), "profile", e.Profile)
	if text := strings.TrimSpace(out.String()); text != "" {
		level := slog.LevelInfo
		if err != nil {
			level = slog.LevelWarn
		}
		log.Log(context.WithoutCancel(ctx), level, "notify: hook output", "output", text)
	}
	switch {
	case err == nil:
		return nil
	case ctx.Err() == context.DeadlineExceeded:
		return fmt.Errorf("%s: no answer after %s; killed it", c, c.opts.Timeout)
	default:
		return fmt.Errorf("%s: %w", c, err)
	}
}

// EnvNames are the variables a hook receives, in this order.
var EnvNames = []string{
	"SSOKEEP_EVENT", "SSOKEEP_PROFILE", "SSOKEEP_SESSION", "SSOKEEP_VERIFICATION_URL",
	"SSOKEEP_USER_CODE", "SSOKEEP_DEADLINE", "SSOKEEP_MESSAGE",
}

// eventEnv is base without any inherited SSOKEEP_* (a hook must not see a
// stale value from an outer ssokeep) plus this event's variables, all of
// them always set so a hook can rely on their presence.
func eventEnv(base []string, e Event) []string {
	env := make([]string, 0, len(base)+len(EnvNames))
	for _, kv := range base {
		if !strings.HasPrefix(kv, "SSOKEEP_") {
			env = append(env, kv)
		}
	}
	deadline := ""
	if !e.Deadline.IsZero() {
		deadline = e.Deadline.UTC().Format(time.RFC3339)
	}
	values := []string{string(e.Kind), e.Profile, e.Session, e.VerificationURL, e.UserCode, deadline, oneLine(e.Text())}
	for i, n := range EnvNames {
		env = append(env, n+"="+values[i])
	}
	return env
}

// cappedBuffer keeps the first max bytes and counts the rest, so a chatty
// hook cannot fill memory.
type cappedBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	max     int
	dropped int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - c.b.Len()
	if room < len(p) {
		if room > 0 {
			c.b.Write(p[:room])
		}
		c.dropped += len(p) - max(room, 0)
		return len(p), nil
	}
	c.b.Write(p)
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dropped > 0 {
		return fmt.Sprintf("%s… (%d more bytes)", c.b.String(), c.dropped)
	}
	return c.b.String()
}
