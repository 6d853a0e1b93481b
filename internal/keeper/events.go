package keeper

import "time"

// EventKind names what happened.
type EventKind string

const (
	CredentialsRotated EventKind = "credentials-rotated" // a new role-credential set is being served
	TokenRefreshed     EventKind = "token-refreshed"     // the access token was refreshed
	UpstreamFailed     EventKind = "upstream-failed"     // a call to AWS failed; the current set is still served
	Recovered          EventKind = "recovered"           // calls work again after failures
	SessionEnding      EventKind = "session-ending"      // the forecast session end is within the lead time
	SessionEnded       EventKind = "session-ended"       // a refresh was refused: the sign-in session is over
	LoginRequired      EventKind = "login-required"      // a device-code login waits for a human
	LoginReminder      EventKind = "login-reminder"      // still waiting, the deadline nearer
	LoginApproved      EventKind = "login-approved"      // the human approved; credentials keep flowing
)

// Event is something the keeper did or needs. It never carries a secret: the
// user code and verification URL are not secrets (approving still needs the
// user's own sign-in).
type Event struct {
	Kind            EventKind
	At              time.Time
	Profile         string
	Session         string
	Message         string
	VerificationURL string
	UserCode        string
	// Deadline: when the job runs out of credentials (login events), or when
	// the session ends (SessionEnding).
	Deadline time.Time
	// Expires: the new set's or token's expiry (CredentialsRotated, TokenRefreshed).
	Expires time.Time
}
