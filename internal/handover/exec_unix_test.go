//go:build unix

package handover

import (
	"context"
	"errors"
	"testing"
)

// A command interrupted before its handover ends here: execve must not
// replace the process (if it did, this test binary would become a shell that
// exits 3, and the run would fail).
func TestAnInterruptedCommandIsNotHandedOver(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := execve(ctx, "/bin/sh", []string{"sh", "-c", "exit 3"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("execve with a cancelled context: %v", err)
	}
}
