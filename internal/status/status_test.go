package status

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

const config = `
[sso-session corp]
sso_start_url = https://d-1111111111.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-west-1

[profile analyst]
role_arn = arn:aws:iam::111122223333:role/Analyst
source_profile = dev

[profile old]
sso_start_url = https://d-2222222222.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = ReadOnly

[profile keys]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
`

type fixture struct {
	t     *testing.T
	cfg   *awsconfig.Config
	cache ssocache.Dir
	roles ssocache.RoleCache
}

func newFixture(t *testing.T, configText string) *fixture {
	t.Helper()
	dir := t.TempDir()
	files := awsconfig.Files{Config: filepath.Join(dir, "config"), Credentials: filepath.Join(dir, "credentials")}
	if err := os.WriteFile(files.Config, []byte(configText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconfig.Load(files)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, cfg: cfg,
		cache: ssocache.Dir{Path: filepath.Join(dir, "sso", "cache")},
		roles: ssocache.RoleCache{Path: filepath.Join(dir, "cli", "cache")}}
}

// token writes a cached token for a session name or legacy start URL.
func (f *fixture) token(key string, left time.Duration, refresh bool, regLeft time.Duration) {
	f.t.Helper()
	tok := &ssocache.Token{StartURL: "https://d-1111111111.awsapps.com/start", Region: "eu-west-1",
		AccessToken: "secret-access-token", ExpiresAt: t0.Add(left)}
	if strings.HasPrefix(key, "https://") {
		tok.StartURL = key
	}
	if refresh {
		tok.RefreshToken = "secret-refresh-token"
		tok.ClientID, tok.ClientSecret = "client-id", "secret-client-secret"
		tok.RegistrationExpiresAt = t0.Add(regLeft)
	}
	if err := f.cache.SaveToken(ssocache.TokenKey(key), tok); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) build(profile string, min time.Duration) *Report {
	f.t.Helper()
	r, err := Build(Input{Config: f.cfg, Cache: f.cache, Roles: f.roles, Now: t0, MinRemaining: min, Profile: profile})
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func session(t *testing.T, r *Report, name string) *Session {
	t.Helper()
	for _, s := range r.Sessions {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no session %q in report", name)
	return nil
}

func TestNoTokenMeansLoginNeeded(t *testing.T) {
	f := newFixture(t, config)
	r := f.build("", 15*time.Minute)
	if r.State != LoginNeeded {
		t.Errorf("state %s, want login-needed", r.State)
	}
	s := session(t, r, "corp")
	if s.Token != nil || s.State != LoginNeeded {
		t.Errorf("corp: token %+v state %s", s.Token, s.State)
	}
	if got := strings.Join(s.Profiles, ","); got != "dev,analyst" {
		t.Errorf("corp profiles %q, want dev,analyst (the assume-role profile rides on corp)", got)
	}
	if s.LoginProfile != "dev" {
		t.Errorf("login profile %q, want dev", s.LoginProfile)
	}
	if old := session(t, r, "https://d-2222222222.awsapps.com/start"); old.Kind != "legacy" {
		t.Errorf("legacy session kind %q", old.Kind)
	}
}

func TestStates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		left    time.Duration
		refresh bool
		regLeft time.Duration
		want    State
		reason  string
	}{
		{"valid and refreshable", 50 * time.Minute, true, 80 * 24 * time.Hour, OK, ""},
		{"expired but refreshable: the next SDK call refreshes it", -2 * time.Hour, true, 80 * 24 * time.Hour, OK, ""},
		{"expired, registration expired", -time.Minute, true, -time.Hour, LoginNeeded, "registration has expired"},
		{"valid for long, no refresh token", 3 * time.Hour, false, 0, OK, "no refresh token"},
		{"valid briefly, no refresh token", 10 * time.Minute, false, 0, Expiring, "no refresh token"},
		{"expired, no refresh token", -time.Second, false, 0, LoginNeeded, "no refresh token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, config)
			f.token("corp", tc.left, tc.refresh, tc.regLeft)
			s := session(t, f.build("dev", 15*time.Minute), "corp")
			if s.State != tc.want {
				t.Errorf("state %s, want %s", s.State, tc.want)
			}
			if s.Token == nil {
				t.Fatal("no token in report")
			}
			if s.Token.Refreshable != (tc.reason == "") || !strings.Contains(s.Token.NotRefreshable, tc.reason) {
				t.Errorf("refreshable %v because %q, want reason %q", s.Token.Refreshable, s.Token.NotRefreshable, tc.reason)
			}
			if got := time.Duration(s.Token.RemainingSeconds); got != tc.left {
				t.Errorf("remaining %v, want %v", got, tc.left)
			}
		})
	}
}

func TestLegacyTokenSaysWhyItCannotRefresh(t *testing.T) {
	f := newFixture(t, config)
	f.token("https://d-2222222222.awsapps.com/start", 5*time.Minute, false, 0)
	s := session(t, f.build("old", 15*time.Minute), "https://d-2222222222.awsapps.com/start")
	if s.State != Expiring || !strings.Contains(s.Token.NotRefreshable, "legacy") {
		t.Errorf("state %s, reason %q", s.State, s.Token.NotRefreshable)
	}
	if LoginCommand(s) != "ssokeep login -p old" {
		t.Errorf("login command %q", LoginCommand(s))
	}
}

func TestProfileSelectsItsSession(t *testing.T) {
	f := newFixture(t, config)
	f.token("corp", time.Hour, true, 24*time.Hour)
	r := f.build("analyst", 0)
	if len(r.Sessions) != 1 || r.Sessions[0].Name != "corp" {
		t.Fatalf("sessions %+v, want only corp", r.Sessions)
	}
	if r.State != OK {
		t.Errorf("state %s", r.State)
	}
}

