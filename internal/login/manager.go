package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/ssokeep/ssokeep/internal/awserr"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// expiryWindow is how close to its expiry the AWS CLI treats a cached token or
// registration as expired (cli2 _EXPIRY_WINDOW); we reuse registrations on the
// same terms so the CLI and ssokeep agree on when to register again.
const expiryWindow = 15 * time.Minute

// Manager logs sessions in and out and keeps their tokens refreshed. It is
// safe for concurrent use; refreshes are serialized across processes by the
// cache's file lock.
type Manager struct {
	Cache   ssocache.Dir
	Roles   ssocache.RoleCache
	Logins  *logins.Store // nil: record nothing
	Clients ClientFactory
	Now     func() time.Time
	// Wait pauses between device-code polls (default: a real timer). Tests
	// inject one that approves the login instead of waiting.
	Wait   func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
	// ClientName prefixes the name of new client registrations (default "ssokeep").
	ClientName string
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Manager) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (m *Manager) wait(ctx context.Context, d time.Duration) error {
	if m.Wait != nil {
		return m.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) clients(ctx context.Context, s Session) (*Clients, error) {
	if s.Region == "" {
		return nil, fmt.Errorf("session %s has no sso_region", s.Label())
	}
	f := m.Clients
	if f == nil {
		f = SDKClients
	}
	return f(ctx, s.Region)
}

// registration returns a client registration for s that has not expired,
// registering a new one when needed, in the CLI's registration cache entry.
// forAuthCode asks for one the authorization-code flow can use, as the CLI's
// PKCE flow does (it re-registers when the cached one lacks that grant).
func (m *Manager) registration(ctx context.Context, c *Clients, s Session, forAuthCode, renew bool) (*ssocache.Registration, error) {
	key := s.registrationKey()
	now := m.now()
	if r, err := m.Cache.LoadRegistration(key); renew {
		m.log().Info("IAM Identity Center no longer knows the cached client registration; registering again", "session", s.Label())
	} else if err == nil {
		if r.ExpiresAt.Sub(now) > expiryWindow && (!forAuthCode || hasGrant(r.GrantTypes, "authorization_code")) {
			return r, nil
		}
	} else if !errors.Is(err, errNotExist) {
		m.log().Warn("ignoring unusable client registration", "err", err)
	}
	name := m.ClientName
	if name == "" {
		name = "ssokeep"
	}
	if s.Name != "" {
		name += "-" + s.Name
	} else {
		name += fmt.Sprintf("-%d", now.Unix())
	}
	in := &ssooidc.RegisterClientInput{ClientName: aws.String(name), ClientType: aws.String("public"),
		Scopes: s.registrationScopes(forAuthCode)}
	if forAuthCode {
		in.GrantTypes = []string{"authorization_code", "refresh_token"}
		in.RedirectUris = []string{redirectURIWithoutPort}
		in.IssuerUrl = aws.String(s.StartURL)
	}
	out, err := c.OIDC.RegisterClient(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("registering a client with IAM Identity Center (%s): %w", s.Region, awserr.Explain(err))
	}
	r := &ssocache.Registration{ClientID: aws.ToString(out.ClientId), ClientSecret: aws.ToString(out.ClientSecret),
		ExpiresAt: time.Unix(out.ClientSecretExpiresAt, 0).UTC(), Scopes: in.Scopes, GrantTypes: in.GrantTypes}
	if err := m.Cache.SaveRegistration(key, r); err != nil {
		return nil, err
	}
	return r, nil
}

func hasGrant(grants []string, g string) bool {
	for _, x := range grants {
		if x == g {
			return true
		}
	}
	return false
}

// saveToken writes a token from CreateToken exactly as the CLI does and
// records the login.
func (m *Manager) saveToken(ctx context.Context, s Session, r *ssocache.Registration, out *ssooidc.CreateTokenOutput, fresh bool) (*ssocache.Token, error) {
	now := m.now()
	t := &ssocache.Token{StartURL: s.StartURL, Region: s.Region, AccessToken: aws.ToString(out.AccessToken),
		ExpiresAt: now.Add(time.Duration(out.ExpiresIn) * time.Second), ClientID: r.ClientID,
		ClientSecret: r.ClientSecret, RegistrationExpiresAt: r.ExpiresAt, RefreshToken: aws.ToString(out.RefreshToken)}
	if err := m.Cache.SaveToken(s.CacheKey(), t); err != nil {
		return nil, err
	}
	if m.Logins != nil {
		err := m.Logins.Update(ctx, s.CacheKey(), func(rec *logins.Record) {
			*rec = logins.Record{Session: s.Label(), StartURL: s.StartURL, LoggedInAt: now, Fresh: fresh}
		})
		if err != nil {
			m.log().Warn("could not record the login time", "err", err)
		}
	}
	return t, nil
}

// Token returns s's access token with at least min left, refreshing it with
// the refresh-token grant when less is left. The refresh runs under the
// cache's lock after re-reading the file, so of many processes only one
// refreshes and the others use its token. A token that cannot be refreshed is
// returned while it is still valid; past its expiry the error is a
// *LoginNeededError. When the refresh is refused because the sign-in session
// has ended, a still-valid token comes back together with that error, so a
// keeper can use it to the last minute and still call a human. A refresh that
// failed for another reason (network, throttling) is only logged while the
// token is still valid; Keep reports it.
func (m *Manager) Token(ctx context.Context, s Session, min time.Duration) (*ssocache.Token, error) {
	tok, err := m.Keep(ctx, s, min)
	if tok != nil && err != nil && !IsLoginNeeded(err) {
		m.log().Warn("token refresh failed; the current token is still valid", "session", s.Label(),
			"left", tok.Remaining(m.now()).Round(time.Second), "err", err)
		return tok, nil
	}
	return tok, err
}

// Keep is Token for a keeper: it returns the token whenever one is still
// valid, and the error of a refresh that was needed and failed, whatever the
// reason, so the caller can retry with backoff.
func (m *Manager) Keep(ctx context.Context, s Session, min time.Duration) (*ssocache.Token, error) {
	// Nothing to do most of the time: a keeper asks every step, and taking the
	// cross-process lock for a read would make every ssokeep wait on every other.
	if cur, err := m.Cache.LoadToken(s.CacheKey()); err == nil {
		now := m.now()
		if left := cur.Remaining(now); left >= min || left > 0 && !cur.Refreshable(now) {
			return cur, nil
		}
	}
	var refreshErr error
	tok, err := m.Cache.UpdateToken(ctx, s.CacheKey(), func(cur *ssocache.Token) (*ssocache.Token, error) {
		now := m.now()
		if cur == nil {
			return nil, &LoginNeededError{Session: s, Reason: NoToken}
		}
		if cur.Remaining(now) >= min || !cur.Refreshable(now) {
			return nil, nil
		}
		next, err := m.refresh(ctx, s, cur)
		if err != nil {
			refreshErr = err
			return nil, nil // keep the current token: it may still be valid
		}
		return next, nil
	})
	if err != nil {
		return nil, err
	}
	if tok.Remaining(m.now()) > 0 {
		return tok, refreshErr
	}
	if refreshErr != nil {
		return nil, refreshErr
	}
	return nil, &LoginNeededError{Session: s, Reason: Expired}
}

// refresh runs the refresh-token grant for cur. The caller holds the lock.
func (m *Manager) refresh(ctx context.Context, s Session, cur *ssocache.Token) (*ssocache.Token, error) {
	c, err := m.clients(ctx, s)
	if err != nil {
		return nil, err
	}
	out, err := c.OIDC.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: aws.String(cur.ClientID),
		ClientSecret: aws.String(cur.ClientSecret), GrantType: aws.String("refresh_token"),
		RefreshToken: aws.String(cur.RefreshToken)})
	now := m.now()
	if err != nil {
		var ig *oidctypes.InvalidGrantException
		var ic *oidctypes.InvalidClientException
		var ue *oidctypes.UnauthorizedClientException
		if errors.As(err, &ig) || errors.As(err, &ic) || errors.As(err, &ue) {
			return nil, m.sessionEnded(ctx, s, now)
		}
		return nil, fmt.Errorf("refreshing the token for %s: %w", s.Label(), awserr.Explain(err))
	}
	next := *cur
	next.AccessToken = aws.ToString(out.AccessToken)
	next.ExpiresAt = now.Add(time.Duration(out.ExpiresIn) * time.Second)
	if rt := aws.ToString(out.RefreshToken); rt != "" {
		next.RefreshToken = rt
	}
	m.log().Info("refreshed the access token", "session", s.Label(), "expires", next.ExpiresAt)
	return &next, nil
}

