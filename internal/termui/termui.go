// Package termui formats what ssokeep prints for people: aligned tables, short
// durations and colours that appear only on a terminal.
package termui

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// Color is an ANSI SGR colour; Plain leaves the text alone.
type Color int

const (
	Plain Color = iota
	Red
	Yellow
	Green
	Dim
	Bold
)

var sgr = map[Color]string{Red: "31", Yellow: "33", Green: "32", Dim: "2", Bold: "1"}

// Cell is one table cell: its text and the colour to show it in.
type Cell struct {
	Text  string
	Color Color
}

// C makes a cell in a colour.
func C(text string, c Color) Cell { return Cell{Text: text, Color: c} }

// Table collects rows and writes them aligned in columns. Widths are counted on
// the plain text, so colour codes never break the alignment.
type Table struct {
	header []string
	rows   [][]Cell
}

// NewTable starts a table with a header row.
func NewTable(header ...string) *Table { return &Table{header: header} }

// Row appends a row of plain cells.
func (t *Table) Row(cells ...string) {
	r := make([]Cell, len(cells))
	for i, s := range cells {
		r[i] = Cell{Text: s}
	}
	t.rows = append(t.rows, r)
}

// RowCells appends a row of (possibly coloured) cells.
func (t *Table) RowCells(cells ...Cell) { t.rows = append(t.rows, cells) }

// Len is the number of data rows.
func (t *Table) Len() int { return len(t.rows) }

// Write prints the table; color false prints no escape codes at all.
func (t *Table) Write(w io.Writer, color bool) error {
	n := len(t.header)
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	width := make([]int, n)
	measure := func(i int, s string) { width[i] = max(width[i], utf8.RuneCountInString(s)) }
	for i, h := range t.header {
		measure(i, h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			measure(i, c.Text)
		}
	}
	var b strings.Builder
	line := func(cells []Cell) {
		for i, c := range cells {
			last := i == len(cells)-1
			b.WriteString(Paint(c.Text, c.Color, color))
			if !last {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c.Text)+2))
			}
		}
		b.WriteByte('\n')
	}
	if len(t.header) > 0 {
		h := make([]Cell, len(t.header))
		for i, s := range t.header {
			h[i] = Cell{Text: s, Color: Bold}
		}
		line(h)
	}
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Paint wraps s in the colour's escape codes when color is true.
func Paint(s string, c Color, color bool) string {
	if !color || c == Plain || s == "" {
		return s
	}
	return "\x1b[" + sgr[c] + "m" + s + "\x1b[0m"
}

// Duration prints a time span the way people read a countdown: 3h12m, 12m30s,
// 45s, 2d4h. It keeps the two largest units and drops the rest.
func Duration(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	d = d.Truncate(time.Second)
	units := []struct {
		n    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	var parts []string
	for _, u := range units {
		if len(parts) == 2 {
			break
		}
		if q := d / u.n; q > 0 || len(parts) > 0 {
			if q > 0 {
				parts = append(parts, fmt.Sprintf("%d%s", q, u.name))
			} else {
				parts = append(parts, "") // keep position: 2d0h reads as 2d
			}
			d -= q * u.n
		}
	}
	s := strings.Join(parts, "")
	if s == "" {
		s = "0s"
	}
	if neg {
		return "-" + s
	}
	return s
}

// Remaining describes the time left until t: "3h12m", or "expired 5m ago".
func Remaining(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := t.Sub(now)
	if d <= 0 {
		return "expired " + Duration(-d) + " ago"
	}
	return Duration(d)
}
