package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// TestCommandReferenceIsCurrent fails when docs/reference no longer matches
// the CLI: the reference is generated, never edited by hand.
func TestCommandReferenceIsCurrent(t *testing.T) {
	committed := filepath.Join("..", "..", "docs", "reference")
	fresh := t.TempDir()
	if err := writeReference(fresh); err != nil {
		t.Fatal(err)
	}
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		sort.Strings(out)
		return out
	}
	const fix = "docs/reference is stale; regenerate it with: rm -r docs/reference && go run ./cmd/ssokeep gen-docs docs/reference"
	want, have := names(fresh), names(committed)
	if len(want) == 0 {
		t.Fatal("gen-docs wrote nothing")
	}
	inFresh := map[string]bool{}
	for _, n := range want {
		inFresh[n] = true
		got, err := os.ReadFile(filepath.Join(committed, n))
		if err != nil {
			t.Errorf("%s is missing. %s", n, fix)
			continue
		}
		exp, _ := os.ReadFile(filepath.Join(fresh, n))
		if !bytes.Equal(got, exp) {
			t.Errorf("%s differs from what the CLI says. %s", n, fix)
		}
	}
	for _, n := range have {
		if !inFresh[n] {
			t.Errorf("%s documents a command the CLI no longer has. %s", n, fix)
		}
	}
}