// sessionEnded records that s's sign-in session is over and returns the error
// that says so, with the best known end time.
func (m *Manager) sessionEnded(ctx context.Context, s Session, noticed time.Time) error {
	e := &LoginNeededError{Session: s, Reason: SessionEnded, EndedAt: noticed}
	if m.Logins == nil {
		return e
	}
	if rec, err := m.Logins.Get(s.CacheKey()); err == nil && !rec.EndedBy.IsZero() && !rec.EndedBy.After(noticed) {
		return e // already known
	}
	_ = m.Logins.Update(ctx, s.CacheKey(), func(r *logins.Record) {
		if r.EndedBy.IsZero() || noticed.Before(r.EndedBy) {
			r.EndedBy = noticed
		}
		if r.Session == "" {
			r.Session, r.StartURL = s.Label(), s.StartURL
		}
	})
	return e
}

// Logout ends s's sign-in session at IAM Identity Center (sso:Logout), then
// removes its token and the role credentials cached for it (roleKeys, in the
// AWS CLI's role cache), as `aws sso logout` does. Role credentials already
// handed out stay valid until they expire: AWS does not revoke them.
func (m *Manager) Logout(ctx context.Context, s Session, roleKeys []string) error {
	if err := m.logoutKey(ctx, s, s.CacheKey()); err != nil {
		return err
	}
	for _, rk := range roleKeys {
		if err := m.Roles.Remove(rk); err != nil {
			return err
		}
	}
	return nil
}

