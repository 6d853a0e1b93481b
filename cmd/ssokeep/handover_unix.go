//go:build unix

package main

import (
	"debug/buildinfo"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"syscall"

	"github.com/ssokeep/ssokeep/internal/cli"
)

func init() { cli.Handover = handOver }

// keeperName is the binary exec and serve continue in: every command but the
// emulator and the demo, so a process that lives as long as the job maps a
// third less of itself.
const keeperName = "ssokeep-keeper"

// noHandover keeps exec and serve in this binary (to compare, or to debug).
const noHandover = "SSOKEEP_NO_HANDOVER"

// handOver replaces this process with ssokeep-keeper running the same
// command line, when one from the same build sits beside this binary. The
// pid, the terminal, the environment and the registered keeper stay the same.
// Anything else keeps the command here: nothing is lost but memory.
func handOver(log *slog.Logger) {
	if os.Getenv(noHandover) != "" {
		return
	}
	keeper, err := keeperBeside()
	if err != nil {
		log.Debug("running here, not in "+keeperName, "reason", err)
		return
	}
	err = syscall.Exec(keeper, os.Args, os.Environ())
	log.Warn("could not continue in "+keeperName+"; running here", "path", keeper, "err", err)
}

// keeperBeside finds ssokeep-keeper in this binary's directory and checks it
// was built with this one.
func keeperBeside() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return "", err
	}
	keeper := filepath.Join(filepath.Dir(self), keeperName)
	if _, err := os.Stat(keeper); err != nil {
		return "", err
	}
	if err := sameBuild(keeper); err != nil {
		return "", fmt.Errorf("%s: %w", keeper, err)
	}
	return keeper, nil
}

// sameBuild checks that keeper is cmd/ssokeep-keeper from the build that made
// self: same Go, same settings (flags, VCS revision and state), and the same
// version of every module it links. A stale keeper left by an older install
// would otherwise run the job with other code than `ssokeep version` shows.
func sameBuild(keeper string) error {
	a, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	b, err := buildinfo.ReadFile(keeper)
	if err != nil {
		return err
	}
	if want := path.Join(path.Dir(a.Path), keeperName); b.Path != want {
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
