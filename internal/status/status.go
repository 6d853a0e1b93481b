// Package status answers "can my jobs get credentials, and for how long?" for
// each IAM Identity Center session (or legacy start URL) in the user's AWS
// config, from the AWS CLI v2 caches, without any network call.
package status

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/registry"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// State is a session's verdict, worst last.
type State string

const (
	OK          State = "ok"           // usable now and refreshable, or good for at least MinRemaining
	Expiring    State = "expiring"     // usable now, ends within MinRemaining, cannot be refreshed
	LoginNeeded State = "login-needed" // no usable token: a human must log in
)

func (s State) rank() int {
	switch s {
	case LoginNeeded:
		return 2
	case Expiring:
		return 1
	}
	return 0
}

// Report is what `ssokeep status` prints, and its --json shape.
type Report struct {
	GeneratedAt     time.Time        `json:"generatedAt"`
	MinRemaining    Seconds          `json:"minRemainingSeconds"`
	State           State            `json:"state"`
	Sessions        []*Session       `json:"sessions"`
	InvalidProfiles []InvalidProfile `json:"invalidProfiles"`
	// Keepers are the ssokeep exec jobs and serve daemons running now.
	Keepers []registry.Keeper `json:"keepers"`
	// Note explains an empty report (e.g. the profile does not use SSO).
	Note string `json:"note,omitempty"`
}

// Seconds is a duration that serializes as whole seconds, for scripts.
type Seconds time.Duration

func (s Seconds) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf("%d", int64(time.Duration(s)/time.Second))), nil
}

// Session is one token cache entry: an [sso-session] or a legacy start URL.
type Session struct {
	Name      string   `json:"name"` // the sso-session name, or the start URL of legacy profiles
	Kind      string   `json:"kind"` // "sso-session" or "legacy"
	StartURL  string   `json:"startUrl"`
	Region    string   `json:"region"`
	Profiles  []string `json:"profiles"`
	CacheFile string   `json:"cacheFile"`
	State     State    `json:"state"`

	Token           *Token      `json:"token"`        // nil: no token file
	Registration    *Expiry     `json:"registration"` // nil: the token names no registration
	RoleCredentials []RoleCreds `json:"roleCredentials"`
	SessionEnd      SessionEnd  `json:"sessionEnd"`
	Problems        []string    `json:"problems"`
	LoginProfile    string      `json:"loginProfile"` // a profile to name in `login -p`
	legacy, direct  bool
}

// Token describes the cached access token. It never carries the token itself.
type Token struct {
	ExpiresAt        time.Time `json:"expiresAt"`
	RemainingSeconds Seconds   `json:"remainingSeconds"`
	Refreshable      bool      `json:"refreshable"`
	HasRefreshToken  bool      `json:"hasRefreshToken"`
	// NotRefreshable says why Refreshable is false ("" when it is true).
	NotRefreshable string `json:"notRefreshableBecause,omitempty"`
}

// Expiry is a point in time and what is left of it.
type Expiry struct {
	ExpiresAt        time.Time `json:"expiresAt"`
	RemainingSeconds Seconds   `json:"remainingSeconds"`
}

// RoleCreds is a role-credential set cached by the AWS CLI (~/.aws/cli/cache).
type RoleCreds struct {
	Profile   string `json:"profile"`
	AccountID string `json:"accountId"`
	RoleName  string `json:"roleName"`
	Source    string `json:"source"` // "aws-cli-cache"
	Expiry
}

// SessionEnd is what is known of when the IAM Identity Center sign-in session
// ends. No AWS API tells; ssokeep forecasts it from the time it logged the
// session in and the configured maximum (ssokeep_session_duration), and learns
// it when a refresh first fails.
type SessionEnd struct {
	// State is "unknown", "forecast" (At = login time + configured maximum) or
	// "ended" (a refresh failed because the session had ended, at or before At).
	State string     `json:"state"`
	At    *time.Time `json:"at,omitempty"`
	// Exact: At is the real end (ssokeep logged in with --fresh, so the session
	// began then), not only an upper bound.
	Exact       bool       `json:"exact,omitempty"`
	LoggedInAt  *time.Time `json:"loggedInAt,omitempty"`
	MaxDuration Seconds    `json:"maxDurationSeconds,omitempty"`
}

// InvalidProfile is a profile the AWS config cannot resolve.
type InvalidProfile struct {
	Profile string `json:"profile"`
	Error   string `json:"error"`
}

// SessionEnds looks up what ssokeep knows of a session's end, by the session's
// name (or the legacy start URL). A nil SessionEnds knows nothing.
type SessionEnds func(name string, s *awsconfig.SSO) SessionEnd

// Input is everything Build reads. Build makes no network call.
type Input struct {
	Config       *awsconfig.Config
	Cache        ssocache.Dir
	Roles        ssocache.RoleCache
	Now          time.Time
	MinRemaining time.Duration
	// Profile, when set, limits the report to the session behind that profile;
	// an unknown or invalid profile is an error (*awsconfig.Error).
	Profile     string
	SessionEnds SessionEnds
	Keepers     []registry.Keeper
}