func TestNonSSOProfileHasANote(t *testing.T) {
	f := newFixture(t, config)
	r := f.build("keys", 0)
	if len(r.Sessions) != 0 || !strings.Contains(r.Note, "does not use IAM Identity Center") {
		t.Errorf("sessions %d note %q", len(r.Sessions), r.Note)
	}
}

func TestUnknownProfileIsAConfigError(t *testing.T) {
	f := newFixture(t, config)
	_, err := Build(Input{Config: f.cfg, Cache: f.cache, Roles: f.roles, Now: t0, Profile: "nope"})
	var ce *awsconfig.Error
	if !errors.As(err, &ce) || !errors.Is(err, awsconfig.ErrProfileNotFound) {
		t.Errorf("err %v, want *awsconfig.Error wrapping ErrProfileNotFound", err)
	}
}

func TestInvalidProfilesAreListedNotFatal(t *testing.T) {
	f := newFixture(t, config+"\n[profile broken]\nsso_session = missing\nsso_account_id = 1\nsso_role_name = r\n")
	f.token("corp", time.Hour, true, time.Hour)
	r := f.build("", 0)
	if len(r.InvalidProfiles) != 1 || r.InvalidProfiles[0].Profile != "broken" {
		t.Errorf("invalid profiles %+v", r.InvalidProfiles)
	}
}

func TestCorruptTokenFileIsReportedByPath(t *testing.T) {
	f := newFixture(t, config)
	path := f.cache.TokenPath(ssocache.TokenKey("corp"))
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("{not json"), 0o600)
	s := session(t, f.build("dev", 0), "corp")
	if s.State != LoginNeeded || len(s.Problems) == 0 || !strings.Contains(s.Problems[0], path) {
		t.Errorf("state %s problems %q, want login-needed naming %s", s.State, s.Problems, path)
	}
}

func TestRoleCredentialsFromTheCLICache(t *testing.T) {
	f := newFixture(t, config)
	f.token("corp", time.Hour, true, time.Hour)
	key := ssocache.RoleKey("111122223333", "Developer", "corp", "https://d-1111111111.awsapps.com/start")
	if err := f.roles.Save(key, &ssocache.RoleCredentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret-key",
		SessionToken: "secret-session-token", Expiration: t0.Add(42 * time.Minute), AccountID: "111122223333"}); err != nil {
		t.Fatal(err)
	}
	s := session(t, f.build("dev", 0), "corp")
	if len(s.RoleCredentials) != 1 {
		t.Fatalf("role credentials %+v", s.RoleCredentials)
	}
	rc := s.RoleCredentials[0]
	if rc.Profile != "dev" || rc.RoleName != "Developer" || time.Duration(rc.RemainingSeconds) != 42*time.Minute {
		t.Errorf("role credentials %+v", rc)
	}
}

func TestForecastSessionEndLimitsARefreshableToken(t *testing.T) {
	f := newFixture(t, config)
	f.token("corp", time.Hour, true, 24*time.Hour)
	end := t0.Add(30 * time.Minute)
	r, err := Build(Input{Config: f.cfg, Cache: f.cache, Roles: f.roles, Now: t0, MinRemaining: time.Hour, Profile: "dev",
		SessionEnds: func(string, *awsconfig.SSO) SessionEnd { return SessionEnd{State: "forecast", At: &end} }})
	if err != nil {
		t.Fatal(err)
	}
	if r.State != Expiring {
		t.Errorf("state %s: a refresh cannot outlive the session end 30m away", r.State)
	}
}

func TestOutputsCarryNoSecrets(t *testing.T) {
	f := newFixture(t, config)
	f.token("corp", time.Hour, true, time.Hour)
	f.roles.Save(ssocache.RoleKey("111122223333", "Developer", "corp", ""), &ssocache.RoleCredentials{
		AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret-key", SessionToken: "secret-session-token",
		Expiration: t0.Add(time.Hour)})
	r := f.build("", 0)
	var human strings.Builder
	if err := r.Write(&human, true); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(r)
	for _, out := range []string{human.String(), string(js)} {
		for _, secret := range []string{"secret-access-token", "secret-refresh-token", "secret-client-secret", "secret-key", "secret-session-token", "wJalrXUtnFEMI"} {
			if strings.Contains(out, secret) {
				t.Errorf("output contains a secret (%s...)", secret[:8])
			}
		}
	}
}

func TestJSONShape(t *testing.T) {
	f := newFixture(t, config)
	f.token("corp", time.Hour, true, 90*24*time.Hour)
	js, _ := json.Marshal(f.build("dev", 15*time.Minute))
	var got struct {
		State        string `json:"state"`
		MinRemaining int    `json:"minRemainingSeconds"`
		Sessions     []struct {
			Name, Kind, StartURL, State string
			Token                       struct {
				ExpiresAt        time.Time
				RemainingSeconds int
				Refreshable      bool
			}
			Registration struct{ RemainingSeconds int }
			SessionEnd   struct{ State string }
		}
	}
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	if got.State != "ok" || got.MinRemaining != 900 || len(got.Sessions) != 1 {
		t.Fatalf("%s", js)
	}
	s := got.Sessions[0]
	if s.Name != "corp" || s.Kind != "sso-session" || s.Token.RemainingSeconds != 3600 || !s.Token.Refreshable ||
		s.Registration.RemainingSeconds != 90*24*3600 || s.SessionEnd.State != "unknown" || !s.Token.ExpiresAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("session %+v from %s", s, js)
	}
}
