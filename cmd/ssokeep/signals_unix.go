//go:build unix

package main

import (
	"os"
	"syscall"
)

// forwardedSignals are passed on to a job run by exec.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}
