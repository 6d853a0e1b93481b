//go:build windows

package job

import (
	"os"
	"os/exec"
)

// Windows has no process groups to signal or poll here: the job is the command.
type procGroup struct{}

func (p *procGroup) prepare(cmd *exec.Cmd, stdin *os.File) {}
func (p *procGroup) started(cmd *exec.Cmd)                 {}
func (p *procGroup) finished()                             {}
func (p *procGroup) remaining() bool                       { return false }

func (p *procGroup) signal(cmd *exec.Cmd, sig os.Signal) error {
	if sig == os.Interrupt {
		return nil // the console already delivered Ctrl-C to the job
	}
	return cmd.Process.Kill()
}

func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
