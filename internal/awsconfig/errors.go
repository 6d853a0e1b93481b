package awsconfig

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrProfileNotFound is wrapped by the *Error that Resolve returns for a profile that no file defines.
var ErrProfileNotFound = errors.New("profile not found")

// Error is every configuration problem. It names the file, the section and the key, and says what to do.
// It never contains a secret: messages quote names, start URLs and line numbers, never a value that could be a
// key or token.
type Error struct {
	File    string // the config or credentials file ("" only when no file is configured at all)
	Line    int    // 1-based line number for syntax errors; 0 for problems of meaning
	Section string // section header as written, without brackets: "profile dev", "sso-session corp", "default"
	Key     string // the offending key, "" when the problem is the whole section or file
	Msg     string // what is wrong and what to do
	Err     error  // cause for errors.Is/As (ErrProfileNotFound, an fs error), may be nil
}

// Error formats as `/home/u/.aws/config: [profile dev] sso_session: no [sso-session corp] section; ...`, with
// `:LINE` after the file name for syntax errors.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("AWS config")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Section != "" {
		b.WriteString("[" + e.Section + "] ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// closeNames returns up to three names from known that look like a typo of name, closest first.
func closeNames(name string, known []string) []string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	lname := strings.ToLower(name)
	for _, k := range known {
		if k == name {
			continue
		}
		lk := strings.ToLower(k)
		d := editDistance(lname, lk)
		limit := 2
		if n := len([]rune(name)) / 3; n > limit {
			limit = n
		}
		if d <= limit || (len(lname) >= 3 && (strings.Contains(lk, lname) || strings.Contains(lname, lk) && len(lk) >= 3)) {
			cs = append(cs, cand{k, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 3; i++ {
		out = append(out, cs[i].s)
	}
	return out
}

// editDistance is the Levenshtein distance over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quoteList renders names for a message: "a", "b" and "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
