//go:build unix

package handover

import "syscall"

const supported = true

func execve(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }
