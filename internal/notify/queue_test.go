package notify

import (
	"context"
	"sync"
	"testing"
	"time"
)

type blocking struct {
	mu      sync.Mutex
	release chan struct{}
	got     []Kind
}

func (b *blocking) Notify(ctx context.Context, e Event) error {
	<-b.release
	b.mu.Lock()
	b.got = append(b.got, e.Kind)
	b.mu.Unlock()
	return nil
}

func TestQueueNeverHoldsTheCallerAndKeepsOrder(t *testing.T) {
	b := &blocking{release: make(chan struct{})}
	q := Queue(nil, 3, b)
	done := make(chan struct{})
	go func() {
		q.Notify(context.Background(), Event{Kind: LoginRequired})
		q.Notify(context.Background(), Event{Kind: LoginReminder})
		q.Notify(context.Background(), Event{Kind: LoginApproved})
		q.Notify(context.Background(), Event{Kind: Recovered}) // may exceed the depth: dropped, never waited for
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify waited for a hung notifier")
	}
	close(b.release)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b.mu.Lock()
		n := len(b.got)
		b.mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond) // hand-off to the queue's goroutine
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.got) < 3 || b.got[0] != LoginRequired || b.got[1] != LoginReminder || b.got[2] != LoginApproved {
		t.Errorf("delivered %v", b.got)
	}
}
