package source

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

// staleFloor is the least a cached set must have left to be served when a fetch fails: enough for one request
// to be signed and sent. The consumer comes back for a new set well before that.
const staleFloor = time.Minute

// Cached serves Upstream's sets through Store: a cached set is returned while Policy finds it reusable;
// otherwise the fetch runs under Store's lock, after re-reading the store (another process may have fetched
// meanwhile), and the new set is written back. When the fetch fails and the cached set is still valid for more
// than a minute, that set is served and the failure logged: a running job keeps working until a human can act.
type Cached struct {
	Upstream aws.CredentialsProvider
	Store    Store
	Policy   Policy
	Now      func() time.Time
	Logger   *slog.Logger
}

func (c *Cached) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cached) log() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// load reads the store; an unusable entry counts as none.
func (c *Cached) load() *Entry {
	e, err := c.Store.Load()
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log().Warn("ignoring an unusable cached credential set", "file", c.Store.String(), "err", err)
		}
		return nil
	}
	return e
}

func (c *Cached) reusable(e *Entry) bool {
	return e != nil && c.Policy.Reusable(e.Issued, e.Credentials.Expires, c.now())
}

// Retrieve implements aws.CredentialsProvider.
func (c *Cached) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if e := c.load(); c.reusable(e) {
		return e.Credentials, nil
	}
	unlock, err := fsutil.Lock(ctx, c.Store.LockPath())
	if err != nil {
		return aws.Credentials{}, err
	}
	defer unlock()
	cur := c.load()
	if c.reusable(cur) {
		return cur.Credentials, nil
	}
	issued := c.now()
	creds, err := c.Upstream.Retrieve(ctx)
	if err != nil {
		if cur != nil && cur.Credentials.Expires.Sub(c.now()) > staleFloor {
			c.log().Warn("could not fetch new credentials; serving the cached set until it expires",
				"expires", cur.Credentials.Expires.UTC().Format(time.RFC3339), "err", err)
			return cur.Credentials, nil
		}
		return aws.Credentials{}, err
	}
	if creds.CanExpire {
		if err := c.Store.Save(Entry{Credentials: creds, Issued: issued}); err != nil {
			c.log().Warn("could not cache the new credentials; they are served anyway", "file", c.Store.String(), "err", err)
		}
	}
	return creds, nil
}
