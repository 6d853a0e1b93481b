package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pquerna/otp/totp"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/emulator/emutest"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

const (
	acct      = emulator.DefaultAccountID
	aliceKey  = "AKIAEXAMPLEALICE0001"
	aliceSec  = "alice-long-term-secret-key-0000000000000"
	mfaSeed   = "JBSWY3DPEHPK3PXP"
	aliceMFA  = "arn:aws:iam::" + acct + ":mfa/alice"
	deployARN = "arn:aws:iam::" + acct + ":role/Deployer"
	auditARN  = "arn:aws:iam::" + acct + ":role/Auditor"
	mfaARN    = "arn:aws:iam::" + acct + ":role/Guarded"
)

// world is an emulator (IdC + STS) on a fake clock, a temp HOME with an AWS config for it, and a login
// Manager that has logged in to the emulator's sso-session.
type world struct {
	t     *testing.T
	clock *clock.Fake
	emu   *emulator.Server
	home  string
	m     *login.Manager
	cfg   *awsconfig.Config
	codes int // MFA codes asked for
	mu    sync.Mutex
}

// worldConfig has an SSO profile on the emulator's session, chains over it, and MFA profiles for alice.
const worldConfig = `
[profile sso]
sso_session = emulator
sso_account_id = ` + acct + `
sso_role_name = Developer
region = us-east-1

[profile chain]
role_arn = ` + deployARN + `
source_profile = sso
duration_seconds = 7200

[profile chain2]
role_arn = ` + auditARN + `
source_profile = chain
role_session_name = audit-me

[profile alice]
aws_access_key_id = ` + aliceKey + `
aws_secret_access_key = ` + aliceSec + `

[profile alice-mfa]
aws_access_key_id = ` + aliceKey + `
aws_secret_access_key = ` + aliceSec + `
mfa_serial = ` + aliceMFA + `

[profile alice-deploy]
role_arn = ` + deployARN + `
source_profile = alice
duration_seconds = 7200

[profile alice-guarded]
role_arn = ` + mfaARN + `
source_profile = alice
mfa_serial = ` + aliceMFA + `

[profile mfa-guarded]
role_arn = ` + mfaARN + `
source_profile = alice-mfa

[profile env-role]
role_arn = ` + deployARN + `
credential_source = Environment
duration_seconds = 7200

[profile ecs-role]
role_arn = ` + deployARN + `
credential_source = EcsContainer

[profile cp]
credential_process = ssokeep credential-process -p sso

[profile bare]
region = eu-west-1
`

func newWorld(t *testing.T, o emulator.Options) *world {
	t.Helper()
	o.MaxClockSkew = 1000 * time.Hour // the SDK signs with the wall clock; the emulator's clock is fake
	o.Accounts = []emulator.Account{{ID: acct, Name: "dev",
		PermissionSets: []emulator.PermissionSet{{Name: "Developer"}},
		Roles: []emulator.Role{{Name: "Deployer", MaxSessionDuration: emulator.Duration(2 * time.Hour)},
			{Name: "Auditor"}, {Name: "Guarded", RequireMFA: true}}}}
	o.Users = []emulator.User{{Name: "alice", AccessKeyID: aliceKey, SecretAccessKey: aliceSec,
		MFA: &emulator.MFADevice{Secret: mfaSeed}}}
	emu, c := emutest.Start(t, o, t0)
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfgPath := filepath.Join(home, ".aws", "config")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o700); err != nil {
		t.Fatal(err)
	}
	text := "[sso-session emulator]\nsso_start_url = " + emu.StartURL() + "\nsso_region = " + emu.Region() +
		"\nsso_registration_scopes = sso:account:access\n" + worldConfig
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgPath)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	cfg, err := awsconfig.Load(awsconfig.Files{Config: cfgPath})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, clock: c, emu: emu, home: home, cfg: cfg,
		m: &login.Manager{Cache: ssocache.Dir{Path: filepath.Join(home, ".aws", "sso", "cache")},
			Roles: ssocache.RoleCache{Path: filepath.Join(home, ".aws", "cli", "cache")}, Now: c.Now}}
	w.m.Wait = func(ctx context.Context, d time.Duration) error { emu.ApproveAll(); return ctx.Err() }
	return w
}

func (w *world) session() login.Session {
	p := w.profile("sso")
	return login.SessionOf("sso", p.SSO)
}

func (w *world) login() {
	w.t.Helper()
	if _, err := w.m.DeviceLogin(context.Background(), w.session(), login.Options{}, func(login.DeviceAuth) {}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) profile(name string) *awsconfig.Profile {
	w.t.Helper()
	p, err := w.cfg.Resolve(name)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// code is the authenticator app: the TOTP code on the emulator's clock.
func (w *world) code(ctx context.Context, profile, serial string) (string, error) {
	w.mu.Lock()
	w.codes++
	w.mu.Unlock()
	if serial != aliceMFA {
		w.t.Errorf("code asked for device %q", serial)
	}
	return totp.GenerateCode(mfaSeed, w.clock.Now())
}

func (w *world) config() Config {
	return Config{Now: w.clock.Now, Roles: w.m.Roles, StateDir: w.m.Cache.StateDir(),
		Token: ManagerTokens(w.m, 5*time.Minute), Code: w.code}
}

func (w *world) provider(name string, c Config) aws.CredentialsProvider {
	w.t.Helper()
	p, err := Build(w.profile(name), c)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) retrieve(p aws.CredentialsProvider) aws.Credentials {
	w.t.Helper()
	c, err := p.Retrieve(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" || !c.CanExpire {
		w.t.Fatalf("incomplete credentials from %s", c.Source)
	}
	return c
}

func (w *world) ops(op string) int { return w.emu.Stats().Operations[op].Requests }

// secretsIn lists every secret the world knows that s contains.
func (w *world) secretsIn(s string, creds ...aws.Credentials) []string {
	var found []string
	secrets := []string{aliceSec, mfaSeed}
	for _, c := range creds {
		secrets = append(secrets, c.SecretAccessKey, c.SessionToken)
	}
	if tok, err := w.m.Cache.LoadToken(w.session().CacheKey()); err == nil {
		secrets = append(secrets, tok.AccessToken, tok.RefreshToken, tok.ClientSecret)
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			found = append(found, sec[:4]+"…")
		}
	}
	return found
}
