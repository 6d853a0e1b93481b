package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spf13/cobra/doc"

	"github.com/ssokeep/ssokeep/internal/cli"
)

// The generator lives in the test binary, so the product binary never links
// (or initialises) cobra/doc and its Markdown renderer.
var updateReference = flag.Bool("update-reference", false, "rewrite docs/reference from the CLI")

// writeReference renders every visible command of a fresh root into dir,
// without cobra's dated footer, so the output changes only with the CLI.
func writeReference(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := cli.Root(os.Stdout, os.Stderr)
	root.DisableAutoGenTag = true
	return doc.GenMarkdownTree(root, dir)
}

// TestCommandReferenceIsCurrent fails when docs/reference no longer matches
// the CLI: the reference is generated, never edited by hand.
func TestCommandReferenceIsCurrent(t *testing.T) {
	committed := filepath.Join("..", "..", "docs", "reference")
	if *updateReference {
		if err := os.RemoveAll(committed); err != nil {
			t.Fatal(err)
		}
		if err := writeReference(committed); err != nil {
			t.Fatal(err)
		}
	}
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
	const fix = "docs/reference is stale; regenerate it with: go test ./cmd/ssokeep -run TestCommandReferenceIsCurrent -update-reference"
	want, have := names(fresh), names(committed)
	if len(want) == 0 {
		t.Fatal("the generator wrote nothing")
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
