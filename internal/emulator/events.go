package emulator

import "time"

// EventKind names what happened.
type EventKind string

const (
	ClientRegistered           EventKind = "ClientRegistered"
	DeviceAuthorizationStarted EventKind = "DeviceAuthorizationStarted"
	Approved                   EventKind = "Approved" // a device code or an /authorize request
	Denied                     EventKind = "Denied"
	SessionStarted             EventKind = "SessionStarted"
	// SessionEnded is sent at Logout and EndSessions, and for a session that
	// ran out its time when the emulator next notices (Time is then the end).
	SessionEnded   EventKind = "SessionEnded"
	TokenIssued    EventKind = "TokenIssued"    // CreateToken with a device code or an authorization code
	TokenRefreshed EventKind = "TokenRefreshed" // CreateToken with a refresh token
	// RefreshDenied: CreateToken(refresh_token) failed because the session
	// ended or the refresh token was already used.
	RefreshDenied         EventKind = "RefreshDenied"
	RoleCredentialsIssued EventKind = "RoleCredentialsIssued" // sso:GetRoleCredentials
	STSCredentialsIssued  EventKind = "STSCredentialsIssued"  // GetSessionToken, AssumeRole
	LoggedOut             EventKind = "LoggedOut"
)

// Event is one thing that happened in the emulator. It never carries a
// token, a key or a secret: only names, identifiers that AWS shows in logs
// (client IDs, user codes) and times.
type Event struct {
	Kind EventKind
	Time time.Time // on the emulator's clock

	StartURL  string
	User      string
	SessionID string    // the emulator's own session identifier
	ClientID  string    // the OIDC client registration
	UserCode  string    // device authorization
	Grant     string    // CreateToken grant: device_code, authorization_code, refresh_token
	Reason    string    // SessionEnded: logout, end-sessions, expired; RefreshDenied: why
	AccountID string    // RoleCredentialsIssued, STSCredentialsIssued
	RoleName  string    // permission set or IAM role
	Operation string    // STSCredentialsIssued: GetSessionToken or AssumeRole
	Expires   time.Time // the issued token or credentials expire then
	// SessionEnd is when the session this event belongs to ends.
	SessionEnd time.Time
}

// attrs renders an event for the log; every field is safe to log.
func (e Event) attrs() []any {
	a := []any{"event", string(e.Kind), "at", e.Time.UTC().Format(time.RFC3339)}
	add := func(k, v string) {
		if v != "" {
			a = append(a, k, v)
		}
	}
	add("start_url", e.StartURL)
	add("user", e.User)
	add("session", e.SessionID)
	add("client", e.ClientID)
	add("user_code", e.UserCode)
	add("grant", e.Grant)
	add("reason", e.Reason)
	add("account", e.AccountID)
	add("role", e.RoleName)
	add("operation", e.Operation)
	if !e.Expires.IsZero() {
		a = append(a, "expires", e.Expires.UTC().Format(time.RFC3339))
	}
	if !e.SessionEnd.IsZero() {
		a = append(a, "session_end", e.SessionEnd.UTC().Format(time.RFC3339))
	}
	return a
}

// emit logs and delivers events. Callers collect events under the lock and
// emit them after releasing it, so OnEvent may call back into the Server.
func (s *Server) emit(events []Event) {
	for _, e := range events {
		s.log.Info("emulator event", e.attrs()...)
		if s.opts.OnEvent != nil {
			s.opts.OnEvent(e)
		}
	}
}
