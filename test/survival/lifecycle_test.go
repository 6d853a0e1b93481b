//go:build unix

package survival

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/syncbuf"
)

// The job's life under exec: its exit code comes back, a SIGTERM to ssokeep
// reaches it, and a process it left behind keeps getting credentials until
// it is done. One emulator and one login for all of them.
func TestJobLifecycle(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	e.login(t)

	t.Run("exit code passes through", func(t *testing.T) {
		for _, c := range []struct {
			argv []string
			want int
		}{
			{[]string{"sh", "-c", "exit 3"}, 3},
			{[]string{"sh", "-c", "exit 0"}, 0},
			{[]string{"sh", "-c", "kill -KILL $$"}, 128 + 9}, // as a shell reports a killed job
			{[]string{filepath.Join(e.home, "no-such-command")}, 127},
		} {
			r := e.run(t, time.Minute, nil, c.argv...)
			if r.code != c.want {
				t.Errorf("ssokeep exec -- %s exited %d, want %d\nstderr:\n%s", strings.Join(c.argv, " "), r.code, c.want, e.redact(r.stderr))
			}
		}
	})

	t.Run("SIGTERM reaches the job", func(t *testing.T) {
		mark := filepath.Join(e.home, "got-term")
		// The job traps TERM, notes it and exits 7; ssokeep must pass that on.
		// It says ready only once its sleep has replaced the forked shell (on
		// Linux, where /proc shows it): a TERM that reached the child between
		// fork and exec would be lost with the shell's handler, the sleep
		// would live on, and ssokeep rightly waits for every process of the job.
		script := `trap 'echo TERM >"$SURVIVAL_MARK"; exit 7' TERM; sleep 120 & ` +
			`until [ ! -d /proc/$! ] || { read c </proc/$!/comm && [ "$c" = sleep ]; }; do :; done; ` +
			`echo ready; wait $!; echo "no signal" >"$SURVIVAL_MARK"`
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := e.execCmd(ctx, t, []string{"SURVIVAL_MARK=" + mark}, "sh", "-c", script)
		stderr := &syncbuf.Buffer{}
		cmd.Stderr = stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		if !sc.Scan() || sc.Text() != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the job did not start (first line %q)\nstderr:\n%s", sc.Text(), e.redact(stderr.String()))
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for sc.Scan() {
		}
		code := exitCode(t, cmd.Wait())
		e.record("ssokeep exec (SIGTERM) stderr", stderr.String())
		if ctx.Err() != nil {
			t.Fatalf("ssokeep did not end after SIGTERM: the job never got it\nstderr:\n%s", e.redact(stderr.String()))
		}
		got, _ := os.ReadFile(mark)
		if strings.TrimSpace(string(got)) != "TERM" || code != 7 {
			t.Errorf("after SIGTERM to ssokeep: the job noted %q and ssokeep exited %d; want TERM and the job's 7\nstderr:\n%s", got, code, e.redact(stderr.String()))
		}
	})

	t.Run("a grandchild outlives the job and keeps getting credentials", func(t *testing.T) {
		out := filepath.Join(e.home, "grandchild.json")
		secrets := filepath.Join(e.home, "grandchild-secrets")
		// The job starts a process that waits until the job has exited,
		// then runs a real SDK client on exec's endpoint, as Metaflow's s3op
		// workers may outlive the task that started them.
		script := `job=$$
( while kill -0 "$job" 2>/dev/null; do sleep 0.2; done
  exec "$GOCHILD" -once -bucket grandchild -secrets "$SURVIVAL_SECRETS_FILE" >"$SURVIVAL_OUT" ) &
echo "job exits"`
		r := e.run(t, time.Minute, []string{"GOCHILD=" + bin.gochild, "SURVIVAL_OUT=" + out, "SURVIVAL_SECRETS_FILE=" + secrets},
			"sh", "-c", script)
		// ssokeep has exited: the grandchild must have finished before.
		b, err := os.ReadFile(out)
		if err != nil || r.code != 0 {
			t.Fatalf("ssokeep exited %d before the grandchild reported (%v)\nstderr:\n%s", r.code, err, e.redact(r.stderr))
		}
		e.addSecretsFile(t, secrets, "secret the grandchild held")
		var rep childReport
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatalf("the grandchild's report is incomplete (%v): ssokeep stopped serving before it was done: %q", err, b)
		}
		if rep.Failures != 0 || rep.ByOperation["PutObject"] != 1 || rep.ByOperation["GetObject"] != 1 {
			t.Errorf("the grandchild, after the job exited: %s", e.redact(rep.describe()))
		}
		if len(rep.CredentialSources) != 1 || rep.CredentialSources[0] != "CredentialsEndpointProvider" {
			t.Errorf("the grandchild's credentials came from %v, want ssokeep's endpoint", rep.CredentialSources)
		}
		t.Logf("grandchild after the job exited: %s, ssokeep exited %v after the job's start", e.redact(rep.describe()), r.ended.Sub(r.started).Round(time.Millisecond))
	})

	e.assertNoSecrets(t, 5)
}
