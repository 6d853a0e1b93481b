// Package logins remembers, in ssokeep's own state directory beside the AWS
// CLI's cache, when each IAM Identity Center session was logged in and what was
// learned of its end. No AWS API tells when a sign-in session ends; this record
// plus the configured maximum (ssokeep_session_duration) is what the forecast
// is made from. It never holds a token.
package logins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ssokeep/ssokeep/internal/fsutil"
)

// Record is what is known of one session (keyed like the token cache).
type Record struct {
	Session  string `json:"session"` // the sso-session name or legacy start URL, for people
	StartURL string `json:"startUrl"`
	// LoggedInAt is when ssokeep last logged this session in.
	LoggedInAt time.Time `json:"loggedInAt"`
	// Fresh: that login followed a Logout, so a new sign-in session started at
	// LoggedInAt. Otherwise the login may have joined an older live session, and
	// LoggedInAt + the maximum is only an upper bound of its end.
	Fresh bool `json:"fresh"`
	// EndedBy is set when a refresh was refused or the session was logged out:
	// the session had ended by then. A new login clears it.
	EndedBy time.Time `json:"endedBy,omitzero"`
}

// Forecast is what is known of a session's end.
type Forecast struct {
	// State: "unknown" (no login recorded, or no maximum configured),
	// "forecast" (At = login + maximum; an upper bound unless Exact), or
	// "ended" (At = when the end was noticed, or the forecast end if earlier).
	State string
	At    time.Time
	// Exact: At is the real end (a fresh login's full session), not a bound.
	Exact bool
}

// Forecast returns the session end given the configured maximum session
// duration (0 when unknown).
func (r Record) Forecast(max time.Duration) Forecast {
	var f Forecast
	if !r.LoggedInAt.IsZero() && max > 0 {
		f = Forecast{State: "forecast", At: r.LoggedInAt.Add(max), Exact: r.Fresh}
	}
	if !r.EndedBy.IsZero() {
		if f.At.IsZero() || r.EndedBy.Before(f.At) {
			return Forecast{State: "ended", At: r.EndedBy}
		}
		return Forecast{State: "ended", At: f.At, Exact: f.Exact}
	}
	if f.State == "" {
		return Forecast{State: "unknown"}
	}
	return f
}

// Store keeps one small JSON file per session.
type Store struct{ Dir string }

// In returns the store in ssokeep's state directory (ssocache.Dir.StateDir()).
func In(stateDir string) *Store { return &Store{Dir: filepath.Join(stateDir, "sessions")} }

func (s *Store) path(key string) string { return filepath.Join(s.Dir, key+".json") }

// Get returns key's record; the zero Record when there is none.
func (s *Store) Get(key string) (Record, error) {
	var r Record
	b, err := os.ReadFile(s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("%s: not a valid ssokeep session record: %v", s.path(key), err)
	}
	return r, nil
}

// Update changes key's record under a cross-process lock. A record that cannot
// be parsed is replaced: it holds nothing a user made.
func (s *Store) Update(ctx context.Context, key string, fn func(*Record)) error {
	unlock, err := fsutil.Lock(ctx, filepath.Join(s.Dir, "locks", key+".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	r, _ := s.Get(key)
	fn(&r)
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteAtomic(s.path(key), append(b, '\n'), 0o600)
}
