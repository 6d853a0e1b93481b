package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// cli runs ssokeep in-process in a throwaway home directory.
type cli struct {
	t    *testing.T
	home string
}

func newCLI(t *testing.T, config string) *cli {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "NO_COLOR", "BOTO_CONFIG", "METAFLOW_DATATOOLS_CLIENT_PARAMS"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	os.MkdirAll(filepath.Join(home, ".aws"), 0o700)
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	old := now
	now = func() time.Time { return t0 }
	t.Cleanup(func() { now = old })
	return &cli{t: t, home: home}
}

func (c *cli) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func (c *cli) token(session string, left time.Duration, refreshable bool) {
	c.t.Helper()
	dir := ssocache.Dir{Path: filepath.Join(c.home, ".aws", "sso", "cache")}
	tok := &ssocache.Token{StartURL: "https://d-1111111111.awsapps.com/start", Region: "eu-west-1",
		AccessToken: "secret-access-token", ExpiresAt: t0.Add(left)}
	if refreshable {
		tok.RefreshToken, tok.ClientID, tok.ClientSecret = "secret-refresh", "cid", "secret-client"
		tok.RegistrationExpiresAt = t0.Add(30 * 24 * time.Hour)
	}
	if err := dir.SaveToken(ssocache.TokenKey(session), tok); err != nil {
		c.t.Fatal(err)
	}
}

const cfg = `[sso-session corp]
sso_start_url = https://d-1111111111.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-west-1

[profile keys]
region = us-west-2
`

func TestStatusExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*cli)
		args  []string
		code  int
	}{
		{"no token: login needed", func(*cli) {}, []string{"status"}, ExitLoginNeeded},
		{"refreshable token", func(c *cli) { c.token("corp", time.Hour, true) }, []string{"status"}, ExitOK},
		{"expired, refreshable", func(c *cli) { c.token("corp", -time.Hour, true) }, []string{"status"}, ExitOK},
		{"expired, not refreshable", func(c *cli) { c.token("corp", -time.Hour, false) }, []string{"status"}, ExitLoginNeeded},
		{"ends within --min-remaining", func(c *cli) { c.token("corp", time.Hour, false) }, []string{"status", "--min-remaining", "2h"}, ExitExpiring},
		{"outlives --min-remaining", func(c *cli) { c.token("corp", 3*time.Hour, false) }, []string{"status", "--min-remaining", "2h"}, ExitOK},
		{"unknown profile", func(*cli) {}, []string{"status", "-p", "nope"}, ExitConfig},
		{"profile without SSO", func(*cli) {}, []string{"status", "-p", "keys"}, ExitOK},
		{"bad flag value", func(*cli) {}, []string{"status", "--min-remaining", "soon"}, ExitUsage},
		{"unknown flag", func(*cli) {}, []string{"status", "--bogus"}, ExitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, cfg)
			tc.setup(c)
			code, out, errOut := c.run(tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errOut)
			}
		})
	}
}

func TestStatusWithBrokenConfigExits3NamingTheFile(t *testing.T) {
	c := newCLI(t, cfg+"\n[profile broken]\nsso_session = nowhere\nsso_account_id = 1\nsso_role_name = r\n")
	c.token("corp", time.Hour, true)
	code, _, _ := c.run("status")
	if code != ExitConfig {
		t.Errorf("exit %d, want %d for an invalid profile", code, ExitConfig)
	}
	code, _, errOut := c.run("status", "-p", "broken")
	if code != ExitConfig || !strings.Contains(errOut, filepath.Join(c.home, ".aws", "config")) || !strings.Contains(errOut, "broken") {
		t.Errorf("exit %d, stderr %q: want 3 naming the file and profile", code, errOut)
	}
}

func TestStatusHonoursAWSProfile(t *testing.T) {
	c := newCLI(t, cfg)
	t.Setenv("AWS_PROFILE", "keys")
	code, out, _ := c.run("status")
	if code != ExitOK || !strings.Contains(out, "does not use IAM Identity Center") {
		t.Errorf("exit %d out %q", code, out)
	}
	code, _, _ = c.run("status", "--all")
	if code != ExitLoginNeeded {
		t.Errorf("--all: exit %d, want the corp session's login-needed", code)
	}
}

func TestStatusHumanOutputIsPlainWhenPiped(t *testing.T) {
	c := newCLI(t, cfg)
	c.token("corp", 3*time.Hour+12*time.Minute, true)
	_, out, _ := c.run("status")
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes in piped output")
	}
	for _, want := range []string{"SESSION", "corp", "3h12m", "yes", "unknown", "ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Error("status printed a secret")
	}
}

func TestStatusJSON(t *testing.T) {
	c := newCLI(t, cfg)
	c.token("corp", time.Hour, true)
	code, out, _ := c.run("status", "--json")
	var rep struct {
		State    string
		Sessions []struct {
			Name     string
			Profiles []string
			Token    struct{ RemainingSeconds int }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if rep.State != "ok" || len(rep.Sessions) != 1 || rep.Sessions[0].Token.RemainingSeconds != 3600 {
		t.Errorf("%+v", rep)
	}
}

func TestProfiles(t *testing.T) {
	c := newCLI(t, cfg)
	code, out, _ := c.run("profiles", "--json")
	var rows []profileRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil || code != 0 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(rows) != 2 || rows[0].Name != "dev" || rows[0].Kind != "sso" || rows[0].SSOSession != "corp" ||
		rows[0].AccountID != "111122223333" || rows[0].RoleName != "Developer" || rows[0].Region != "eu-west-1" ||
		rows[1].Name != "keys" || rows[1].Kind != "none" {
		t.Errorf("rows %+v", rows)
	}
	code, out, _ = c.run("profiles")
	if code != 0 || !strings.Contains(out, "PROFILE") || !strings.Contains(out, "Developer") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestDoctorExitCodes(t *testing.T) {
	c := newCLI(t, cfg)
	c.token("corp", time.Hour, true)
	if code, out, _ := c.run("doctor"); code != 0 || !strings.Contains(out, "No problems") {
		t.Errorf("healthy home: exit %d\n%s", code, out)
	}
	bad := filepath.Join(c.home, ".aws", "sso", "cache", "broken.json")
	os.WriteFile(bad, []byte("{"), 0o600)
	if code, out, _ := c.run("doctor", "--fix"); code != ExitError || !strings.Contains(out, bad) {
		t.Errorf("unparsable file without --force: exit %d\n%s", code, out)
	}
	if code, _, _ := c.run("doctor", "--force"); code != ExitUsage {
		t.Errorf("--force without --fix: exit %d", code)
	}
	if code, out, _ := c.run("doctor", "--fix", "--force"); code != 0 {
		t.Errorf("--fix --force: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Error("--fix --force kept the unparsable file")
	}
}

func TestVersionAndHelp(t *testing.T) {
	c := newCLI(t, cfg)
	if code, out, _ := c.run("version"); code != 0 || !strings.HasPrefix(out, "ssokeep ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ := c.run("status", "--help")
	for _, want := range []string{"Exit codes", "--min-remaining", "login needed"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("status --help lacks %q", want)
		}
	}
	if code, _, errOut := c.run("frobnicate"); code != ExitUsage || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := c.run("--log-level", "loud", "version"); code != ExitUsage || !strings.Contains(errOut, "--log-level") {
		t.Errorf("bad log level: %d %q", code, errOut)
	}
}
