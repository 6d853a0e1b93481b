package ssocache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Locks are two layers:
//   - in-process, a one-slot channel per lock file, so goroutines wait in order without polling and a context
//     can stop the wait. This does not rely on how each OS scopes file locks (flock(2) per open file
//     description, fcntl per process, LockFileEx per handle).
//   - across processes, gofrs/flock on <state>/locks/<key>.lock, taken by polling with backoff so that a
//     context can stop the wait. Lock files are never removed: removing one while another process waits on it
//     would let two holders in.
var inproc = struct {
	sync.Mutex
	m map[string]*procLock
}{m: map[string]*procLock{}}

type procLock struct {
	slot chan struct{}
	refs int
}

func acquireProc(ctx context.Context, path string) (release func(), err error) {
	inproc.Lock()
	pl := inproc.m[path]
	if pl == nil {
		pl = &procLock{slot: make(chan struct{}, 1)}
		inproc.m[path] = pl
	}
	pl.refs++
	inproc.Unlock()

	drop := func() {
		inproc.Lock()
		if pl.refs--; pl.refs == 0 {
			delete(inproc.m, path)
		}
		inproc.Unlock()
	}
	select {
	case pl.slot <- struct{}{}:
		return func() { <-pl.slot; drop() }, nil
	case <-ctx.Done():
		drop()
		return nil, ctx.Err()
	}
}

// lockFile takes the lock at path (creating its directory 0700 and the file 0600) until ctx is done.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	release, err := acquireProc(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("waiting for lock %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		release()
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	delay := time.Millisecond
	for {
		ok, err := fl.TryLock()
		if err != nil {
			release()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			break
		}
		// Another process holds it. Jitter keeps waiting processes from retrying in step.
		wait := delay/2 + rand.N(delay)
		select {
		case <-ctx.Done():
			_ = fl.Close()
			release()
			return nil, fmt.Errorf("waiting for lock %s (held by another process): %w", path, ctx.Err())
		case <-time.After(wait):
		}
		delay = min(delay*2, 50*time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock() // also closes the file; closing would drop the lock even if Unlock failed
			release()
		})
	}, nil
}
