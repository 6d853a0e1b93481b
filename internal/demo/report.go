package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// Report is one progress line of the sample job, written as JSON on its
// stdout: the counts so far. The last one has Done set.
type Report struct {
	Elapsed   float64 `json:"elapsed"` // seconds since the job started
	Workers   int     `json:"workers"`
	Calls     int64   `json:"calls"`  // S3 calls made (put, list, get)
	Failed    int64   `json:"failed"` // calls that returned an error or wrong data
	Puts      int64   `json:"puts"`
	Lists     int64   `json:"lists"`
	Gets      int64   `json:"gets"`
	Keys      int     `json:"keys"`   // distinct objects written
	Source    string  `json:"source"` // the credentials provider the SDK used
	LastError string  `json:"lastError,omitempty"`
	Done      bool    `json:"done,omitempty"`
}

// lineWriter splits what a job writes into lines and hands each complete
// line to fn; jobrun's Stdout and Stderr are plain io.Writers.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(line string)
}

// maxLine bounds a line kept in memory; a longer one is cut.
const maxLine = 64 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.fn(strings.TrimRight(line, "\r"))
	}
	if len(w.buf) > maxLine {
		w.fn(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// Flush hands on a last line that had no newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.fn(string(w.buf))
		w.buf = nil
	}
}

// parseReport reads a report line; ok is false for anything else (the job's
// other output).
func parseReport(line string) (Report, bool) {
	var r Report
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return r, false
	}
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Workers == 0 {
		return Report{}, false
	}
	return r, true
}
