package source

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ssokeep/ssokeep/internal/fsutil"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// Entry is a cached set and when it was issued (zero when unknown).
type Entry struct {
	Credentials aws.Credentials
	Issued      time.Time
}

// Store is where one source's sets are cached between processes.
type Store interface {
	// Load returns the cached set; an error matching fs.ErrNotExist when there is none.
	Load() (*Entry, error)
	// Save replaces the cached set.
	Save(Entry) error
	// LockPath is the file lock that serializes fetches of this store's set across processes.
	LockPath() string
	// String names the store for log lines (never its content).
	String() string
}

// CLIRoleStore is one entry of the AWS CLI's role-credential cache, in the CLI's format, so `aws`, botocore
// (via the CLI) and ssokeep reuse each other's SSO role sets. That format has no issue time: the file's
// modification time stands for it (the CLI writes the file right after the fetch, and Save sets it to the
// fetch time).
type CLIRoleStore struct {
	Cache ssocache.RoleCache
	Key   string // ssocache.RoleKey(...)
	// LockDir holds the fetch lock (ssokeep's state directory, never the CLI's cache directory).
	LockDir string
}

func (s CLIRoleStore) Load() (*Entry, error) {
	rc, issued, err := s.Cache.LoadIssued(s.Key)
	if err != nil {
		return nil, err
	}
	return &Entry{Credentials: aws.Credentials{AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey,
		SessionToken: rc.SessionToken, CanExpire: true, Expires: rc.Expiration, AccountID: rc.AccountID,
		Source: "SSORoleCache"}, Issued: issued}, nil
}

func (s CLIRoleStore) Save(e Entry) error {
	c := e.Credentials
	err := s.Cache.Save(s.Key, &ssocache.RoleCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expiration: c.Expires, AccountID: c.AccountID})
	if err != nil {
		return err
	}
	if !e.Issued.IsZero() {
		// Best effort: without it the lifetime reads shorter than it was, which only makes reuse stricter.
		_ = os.Chtimes(s.Cache.FilePath(s.Key), e.Issued, e.Issued)
	}
	return nil
}

func (s CLIRoleStore) LockPath() string { return filepath.Join(s.LockDir, "sso-"+s.Key+".lock") }

func (s CLIRoleStore) String() string { return s.Cache.FilePath(s.Key) }

// FileStore is one of ssokeep's own credential files (MFA sessions, assumed roles): JSON, mode 0600, written
// atomically. The AWS CLI never reads these.
type FileStore struct {
	Dir string // normally <ssocache.Dir.StateDir()>/credentials
	Key string // a hex digest naming the source (see Build)
}

// fileEntry is the on-disk form. Version lets a later ssokeep change it.
type fileEntry struct {
	Version         int       `json:"Version"`
	AccessKeyID     string    `json:"AccessKeyId"`
	SecretAccessKey string    `json:"SecretAccessKey"`
	SessionToken    string    `json:"SessionToken"`
	Expiration      time.Time `json:"Expiration"`
	Issued          time.Time `json:"Issued"`
	AccountID       string    `json:"AccountId,omitempty"`
}

func (s FileStore) path() string { return filepath.Join(s.Dir, s.Key+".json") }

func (s FileStore) Load() (*Entry, error) {
	data, err := os.ReadFile(s.path())
	if err != nil {
		return nil, err
	}
	var f fileEntry
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil || f.Version != 1 || f.AccessKeyID == "" || f.SecretAccessKey == "" || f.Expiration.IsZero() {
		// Never quote the content: it holds a secret key. A bad file is replaced by the next fetch.
		return nil, fmt.Errorf("%s is not a credentials file this ssokeep can read; it will be replaced: %w", s.path(), fs.ErrNotExist)
	}
	return &Entry{Issued: f.Issued, Credentials: aws.Credentials{AccessKeyID: f.AccessKeyID, SecretAccessKey: f.SecretAccessKey,
		SessionToken: f.SessionToken, CanExpire: true, Expires: f.Expiration, AccountID: f.AccountID, Source: "ssokeep"}}, nil
}

func (s FileStore) Save(e Entry) error {
	c := e.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || !c.CanExpire {
		return errors.New("only expiring credentials with a key id and a secret are cached")
	}
	data, err := json.Marshal(fileEntry{Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expiration: c.Expires.UTC(), Issued: e.Issued.UTC(), AccountID: c.AccountID})
	if err != nil {
		return err
	}
	return fsutil.WriteAtomic(s.path(), data, fsutil.NewFileMode)
}

func (s FileStore) LockPath() string { return filepath.Join(s.Dir, s.Key+".lock") }

func (s FileStore) String() string { return s.path() }
