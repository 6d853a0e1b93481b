package ssocache

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

func TestSaveAndLoadToken(t *testing.T) {
	root := t.TempDir()
	d := Dir{Path: filepath.Join(root, ".aws", "sso", "cache")} // created on first save
	key := TokenKey("corp")
	if _, err := d.LoadToken(key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadToken of a missing file: %v, want fs.ErrNotExist", err)
	}
	if err := d.SaveToken(key, sampleToken()); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadToken(key)
	if err != nil {
		t.Fatal(err)
	}
	if !sameToken(got, sampleToken()) {
		t.Errorf("loaded %s", redact(tokString(got)))
	}
	if string(readFile(t, d.TokenPath(key))) != cliToken {
		t.Errorf("file is not in the CLI's format: %s", redact(string(readFile(t, d.TokenPath(key)))))
	}
	if d.TokenPath(key) != filepath.Join(d.Path, key+".json") {
		t.Errorf("TokenPath = %s", d.TokenPath(key))
	}
	if names := dirNames(t, d.Path); !slices.Equal(names, []string{key + ".json"}) {
		t.Errorf("cache directory holds %v, want only the token file (no temp or lock files)", names)
	}
	if runtime.GOOS != "windows" {
		assertMode(t, d.TokenPath(key), 0o600)
		assertMode(t, d.Path, 0o700)
		assertMode(t, filepath.Join(d.StateDir(), "locks"), 0o700)
		assertMode(t, filepath.Join(d.StateDir(), "locks", key+".lock"), 0o600)
	}
	if want := filepath.Join(root, ".aws", "sso", "ssokeep"); d.StateDir() != want {
		t.Errorf("StateDir = %s, want %s", d.StateDir(), want)
	}
}

func assertMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %o, want %o", path, got, want)
	}
}

func TestSaveKeepsTheFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permission bits")
	}
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o400} {
		d := Dir{Path: t.TempDir()}
		key := TokenKey("corp")
		writeFile(t, d.TokenPath(key), []byte(cliToken), mode)
		tok := sampleToken()
		tok.AccessToken = "new-" + fakeAccessToken
		if err := d.SaveToken(key, tok); err != nil {
			t.Fatal(err)
		}
		assertMode(t, d.TokenPath(key), mode)
		if got, _ := d.LoadToken(key); got == nil || got.AccessToken != tok.AccessToken {
			t.Errorf("mode %o: the save did not land", mode)
		}
	}
}

func TestSaveFollowsASymlinkedFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	d := Dir{Path: t.TempDir()}
	elsewhere := filepath.Join(t.TempDir(), "real.json")
	writeFile(t, elsewhere, []byte(cliToken), 0o600)
	key := TokenKey("corp")
	if err := os.Symlink(elsewhere, d.TokenPath(key)); err != nil {
		t.Fatal(err)
	}
	tok := sampleToken()
	tok.AccessToken = "rotated"
	if err := d.SaveToken(key, tok); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(d.TokenPath(key)); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the user's symlink was replaced: %v", err)
	}
	if got, err := parseToken(readFile(t, elsewhere)); err != nil || got.AccessToken != "rotated" {
		t.Errorf("the link target was not updated: %v", err)
	}
}

func TestSaveKeepsUnknownFieldsOnDisk(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := TokenKey("corp")
	onDisk := strings.TrimSuffix(cliToken, "}") + `, "otherTool": {"keep": true}}`
	writeFile(t, d.TokenPath(key), []byte(onDisk), 0o600)
	// A fresh token from a login knows nothing of otherTool.
	fresh := sampleToken()
	fresh.AccessToken = "after-login"
	if err := d.SaveToken(key, fresh); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadToken(key)
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := got.Extra("otherTool"); !ok || string(raw) != `{"keep": true}` {
		t.Errorf("otherTool after save = %s (present %v)", raw, ok)
	}
}

