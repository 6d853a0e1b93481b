package emulator

import (
	"slices"
	"time"
)

// The OIDC grant type names CreateToken accepts.
const (
	grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"
	grantRefresh    = "refresh_token"
	grantAuthCode   = "authorization_code"
)

// client is one RegisterClient registration.
type client struct {
	id, secret, name string
	scopes           []string
	grantTypes       []string
	redirectURIs     []string
	issuerURL        string
	issued, expires  time.Time
}

// refreshable reports whether tokens for this client come with a refresh
// token. AWS gives one to registrations with scopes (the sso-session form);
// legacy registrations (no scopes) get a long access token and no refresh.
func (c *client) refreshable() bool {
	return len(c.scopes) > 0 || slices.Contains(c.grantTypes, grantRefresh)
}

// allows reports whether the registration may use a grant. A registration
// that lists no grant types is a device-flow client (what the CLI registers
// for the device flow); one that lists them gets only those.
func (c *client) allows(grant string) bool {
	if len(c.grantTypes) == 0 {
		return grant == grantDeviceCode || (grant == grantRefresh && c.refreshable())
	}
	for _, g := range c.grantTypes {
		if g == grant || (grant == grantDeviceCode && g == "device_code") {
			return true
		}
	}
	return false
}

// session is one IAM Identity Center sign-in session of the emulated user at
// one start URL. Its end is fixed when it starts; only Logout or EndSessions
// bring it forward.
type session struct {
	id, startURL, user string
	start, end         time.Time
	endedAt            time.Time // set when ended early
	endReason          string
	announced          bool // SessionEnded has been emitted
}

func (ss *session) alive(now time.Time) bool {
	return ss.endedAt.IsZero() && now.Before(ss.end)
}

// finalEnd is when the session stopped or will stop.
func (ss *session) finalEnd() time.Time {
	if !ss.endedAt.IsZero() {
		return ss.endedAt
	}
	return ss.end
}

type deviceState int

const (
	devicePending deviceState = iota
	deviceApproved
	deviceDenied
	deviceRedeemed
)

// deviceAuth is one StartDeviceAuthorization.
type deviceAuth struct {
	deviceCode, userCode string
	client               *client
	startURL             string
	issued, expires      time.Time
	lastPoll             time.Time
	state                deviceState
	session              *session
}

// authRequest is an /authorize request waiting on the Approve page.
type authRequest struct {
	id          string
	client      *client
	redirectURI string
	state       string
	challenge   string
	startURL    string
	expires     time.Time
}

// authCode is an authorization code sent back to the client's redirect URI.
type authCode struct {
	client      *client
	redirectURI string
	challenge   string
	session     *session
	expires     time.Time
	used        bool
}

type accessToken struct {
	session *session
	client  *client
	expires time.Time
}

type refreshToken struct {
	session *session
	client  *client
	used    bool
}

// Lifetimes AWS does not let you configure.
const (
	deviceInterval   = 1 * time.Second // StartDeviceAuthorization "interval"
	authCodeLifetime = 5 * time.Minute
	authPageLifetime = 10 * time.Minute // the CLI waits 10 min for its callback
)

// noteEnded emits SessionEnded once for a session that ran out its time.
// Callers hold s.mu.
func (s *Server) noteEnded(ss *session, now time.Time, ev *[]Event) {
	if ss == nil || ss.announced || ss.alive(now) {
		return
	}
	ss.announced = true
	reason := ss.endReason
	if reason == "" {
		reason = "expired"
	}
	*ev = append(*ev, Event{Kind: SessionEnded, Time: ss.finalEnd(), StartURL: ss.startURL, User: ss.user,
		SessionID: ss.id, Reason: reason, SessionEnd: ss.finalEnd()})
}

// liveSession returns the start URL's session if it is alive. Callers hold s.mu.
func (s *Server) liveSession(startURL string, now time.Time, ev *[]Event) *session {
	ss := s.sessions[startURL]
	if ss == nil {
		return nil
	}
	if !ss.alive(now) {
		s.noteEnded(ss, now, ev)
		return nil
	}
	return ss
}

// signIn is what a person approving in the browser does: reuse the live
// session (the portal cookie) or start a new, full-length one. Callers hold s.mu.
func (s *Server) signIn(startURL string, now time.Time, ev *[]Event) *session {
	if ss := s.liveSession(startURL, now, ev); ss != nil {
		return ss
	}
	ss := &session{id: randToken("sess-", 9), startURL: startURL, user: UserName, start: now, end: now.Add(s.opts.SessionDuration)}
	s.sessions[startURL] = ss
	*ev = append(*ev, Event{Kind: SessionStarted, Time: now, StartURL: startURL, User: ss.user, SessionID: ss.id, SessionEnd: ss.end})
	return ss
}

