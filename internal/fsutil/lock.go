package fsutil

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gofrs/flock"
)

// Locks are two layers:
//   - in-process, a one-slot channel per lock file, so goroutines wait in order without polling and a context
//     can stop the wait. This does not rely on how each OS scopes file locks (flock(2) per open file
//     description, fcntl per process, LockFileEx per handle).
//   - across processes, gofrs/flock on <state>/locks/<key>.lock. Lock files are never removed: removing one while another process waits on it
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

// Lock takes the lock at path (creating its directory 0700 and the file 0600) until ctx is done.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("waiting for lock %s: %w", path, err)
	}
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
	ok, err := fl.TryLock()
	if err == nil && !ok {
		// Another process holds it. Wait in the kernel rather than poll, so that the lock passes to a waiting
		// process as soon as it is free (polling lets the holder's own goroutines keep it for long runs).
		done := make(chan error, 1)
		go func() { done <- fl.Lock() }()
		select {
		case err = <-done:
		case <-ctx.Done():
			// The blocked call cannot be interrupted: let it finish and let go at once.
			go func() {
				if <-done == nil {
					_ = fl.Unlock()
				}
			}()
			release()
			return nil, fmt.Errorf("waiting for lock %s (held by another process): %w", path, ctx.Err())
		}
	}
	if err != nil {
		_ = fl.Close()
		release()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock() // also closes the file
			release()
		})
	}, nil
}

// TryLock takes the lock at path if nobody holds it, in this process or any
// other; ok is false (and err nil) when it is taken.
func TryLock(path string) (unlock func(), ok bool, err error) {
	path, err = filepath.Abs(path)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	release, ok := tryAcquireProc(path)
	if !ok {
		return nil, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		release()
		return nil, false, fmt.Errorf("lock directory: %w", err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	got, err := fl.TryLock()
	if err != nil || !got {
		_ = fl.Close()
		release()
		if err != nil {
			return nil, false, fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = fl.Unlock()
			release()
		})
	}, true, nil
}

// tryAcquireProc is acquireProc without waiting.
func tryAcquireProc(path string) (release func(), ok bool) {
	inproc.Lock()
	defer inproc.Unlock()
	pl := inproc.m[path]
	if pl == nil {
		pl = &procLock{slot: make(chan struct{}, 1)}
		inproc.m[path] = pl
	}
	select {
	case pl.slot <- struct{}{}:
	default:
		return nil, false
	}
	pl.refs++
	return func() {
		<-pl.slot
		inproc.Lock()
		if pl.refs--; pl.refs == 0 {
			delete(inproc.m, path)
		}
		inproc.Unlock()
	}, true
}
