package login

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// LoginNeededError says a human must log in again: there is no token, it
// expired and cannot be refreshed, or the sign-in session has ended.
type LoginNeededError struct {
	Session Session
	Reason  Reason
	// EndedAt is when the session ended, or at the latest when a refresh was
	// refused (zero when Reason is not SessionEnded).
	EndedAt time.Time
	// Exact is true when EndedAt is the forecast end, not just when the end was
	// noticed.
	Exact bool
}

// Reason tells why a login is needed.
type Reason int

const (
	NoToken      Reason = iota // nobody logged in to this session on this machine
	Expired                    // the token expired and cannot be refreshed
	SessionEnded               // the refresh token was refused: the sign-in session is over
)

func (e *LoginNeededError) Error() string {
	s := e.Session
	switch e.Reason {
	case SessionEnded:
		when := "has ended"
		if !e.EndedAt.IsZero() {
			if e.Exact {
				when = "ended at " + shortTime(e.EndedAt)
			} else {
				when = "had ended by " + shortTime(e.EndedAt)
			}
		}
		return fmt.Sprintf("the IAM Identity Center session for %s %s; run `%s`", s.Label(), when, s.LoginCommand())
	case Expired:
		why := "cannot be refreshed"
		if s.Legacy() {
			why = "cannot be refreshed (legacy profile: no refresh token)"
		}
		return fmt.Sprintf("the IAM Identity Center token for %s has expired and %s; run `%s`", s.Label(), why, s.LoginCommand())
	}
	return fmt.Sprintf("not logged in to IAM Identity Center session %s; run `%s`", s.Label(), s.LoginCommand())
}

// IsLoginNeeded reports whether err means a human must log in.
func IsLoginNeeded(err error) bool {
	var ln *LoginNeededError
	return errors.As(err, &ln)
}

// shortTime prints a time in the local zone, short: people read it in a terminal
// or a notification.
func shortTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04 MST")
}

var errNotExist = fs.ErrNotExist
