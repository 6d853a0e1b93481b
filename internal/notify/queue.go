package notify

import (
	"context"
	"log/slog"
)

// Queue delivers events through n in order, on a goroutine of its own, so
// the caller (the keeper, between two refreshes) never waits on a webhook or a
// desktop. When depth events are already waiting, a new one is dropped and
// logged: a burst of reminders must not grow without bound.
func Queue(logger *slog.Logger, depth int, n Notifier) Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &queue{log: logger, n: n, ch: make(chan Event, depth)}
	go q.run()
	return q
}

type queue struct {
	log *slog.Logger
	n   Notifier
	ch  chan Event
}

func (q *queue) run() {
	for e := range q.ch {
		_ = q.n.Notify(context.Background(), e) // failures are the inner notifier's to log
	}
}

// Notify enqueues e and returns at once.
func (q *queue) Notify(_ context.Context, e Event) error {
	select {
	case q.ch <- e:
	default:
		q.log.Warn("notify: too many events waiting; dropping one", "event", string(e.Kind), "profile", e.Profile)
	}
	return nil
}
