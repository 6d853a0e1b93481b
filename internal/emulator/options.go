package emulator

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for Options. They follow AWS: an 8 h sign-in session, 1 h access
// tokens and role credentials, ~90-day client registrations and 10-minute
// device codes (aws-protocols.md §1, §9).
const (
	DefaultSessionDuration      = 8 * time.Hour
	DefaultTokenLifetime        = time.Hour
	DefaultRoleDuration         = time.Hour
	DefaultRegistrationLifetime = 90 * 24 * time.Hour
	DefaultDeviceCodeLifetime   = 10 * time.Minute
	DefaultRegion               = "us-east-1"
	// DefaultStartURL has the shape of a real IAM Identity Center start URL:
	// CLI 2.35+ treats start URLs outside AWS-owned domains differently.
	DefaultStartURL      = "https://d-90670ffee0.awsapps.com/start"
	DefaultAccountID     = "111122223333"
	DefaultAccountName   = "emulator"
	DefaultPermissionSet = "Developer"
	// UserName is the one emulated person who signs in at every start URL.
	UserName = "emulator-user"
)

// Options configure a Server. The zero value is usable: every zero field gets
// its default in New.
type Options struct {
	// Addr is the listen address; it must be a loopback address (default
	// "127.0.0.1:0", an ephemeral port).
	Addr string
	// Now is the clock for every lifetime check (default time.Now). Latency
	// faults are real time and do not use it.
	Now    func() time.Time
	Logger *slog.Logger // default: discard
	Region string       // default us-east-1
	// StartURL is the IAM Identity Center start URL written by AWSConfig.
	// Sessions are kept per start URL, so clients may use any https URL.
	StartURL string

	SessionDuration      time.Duration // sign-in session length (default 8h)
	TokenLifetime        time.Duration // access tokens of refreshable registrations (default 1h)
	RoleDuration         time.Duration // GetRoleCredentials lifetime unless the permission set says otherwise (default 1h)
	RegistrationLifetime time.Duration // RegisterClient lifetime (default 90 days)
	DeviceCodeLifetime   time.Duration // device codes (default 10m)

	Approve  ApprovePolicy // who approves device codes and /authorize requests (default Manual)
	Accounts []Account     // default: one account 111122223333 ("emulator") with permission set "Developer"
	Users    []User        // IAM users with long-term keys, for STS GetSessionToken/AssumeRole
	Faults   Faults        // injected errors and latency per operation

	// STSMaxLifetime caps every STS credential's lifetime (0: as requested).
	// It lets compressed-time rehearsals ask for 15 min and get seconds.
	STSMaxLifetime time.Duration

	// MaxClockSkew is how far a SigV4 request's X-Amz-Date may be from Now
	// (default 15 min, as AWS). SDKs sign with the wall clock, so Go tests
	// that move an injected clock by hours set it large.
	MaxClockSkew time.Duration

	// RotateRefreshTokens makes a refresh token single-use: each refresh
	// returns a new one and the old one fails with InvalidGrantException.
	// Whether AWS rotates is unconfirmed, so the strict case is the one to
	// test against; New cannot tell false from unset, so the default is
	// rotation and KeepRefreshTokens turns it off.
	RotateRefreshTokens bool
	// KeepRefreshTokens leaves a used refresh token valid (until the session
	// ends). It wins over RotateRefreshTokens.
	KeepRefreshTokens bool

	// OnEvent, if set, receives every Event, synchronously, after the
	// emulator's state has changed. It must not block for long. Events never
	// carry a token or a key.
	OnEvent func(Event)
}

// Account is an AWS account the emulated user is assigned to.
type Account struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Email          string          `json:"email,omitempty"`
	PermissionSets []PermissionSet `json:"permissionSets,omitempty"`
	// Roles are plain IAM roles that STS AssumeRole can assume.
	Roles []Role `json:"roles,omitempty"`
}

