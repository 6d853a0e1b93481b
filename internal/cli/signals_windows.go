//go:build windows

package cli

import "os"

// ForwardedSignals are passed on to a job run by exec.
var ForwardedSignals = []os.Signal{os.Interrupt}
