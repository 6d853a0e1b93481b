package source

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ssokeep/ssokeep/internal/awserr"
)

// STSAPI is the part of the STS client the MFA session and assume-role sources use.
type STSAPI interface {
	GetSessionToken(context.Context, *sts.GetSessionTokenInput, ...func(*sts.Options)) (*sts.GetSessionTokenOutput, error)
	AssumeRole(context.Context, *sts.AssumeRoleInput, ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// STSFactory builds an STS client for a region that signs with creds. It is called only when a fetch is needed.
type STSFactory func(ctx context.Context, region string, creds aws.CredentialsProvider) (STSAPI, error)

// CodeFunc returns a one-time code of the MFA device serial, for profile (a terminal prompt, or a command the
// user configured).
type CodeFunc func(ctx context.Context, profile, serial string) (string, error)

// Durations STS applies when none is asked for (aws-protocols.md §8), and the role-chaining cap.
const (
	DefaultSessionTokenDuration = 12 * time.Hour
	DefaultAssumeRoleDuration   = time.Hour
	RoleChainingMax             = time.Hour
)

// onceCode asks code for a code at most once per fetch, so a retried call reuses it rather than prompting again.
func onceCode(ctx context.Context, code CodeFunc, profile, serial string) func() (string, error) {
	var once sync.Once
	var c string
	var err error
	return func() (string, error) {
		once.Do(func() {
			if code == nil {
				err = fmt.Errorf("profile %s needs a code of MFA device %s, and no way to ask for one was given", profile, serial)
				return
			}
			c, err = code(ctx, profile, serial)
			c = strings.TrimSpace(c)
			if err == nil && !sixDigits(c) {
				err = fmt.Errorf("the MFA code for %s must be 6 digits", serial)
			}
		})
		return c, err
	}
}

func sixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// MFASession gets an MFA-authenticated session with sts:GetSessionToken, signed with long-term keys.
type MFASession struct {
	Profile  string
	Serial   string        // mfa_serial
	Duration time.Duration // 0: DefaultSessionTokenDuration
	Source   aws.CredentialsProvider
	Region   string
	STS      STSFactory
	Code     CodeFunc
}

// Retrieve implements aws.CredentialsProvider.
func (p *MFASession) Retrieve(ctx context.Context) (aws.Credentials, error) {
	code, err := onceCode(ctx, p.Code, p.Profile, p.Serial)()
	if err != nil {
		return aws.Credentials{}, err
	}
	c, err := stsClient(ctx, p.STS, p.Region, p.Source)
	if err != nil {
		return aws.Credentials{}, err
	}
	d := p.Duration
	if d == 0 {
		d = DefaultSessionTokenDuration
	}
	out, err := c.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(int32(d / time.Second)),
		SerialNumber: aws.String(p.Serial), TokenCode: aws.String(code)})
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("profile %s: GetSessionToken with MFA device %s: %w%s", p.Profile, p.Serial, awserr.Explain(err), mfaHint(err))
	}
	sc := out.Credentials
	if sc == nil || aws.ToString(sc.AccessKeyId) == "" || sc.Expiration == nil {
		return aws.Credentials{}, fmt.Errorf("profile %s: GetSessionToken returned no complete credentials", p.Profile)
	}
	return aws.Credentials{AccessKeyID: aws.ToString(sc.AccessKeyId), SecretAccessKey: aws.ToString(sc.SecretAccessKey),
		SessionToken: aws.ToString(sc.SessionToken), CanExpire: true, Expires: sc.Expiration.UTC(), Source: "MFASession"}, nil
}

// stsClient gets the source's credentials first, so that its errors (a login needed, an MFA code refused)
// reach the caller as they are rather than wrapped in the SDK's signing errors, then builds the client that
// signs with them.
func stsClient(ctx context.Context, f STSFactory, region string, source aws.CredentialsProvider) (STSAPI, error) {
	creds, err := source.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	return f(ctx, region, credentials.StaticCredentialsProvider{Value: creds})
}

