package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// DefaultFanoutTimeout bounds how long Fanout holds its caller when a
// notifier takes a non-positive timeout.
const DefaultFanoutTimeout = 10 * time.Second

// Fanout sends to every notifier concurrently and returns when all are done
// or timeout has passed, whichever is first: the keeper calling it must go
// back to keeping credentials, whatever a webhook or desktop does. Failures
// are logged (late ones too) and returned joined.
func Fanout(logger *slog.Logger, timeout time.Duration, ns ...Notifier) Notifier {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if timeout <= 0 {
		timeout = DefaultFanoutTimeout
	}
	return &fanout{log: logger, timeout: timeout, ns: ns}
}

type fanout struct {
	log     *slog.Logger
	timeout time.Duration
	ns      []Notifier
}

func (f *fanout) String() string { return fmt.Sprintf("fanout(%d)", len(f.ns)) }

type result struct {
	i   int
	err error
}

func (f *fanout) Notify(ctx context.Context, e Event) error {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel() // tells notifiers still running to give up
	// Buffered: a notifier that finishes after we returned must not block.
	results := make(chan result, len(f.ns))
	for i, n := range f.ns {
		go func() {
			err := n.Notify(ctx, e)
			if err != nil {
				f.log.Warn("notify: delivery failed", "notifier", name(n), "event", string(e.Kind), "profile", e.Profile, "err", err)
			}
			results <- result{i, err}
		}()
	}
	done := make([]bool, len(f.ns))
	var errs []error
	record := func(r result) {
		done[r.i] = true
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name(f.ns[r.i]), r.err))
		}
	}
	for pending := len(f.ns); pending > 0; pending-- {
		select {
		case r := <-results:
			record(r)
		case <-ctx.Done():
			for drained := false; !drained; { // results that raced the deadline still count
				select {
				case r := <-results:
					record(r)
				default:
					drained = true
				}
			}
			for i, ok := range done {
				if !ok {
					f.log.Warn("notify: notifier still running; not waiting for it", "notifier", name(f.ns[i]), "event", string(e.Kind), "waited", f.timeout)
					errs = append(errs, fmt.Errorf("%s: still running after %s (%v)", name(f.ns[i]), f.timeout, context.Cause(ctx)))
				}
			}
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

// name is how logs and errors refer to a notifier.
func name(n Notifier) string {
	if s, ok := n.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", n)
}
