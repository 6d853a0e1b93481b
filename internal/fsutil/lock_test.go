package fsutil

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestTryLockExcludesLockAndItself(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "x.lock")
	unlock, ok, err := TryLock(path)
	if err != nil || !ok {
		t.Fatalf("first TryLock: %v %v", ok, err)
	}
	if _, ok, _ := TryLock(path); ok {
		t.Error("a second TryLock got a held lock")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Lock(ctx, path); err == nil {
		t.Error("Lock got a lock TryLock holds")
	}
	unlock()
	u2, ok, err := TryLock(path)
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock: %v %v", ok, err)
	}
	u2()
	u3, err := Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := TryLock(path); ok {
		t.Error("TryLock got a lock Lock holds")
	}
	u3()
}
