package doctor

import (
	"fmt"
	"io"
	"strings"

	"github.com/ssokeep/ssokeep/internal/termui"
)

// Unresolved reports whether any finding of severity Problem is still open.
func Unresolved(fs []*Finding) bool {
	for _, f := range fs {
		if f.Severity == Problem && !f.Fixed {
			return true
		}
	}
	return false
}

// Write prints the findings for people, one block each.
func Write(w io.Writer, fs []*Finding, fix, color bool) error {
	if len(fs) == 0 {
		_, err := fmt.Fprintln(w, termui.Paint("No problems found.", termui.Green, color))
		return err
	}
	var b strings.Builder
	fixable := 0
	for i, f := range fs {
		if i > 0 {
			b.WriteByte('\n')
		}
		mark, c := "!", termui.Yellow
		switch {
		case f.Fixed:
			mark, c = "✓", termui.Green
		case f.Severity == Problem:
			mark, c = "✗", termui.Red
		case f.Severity == Info:
			mark, c = "i", termui.Dim
		}
		fmt.Fprintf(&b, "%s %s: %s\n", termui.Paint(mark+" "+string(f.Severity), c, color), f.What, f.Where)
		fmt.Fprintf(&b, "    why: %s\n", f.Why)
		how := strings.ReplaceAll(f.Fix, "\n", "\n         ")
		switch {
		case f.Fixed:
			fmt.Fprintf(&b, "    fixed: %s\n", how)
		case f.FixError != "":
			fmt.Fprintf(&b, "    fix failed: %s\n    fix: %s\n", f.FixError, how)
		default:
			fmt.Fprintf(&b, "    fix: %s\n", how)
			if f.Fixable {
				fixable++
			}
		}
	}
	if fixable > 0 && !fix {
		fmt.Fprintf(&b, "\n%d of these can be repaired by `ssokeep doctor --fix` (files it cannot parse also need --force).\n", fixable)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
