package ssocache

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

// RoleCache is the CLI's role-credential cache (normally ~/.aws/cli/cache), read and written in the CLI's own
// format: {"ProviderType": "sso", "Credentials": {AccessKeyId, SecretAccessKey, SessionToken, Expiration,
// AccountId}}. The CLI also keeps assume-role results there (no ProviderType); List reports those, Load and
// Save deal with SSO entries only.
type RoleCache struct{ Path string }

// DefaultRoleCache is $HOME/.aws/cli/cache (home found as DefaultDir finds it).
func DefaultRoleCache() (RoleCache, error) {
	home, err := homeDir()
	if err != nil {
		return RoleCache{}, err
	}
	return RoleCache{Path: filepath.Join(home, ".aws", "cli", "cache")}, nil
}

// RoleCredentials are one SSO role's cached credentials.
type RoleCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	AccountID                                  string
}

// RoleEntry is one *.json file of the role cache. It carries no secret.
type RoleEntry struct {
	Path         string
	Key          string
	Mode         fs.FileMode
	ProviderType string    // "sso" for SSO entries, "" for the CLI's assume-role entries
	Expiration   time.Time // Credentials.Expiration
	AccountID    string    // Credentials.AccountId, when present
	Err          error     // a *ParseError (or the read error); the file is never modified
}

// FilePath is the file for key: <dir>/<key>.json.
func (c RoleCache) FilePath(key string) string { return filepath.Join(c.Path, key+".json") }

// StateDir is ssokeep's own directory beside this cache (<cache>/../ssokeep), where its locks live.
func (c RoleCache) StateDir() string {
	return filepath.Join(filepath.Dir(filepath.Clean(c.Path)), "ssokeep")
}

func (c RoleCache) lock(key string) (func(), error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	return fsutil.Lock(context.Background(), filepath.Join(c.StateDir(), "locks", key+".lock"))
}

var roleFields = map[string]bool{"ProviderType": true, "Credentials": true}

// roleFile is a parsed role-cache file.
type roleFile struct {
	providerType string
	creds        RoleCredentials
	top          object
}

