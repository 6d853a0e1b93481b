// Command ssokeep-credential-process is the fast front of `ssokeep
// credential-process` for the credential_process setting:
//
//	[profile dev-cp]
//	credential_process = ssokeep-credential-process -p dev
//
// boto3 runs the command once per session and again whenever a set has
// fewer than 15 minutes left, so its start-up is paid over and over. This
// binary links no AWS SDK: it answers from the AWS CLI's role cache when the
// cached set of an SSO profile is still worth serving, and otherwise hands
// over to `ssokeep credential-process` with the same arguments (found next to
// this binary, else on PATH), which fetches, refreshes, locks and logs in.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/credproc"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

func main() {
	args := os.Args[1:]
	if b, ok := warm(args); ok {
		if _, err := os.Stdout.Write(b); err == nil {
			return
		}
	}
	full, err := ssokeepBinary()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ssokeep-credential-process: %v\n", err)
		os.Exit(1)
	}
	os.Exit(handOver(full, append([]string{"credential-process"}, args...)))
}

// warm answers from the cache, or says it cannot. Anything it does not
// understand (an unknown flag, help) goes to the full command.
func warm(args []string) ([]byte, bool) {
	profile, ok := profileArg(args)
	if !ok {
		return nil, false
	}
	files, err := awsconfig.DefaultFiles()
	if err != nil {
		return nil, false
	}
	cfg, err := awsconfig.Load(files)
	if err != nil {
		return nil, false
	}
	roles, err := ssocache.DefaultRoleCache()
	if err != nil {
		return nil, false
	}
	c, ok := credproc.Warm(cfg, profile, roles, credproc.DefaultPolicy, time.Now())
	if !ok {
		return nil, false
	}
	b, err := c.JSON()
	return b, err == nil
}

// profileArg reads -p/--profile as ssokeep does (then AWS_PROFILE,
// AWS_DEFAULT_PROFILE, default). ok is false for any other argument, which
// only the full command knows.
func profileArg(args []string) (profile string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-p" || a == "--profile":
			if i+1 == len(args) {
				return "", false
			}
			i++
			profile = args[i]
		case strings.HasPrefix(a, "--profile="):
			profile = strings.TrimPrefix(a, "--profile=")
		case strings.HasPrefix(a, "-p") && len(a) > 2:
			profile = strings.TrimPrefix(a[2:], "=")
		default:
			return "", false
		}
	}
	if profile == "" {
		for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
			if profile = os.Getenv(k); profile != "" {
				break
			}
		}
	}
	if profile == "" {
		profile = "default"
	}
	return profile, true
}

// ssokeepBinary finds the full ssokeep: beside this binary (go install puts
// both in one directory), else on PATH.
func ssokeepBinary() (string, error) {
	name := "ssokeep"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), name); isFile(p) {
			return p, nil
		}
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if p := filepath.Join(dir, name); dir != "" && isFile(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no cached credentials to serve and no ssokeep binary beside this one or on PATH to fetch them: install both (go install ./cmd/...)")
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
