// Package credproc is the credential_process side of ssokeep that needs no
// AWS SDK: the output contract, the reuse policy, and the warm path of SSO
// profiles (a set in the AWS CLI's role cache that is still worth serving).
// The lean `ssokeep-credential-process` binary is built from it alone, so a
// warm answer costs little more than starting a process.
package credproc

import (
	"encoding/json"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// Credentials is one set, as the contract carries it.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expires                                    time.Time // zero: does not expire
	AccountID                                  string
}

// output is the credential_process contract: Version 1, RFC 3339 Expiration.
type output struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
	AccountID       string `json:"AccountId,omitempty"`
}

// JSON is what the command prints: one object and a newline.
func (c Credentials) JSON() ([]byte, error) {
	out := output{Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, AccountID: c.AccountID}
	if !c.Expires.IsZero() {
		out.Expiration = c.Expires.UTC().Format(time.RFC3339)
	}
	b, err := json.Marshal(out)
	return append(b, '\n'), err
}

// Warm returns the cached set of an SSO profile when pol finds it worth
// serving at now: no network, no token, no lock. ok is false for anything
// else (another kind of profile, no cached set, one too short): the caller
// then takes the full path.
func Warm(cfg *awsconfig.Config, profile string, roles ssocache.RoleCache, pol Policy, now time.Time) (c Credentials, ok bool) {
	p, err := cfg.Resolve(profile)
	if err != nil || p.Kind != awsconfig.KindSSO || p.SSO == nil || p.SSO.AccountID == "" || p.SSO.RoleName == "" {
		return c, false
	}
	session := ""
	if p.SSO.Session != nil {
		session = p.SSO.Session.Name
	}
	rc, issued, err := roles.LoadIssued(ssocache.RoleKey(p.SSO.AccountID, p.SSO.RoleName, session, p.SSO.StartURL))
	if err != nil || !pol.Reusable(issued, rc.Expiration, now) {
		return c, false
	}
	return Credentials{AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken,
		Expires: rc.Expiration, AccountID: rc.AccountID}, true
}
