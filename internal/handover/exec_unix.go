//go:build unix

package handover

import (
	"context"
	"os/signal"
	"syscall"
)

const supported = true

// execve replaces the process unless ctx is already done. The Go runtime
// consumes a caught signal, so one caught just before the exec would be lost
// to the new image. Handlers go back to the defaults first: a Ctrl-C or
// SIGTERM from then on ends the process as it would one that has not started
// (no job has), and one caught before shows in ctx and stops the handover.
func execve(ctx context.Context, path string, argv, env []string) error {
	signal.Reset()
	if err := ctx.Err(); err != nil {
		return err
	}
	return syscall.Exec(path, argv, env)
}