// Files that this package cannot read are reported with their path and never touched by a save.
func TestUnparsableFilesAreLeftAlone(t *testing.T) {
	bad := map[string][]byte{
		"empty":                {},
		"not JSON":             []byte("accessToken=" + fakeAccessToken),
		"truncated by a crash": []byte(cliToken[:len(cliToken)/2]),
		"a JSON list":          []byte(`["` + fakeAccessToken + `"]`),
		"no expiry":            []byte(`{"accessToken": "` + fakeAccessToken + `"}`),
		"unreadable expiry":    []byte(`{"accessToken": "a", "expiresAt": "` + fakeRefreshToken + `"}`),
		"a registration, not a token": []byte(`{"clientId": "c", "clientSecret": "` + fakeClientSecret +
			`", "expiresAt": "2030-05-17T10:30:00Z"}`),
		"trailing garbage": []byte(cliToken + "\x00\x00"),
	}
	for name, content := range bad {
		t.Run(name, func(t *testing.T) {
			d := Dir{Path: t.TempDir()}
			key := TokenKey("corp")
			path := d.TokenPath(key)
			writeFile(t, path, content, 0o644)
			old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}

			checkParseError := func(op string, err error) {
				t.Helper()
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: %v, want a *ParseError", op, err)
				}
				if pe.Path != path || !strings.HasPrefix(err.Error(), path+": not a valid SSO cache file: ") {
					t.Errorf("%s: %q does not name the file %s", op, err, path)
				}
				assertNoSecret(t, op+" error", err.Error())
			}
			_, err := d.LoadToken(key)
			checkParseError("LoadToken", err)
			checkParseError("SaveToken", d.SaveToken(key, sampleToken()))
			called := false
			_, err = d.UpdateToken(context.Background(), key, func(*Token) (*Token, error) {
				called = true
				return sampleToken(), nil
			})
			checkParseError("UpdateToken", err)
			if called {
				t.Error("UpdateToken called fn on an unparsable file")
			}

			if got := readFile(t, path); string(got) != string(content) {
				t.Errorf("the file was modified")
			}
			if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644) {
				t.Errorf("the file was rewritten: mtime %v mode %o", fi.ModTime(), fi.Mode().Perm())
			}
			if names := dirNames(t, d.Path); len(names) != 1 {
				t.Errorf("directory holds %v", names)
			}
			entries, err := d.List()
			if err != nil || len(entries) != 1 {
				t.Fatalf("List = %v, %v", entries, err)
			}
			if name != "a registration, not a token" {
				checkParseError("List", entries[0].Err)
			}
			// Removing it is an explicit act.
			if err := d.Remove(key); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Remove left the file: %v", err)
			}
		})
	}
}