// mfaHint adds what to do when STS refused an MFA code.
func mfaHint(err error) string {
	if awserr.Code(err) == "AccessDenied" && strings.Contains(strings.ToLower(awserr.Explain(err).Error()), "multifactor") {
		return "; use a fresh code from the device (and check this machine's clock)"
	}
	return ""
}

// chaining says whether AssumeRole from a source is role chaining, which STS caps at one hour.
type chaining int

const (
	notChained   chaining = iota // long-term keys or an MFA session
	chained                      // SSO role credentials or another assumed role
	maybeChained                 // temporary keys of unknown kind (pasted, from the environment)
)

// AssumeRole assumes RoleARN with stscreds.AssumeRoleProvider, signed with Source's credentials.
type AssumeRole struct {
	Profile     string
	RoleARN     string
	SessionName string        // role_session_name; "" gives ssokeep-<unix seconds>
	ExternalID  string        // external_id
	MFASerial   string        // mfa_serial on the role profile
	Duration    time.Duration // duration_seconds; 0: DefaultAssumeRoleDuration
	Chaining    chaining
	Source      aws.CredentialsProvider
	Region      string
	STS         STSFactory
	Code        CodeFunc
	Now         func() time.Time
}

// duration is what to ask for: the configured duration, capped at one hour when the source is a role session
// (STS refuses more for role chaining rather than shortening it).
func (p *AssumeRole) duration() time.Duration {
	d := p.Duration
	if d == 0 {
		d = DefaultAssumeRoleDuration
	}
	if p.Chaining == chained && d > RoleChainingMax {
		d = RoleChainingMax
	}
	return d
}

// Retrieve implements aws.CredentialsProvider.
func (p *AssumeRole) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := stsClient(ctx, p.STS, p.Region, p.Source)
	if err != nil {
		return aws.Credentials{}, err
	}
	name := p.SessionName
	if name == "" {
		now := time.Now
		if p.Now != nil {
			now = p.Now
		}
		name = fmt.Sprintf("ssokeep-%d", now().Unix())
	}
	code := onceCode(ctx, p.Code, p.Profile, p.MFASerial)
	assume := func(d time.Duration) (aws.Credentials, error) {
		return stscreds.NewAssumeRoleProvider(c, p.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = name
			o.Duration = d
			if p.ExternalID != "" {
				o.ExternalID = aws.String(p.ExternalID)
			}
			if p.MFASerial != "" {
				o.SerialNumber = aws.String(p.MFASerial)
				o.TokenProvider = code
			}
		}).Retrieve(ctx)
	}
	d := p.duration()
	creds, err := assume(d)
	if err != nil && p.Chaining == maybeChained && d > RoleChainingMax && isChainingLimit(err) {
		// The temporary source keys turned out to be a role session: ask for what role chaining allows.
		creds, err = assume(RoleChainingMax)
	}
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("profile %s: assuming %s: %w%s", p.Profile, p.RoleARN, awserr.Explain(err), assumeHint(err))
	}
	creds.Source = "AssumeRole"
	return creds, nil
}

func isChainingLimit(err error) bool {
	return awserr.Code(err) == "ValidationError" && strings.Contains(awserr.Explain(err).Error(), "role chaining")
}

// assumeHint adds what to do for the refusals a configuration causes.
func assumeHint(err error) string {
	msg := awserr.Explain(err).Error()
	switch {
	case strings.Contains(msg, "MaxSessionDuration"):
		return "; lower duration_seconds to at most the role's maximum session duration"
	case strings.Contains(msg, "role chaining"):
		return "; role chaining allows at most 3600 s: lower duration_seconds"
	case strings.Contains(strings.ToLower(msg), "multifactor"):
		return "; use a fresh code from the device (and check this machine's clock)"
	case awserr.Code(err) == "AccessDenied":
		return "; check role_arn, external_id and mfa_serial, and that the source may assume the role"
	}
	return ""
}