// endSession ends a session now. Callers hold s.mu.
func (s *Server) endSession(ss *session, now time.Time, reason string, ev *[]Event) bool {
	if !ss.alive(now) {
		s.noteEnded(ss, now, ev)
		return false
	}
	ss.endedAt, ss.endReason, ss.announced = now, reason, true
	*ev = append(*ev, Event{Kind: SessionEnded, Time: now, StartURL: ss.startURL, User: ss.user, SessionID: ss.id,
		Reason: reason, SessionEnd: now})
	return true
}

// approveDevice approves a pending device code. Callers hold s.mu.
func (s *Server) approveDevice(d *deviceAuth, now time.Time, ev *[]Event) {
	d.session = s.signIn(d.startURL, now, ev)
	d.state = deviceApproved
	*ev = append(*ev, Event{Kind: Approved, Time: now, StartURL: d.startURL, User: d.session.user, SessionID: d.session.id,
		ClientID: d.client.id, UserCode: d.userCode, SessionEnd: d.session.end})
}

// issueTokens mints an access token (and a refresh token for refreshable
// registrations) bound to a session. Callers hold s.mu.
func (s *Server) issueTokens(c *client, ss *session, now time.Time) (access, refresh string, expires time.Time) {
	access = randToken("aoa", 96)
	if c.refreshable() {
		// An access token may outlive the session by up to its lifetime,
		// as AWS's 1 h tokens do; the portal still refuses it once the
		// session has ended.
		expires = now.Add(s.opts.TokenLifetime)
		refresh = randToken("aor", 96)
		s.refresh[refresh] = &refreshToken{session: ss, client: c}
	} else {
		// Legacy registrations: no refresh token, the token lives as long
		// as the session.
		expires = ss.end
	}
	s.access[access] = &accessToken{session: ss, client: c, expires: expires}
	if s.issuedTokens++; s.issuedTokens%pruneEvery == 0 {
		s.prune(now)
	}
	return access, refresh, expires
}

// prune drops OIDC state that can no longer change an answer (or changes
// only a message), so long rehearsals do not grow without bound. Refresh
// tokens of ended sessions are kept a while: the RefreshDenied event for
// them is what a timeline shows. Callers hold s.mu.
func (s *Server) prune(now time.Time) {
	for k, t := range s.access {
		if !now.Before(t.expires) {
			delete(s.access, k)
		}
	}
	for k, t := range s.refresh {
		if t.used || (!t.session.alive(now) && now.Sub(t.session.finalEnd()) > keepExpired) {
			delete(s.refresh, k)
		}
	}
	for k, d := range s.devices {
		if d.state == deviceRedeemed || d.state == deviceDenied || now.Sub(d.expires) > keepExpired {
			delete(s.devices, k)
			delete(s.userCodes, d.userCode)
		}
	}
	for k, c := range s.codes {
		if c.used || !now.Before(c.expires) {
			delete(s.codes, k)
		}
	}
	for k, a := range s.authReqs {
		if !now.Before(a.expires) {
			delete(s.authReqs, k)
		}
	}
}

// errUnauthorized is the portal's answer for unknown, expired or orphaned tokens.
type portalAuthError struct{ msg string }

func (e *portalAuthError) Error() string { return e.msg }

// checkAccess validates a portal bearer token. Callers hold s.mu.
func (s *Server) checkAccess(token string, now time.Time, ev *[]Event) (*accessToken, error) {
	t := s.access[token]
	if token == "" || t == nil {
		return nil, &portalAuthError{"Session token not found or invalid"}
	}
	if !now.Before(t.expires) {
		return nil, &portalAuthError{"Session token not found or invalid: the access token has expired"}
	}
	if !t.session.alive(now) {
		s.noteEnded(t.session, now, ev)
		return nil, &portalAuthError{"Session token not found or invalid: the sign-in session has ended"}
	}
	return t, nil
}

// expiresIn is the whole seconds left until t, at least 1: rounding down
// keeps clients from trusting a token past its real end.
func expiresIn(t, now time.Time) int64 {
	n := int64(t.Sub(now) / time.Second)
	if n < 1 {
		n = 1
	}
	return n
}
