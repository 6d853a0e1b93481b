//go:build windows

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// handOver runs the full command (Windows cannot replace a process) and
// returns its exit code.
func handOver(path string, args []string) int {
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ssokeep-credential-process: running %s: %v\n", path, err)
		return 1
	}
	return 0
}
