//go:build !unix

package handover

import (
	"context"
	"errors"
)

// Windows has no exec that keeps the process (and its pid, which the
// keeper registry and the job's parent rely on): commands stay where they are.
const supported = false

func execve(ctx context.Context, path string, argv, env []string) error { return errors.ErrUnsupported }