func TestUpdateToken(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := TokenKey("corp")
	ctx := context.Background()

	// Absent: fn sees nil and creates the file.
	got, err := d.UpdateToken(ctx, key, func(cur *Token) (*Token, error) {
		if cur != nil {
			t.Errorf("cur = %v for a missing file", cur)
		}
		return sampleToken(), nil
	})
	if err != nil || !sameToken(got, sampleToken()) {
		t.Fatalf("UpdateToken create: %v", err)
	}

	// fn sees what is on disk now (another process may have refreshed), not what the caller loaded before.
	onDisk := sampleToken()
	onDisk.AccessToken = "refreshed-elsewhere"
	if err := d.SaveToken(key, onDisk); err != nil {
		t.Fatal(err)
	}
	_, err = d.UpdateToken(ctx, key, func(cur *Token) (*Token, error) {
		if cur.AccessToken != "refreshed-elsewhere" {
			t.Errorf("fn saw %q, not the file's current token", cur.AccessToken)
		}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// An error from fn writes nothing and comes back as is.
	boom := errors.New("refresh failed")
	before := readFile(t, d.TokenPath(key))
	if _, err := d.UpdateToken(ctx, key, func(cur *Token) (*Token, error) {
		cur.AccessToken = "half-done"
		return cur, boom
	}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want fn's", err)
	}
	if string(readFile(t, d.TokenPath(key))) != string(before) {
		t.Error("a failed fn changed the file")
	}

	// A token that cannot be written (no access token) is refused and the file kept.
	if _, err := d.UpdateToken(ctx, key, func(cur *Token) (*Token, error) {
		cur.AccessToken = ""
		return cur, nil
	}); err == nil {
		t.Error("UpdateToken wrote a token without an access token")
	}
	if string(readFile(t, d.TokenPath(key))) != string(before) {
		t.Error("a refused write changed the file")
	}

	// A cancelled context stops the wait for the lock.
	unlock, err := d.Lock(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.UpdateToken(cctx, key, func(*Token) (*Token, error) { return nil, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateToken with a held lock and a cancelled context: %v", err)
	}
	unlock()
	unlock() // idempotent
}

func TestRegistrationSaveLoad(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := RegistrationKey(RegistrationKeyInput{StartURL: "https://d-1234567890.awsapps.com/start", Region: "eu-west-1",
		SessionName: "corp", Scopes: []string{"sso:account:access"}})
	r := &Registration{ClientID: "cid", ClientSecret: fakeClientSecret, ExpiresAt: t0,
		Scopes: []string{"sso:account:access"}, GrantTypes: []string{"authorization_code", "refresh_token"}}
	if err := d.SaveRegistration(key, r); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadRegistration(key)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "cid" || got.ClientSecret != fakeClientSecret || !got.ExpiresAt.Equal(t0) ||
		!slices.Equal(got.Scopes, r.Scopes) || !slices.Equal(got.GrantTypes, r.GrantTypes) {
		t.Errorf("loaded %s", redact(regString(got)))
	}
	if runtime.GOOS != "windows" {
		assertMode(t, d.TokenPath(key), 0o600)
	}
	// A token file under a registration key is not overwritten.
	tokKey := TokenKey("corp")
	writeFile(t, d.TokenPath(tokKey), []byte(cliToken), 0o600)
	var pe *ParseError
	if err := d.SaveRegistration(tokKey, r); !errors.As(err, &pe) {
		t.Errorf("SaveRegistration over a token file: %v, want a *ParseError", err)
	}
	if string(readFile(t, d.TokenPath(tokKey))) != cliToken {
		t.Error("the token file was modified")
	}
}

func TestList(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	tokKey := TokenKey("corp")
	regKey := RegistrationKey(RegistrationKeyInput{StartURL: "u", Region: "eu-west-1", SessionName: "corp"})
	legacyKey := LegacyRegistrationKey("us-east-1")
	writeFile(t, d.TokenPath(tokKey), []byte(cliToken), 0o600)
	writeFile(t, d.TokenPath(regKey), []byte(`{"clientId": "c", "clientSecret": "`+fakeClientSecret+`", "expiresAt": "2030-08-15T09:30:00Z", "scopes": ["sso:account:access"]}`), 0o644)
	writeFile(t, d.TokenPath(legacyKey), []byte(`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z"}`), 0o600)
	writeFile(t, d.TokenPath("kiro-auth-token"), []byte(`{"somethingElse": 1}`), 0o600)
	writeFile(t, d.TokenPath("broken"), []byte(`{"accessToken": "`+fakeAccessToken+`", "expiresAt": 3}`), 0o600)
	writeFile(t, filepath.Join(d.Path, "notes.txt"), []byte("not json"), 0o600)
	writeFile(t, filepath.Join(d.Path, "tmpab12.tmp"), []byte("{"), 0o600)
	if err := os.Mkdir(filepath.Join(d.Path, "sub.json"), 0o700); err != nil {
		t.Fatal(err)
	}

	entries, err := d.List()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	for _, e := range entries {
		got[e.Key] = e
	}
	if len(entries) != 5 {
		t.Errorf("List returned %d entries, want the 5 *.json files", len(entries))
	}
	if e := got[tokKey]; e.Kind != KindToken || e.Token == nil || e.Err != nil || e.Token.AccessToken != fakeAccessToken ||
		e.Path != d.TokenPath(tokKey) {
		t.Errorf("token entry: kind %v err %v", e.Kind, e.Err)
	}
	if e := got[regKey]; e.Kind != KindRegistration || e.Registration == nil || e.Err != nil ||
		(runtime.GOOS != "windows" && e.Mode.Perm() != 0o644) {
		t.Errorf("registration entry: kind %v err %v mode %o", e.Kind, e.Err, e.Mode.Perm())
	}
	if e := got[legacyKey]; e.Kind != KindRegistration || e.Registration == nil {
		t.Errorf("legacy registration entry: kind %v err %v", e.Kind, e.Err)
	}
	if e := got["kiro-auth-token"]; e.Kind != KindUnknown || e.Err != nil {
		t.Errorf("unknown entry: kind %v err %v", e.Kind, e.Err)
	}
	var pe *ParseError
	if e := got["broken"]; e.Kind != KindToken || !errors.As(e.Err, &pe) || pe.Path != d.TokenPath("broken") {
		t.Errorf("broken entry: kind %v err %v", e.Kind, e.Err)
	}
	for _, e := range entries {
		if e.Err != nil {
			assertNoSecret(t, "List error", e.Err.Error())
		}
	}
	if KindToken.String() != "token" || KindRegistration.String() != "registration" || KindUnknown.String() != "unknown" {
		t.Error("EntryKind.String")
	}

	if entries, err := (Dir{Path: filepath.Join(d.Path, "missing")}).List(); err != nil || len(entries) != 0 {
		t.Errorf("List of a missing directory = %v, %v; want an empty cache", entries, err)
	}
}

func TestDefaultDirUsesTheHomeDirectory(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	d, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".aws", "sso", "cache"); d.Path != want {
		t.Errorf("DefaultDir = %s, want %s", d.Path, want)
	}
	rc, err := DefaultRoleCache()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, ".aws", "cli", "cache"); rc.Path != want {
		t.Errorf("DefaultRoleCache = %s, want %s", rc.Path, want)
	}
}

func TestRemove(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := TokenKey("corp")
	if err := d.Remove(key); err != nil {
		t.Errorf("Remove of a missing file: %v", err)
	}
	writeFile(t, d.TokenPath(key), []byte(cliToken), 0o600)
	if err := d.Remove(key); err != nil {
		t.Fatal(err)
	}
	if _, err := d.LoadToken(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Remove: %v", err)
	}
}

// The lock must hold between goroutines in this process however the OS scopes file locks. This checks the
// platform fact too: two handles on one lock file in one process exclude each other (flock(2) is per open file
// description on Linux, LockFileEx per handle on Windows), so a second Dir spelling the same directory through
// a different path (its in-process lock is keyed by path) is still excluded.
func TestLockExcludesWithinTheProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	a, b := flock.New(path), flock.New(path)
	if ok, err := a.TryLock(); !ok || err != nil {
		t.Fatalf("first handle: %v %v", ok, err)
	}
	if ok, err := b.TryLock(); ok || err != nil {
		t.Errorf("a second handle in the same process took a held lock (ok=%v err=%v)", ok, err)
	}
	_ = a.Unlock()
	if ok, err := b.TryLock(); !ok || err != nil {
		t.Errorf("after unlock, the second handle cannot lock: %v %v", ok, err)
	}
	_ = b.Unlock()

	// Two spellings of one cache directory share a lock.
	root := t.TempDir()
	real := filepath.Join(root, "sso", "cache")
	if err := os.MkdirAll(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "sso"), link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	d1, d2 := Dir{Path: real}, Dir{Path: filepath.Join(link, "cache")}
	key := TokenKey("corp")
	unlock, err := d1.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if u2, err := d2.Lock(ctx, key); err == nil {
		u2()
		t.Error("a second spelling of the same directory took a held lock")
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("d2.Lock: %v", err)
	}
	unlock()
	u2, err := d2.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	u2()
}

func TestLockWaitsForTheHolder(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := TokenKey("corp")
	unlock, err := d.Lock(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	released := make(chan struct{})
	go func() {
		u, err := d.Lock(context.Background(), key)
		select {
		case <-released:
		default:
			err = errors.New("took the lock while it was held")
		}
		if u != nil {
			u()
		}
		got <- err
	}()
	close(released)
	unlock()
	if err := <-got; err != nil {
		t.Error(err)
	}
}

func TestWriteAtomicLeavesNoTempFileOnError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "occupied.json")
	// A non-empty directory where the file should go: the rename fails after the temp file is written.
	writeFile(t, filepath.Join(target, "inside"), []byte("x"), 0o600)
	if err := fsutil.WriteAtomic(target, []byte(`{"accessToken": "`+fakeAccessToken+`"}`), 0o600); err == nil {
		t.Fatal("writeAtomic over a non-empty directory succeeded")
	} else {
		assertNoSecret(t, "writeAtomic error", err.Error())
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"occupied.json"}) {
		t.Errorf("directory holds %v after a failed write, want no temp file", names)
	}
}

func TestSetExtraRoundTripsThroughTheFile(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	key := TokenKey("corp")
	tok := sampleToken()
	if err := tok.SetExtra("ssokeepNote", json.RawMessage(`{"by": "test"}`)); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveToken(key, tok); err != nil {
		t.Fatal(err)
	}
	got, err := d.LoadToken(key)
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := got.Extra("ssokeepNote"); !ok || string(raw) != `{"by": "test"}` {
		t.Errorf("Extra = %s %v", raw, ok)
	}
}
