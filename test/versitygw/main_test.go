package survival

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// One versitygw per process (its rule), shared by every test here; each
// test works in its own bucket and reads the counts for that bucket.
var (
	gw        *Gateway
	reg       *Registry
	moduleDir string // this module, captured before the posix backend changes directory
	repoRoot  string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	moduleDir, repoRoot = wd, filepath.Clean(filepath.Join(wd, "..", ".."))
	tmp, err := os.MkdirTemp("", "ssokeep-versitygw-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	reg = NewRegistry(time.Now)
	gw, err = StartGateway(reg, data, "us-east-1")
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting versitygw:", err)
		return 1
	}
	code := m.Run()
	if err := gw.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping versitygw:", err)
		code = 1
	}
	os.Chdir(wd)
	return code
}
