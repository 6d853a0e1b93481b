// Package login signs a user in to AWS IAM Identity Center and keeps the
// resulting token usable: the device-code and authorization-code (PKCE) flows,
// the refresh-token grant, and logout. Tokens and client registrations are
// written to the AWS CLI v2 cache exactly as the CLI writes them, so `aws`,
// boto3 and the SDKs use what ssokeep got and ssokeep uses what they got.
package login

import (
	"strings"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// DefaultScope is what `aws configure sso` writes and what the CLI registers
// with when a session names no scopes: it is what gets a refresh token.
const DefaultScope = "sso:account:access"

// Session is one IAM Identity Center sign-in as the token cache knows it: an
// [sso-session], or the start URL of legacy profiles.
type Session struct {
	Name     string // the sso-session name; "" for legacy profiles
	StartURL string
	Region   string
	// Scopes are the configured sso_registration_scopes (nil when absent).
	Scopes []string
	// Profile is the profile the session was found through, for messages.
	Profile string
}

// SessionOf returns the session a profile's SSO settings point at.
func SessionOf(profile string, s *awsconfig.SSO) Session {
	out := Session{StartURL: s.StartURL, Region: s.Region, Scopes: s.RegistrationScopes, Profile: profile}
	if s.Session != nil {
		out.Name = s.Session.Name
	}
	return out
}

// Legacy reports whether this is a legacy profile's session: its tokens have no
// refresh token and last a fixed time.
func (s Session) Legacy() bool { return s.Name == "" }

// CacheKey names the token file (see ssocache.TokenKey).
func (s Session) CacheKey() string {
	if s.Legacy() {
		return ssocache.TokenKey(s.StartURL)
	}
	return ssocache.TokenKey(s.Name)
}

// Label names the session for people: its name, or the start URL.
func (s Session) Label() string {
	if s.Legacy() {
		return s.StartURL
	}
	return s.Name
}

// LoginCommand is the command that logs this session in again.
func (s Session) LoginCommand() string {
	if s.Profile != "" {
		return "ssokeep login -p " + quote(s.Profile)
	}
	return "ssokeep login --sso-session " + quote(s.Name)
}

// registrationScopes are the scopes a new registration asks for. The CLI's
// device flow registers with exactly the configured scopes (none for legacy
// profiles, which is why those get no refresh token); its PKCE flow falls back
// to sso:account:access.
func (s Session) registrationScopes(pkce bool) []string {
	if len(s.Scopes) > 0 || !pkce {
		return s.Scopes
	}
	return []string{DefaultScope}
}

func (s Session) registrationKey() string {
	return ssocache.RegistrationKey(ssocache.RegistrationKeyInput{StartURL: s.StartURL, Region: s.Region,
		SessionName: s.Name, Scopes: s.Scopes})
}

func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
