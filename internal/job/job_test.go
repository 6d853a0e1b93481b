//go:build unix

package job

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitCodeAndOutput(t *testing.T) {
	var out bytes.Buffer
	j, err := Start(Options{Argv: []string{"sh", "-c", "echo hello; exit 7"}, Stdout: &out})
	if err != nil {
		t.Fatal(err)
	}
	code, err := j.Wait()
	if err != nil || code != 7 || out.String() != "hello\n" {
		t.Errorf("code %d err %v out %q", code, err, out.String())
	}
}

func TestSignalReachesTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready")
	// The command starts a grandchild, then both wait for a signal.
	script := `trap 'echo child-term >> ` + dir + `/log; exit 0' TERM
(trap 'echo grandchild-term >> ` + dir + `/log; exit 0' TERM; touch ` + ready + `; while :; do sleep 0.05; done) &
wait`
	j, err := Start(Options{Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, err := os.Stat(ready); return err == nil })
	if err := j.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	j.Wait()
	waitFor(t, func() bool { return !j.Remaining() })
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if !strings.Contains(string(log), "grandchild-term") {
		t.Errorf("the grandchild did not get the signal: %q", log)
	}
}

func TestRemainingSeesGrandchildrenOutliveTheCommand(t *testing.T) {
	dir := t.TempDir()
	gate := filepath.Join(dir, "gate")
	j, err := Start(Options{Argv: []string{"sh", "-c", "(while [ ! -e " + gate + " ]; do sleep 0.02; done) & exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := j.Wait(); code != 3 {
		t.Errorf("code %d", code)
	}
	if !j.Remaining() {
		t.Fatal("the background grandchild is not seen")
	}
	os.WriteFile(gate, nil, 0o600)
	waitFor(t, func() bool { return !j.Remaining() })
}

func TestKilledBySignalReportsLikeAShell(t *testing.T) {
	j, err := Start(Options{Argv: []string{"sh", "-c", "kill -KILL $$"}})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := j.Wait(); code != 128+9 {
		t.Errorf("code %d, want 137", code)
	}
}

func TestUnknownCommand(t *testing.T) {
	if _, err := Start(Options{Argv: []string{"no-such-command-ssokeep"}}); err == nil {
		t.Error("no error")
	}
}

// waitFor polls a condition another process will make true: real processes
// run on the real clock.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
