// Package testbin builds this module's commands for the tests that run them
// as a user would, once per test binary, into one directory: each command
// finds its siblings there as it would in an installation.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

const module = "github.com/ssokeep/ssokeep/cmd/"

var (
	mu    sync.Mutex
	dir   string
	built = map[string]error{}
)

// Main runs the tests and then removes what they built; call it from
// TestMain in packages that use this one.
func Main(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if dir != "" {
		os.RemoveAll(dir)
		dir, built = "", map[string]error{}
	}
	return code
}

// Ssokeep returns the path of a freshly built ssokeep.
func Ssokeep(t testing.TB) string { return Command(t, "ssokeep") }

// Command builds the command in cmd/NAME (ssokeep, ssokeep-credential-process,
// ssokeep-keeper) the first time it is asked for and returns its path.
func Command(t testing.TB, name string) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if dir == "" {
		d, err := os.MkdirTemp("", "ssokeep-testbin")
		if err != nil {
			t.Fatal(err)
		}
		dir = d
	}
	bin := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	err, done := built[name]
	if !done {
		if out, berr := exec.Command("go", "build", "-o", bin, module+name).CombinedOutput(); berr != nil {
			err = &buildError{name: name, out: string(out), err: berr}
		}
		built[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

type buildError struct {
	name, out string
	err       error
}

func (e *buildError) Error() string {
	return "go build " + e.name + ": " + e.err.Error() + "\n" + e.out
}
