package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func init() { register(newGenDocsCmd) }

// newGenDocsCmd writes the command reference (docs/reference) from the
// commands themselves, so it cannot drift from --help; a test fails when the
// committed copy is stale.
func newGenDocsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Write the Markdown command reference into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := writeReference(args[0]); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "wrote the command reference to %s\n", args[0])
			return nil
		},
	}
}

// writeReference renders every visible command of a fresh root into dir,
// without cobra's dated footer, so the output changes only with the CLI.
func writeReference(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root := newRootCmd(&globals{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr})
	root.DisableAutoGenTag = true
	return doc.GenMarkdownTree(root, dir)
}
