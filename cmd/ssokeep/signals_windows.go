//go:build windows

package main

import "os"

// forwardedSignals are passed on to a job run by exec.
var forwardedSignals = []os.Signal{os.Interrupt}