// Build reads the config and the caches and returns the report.
func Build(in Input) (*Report, error) {
	r := &Report{GeneratedAt: in.Now.UTC(), MinRemaining: Seconds(in.MinRemaining), State: OK,
		Sessions: []*Session{}, InvalidProfiles: []InvalidProfile{}, Keepers: in.Keepers}
	if r.Keepers == nil {
		r.Keepers = []registry.Keeper{}
	}
	names := in.Config.Profiles
	if in.Profile != "" {
		names = []string{in.Profile}
	}
	byKey := map[string]*Session{}
	var order []string
	for _, name := range names {
		p, err := in.Config.Resolve(name)
		if err != nil {
			if in.Profile != "" {
				return nil, err
			}
			r.InvalidProfiles = append(r.InvalidProfiles, InvalidProfile{Profile: name, Error: err.Error()})
			continue
		}
		sso := p.SSOSource()
		if sso == nil {
			continue
		}
		key := sso.CacheKey()
		s := byKey[key]
		if s == nil {
			s = &Session{Name: key, Kind: "sso-session", StartURL: sso.StartURL, Region: sso.Region,
				Profiles: []string{}, RoleCredentials: []RoleCreds{}, Problems: []string{},
				SessionEnd: SessionEnd{State: "unknown"}, legacy: sso.Session == nil}
			if s.legacy {
				s.Kind = "legacy"
			}
			if in.SessionEnds != nil {
				s.SessionEnd = in.SessionEnds(key, sso)
			}
			byKey[key] = s
			order = append(order, key)
		}
		s.Profiles = append(s.Profiles, name)
		if p.SSO != nil {
			// Prefer a profile that uses the session directly for `login -p`.
			if !s.direct {
				s.LoginProfile, s.direct = name, true
			}
			s.RoleCredentials = append(s.RoleCredentials, roleCreds(in, name, p.SSO)...)
		} else if s.LoginProfile == "" {
			s.LoginProfile = name
		}
	}
	if in.Profile != "" && len(order) == 0 {
		r.Note = fmt.Sprintf("profile %s does not use IAM Identity Center: ssokeep has nothing to keep for it", in.Profile)
	}
	for _, key := range order {
		s := byKey[key]
		evaluate(s, in)
		if s.State.rank() > r.State.rank() {
			r.State = s.State
		}
		r.Sessions = append(r.Sessions, s)
	}
	return r, nil
}

func roleCreds(in Input, profile string, sso *awsconfig.SSO) []RoleCreds {
	session := ""
	if sso.Session != nil {
		session = sso.Session.Name
	}
	rc, err := in.Roles.Load(ssocache.RoleKey(sso.AccountID, sso.RoleName, session, sso.StartURL))
	if err != nil || rc == nil {
		return nil
	}
	return []RoleCreds{{Profile: profile, AccountID: sso.AccountID, RoleName: sso.RoleName, Source: "aws-cli-cache",
		Expiry: expiry(rc.Expiration, in.Now)}}
}

func expiry(t, now time.Time) Expiry {
	return Expiry{ExpiresAt: t.UTC(), RemainingSeconds: Seconds(t.Sub(now))}
}

// evaluate reads the session's token and decides its state.
func evaluate(s *Session, in Input) {
	key := ssocache.TokenKey(s.Name)
	s.CacheFile = in.Cache.TokenPath(key)
	sort.SliceStable(s.RoleCredentials, func(i, j int) bool { return s.RoleCredentials[i].Profile < s.RoleCredentials[j].Profile })
	tok, err := in.Cache.LoadToken(key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.State = LoginNeeded
		s.Problems = append(s.Problems, "no cached token: nobody has logged in to this session on this machine")
		return
	case err != nil:
		s.State = LoginNeeded
		s.Problems = append(s.Problems, err.Error())
		return
	}
	t := &Token{ExpiresAt: tok.ExpiresAt.UTC(), RemainingSeconds: Seconds(tok.Remaining(in.Now)),
		HasRefreshToken: tok.RefreshToken != "", Refreshable: tok.Refreshable(in.Now)}
	if !t.Refreshable {
		t.NotRefreshable = notRefreshableBecause(tok, s, in.Now)
	}
	s.Token = t
	if !tok.RegistrationExpiresAt.IsZero() {
		e := expiry(tok.RegistrationExpiresAt, in.Now)
		s.Registration = &e
	}
	if tok.StartURL != "" && s.StartURL != "" && tok.StartURL != s.StartURL {
		s.Problems = append(s.Problems, fmt.Sprintf("the cached token is for %s, but the config says %s", tok.StartURL, s.StartURL))
	}
	left := tok.Remaining(in.Now)
	ended := s.SessionEnd.State == "ended" || s.SessionEnd.At != nil && !s.SessionEnd.At.After(in.Now)
	switch {
	case left <= 0 && (!t.Refreshable || ended):
		s.State = LoginNeeded
	case ended:
		// The access token still works, but no refresh will: it is all there is.
		s.State = stateByTime(left, in.MinRemaining)
	case t.Refreshable && s.SessionEnd.At != nil:
		// Refreshable, but only until the forecast session end.
		s.State = stateByTime(s.SessionEnd.At.Sub(in.Now), in.MinRemaining)
	case t.Refreshable:
		s.State = OK
	default:
		s.State = stateByTime(left, in.MinRemaining)
	}
}

func stateByTime(left, min time.Duration) State {
	if left < min {
		return Expiring
	}
	return OK
}

func notRefreshableBecause(t *ssocache.Token, s *Session, now time.Time) string {
	switch {
	case t.RefreshToken == "" && s.legacy:
		return "legacy profile (sso_start_url on the profile): its tokens have no refresh token"
	case t.RefreshToken == "":
		return "the cached token has no refresh token"
	case t.ClientID == "" || t.ClientSecret == "":
		return "the cached token names no client registration"
	case !t.RegistrationExpiresAt.IsZero() && !t.RegistrationExpiresAt.After(now):
		return "the client registration has expired"
	}
	return "not refreshable"
}
