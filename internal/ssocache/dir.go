package ssocache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

// Dir is a token cache directory (normally ~/.aws/sso/cache).
type Dir struct{ Path string }

// DefaultDir is $HOME/.aws/sso/cache, with the home directory found as botocore and the Go SDK find it.
func DefaultDir() (Dir, error) {
	home, err := homeDir()
	if err != nil {
		return Dir{}, err
	}
	return Dir{Path: filepath.Join(home, ".aws", "sso", "cache")}, nil
}

// homeDir follows the SDKs: HOME on Unix; USERPROFILE on Windows, then HOMEDRIVE+HOMEPATH (Python's
// expanduser); then the account database (the Go SDK's fallback, like Python's pwd lookup).
func homeDir() (string, error) {
	if runtime.GOOS == "windows" {
		if h := os.Getenv("USERPROFILE"); h != "" {
			return h, nil
		}
		if d, p := os.Getenv("HOMEDRIVE"), os.Getenv("HOMEPATH"); d != "" && p != "" {
			return d + p, nil
		}
	} else if h := os.Getenv("HOME"); h != "" {
		return h, nil
	}
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		return u.HomeDir, nil
	}
	return "", errors.New("cannot find your home directory for the AWS SSO cache: set HOME (USERPROFILE on Windows)")
}

// TokenPath is the file for key: <dir>/<key>.json.
func (d Dir) TokenPath(key string) string { return filepath.Join(d.Path, key+".json") }

// StateDir is ssokeep's own directory beside the cache (<cache>/../ssokeep), where its locks live: the CLI's
// directory only ever holds the CLI's own files.
func (d Dir) StateDir() string { return filepath.Join(filepath.Dir(filepath.Clean(d.Path)), "ssokeep") }

// Lock takes the cross-process lock for key, blocking until it is free or ctx is done. Locks do not nest:
// SaveToken, SaveRegistration, UpdateToken and Remove take the same lock, so do not call them for key while
// holding it.
func (d Dir) Lock(ctx context.Context, key string) (unlock func(), err error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	return fsutil.Lock(ctx, filepath.Join(d.StateDir(), "locks", key+".lock"))
}

// read returns the content of key's file, following a symlink.
func (d Dir) read(key string) (path string, data []byte, err error) {
	if err := validKey(key); err != nil {
		return "", nil, err
	}
	path = d.TokenPath(key)
	data, err = os.ReadFile(path)
	return path, data, err
}

// LoadToken reads key's token. A missing file gives an error that matches fs.ErrNotExist; a file that is not a
// valid token gives a *ParseError.
func (d Dir) LoadToken(key string) (*Token, error) {
	path, data, err := d.read(key)
	if err != nil {
		return nil, err
	}
	t, err := parseToken(data)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	return t, nil
}

// LoadRegistration reads key's client registration (ErrNotExist / *ParseError as LoadToken).
func (d Dir) LoadRegistration(key string) (*Registration, error) {
	path, data, err := d.read(key)
	if err != nil {
		return nil, err
	}
	r, err := parseRegistration(data)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	return r, nil
}

// SaveToken writes t as key's token under the key's lock, atomically. Unknown fields of the file it replaces
// are kept. A file there that is not a valid token is left alone and its *ParseError returned.
func (d Dir) SaveToken(key string, t *Token) error {
	_, err := d.UpdateToken(context.Background(), key, func(*Token) (*Token, error) { return t, nil })
	return err
}

// UpdateToken takes the key's lock, re-reads the file (another process may have refreshed it), calls fn with the
// current token (nil if there is none), and writes fn's result atomically if fn returns no error. If fn returns
// (nil, nil) nothing is written. It returns the token as written (or the current one when nothing was). A file
// that is not a valid token is left alone and its *ParseError returned without calling fn. This is the
// primitive every refresher uses: run the refresh inside fn.
func (d Dir) UpdateToken(ctx context.Context, key string, fn func(cur *Token) (*Token, error)) (*Token, error) {
	unlock, err := d.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()

	path, err := fsutil.ResolveTarget(d.TokenPath(key))
	if err != nil {
		return nil, err
	}
	var cur *Token
	var base object
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if cur, err = parseToken(data); err != nil {
			return nil, &ParseError{Path: path, Err: err}
		}
		base = cur.extra
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}

	next, err := fn(cur)
	if err != nil || next == nil {
		return cur, err
	}
	out, err := next.marshal(base)
	if err != nil {
		return nil, fmt.Errorf("token for %s: %w", path, err)
	}
	written, err := parseToken(out)
	if err != nil { // cannot happen for a token marshal accepted; never write what we could not read back
		return nil, fmt.Errorf("token for %s: %w", path, err)
	}
	if string(out) == string(data) {
		return written, nil
	}
	perm, err := fsutil.ExistingMode(path)
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteAtomic(path, out, perm); err != nil {
		return nil, err
	}
	return written, nil
}

