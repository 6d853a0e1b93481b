package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ssokeep/ssokeep/internal/testbin"
)

// TestDemoLiveViewInTmux runs scripts/demo-tmux-check: the demo in a real
// terminal (a tmux pane), checked as a person would see it.
func TestDemoLiveViewInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 50-second demo in tmux")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed: scripts/demo-tmux-check needs it to check the live view in a real terminal")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed: scripts/demo-tmux-check is a bash script")
	}
	t.Parallel()
	bin := testbin.Ssokeep(t)
	cmd := exec.Command(filepath.Join("..", "..", "scripts", "demo-tmux-check"))
	cmd.Env = append(os.Environ(), "SSOKEEP_BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/demo-tmux-check: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
