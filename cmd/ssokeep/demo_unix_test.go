//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/testbin"
)

// TestDemoStopsOnCtrlC interrupts the demo while its job runs: the job must
// stop, the demo must say so and exit 130, and leave no process behind.
func TestDemoStopsOnCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a demo")
	}
	t.Parallel()
	bin := testbin.Ssokeep(t)
	env, _ := demoEnv(t)
	cmd := exec.Command(bin, "demo", "--speed", "4")
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A demo that ignores Ctrl-C fails the test instead of hanging it.
	defer time.AfterFunc(waitTimeout, func() { cmd.Process.Kill() }).Stop()
	var seen bytes.Buffer
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		seen.WriteString(lines.Text() + "\n")
		if strings.Contains(lines.Text(), "the job's AWS SDK gets its credentials") {
			break
		}
	}
	job := demoJobPIDs(t, bin, cmd.Process.Pid)
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(out)
	seen.Write(rest)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130\n%s\n%s", err, seen.String(), stderr.String())
	}
	for _, want := range []string{"job stopped by Ctrl-C (exit 130)", "ssokeep demo: interrupted.", "Interrupted before the job's end."} {
		if !strings.Contains(seen.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, seen.String())
		}
	}
	if len(job) == 0 {
		t.Errorf("no demo-job process was running when the job had started")
	}
	for _, pid := range job {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("the demo's job (pid %d) outlived the demo", pid)
		}
	}
}

// demoJobPIDs finds the sample jobs the demo process parent runs (Linux
// /proc): other tests run demos of the same binary at the same time.
func demoJobPIDs(t *testing.T, bin string, parent int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to find the job's process")
	}
	var pids []int
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) < 2 || args[0] != bin || args[1] != "demo-job" {
			continue
		}
		status, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err == nil && strings.Contains(string(status), fmt.Sprintf("\nPPid:\t%d\n", parent)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitTimeout bounds how long a test waits on a demo process.
const waitTimeout = 2 * time.Minute