// LogoutEntry logs out the token cached under key, using the start URL and
// region the file names: for tokens no configured session maps to any more.
func (m *Manager) LogoutEntry(ctx context.Context, key string, t *ssocache.Token) error {
	return m.logoutKey(ctx, Session{StartURL: t.StartURL, Region: t.Region}, key)
}

func (m *Manager) logoutKey(ctx context.Context, s Session, key string) error {
	// sso:Logout needs a valid access token: refresh an expired one first, or
	// the live session would survive a "fresh" login.
	tok, err := m.Cache.UpdateToken(ctx, key, func(cur *ssocache.Token) (*ssocache.Token, error) {
		now := m.now()
		if cur == nil || cur.Remaining(now) > 0 || !cur.Refreshable(now) {
			return nil, nil
		}
		next, err := m.refresh(ctx, s, cur)
		if err != nil {
			m.log().Info("could not refresh the token to log out; the session may be over already", "err", err)
			return nil, nil
		}
		return next, nil
	})
	switch {
	case err == nil && tok != nil && tok.AccessToken != "" && tok.Remaining(m.now()) > 0:
		if err := m.portalLogout(ctx, s, tok.AccessToken); err != nil {
			return err
		}
	case err != nil && !errors.Is(err, errNotExist):
		var pe *ssocache.ParseError
		if !errors.As(err, &pe) {
			return err
		}
		m.log().Warn("removing an unparsable token file", "path", pe.Path)
	}
	if err := m.Cache.Remove(key); err != nil {
		return err
	}
	if m.Logins != nil {
		_ = m.Logins.Update(ctx, key, func(r *logins.Record) {
			if r.EndedBy.IsZero() {
				r.EndedBy = m.now()
			}
		})
	}
	return nil
}

func (m *Manager) portalLogout(ctx context.Context, s Session, accessToken string) error {
	c, err := m.clients(ctx, s)
	if err != nil {
		return err
	}
	_, err = c.Portal.Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(accessToken)})
	var ue *ssotypes.UnauthorizedException
	if err != nil && !errors.As(err, &ue) { // an already-dead token: the session is over anyway
		return fmt.Errorf("logging out of IAM Identity Center session %s: %w", s.Label(), awserr.Explain(err))
	}
	return nil
}
