//go:build unix

package job

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

type procGroup struct {
	pgid int
	tty  *os.File // the terminal the job got the foreground of, if any
}

func (p *procGroup) prepare(cmd *exec.Cmd, stdin *os.File) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if stdin == nil {
		return
	}
	// Only a foreground ssokeep may hand the terminal to the job.
	if pgrp, err := unix.IoctlGetInt(int(stdin.Fd()), unix.TIOCGPGRP); err == nil && pgrp == unix.Getpgrp() {
		cmd.SysProcAttr.Foreground = true
		cmd.SysProcAttr.Ctty = int(stdin.Fd())
		p.tty = stdin
	}
}

func (p *procGroup) started(cmd *exec.Cmd) { p.pgid = cmd.Process.Pid }

func (p *procGroup) signal(cmd *exec.Cmd, sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return cmd.Process.Signal(sig)
	}
	err := unix.Kill(-p.pgid, s)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// finished takes the terminal back: a background process group changing the
// foreground would be stopped by SIGTTOU, so ignore it for the call.
func (p *procGroup) finished() {
	if p.tty == nil {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(p.tty.Fd()), unix.TIOCSPGRP, unix.Getpgrp())
}

func (p *procGroup) remaining() bool {
	return unix.Kill(-p.pgid, 0) == nil
}

func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