// SaveRegistration writes r as key's registration under the key's lock, atomically, on the same terms as
// SaveToken.
func (d Dir) SaveRegistration(key string, r *Registration) error {
	unlock, err := d.Lock(context.Background(), key)
	if err != nil {
		return err
	}
	defer unlock()

	path, err := fsutil.ResolveTarget(d.TokenPath(key))
	if err != nil {
		return err
	}
	var base object
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		cur, err := parseRegistration(data)
		if err != nil {
			return &ParseError{Path: path, Err: err}
		}
		base = cur.extra
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	out, err := r.marshal(base)
	if err != nil {
		return fmt.Errorf("registration for %s: %w", path, err)
	}
	perm, err := fsutil.ExistingMode(path)
	if err != nil {
		return err
	}
	return fsutil.WriteAtomic(path, out, perm)
}

// Remove deletes key's file under the key's lock, whatever it holds (also an unparsable one). A missing file
// is not an error.
func (d Dir) Remove(key string) error {
	unlock, err := d.Lock(context.Background(), key)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(d.TokenPath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// EntryKind tells what a cache file holds.
type EntryKind int

const (
	KindUnknown      EntryKind = iota
	KindToken                  // has accessToken
	KindRegistration           // has clientId and clientSecret, no accessToken
)

func (k EntryKind) String() string {
	switch k {
	case KindToken:
		return "token"
	case KindRegistration:
		return "registration"
	default:
		return "unknown"
	}
}

// Entry is one *.json file of the directory.
type Entry struct {
	Path         string
	Key          string // the file name without .json
	Mode         fs.FileMode
	Kind         EntryKind
	Token        *Token        // when Kind is KindToken and the file parsed
	Registration *Registration // when Kind is KindRegistration and the file parsed
	Err          error         // a *ParseError (or the read error); the file is never modified
}

// List reads every *.json file in the directory, sorted by name. The kind is told from the content: accessToken
// makes a token; clientId and clientSecret without accessToken a registration; anything else is KindUnknown.
// A file that cannot be read or parsed comes back with Err set. A directory that does not exist is an empty
// cache.
func (d Dir) List() ([]Entry, error) {
	des, err := os.ReadDir(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ".json") || de.IsDir() {
			continue
		}
		e := Entry{Path: filepath.Join(d.Path, name), Key: strings.TrimSuffix(name, ".json")}
		fi, err := os.Stat(e.Path)
		if err != nil {
			e.Err = err
			out = append(out, e)
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		e.Mode = fi.Mode()
		data, err := os.ReadFile(e.Path)
		if err != nil {
			e.Err = err
			out = append(out, e)
			continue
		}
		e.Kind, e.Token, e.Registration, e.Err = classify(e.Path, data)
		out = append(out, e)
	}
	return out, nil
}

func classify(path string, data []byte) (EntryKind, *Token, *Registration, error) {
	o, err := parseObject(data)
	if err != nil {
		return KindUnknown, nil, nil, &ParseError{Path: path, Err: err}
	}
	_, hasAccess := o.get("accessToken")
	_, hasID := o.get("clientId")
	_, hasSecret := o.get("clientSecret")
	switch {
	case hasAccess:
		t, err := parseToken(data)
		if err != nil {
			return KindToken, nil, nil, &ParseError{Path: path, Err: err}
		}
		return KindToken, t, nil, nil
	case hasID && hasSecret:
		r, err := registrationFrom(o)
		if err != nil {
			return KindRegistration, nil, nil, &ParseError{Path: path, Err: err}
		}
		return KindRegistration, nil, r, nil
	default:
		return KindUnknown, nil, nil, nil
	}
}
