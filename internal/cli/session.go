package cli

import (
	"fmt"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// newManager is the login manager on the user's real caches.
func newManager(g *Globals) (*login.Manager, error) {
	dir, roles, err := caches()
	if err != nil {
		return nil, err
	}
	return &login.Manager{Cache: dir, Roles: roles, Logins: logins.In(dir.StateDir()), Now: now, Logger: g.logger}, nil
}

// sessionFor finds the IAM Identity Center session to act on: --sso-session
// when given, else the one behind the profile.
func sessionFor(g *Globals, cfg *awsconfig.Config, ssoSession string) (login.Session, error) {
	if ssoSession != "" {
		ss, err := cfg.Session(ssoSession)
		if err != nil {
			return login.Session{}, configError(err)
		}
		return login.Session{Name: ss.Name, StartURL: ss.StartURL, Region: ss.Region, Scopes: ss.RegistrationScopes}, nil
	}
	name := g.profileName()
	p, err := cfg.Resolve(name)
	if err != nil {
		return login.Session{}, configError(err)
	}
	s := p.SSOSource()
	if s == nil {
		return login.Session{}, WithCode(ExitConfig, fmt.Errorf("profile %s does not use IAM Identity Center (it is %s); name an SSO profile with -p, or a session with --sso-session", name, p.Kind))
	}
	return login.SessionOf(name, s), nil
}

// roleKeys are the AWS CLI role-cache entries of every profile on session s,
// removed with it on logout.
func roleKeys(cfg *awsconfig.Config, s login.Session) []string {
	var keys []string
	for _, name := range cfg.Profiles {
		p, err := cfg.Resolve(name)
		if err != nil || p.SSO == nil || p.SSO.AccountID == "" {
			continue
		}
		if login.SessionOf(name, p.SSO).CacheKey() == s.CacheKey() {
			keys = append(keys, ssocache.RoleKey(p.SSO.AccountID, p.SSO.RoleName, s.Name, s.StartURL))
		}
	}
	return keys
}

// maxSessionDuration is the configured maximum length of s's sign-in session
// (ssokeep_session_duration), 0 when unknown.
func maxSessionDuration(cfg *awsconfig.Config, s login.Session) time.Duration {
	if s.Name == "" {
		return 0
	}
	if ss, err := cfg.Session(s.Name); err == nil {
		return ss.SessionDuration
	}
	return 0
}
