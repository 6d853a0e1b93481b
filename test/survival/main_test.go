//go:build unix

package survival

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The binaries every test runs, built once.
var bin struct {
	ssokeep string // the ssokeep command
	gochild string // testdata/gochild: the aws-sdk-go-v2 job
}

func TestMain(m *testing.M) {
	flag.Parse()
	// The scenarios spend minutes waiting on the real clock, not on the CPU:
	// run them all at once even where -parallel defaults to 2 (GOMAXPROCS),
	// unless the caller chose a -parallel.
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(8, runtime.GOMAXPROCS(0))))
	}
	dir, err := os.MkdirTemp("", "ssokeep-survival-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := 1
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "survival:", err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ssokeep, ssokeep-keeper beside it (so exec continues there,
// as in an installation) and the Go child into dir, at once.
func build(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin.ssokeep = filepath.Join(dir, "ssokeep")
	bin.gochild = filepath.Join(dir, "gochild")
	targets := map[string]string{bin.ssokeep: "github.com/ssokeep/ssokeep/cmd/ssokeep", bin.gochild: "./testdata/gochild",
		filepath.Join(dir, "ssokeep-keeper"): "github.com/ssokeep/ssokeep/cmd/ssokeep-keeper"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for out, pkg := range targets {
		wg.Go(func() {
			if b, err := exec.Command(goTool, "build", "-o", out, pkg).CombinedOutput(); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("go build %s: %v\n%s", pkg, err, b))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}
