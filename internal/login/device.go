package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/ssokeep/ssokeep/internal/awserr"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// DeviceAuth is what a person needs to approve a device-code login.
type DeviceAuth struct {
	VerificationURI         string
	VerificationURIComplete string // the URI with the code filled in: open or scan this one
	UserCode                string
	ExpiresAt               time.Time
}

// Options shape one login.
type Options struct {
	// Fresh ends the current sign-in session first (sso:Logout), so the new
	// login starts a full-length session instead of joining the old one.
	Fresh bool
	// RoleKeys are the AWS CLI role-cache entries of the session's profiles,
	// removed with the old session when Fresh.
	RoleKeys []string
}

// DeviceLogin runs the device-authorization flow: it shows the code through
// prompt, polls until a person approves it (or it expires, or ctx ends), and
// writes the token to the cache.
func (m *Manager) DeviceLogin(ctx context.Context, s Session, o Options, prompt func(DeviceAuth)) (*ssocache.Token, error) {
	c, err := m.prepare(ctx, s, o)
	if err != nil {
		return nil, err
	}
	var reg *ssocache.Registration
	var da *ssooidc.StartDeviceAuthorizationOutput
	// A cached registration the service no longer knows (revoked, or another
	// emulator) is replaced once.
	for renew := false; ; renew = true {
		if reg, err = m.registration(ctx, c, s, false, renew); err != nil {
			return nil, err
		}
		da, err = c.OIDC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
			ClientId: aws.String(reg.ClientID), ClientSecret: aws.String(reg.ClientSecret), StartUrl: aws.String(s.StartURL)})
		var ic *oidctypes.InvalidClientException
		if renew || !errors.As(err, &ic) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("starting a device login for %s: %w", s.Label(), awserr.Explain(err))
	}
	expires := m.now().Add(time.Duration(da.ExpiresIn) * time.Second)
	if prompt != nil {
		prompt(DeviceAuth{VerificationURI: aws.ToString(da.VerificationUri),
			VerificationURIComplete: aws.ToString(da.VerificationUriComplete), UserCode: aws.ToString(da.UserCode),
			ExpiresAt: expires})
	}
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	in := &ssooidc.CreateTokenInput{ClientId: aws.String(reg.ClientID), ClientSecret: aws.String(reg.ClientSecret),
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: da.DeviceCode}
	for {
		if err := m.wait(ctx, interval); err != nil {
			return nil, fmt.Errorf("login for %s not approved: %w", s.Label(), err)
		}
		out, err := c.OIDC.CreateToken(ctx, in)
		if err == nil {
			return m.saveToken(ctx, s, reg, out, o.Fresh)
		}
		var pending *oidctypes.AuthorizationPendingException
		var slow *oidctypes.SlowDownException
		var expired *oidctypes.ExpiredTokenException
		var denied *oidctypes.AccessDeniedException
		switch {
		case errors.As(err, &pending):
		case errors.As(err, &slow):
			interval += 5 * time.Second // RFC 8628 §3.5
		case errors.As(err, &expired):
			return nil, fmt.Errorf("the login code for %s expired before it was approved; run the login again", s.Label())
		case errors.As(err, &denied):
			return nil, fmt.Errorf("the login for %s was denied in the browser", s.Label())
		case awserr.Transient(err):
			// The code may be approved already: keep polling it rather than
			// ask the person again.
			m.log().Info("polling for the login failed; trying again", "session", s.Label(), "err", awserr.Explain(err))
		default:
			return nil, fmt.Errorf("waiting for the login of %s: %w", s.Label(), awserr.Explain(err))
		}
		if !m.now().Before(expires) {
			return nil, fmt.Errorf("the login code for %s expired before it was approved; run the login again", s.Label())
		}
	}
}

// prepare builds the clients and, for a fresh login, ends the old session.
func (m *Manager) prepare(ctx context.Context, s Session, o Options) (*Clients, error) {
	c, err := m.clients(ctx, s)
	if err != nil {
		return nil, err
	}
	if o.Fresh {
		if err := m.Logout(ctx, s, o.RoleKeys); err != nil {
			return nil, err
		}
	}
	return c, nil
}
