//go:build unix

package cli

import (
	"os"
	"syscall"
)

// ForwardedSignals are passed on to a job run by exec.
var ForwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}