func parseRoleFile(data []byte) (*roleFile, error) {
	top, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	rf := &roleFile{top: top}
	var errs []error
	rf.providerType, _, err = top.str("ProviderType")
	errs = append(errs, err)
	raw, ok := top.get("Credentials")
	if !ok || isNull(raw) {
		return nil, errors.Join(append(errs, errors.New("Credentials is missing"))...)
	}
	c, err := parseObject(raw)
	if err != nil {
		return nil, errors.Join(append(errs, errors.New("Credentials is not a JSON object"))...)
	}
	str := func(name string, dst *string) {
		v, _, err := c.str(name)
		errs = append(errs, err)
		*dst = v
	}
	str("AccessKeyId", &rf.creds.AccessKeyID)
	str("SecretAccessKey", &rf.creds.SecretAccessKey)
	str("SessionToken", &rf.creds.SessionToken)
	str("AccountId", &rf.creds.AccountID)
	var present bool
	rf.creds.Expiration, present, err = c.time("Expiration")
	errs = append(errs, err)
	if err == nil && !present {
		errs = append(errs, errors.New("Credentials.Expiration is missing"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rf, nil
}

// parseSSORole reads a file that must be a usable SSO entry.
func parseSSORole(data []byte) (*roleFile, error) {
	rf, err := parseRoleFile(data)
	if err != nil {
		return nil, err
	}
	if rf.providerType != "sso" {
		return nil, errors.New("ProviderType is not sso")
	}
	if rf.creds.AccessKeyID == "" || rf.creds.SecretAccessKey == "" || rf.creds.SessionToken == "" {
		return nil, errors.New("AccessKeyId, SecretAccessKey or SessionToken is missing or empty")
	}
	return rf, nil
}

// Load reads key's SSO role credentials. A missing file gives an error that matches fs.ErrNotExist; a file
// that is not a usable SSO entry (also an assume-role entry) gives a *ParseError.
func (c RoleCache) Load(key string) (*RoleCredentials, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	path := c.FilePath(key)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rf, err := parseSSORole(data)
	if err != nil {
		return nil, &ParseError{Path: path, Err: err}
	}
	creds := rf.creds
	return &creds, nil
}

// LoadIssued is Load plus when the set was issued, as far as the file tells:
// the CLI's format has no issue time, so the file's modification time stands
// for it (the CLI writes the file right after the fetch). Issued is zero when
// the file changed while it was read.
func (c RoleCache) LoadIssued(key string) (rc *RoleCredentials, issued time.Time, err error) {
	path := c.FilePath(key)
	before, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	if rc, err = c.Load(key); err != nil {
		return nil, time.Time{}, err
	}
	if after, err := os.Stat(path); err == nil && after.ModTime().Equal(before.ModTime()) && after.Size() == before.Size() {
		issued = before.ModTime()
	}
	return rc, issued, nil
}

// Save writes rc as key's SSO entry in the CLI's format, under the key's lock, atomically, 0600 for a new file
// (an existing file keeps its mode and its unknown top-level fields). A file there that is not a valid SSO
// entry is left alone and its *ParseError returned.
func (c RoleCache) Save(key string, rc *RoleCredentials) error {
	unlock, err := c.lock(key)
	if err != nil {
		return err
	}
	defer unlock()
	if rc.AccessKeyID == "" || rc.SecretAccessKey == "" || rc.SessionToken == "" || rc.Expiration.IsZero() {
		return errors.New("role credentials need an access key id, a secret key, a session token and an expiry")
	}
	if err := checkWritable("Expiration", rc.Expiration); err != nil {
		return err
	}
	path, err := fsutil.ResolveTarget(c.FilePath(key))
	if err != nil {
		return err
	}
	var base object
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		rf, err := parseSSORole(data)
		if err != nil {
			return &ParseError{Path: path, Err: err}
		}
		base = rf.top.unknown(roleFields)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	var cw objWriter // botocore SSOCredentialFetcher's order
	cw.str("AccessKeyId", rc.AccessKeyID)
	cw.str("SecretAccessKey", rc.SecretAccessKey)
	cw.str("SessionToken", rc.SessionToken)
	cw.str("Expiration", formatTime(rc.Expiration))
	cw.str("AccountId", rc.AccountID)
	var w objWriter
	w.str("ProviderType", "sso")
	w.raw("Credentials", cw.bytes())
	w.members(base)
	perm, err := fsutil.ExistingMode(path)
	if err != nil {
		return err
	}
	return fsutil.WriteAtomic(path, w.bytes(), perm)
}

// Remove deletes key's file under the key's lock; a missing file is not an error.
func (c RoleCache) Remove(key string) error {
	unlock, err := c.lock(key)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(c.FilePath(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// List reads every *.json file, sorted by name, with its provider type and expiry. A file that cannot be read
// or parsed comes back with Err set. A directory that does not exist is an empty cache.
func (c RoleCache) List() ([]RoleEntry, error) {
	des, err := os.ReadDir(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []RoleEntry
	for _, de := range des {
		name := de.Name()
		if !strings.HasSuffix(name, ".json") || de.IsDir() {
			continue
		}
		e := RoleEntry{Path: filepath.Join(c.Path, name), Key: strings.TrimSuffix(name, ".json")}
		fi, err := os.Stat(e.Path)
		if err == nil && !fi.Mode().IsRegular() {
			continue
		}
		var data []byte
		if err == nil {
			e.Mode = fi.Mode()
			data, err = os.ReadFile(e.Path)
		}
		if err != nil {
			e.Err = err
			out = append(out, e)
			continue
		}
		rf, err := parseRoleFile(data)
		if err != nil {
			e.Err = &ParseError{Path: e.Path, Err: err}
		} else {
			e.ProviderType, e.Expiration, e.AccountID = rf.providerType, rf.creds.Expiration, rf.creds.AccountID
		}
		out = append(out, e)
	}
	return out, nil
}
