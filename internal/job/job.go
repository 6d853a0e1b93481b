// Package job runs the command `ssokeep exec` wraps: it starts it in a process
// group of its own (on Unix), forwards signals to the whole group, returns the
// command's exit code, and tells when every process of the group is gone, so
// the credentials endpoint can stay up for a job's grandchildren (Metaflow's
// task and S3 worker processes) until they are done.
package job

import (
	"errors"
	"io"
	"os"
	"os/exec"
)

// Options describe the command to run.
type Options struct {
	Argv           []string
	Env            []string
	Stdin          *os.File // nil: no input
	Stdout, Stderr io.Writer
}

// Job is a running command.
type Job struct {
	cmd *exec.Cmd
	pg  procGroup
}

// Start runs the command. When stdin is a terminal the job's process group
// becomes the terminal's foreground group, so the command reads the terminal
// and gets Ctrl-C as if it ran alone.
func Start(o Options) (*Job, error) {
	if len(o.Argv) == 0 {
		return nil, errors.New("no command to run")
	}
	path, err := exec.LookPath(o.Argv[0])
	if err != nil {
		return nil, err
	}
	cmd := &exec.Cmd{Path: path, Args: o.Argv, Env: o.Env, Stdout: o.Stdout, Stderr: o.Stderr}
	if o.Stdin != nil {
		cmd.Stdin = o.Stdin
	}
	j := &Job{cmd: cmd}
	j.pg.prepare(cmd, o.Stdin)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	j.pg.started(cmd)
	return j, nil
}

// Pid is the command's process id.
func (j *Job) Pid() int { return j.cmd.Process.Pid }

// Signal sends sig to every process of the job.
func (j *Job) Signal(sig os.Signal) error { return j.pg.signal(j.cmd, sig) }

// Wait waits for the command itself and returns its exit code (128+n when a
// signal n ended it, as shells report). It gives the terminal back to ssokeep.
func (j *Job) Wait() (int, error) {
	err := j.cmd.Wait()
	j.pg.finished()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 1, err
	}
	return exitCode(j.cmd.ProcessState), nil
}

// Remaining reports whether processes the job started are still running
// after the command itself exited (always false where this cannot be known).
func (j *Job) Remaining() bool { return j.pg.remaining() }
