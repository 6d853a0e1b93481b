// Package handover lets a command continue in a sibling binary of the same
// build: ssokeep's exec and serve move into ssokeep-keeper, which links
// neither the emulator nor the demo, because a Go process keeps nearly all
// of its binary resident and these processes live as long as the job.
package handover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"

	"debug/buildinfo"
)

// Disable is the variable that keeps commands in the running binary (to
// compare, or to debug).
const Disable = "SSOKEEP_NO_HANDOVER"

// To is a handover to the binary called name beside the running one.
type To string

// Target is the binary the command would continue in, or why it stays here.
func (name To) Target() (string, error) {
	if !supported {
		return "", errors.New("this system has no exec that keeps the process")
	}
	if os.Getenv(Disable) != "" {
		return "", fmt.Errorf("%s is set", Disable)
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", err
	}
	target := filepath.Join(filepath.Dir(self), string(name))
	if _, err := os.Stat(target); err != nil {
		return "", fmt.Errorf("%s is not beside %s", name, self)
	}
	if err := sameBuild(target, string(name)); err != nil {
		return "", fmt.Errorf("%s: %w", target, err)
	}
	return target, nil
}

// Continue replaces the process with the target running args, under the
// same argv[0] (ps shows the command as typed); the pid, the terminal, the
// signals and the environment stay. It returns only when the command stays
// here, saying why: nothing is lost but memory. ctx is the command's, which
// the caller cancels on Ctrl-C or SIGTERM.
func (name To) Continue(ctx context.Context, args []string, log *slog.Logger) {
	target, err := name.Target()
	if err != nil {
		log.Debug("running here, not in "+string(name), "reason", err)
		return
	}
	err = execve(ctx, target, append([]string{os.Args[0]}, args...), os.Environ())
	if ctx.Err() != nil {
		return // interrupted before the handover: the command ends here, as asked
	}
	log.Warn("could not continue in "+string(name)+"; running here", "path", target, "err", err)
}

// sameBuild checks that the binary at target is the main package name of
// this module, built with this binary: same Go, same settings (flags, VCS
// revision and state) and the same version of every module it links. A stale
// keeper left by an older install would otherwise run the job with other
// code than `ssokeep version` shows.
func sameBuild(target, name string) error {
	a, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("this binary carries no build information")
	}
	b, err := buildinfo.ReadFile(target)
	if err != nil {
		return err
	}
	if want := path.Join(path.Dir(a.Path), name); b.Path != want {
		return fmt.Errorf("is %s, not %s", b.Path, want)
	}
	if a.GoVersion != b.GoVersion || a.Main.Path != b.Main.Path || a.Main.Version != b.Main.Version || a.Main.Sum != b.Main.Sum {
		return fmt.Errorf("is from %s %s, this binary from %s %s", b.Main.Version, b.GoVersion, a.Main.Version, a.GoVersion)
	}
	if k, ours, theirs := firstDifference(a.Settings, b.Settings); k != "" {
		return fmt.Errorf("was built with %s=%q, this binary with %q", k, theirs, ours)
	}
	deps := map[string]string{}
	for _, d := range a.Deps {
		deps[d.Path] = d.Version + " " + d.Sum
	}
	for _, d := range b.Deps {
		if deps[d.Path] != d.Version+" "+d.Sum {
			return fmt.Errorf("links %s %s, which this binary does not", d.Path, d.Version)
		}
	}
	return nil
}

// firstDifference is the first build setting (in key order) whose value
// differs between a and b; "" when none does.
func firstDifference(a, b []debug.BuildSetting) (key, inA, inB string) {
	m := map[string][2]string{}
	for _, s := range a {
		v := m[s.Key]
		v[0] = s.Value
		m[s.Key] = v
	}
	for _, s := range b {
		v := m[s.Key]
		v[1] = s.Value
		m[s.Key] = v
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if v := m[k]; v[0] != v[1] {
			return k, v[0], v[1]
		}
	}
	return "", "", ""
}
