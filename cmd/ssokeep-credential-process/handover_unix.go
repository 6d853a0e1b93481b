//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"
)

// handOver replaces this process with the full command: its exit code,
// stdout and stderr are the caller's.
func handOver(path string, args []string) int {
	err := syscall.Exec(path, append([]string{path}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "ssokeep-credential-process: running %s: %v\n", path, err)
	return 1
}
