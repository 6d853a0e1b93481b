package source

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"

	"github.com/ssokeep/ssokeep/internal/awserr"
	"github.com/ssokeep/ssokeep/internal/login"
)

// TokenFunc returns a valid IAM Identity Center access token for a session, refreshing it if it must, or a
// *login.LoginNeededError.
type TokenFunc func(ctx context.Context, s login.Session) (string, error)

// ManagerTokens is the TokenFunc of a login.Manager: a token with at least min left (refreshed under the
// cache's lock when less is left). A token the manager still returns alongside a refusal to refresh is valid,
// and it is used.
func ManagerTokens(m *login.Manager, min time.Duration) TokenFunc {
	return func(ctx context.Context, s login.Session) (string, error) {
		tok, err := m.Token(ctx, s, min)
		if tok != nil && tok.AccessToken != "" {
			return tok.AccessToken, nil
		}
		if err == nil {
			err = &login.LoginNeededError{Session: s, Reason: login.NoToken}
		}
		return "", err
	}
}

// GetRoleCredentialsAPI is the part of the SSO portal client SSORole uses.
type GetRoleCredentialsAPI interface {
	GetRoleCredentials(context.Context, *sso.GetRoleCredentialsInput, ...func(*sso.Options)) (*sso.GetRoleCredentialsOutput, error)
}

// SSORole fetches a permission set's role credentials with sso:GetRoleCredentials.
type SSORole struct {
	Session   login.Session
	AccountID string
	RoleName  string
	Token     TokenFunc
	// Client builds the portal client for the session's region; called only when a fetch is needed.
	Client func(ctx context.Context, region string) (GetRoleCredentialsAPI, error)
}

// Retrieve implements aws.CredentialsProvider. The set carries its true expiry (the API's epoch milliseconds)
// and the account id. A token the portal refuses means the sign-in session is over (logged out elsewhere,
// ended by an administrator): a *login.LoginNeededError.
func (p *SSORole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if p.Token == nil || p.Client == nil {
		return aws.Credentials{}, errors.New("source.SSORole needs a Token func and a Client factory")
	}
	tok, err := p.Token(ctx, p.Session)
	if err != nil {
		return aws.Credentials{}, err
	}
	c, err := p.Client(ctx, p.Session.Region)
	if err != nil {
		return aws.Credentials{}, err
	}
	out, err := c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok),
		AccountId: aws.String(p.AccountID), RoleName: aws.String(p.RoleName)})
	if err != nil {
		var ue *ssotypes.UnauthorizedException
		if errors.As(err, &ue) {
			return aws.Credentials{}, &login.LoginNeededError{Session: p.Session, Reason: login.SessionEnded}
		}
		if awserr.Code(err) == "ForbiddenException" {
			return aws.Credentials{}, fmt.Errorf("IAM Identity Center refuses role %s in account %s for profile %s (%s); check sso_account_id and sso_role_name (aws sso list-account-roles)",
				p.RoleName, p.AccountID, p.Session.Profile, awserr.Explain(err))
		}
		return aws.Credentials{}, fmt.Errorf("getting role credentials for %s in account %s: %w", p.RoleName, p.AccountID, awserr.Explain(err))
	}
	rc := out.RoleCredentials
	if rc == nil || aws.ToString(rc.AccessKeyId) == "" || aws.ToString(rc.SecretAccessKey) == "" || rc.Expiration == 0 {
		return aws.Credentials{}, fmt.Errorf("getting role credentials for %s in account %s: the response has no complete credentials", p.RoleName, p.AccountID)
	}
	return aws.Credentials{AccessKeyID: aws.ToString(rc.AccessKeyId), SecretAccessKey: aws.ToString(rc.SecretAccessKey),
		SessionToken: aws.ToString(rc.SessionToken), CanExpire: true, Expires: time.UnixMilli(rc.Expiration).UTC(),
		AccountID: p.AccountID, Source: "SSORole"}, nil
}