// PermissionSet is an IAM Identity Center permission set assigned to the
// emulated user in one account; GetRoleCredentials returns credentials for it.
type PermissionSet struct {
	Name string `json:"name"`
	// SessionDuration is the role credentials' lifetime (0: Options.RoleDuration).
	SessionDuration Duration `json:"sessionDuration,omitempty"`
}

// Role is an IAM role for sts:AssumeRole.
type Role struct {
	Name string `json:"name"`
	// MaxSessionDuration caps DurationSeconds (0: 1h, AWS's default).
	MaxSessionDuration Duration `json:"maxSessionDuration,omitempty"`
	// ExternalID, when set, must be passed as ExternalId.
	ExternalID string `json:"externalId,omitempty"`
	// RequireMFA asks for SerialNumber+TokenCode, or a caller whose session
	// was itself MFA-authenticated (the aws:MultiFactorAuthPresent condition).
	RequireMFA bool `json:"requireMfa,omitempty"`
}

// User is an IAM user with a long-term access key.
type User struct {
	Name            string     `json:"name"`
	AccountID       string     `json:"accountId,omitempty"` // default: the first account
	AccessKeyID     string     `json:"accessKeyId"`
	SecretAccessKey string     `json:"secretAccessKey"`
	MFA             *MFADevice `json:"mfa,omitempty"`
}

// MFADevice is a virtual MFA device checked with TOTP (RFC 6238: SHA-1,
// 6 digits, 30 s steps, one step of skew either side, as AWS does).
type MFADevice struct {
	// SerialNumber is the device ARN; default arn:aws:iam::ACCOUNT:mfa/USER.
	SerialNumber string `json:"serialNumber,omitempty"`
	// Secret is the base32 seed an authenticator app would scan.
	Secret string `json:"secret"`
}

// ApprovePolicy says who approves device authorizations and /authorize
// requests: a person (Manual, through the page or the control API), or the
// emulator itself at once (Auto) or after a delay (AutoAfter).
type ApprovePolicy struct {
	auto  bool
	after time.Duration
}

var (
	// Manual waits for Approve, the control API or the browser page.
	Manual = ApprovePolicy{}
	// Auto approves at once.
	Auto = ApprovePolicy{auto: true}
)

// AutoAfter approves a device code once d has passed since it was issued (on
// the emulator's clock, checked when the client polls). /authorize requests
// have no poll, so they are approved at once, as with Auto.
func AutoAfter(d time.Duration) ApprovePolicy { return ApprovePolicy{auto: true, after: d} }

// ParseApprovePolicy reads "manual", "auto" or "auto-after=DUR".
func ParseApprovePolicy(s string) (ApprovePolicy, error) {
	switch {
	case s == "manual" || s == "":
		return Manual, nil
	case s == "auto":
		return Auto, nil
	case strings.HasPrefix(s, "auto-after="):
		d, err := time.ParseDuration(strings.TrimPrefix(s, "auto-after="))
		if err != nil || d < 0 {
			return Manual, fmt.Errorf("approve policy %q: the delay must be a duration such as auto-after=30s", s)
		}
		return AutoAfter(d), nil
	}
	return Manual, fmt.Errorf("approve policy %q: use manual, auto or auto-after=DUR", s)
}

func (p ApprovePolicy) String() string {
	switch {
	case !p.auto:
		return "manual"
	case p.after == 0:
		return "auto"
	}
	return "auto-after=" + p.after.String()
}

// Duration is a time.Duration that reads from JSON as "90m"/"1h" or as a
// number of seconds, and writes as a string.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		v, err := time.ParseDuration(strings.Trim(s, `"`))
		if err != nil {
			return fmt.Errorf("duration %s: use a Go duration such as \"90m\" or a number of seconds", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if _, err := fmt.Sscanf(s, "%g", &secs); err != nil {
		return fmt.Errorf("duration %s: use a Go duration such as \"90m\" or a number of seconds", s)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

func defaultAccounts() []Account {
	return []Account{{
		ID:             DefaultAccountID,
		Name:           DefaultAccountName,
		Email:          "emulator@example.com",
		PermissionSets: []PermissionSet{{Name: DefaultPermissionSet}},
	}}
}
