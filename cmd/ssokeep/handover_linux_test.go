package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/emulator/emutest"
	"github.com/ssokeep/ssokeep/internal/handover"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

// loggedIn is an environment with a home whose AWS config names a running
// emulator's profile, logged in through the binary bin.
func loggedIn(t *testing.T, bin string) []string {
	t.Helper()
	emu, _ := emutest.Start(t, emulator.Options{Approve: emulator.Auto}, time.Time{})
	home := t.TempDir()
	cfg := filepath.Join(home, ".aws", "config")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	if err := os.WriteFile(cfg, []byte(emu.AWSConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "HOME" && k != "AWS_PROFILE" && k != handover.Disable && !strings.HasPrefix(k, "AWS_ACCESS") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+home, "AWS_CONFIG_FILE="+cfg)
	login := exec.Command(bin, "login", "-p", "emulator", "--device-code", "--no-browser")
	login.Env = env
	if out, err := login.CombinedOutput(); err != nil {
		t.Fatalf("login: %v\n%s", err, out)
	}
	return env
}

// jobParent runs `bin exec` with a job that prints its parent's pid and
// binary, and exits 7; it returns what the job saw, the pid exec started
// with, and exec's stderr.
func jobParent(t *testing.T, bin string, env []string) (pid int, exe string, execPID int, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, "--log-level", "debug", "exec", "-p", "emulator", "--no-desktop", "--",
		"sh", "-c", `echo "$PPID $(readlink /proc/$PPID/exe)"; exit 7`)
	cmd.Env = env
	var errb strings.Builder
	cmd.Stderr = &errb
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("exec: %v, want the job's exit code 7; stdout %q\n%s", err, out, errb.String())
	}
	ppid, exe, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	pid, _ = strconv.Atoi(ppid)
	return pid, exe, cmd.Process.Pid, errb.String()
}

func TestExecContinuesInTheKeeperBesideIt(t *testing.T) {
	bin := testbin.Ssokeep(t)
	keeper := testbin.Command(t, "ssokeep-keeper")
	env := loggedIn(t, bin)

	pid, exe, execPID, stderr := jobParent(t, bin, env)
	if exe != keeper || pid != execPID {
		t.Errorf("the job's parent is pid %d (%s); want the same process (%d) continued in %s\n%s", pid, exe, execPID, keeper, stderr)
	}

	pid, exe, execPID, _ = jobParent(t, bin, append(env, handover.Disable+"=1"))
	if exe != bin || pid != execPID {
		t.Errorf("with %s set the job's parent is %d (%s); want %d (%s)", handover.Disable, pid, exe, execPID, bin)
	}
}

func TestAKeeperFromAnotherBuildIsNotUsed(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "ssokeep")
	b, err := os.ReadFile(testbin.Ssokeep(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// Other build settings than ssokeep's (an older or differently built install).
	if out, err := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "ssokeep-keeper"), "../ssokeep-keeper").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := loggedIn(t, bin)
	_, exe, _, stderr := jobParent(t, bin, env)
	if exe != bin || !strings.Contains(stderr, "-trimpath") {
		t.Errorf("the job ran under %s; want %s, with a debug line naming the difference:\n%s", exe, bin, stderr)
	}
	doctor := exec.Command(bin, "doctor")
	doctor.Env = env
	out, err := doctor.Output()
	if err != nil || !strings.Contains(string(out), "not in ssokeep-keeper") || !strings.Contains(string(out), "-trimpath") {
		t.Errorf("doctor: %v, want it to say why exec and serve stay in ssokeep:\n%s", err, out)
	}
}
