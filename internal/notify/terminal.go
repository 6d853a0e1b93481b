package notify

import (
	"context"
	"io"
	"sync"
)

// Terminal rings the bell and writes exactly one line per event to w
// (usually the terminal ssokeep runs in, i.e. stderr).
func Terminal(w io.Writer) Notifier { return &terminal{w: w} }

type terminal struct {
	mu sync.Mutex // one event's line is written whole, never interleaved
	w  io.Writer
}

func (t *terminal) String() string { return "terminal" }

func (t *terminal) Notify(ctx context.Context, e Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	line := "\a" + e.Line() + "\n"
	t.mu.Lock()
	defer t.mu.Unlock()
	_, err := io.WriteString(t.w, line)
	return err
}
