package termui

import (
	"strings"
	"testing"
	"time"
)

func TestDurationReadsLikeACountdown(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		45 * time.Second:                "45s",
		12*time.Minute + 30*time.Second: "12m30s",
		3*time.Hour + 12*time.Minute + 9*time.Second: "3h12m",
		50 * time.Hour:               "2d2h",
		48*time.Hour + 5*time.Minute: "2d",
		time.Hour + 30*time.Second:   "1h",
		-90 * time.Second:            "-1m30s",
		1500 * time.Millisecond:      "1s",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestRemaining(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if got := Remaining(now.Add(2*time.Hour), now); got != "2h" {
		t.Errorf("future: %q", got)
	}
	if got := Remaining(now.Add(-5*time.Minute), now); got != "expired 5m ago" {
		t.Errorf("past: %q", got)
	}
	if got := Remaining(time.Time{}, now); got != "-" {
		t.Errorf("zero: %q", got)
	}
}

func TestTableAlignsOnPlainTextEvenWhenColoured(t *testing.T) {
	tb := NewTable("NAME", "LEFT")
	tb.RowCells(C("corp", Plain), C("3h12m", Green))
	tb.RowCells(C("a-much-longer-name", Plain), C("expired", Red))
	var plain, colored strings.Builder
	if err := tb.Write(&plain, false); err != nil {
		t.Fatal(err)
	}
	tb.Write(&colored, true)
	want := "NAME                LEFT\ncorp                3h12m\na-much-longer-name  expired\n"
	if plain.String() != want {
		t.Errorf("plain table:\n%s\nwant:\n%s", plain.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain output has escape codes")
	}
	if !strings.Contains(colored.String(), "\x1b[32m3h12m\x1b[0m") {
		t.Errorf("coloured output lacks green: %q", colored.String())
	}
	// Stripping the codes from the coloured table gives the plain one.
	stripped := colored.String()
	for _, code := range []string{"\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[0m"} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if stripped != want {
		t.Errorf("coloured table misaligned:\n%q", stripped)
	}
}
