package handover

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestTargetSaysWhyTheCommandStays(t *testing.T) {
	if !supported {
		if _, err := To("ssokeep-keeper").Target(); err == nil || !strings.Contains(err.Error(), "no exec") {
			t.Fatalf("Target on a system without exec: %v", err)
		}
		return
	}
	t.Setenv(Disable, "1")
	if _, err := To("ssokeep-keeper").Target(); err == nil || !strings.Contains(err.Error(), Disable) {
		t.Errorf("with %s set: %v", Disable, err)
	}
	t.Setenv(Disable, "")
	if _, err := To("no-such-keeper").Target(); err == nil || !strings.Contains(err.Error(), "no-such-keeper is not beside") {
		t.Errorf("without the binary: %v", err)
	}
}

func TestFirstDifferenceNamesTheSetting(t *testing.T) {
	s := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		a, b          []debug.BuildSetting
		key, inA, inB string
	}{
		{s("vcs.revision", "abc", "GOOS", "linux"), s("GOOS", "linux", "vcs.revision", "abc"), "", "", ""},
		{s("vcs.revision", "abc"), s("vcs.revision", "abd"), "vcs.revision", "abc", "abd"},
		{s("GOOS", "linux"), s("GOOS", "linux", "-trimpath", "true"), "-trimpath", "", "true"},
		{s("CGO_ENABLED", "1", "vcs.modified", "false"), s("CGO_ENABLED", "0", "vcs.modified", "true"), "CGO_ENABLED", "1", "0"},
	} {
		k, a, b := firstDifference(tc.a, tc.b)
		if k != tc.key || a != tc.inA || b != tc.inB {
			t.Errorf("firstDifference(%v, %v) = %q %q %q, want %q %q %q", tc.a, tc.b, k, a, b, tc.key, tc.inA, tc.inB)
		}
	}
}
