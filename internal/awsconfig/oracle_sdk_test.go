package awsconfig

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/config"
)

// view is what both resolvers can say about a profile: the fields compared with aws-sdk-go-v2.
type view struct {
	Kind                                      Kind
	SSOSession, StartURL, SSORegion           string
	Account, Role, RoleARN, SourceProfile     string
	Region, CredentialProcess, CredSourceName string
	Keys                                      string // fingerprint of the static keys: compared, never shown
	Source                                    *view
}

func ourView(p *Profile) *view {
	v := &view{Kind: p.Kind, Region: p.Region, CredentialProcess: p.CredentialProcess}
	if p.Static != nil {
		v.Keys = fingerprint(p.Static.AccessKeyID, p.Static.SecretAccessKey, p.Static.SessionToken)
	}
	if p.SSO != nil && (p.Kind == KindSSO || p.Kind == KindLegacySSO) {
		v.StartURL, v.SSORegion, v.Account, v.Role = p.SSO.StartURL, p.SSO.Region, p.SSO.AccountID, p.SSO.RoleName
		if p.SSO.Session != nil {
			v.SSOSession = p.SSO.Session.Name
		}
	}
	if p.Role != nil {
		v.RoleARN, v.CredSourceName = p.Role.RoleARN, p.Role.CredentialSource
		if p.Role.Source != nil {
			v.SourceProfile = p.Role.Source.Name
			v.Source = ourView(p.Role.Source)
		}
	}
	return v
}

// sdkView reads the SDK's SharedConfig. The kind follows the order of the SDK's resolveCredsFromProfile; static
// keys with mfa_serial and no role are called an mfa session, as ssokeep does.
func sdkView(sc *config.SharedConfig) *view {
	v := &view{Region: sc.Region}
	switch {
	case sc.Source != nil || (sc.RoleARN != "" && sc.CredentialSource != ""):
		v.Kind, v.RoleARN, v.CredSourceName = KindAssumeRole, sc.RoleARN, sc.CredentialSource
		if sc.Source != nil {
			v.SourceProfile = sc.SourceProfileName
			v.Source = sdkView(sc.Source)
		}
	case sc.Credentials.HasKeys():
		v.Kind = KindStatic
		v.Keys = fingerprint(sc.Credentials.AccessKeyID, sc.Credentials.SecretAccessKey, sc.Credentials.SessionToken)
		if sc.MFASerial != "" && sc.RoleARN == "" {
			v.Kind = KindMFASession
		}
	case sc.WebIdentityTokenFile != "":
		v.Kind, v.RoleARN = KindWebIdentity, sc.RoleARN
	case sc.SSOSessionName != "":
		v.Kind, v.SSOSession, v.Account, v.Role = KindSSO, sc.SSOSessionName, sc.SSOAccountID, sc.SSORoleName
		if sc.SSOSession != nil {
			v.StartURL, v.SSORegion = sc.SSOSession.SSOStartURL, sc.SSOSession.SSORegion
		}
	case sc.SSOStartURL != "" || sc.SSORegion != "" || sc.SSOAccountID != "" || sc.SSORoleName != "":
		v.Kind, v.StartURL, v.SSORegion, v.Account, v.Role = KindLegacySSO, sc.SSOStartURL, sc.SSORegion, sc.SSOAccountID, sc.SSORoleName
	case sc.LoginSession != "":
		v.Kind = KindLogin
	case sc.CredentialProcess != "":
		v.Kind, v.CredentialProcess = KindProcess, sc.CredentialProcess
	default:
		v.Kind = KindNone
	}
	return v
}

// TestSDKOracle resolves every profile of every valid test config with aws-sdk-go-v2/config's
// LoadSharedConfigProfile and requires the same answer, except where a case names the SDK's known difference;
// there the difference must really show (so the list of differences stays true).
func TestSDKOracle(t *testing.T) {
	compared := 0
	for _, tc := range cases {
		if tc.loadErr {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			f := files(t, tc.config, tc.creds)
			c, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range c.Profiles {
				p, err := c.Resolve(name)
				if err != nil {
					continue // the oracle is for valid profiles; errors are specified in TestResolve
				}
				sc, sdkErr := config.LoadSharedConfigProfile(context.Background(), name, func(o *config.LoadSharedConfigOptions) {
					o.ConfigFiles = []string{f.Config}
					o.CredentialsFiles = []string{f.Credentials}
				})
				ours := fmt.Sprintf("%+v", flat(ourView(p)))
				var theirs string
				if sdkErr != nil {
					theirs = "error: " + sdkErr.Error()
				} else {
					theirs = fmt.Sprintf("%+v", flat(sdkView(&sc)))
				}
				if name == tc.profile && tc.sdk != "" {
					if ours == theirs {
						t.Errorf("profile %q: expected the SDK to differ (%s) but it agrees: %s", name, tc.sdk, ours)
					}
					continue
				}
				compared++
				if ours != theirs {
					t.Errorf("profile %q:\n ours: %s\n  sdk: %s", name, ours, theirs)
				}
			}
		})
	}
	if compared < 30 {
		t.Errorf("only %d profiles compared with the SDK", compared)
	}
}

// flat renders a view with its source chain inline.
func flat(v *view) string {
	if v == nil {
		return "<nil>"
	}
	s := *v
	s.Source = nil
	return fmt.Sprintf("%+v source=%s", s, flat(v.Source))
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s", len(p), p)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:12]
}
