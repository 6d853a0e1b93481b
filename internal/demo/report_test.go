package demo

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestLineWriterSplitsWritesIntoLines(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(l string) { got = append(got, l) }}
	for _, chunk := range []string{"one\ntw", "o\r\n", "", "three", "\nfour"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", chunk, n, err)
		}
	}
	if want := []string{"one", "two", "three"}; !reflect.DeepEqual(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	w.Flush()
	if got[len(got)-1] != "four" {
		t.Errorf("Flush did not hand on the unterminated last line: %q", got)
	}
	w.Flush()
	if len(got) != 4 {
		t.Errorf("a second Flush repeated a line: %q", got)
	}
}

func TestLineWriterCutsRunawayLines(t *testing.T) {
	var got []string
	w := &lineWriter{fn: func(l string) { got = append(got, l) }}
	w.Write([]byte(strings.Repeat("x", maxLine+10)))
	if len(got) != 1 || len(w.buf) != 0 {
		t.Errorf("a line longer than %d bytes was kept whole (%d lines out, %d buffered)", maxLine, len(got), len(w.buf))
	}
}

func TestParseReportTakesOnlyReportLines(t *testing.T) {
	r := Report{Elapsed: 1.5, Workers: 4, Calls: 30, Failed: 1, Puts: 10, Lists: 10, Gets: 10, Keys: 10,
		Source: "CredentialsEndpointProvider", LastError: "get worker-1/object-001: boom", Done: true}
	b, _ := json.Marshal(r)
	got, ok := parseReport(string(b) + "\r")
	if !ok || got != r {
		t.Errorf("parseReport(%s) = %+v, %v", b, got, ok)
	}
	for _, line := range []string{
		"", "hello", "{", `{"workers":0,"calls":3}`, `{"workers":2,"unknown":1}`, `["workers"]`,
		fmt.Sprintf("%s trailing", b[:len(b)-1]),
	} {
		if _, ok := parseReport(line); ok {
			t.Errorf("parseReport(%q) took a line that is not a report", line)
		}
	}
}
