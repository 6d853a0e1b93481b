package ssocache

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// A re-executed test binary with SSOCACHE_WORKER_DIR set is a worker process for
// TestConcurrentUpdatesLoseNothing instead of a test run.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SSOCACHE_WORKER_DIR"); dir != "" {
		os.Exit(worker(dir))
	}
	os.Exit(m.Run())
}

const (
	workerProcs      = 3
	goroutinesPerPid = 4
	updatesPerG      = 40
	workerKey        = "ee0bfd2552fbd840c02cc48b6e823320543c450f" // TokenKey("corp")
	keepMeRaw        = `{"owner": "another tool", "list": [1, 2.50, null]}`
)

// worker says it is ready, waits for the parent's go (so that all writers start together), then runs its
// share of updates.
func worker(dir string) int {
	fmt.Println("ready")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		fmt.Fprintln(os.Stderr, "no go from the parent:", err)
		return 2
	}
	if err := runUpdaters(Dir{Path: dir}, strconv.Itoa(os.Getpid())); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// runUpdaters runs goroutinesPerPid goroutines that each increment the file's counter updatesPerG times.
// Each update also records who wrote last and counts handoffs between processes, to show the run interleaved.
func runUpdaters(d Dir, me string) error {
	var wg sync.WaitGroup
	errs := make(chan error, goroutinesPerPid)
	for g := 0; g < goroutinesPerPid; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < updatesPerG; i++ {
				if _, err := d.UpdateToken(context.Background(), workerKey, increment(me)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func increment(me string) func(cur *Token) (*Token, error) {
	return func(cur *Token) (*Token, error) {
		if cur == nil {
			return nil, errors.New("the token file vanished")
		}
		n, err := extraInt(cur, "counter")
		if err != nil {
			return nil, err
		}
		if err := cur.SetExtra("counter", json.RawMessage(strconv.Itoa(n+1))); err != nil {
			return nil, err
		}
		last, _ := cur.Extra("lastWriter")
		if string(last) != strconv.Quote(me) {
			h, err := extraInt(cur, "handoffs")
			if err != nil {
				return nil, err
			}
			_ = cur.SetExtra("handoffs", json.RawMessage(strconv.Itoa(h+1)))
			_ = cur.SetExtra("lastWriter", json.RawMessage(strconv.Quote(me)))
		}
		return cur, nil
	}
}

func extraInt(t *Token, name string) (int, error) {
	raw, ok := t.Extra(name)
	if !ok {
		return 0, nil
	}
	return strconv.Atoi(string(raw))
}

// N goroutines in this process and in several others each increment an unknown JSON counter field in one token
// file through UpdateToken. No update may be lost, a reader must always find a whole file, the unknown fields
// must survive, no temporary file may be left, and the mode stays 0600.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	if TokenKey("corp") != workerKey {
		t.Fatal("workerKey is stale")
	}
	tok := sampleToken()
	if err := tok.SetExtra("keepMe", json.RawMessage(keepMeRaw)); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveToken(workerKey, tok); err != nil {
		t.Fatal(err)
	}

	// Start the workers and wait until each is ready.
	type proc struct {
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stderr bytes.Buffer
	}
	var procs []*proc
	for i := 0; i < workerProcs; i++ {
		p := &proc{cmd: exec.Command(os.Args[0], "-test.run=^$")}
		p.cmd.Env = append(os.Environ(), "SSOCACHE_WORKER_DIR="+d.Path)
		p.cmd.Stderr = &p.stderr
		var err error
		if p.stdin, err = p.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("worker %d did not get ready: %q %v", i, line, err)
		}
		procs = append(procs, p)
	}

	// A reader checks, without any lock, that the file always parses while the writers run.
	stop := make(chan struct{})
	var reads, badReads atomic.Int64
	var readerErr error
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			data, err := os.ReadFile(d.TokenPath(workerKey))
			if err == nil {
				_, err = parseToken(data)
			}
			reads.Add(1)
			if err != nil && badReads.Add(1) == 1 {
				readerErr = err
			}
		}
	}()

	for _, p := range procs {
		if _, err := io.WriteString(p.stdin, "go\n"); err != nil {
			t.Fatal(err)
		}
	}
	localErr := runUpdaters(d, strconv.Itoa(os.Getpid()))
	for i, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("worker %d: %v\n%s", i, err, redact(p.stderr.String()))
		}
	}
	close(stop)
	<-readerDone
	if localErr != nil {
		t.Fatal(localErr)
	}

	if n := badReads.Load(); n > 0 {
		t.Errorf("%d of %d unlocked reads found no whole token file; first: %v", n, reads.Load(), readerErr)
	}
	got, err := d.LoadToken(workerKey)
	if err != nil {
		t.Fatal(err)
	}
	total := (workerProcs + 1) * goroutinesPerPid * updatesPerG
	if n, _ := extraInt(got, "counter"); n != total {
		t.Errorf("counter = %d after %d updates: %d lost", n, total, total-n)
	}
	if raw, _ := got.Extra("keepMe"); string(raw) != keepMeRaw {
		t.Errorf("keepMe = %s, want it verbatim", raw)
	}
	// A strictly one-after-another run hands off workerProcs+1 times (the first write counts). Many more show that
	// the writers overlapped and that the lock passes between processes rather than staying with one process's
	// goroutines (about 400 of 640 updates are handoffs here).
	handoffs, _ := extraInt(got, "handoffs")
	got.extra = nil
	if !sameToken(got, sampleToken()) {
		t.Errorf("the token's own fields changed: %s", redact(tokString(got)))
	}
	if handoffs < 10*workerProcs {
		t.Errorf("only %d handoffs between processes: the writers hardly overlapped or one process kept the lock", handoffs)
	}
	t.Logf("%d updates from %d processes x %d goroutines, %d handoffs between processes, %d unlocked reads",
		total, workerProcs+1, goroutinesPerPid, handoffs, reads.Load())

	if names := dirNames(t, d.Path); !slices.Equal(names, []string{workerKey + ".json"}) {
		t.Errorf("cache directory holds %v, want only the token file", names)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(d.TokenPath(workerKey))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != fs.FileMode(0o600) {
			t.Errorf("mode %o, want 600", fi.Mode().Perm())
		}
	}
}
