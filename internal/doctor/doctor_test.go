package doctor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

type home struct {
	t     *testing.T
	dir   string
	files awsconfig.Files
	cache ssocache.Dir
	roles ssocache.RoleCache
	env   map[string]string
}

func newHome(t *testing.T, config string) *home {
	t.Helper()
	dir := t.TempDir()
	h := &home{t: t, dir: dir,
		files: awsconfig.Files{Config: filepath.Join(dir, ".aws", "config"), Credentials: filepath.Join(dir, ".aws", "credentials")},
		cache: ssocache.Dir{Path: filepath.Join(dir, ".aws", "sso", "cache")},
		roles: ssocache.RoleCache{Path: filepath.Join(dir, ".aws", "cli", "cache")},
		env:   map[string]string{}}
	os.MkdirAll(filepath.Join(dir, ".aws"), 0o700)
	h.write(h.files.Config, config)
	return h
}

func (h *home) write(path, text string) {
	h.t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

func (h *home) run(fix, force bool) []*Finding {
	h.t.Helper()
	cfg, err := awsconfig.Load(h.files)
	return Run(Input{Files: h.files, Config: cfg, LoadErr: err, Cache: h.cache, Roles: h.roles, Home: h.dir,
		SystemBotoConfig: filepath.Join(h.dir, "etc-boto.cfg"), Getenv: func(k string) string { return h.env[k] },
		Now: t0, Fix: fix, Force: force})
}

func find(fs []*Finding, check string) *Finding {
	for _, f := range fs {
		if f.Check == check {
			return f
		}
	}
	return nil
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

const ssoConfig = `[sso-session corp]
sso_start_url = https://d-1111111111.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
`

func TestHealthyHomeHasNoFindings(t *testing.T) {
	h := newHome(t, ssoConfig)
	h.cache.SaveToken(ssocache.TokenKey("corp"), &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(time.Hour)})
	if fs := h.run(false, false); len(fs) != 0 {
		for _, f := range fs {
			t.Errorf("unexpected finding %s: %s at %s", f.Check, f.What, f.Where)
		}
	}
}

func TestFixRemovesOnlyDeadTokensAndRegistrations(t *testing.T) {
	h := newHome(t, ssoConfig)
	save := func(key string, tok *ssocache.Token) string {
		if err := h.cache.SaveToken(key, tok); err != nil {
			t.Fatal(err)
		}
		return h.cache.TokenPath(key)
	}
	dead := save("dead", &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(-time.Hour)})
	deadReg := save("dead-registration", &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(-time.Hour),
		RefreshToken: "r", ClientID: "c", ClientSecret: "s", RegistrationExpiresAt: t0.Add(-time.Minute)})
	refreshable := save("refreshable", &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(-time.Hour),
		RefreshToken: "r", ClientID: "c", ClientSecret: "s", RegistrationExpiresAt: t0.Add(24 * time.Hour)})
	valid := save("valid", &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(time.Hour)})
	if err := h.cache.SaveRegistration("old-reg", &ssocache.Registration{ClientID: "c", ClientSecret: "s", ExpiresAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	oldReg := h.cache.TokenPath("old-reg")
	h.cache.SaveRegistration("new-reg", &ssocache.Registration{ClientID: "c", ClientSecret: "s", ExpiresAt: t0.Add(time.Hour)})
	newReg := h.cache.TokenPath("new-reg")
	corrupt := filepath.Join(h.cache.Path, "corrupt.json")
	h.write(corrupt, "{oops")

	h.run(true, false)
	for _, p := range []string{dead, deadReg, oldReg} {
		if exists(p) {
			t.Errorf("--fix kept dead file %s", filepath.Base(p))
		}
	}
	for _, p := range []string{refreshable, valid, newReg, corrupt} {
		if !exists(p) {
			t.Errorf("--fix removed %s, which must be kept", filepath.Base(p))
		}
	}
	fs := h.run(true, true)
	if exists(corrupt) {
		t.Error("--fix --force kept the unparsable file")
	}
	if f := find(fs, "corrupt-cache-file"); f == nil || !f.Fixed {
		t.Errorf("corrupt finding %+v", f)
	}
	if !exists(refreshable) || !exists(valid) || !exists(newReg) {
		t.Error("--fix --force removed a usable file")
	}
}

func TestFixRemovesOldLeftoverTempFilesOnly(t *testing.T) {
	h := newHome(t, ssoConfig)
	old := filepath.Join(h.cache.Path, ".abc.json.123.tmp")
	fresh := filepath.Join(h.cache.Path, ".def.json.456.tmp")
	h.write(old, `{"accessToken":"x"}`)
	h.write(fresh, `{"accessToken":"y"}`)
	os.Chtimes(old, t0.Add(-2*time.Hour), t0.Add(-2*time.Hour))
	os.Chtimes(fresh, t0.Add(-time.Second), t0.Add(-time.Second)) // a write in progress
	if f := find(h.run(true, false), "leftover-temp-file"); f == nil || !f.Fixed || f.Where != old {
		t.Fatalf("finding %+v", f)
	}
	if exists(old) || !exists(fresh) {
		t.Errorf("old kept %v, in-progress removed %v", exists(old), !exists(fresh))
	}
}

func TestCorruptFileIsReportedAndKeptWithoutForce(t *testing.T) {
	h := newHome(t, ssoConfig)
	corrupt := filepath.Join(h.cache.Path, "corrupt.json")
	h.write(corrupt, "{oops")
	fs := h.run(true, false)
	f := find(fs, "corrupt-cache-file")
	if f == nil || f.Fixed || !f.NeedsForce || f.Where != corrupt || f.Severity != Problem {
		t.Fatalf("finding %+v", f)
	}
	if b, _ := os.ReadFile(corrupt); string(b) != "{oops" {
		t.Error("the unparsable file was changed")
	}
	if !Unresolved(fs) {
		t.Error("an unparsable file is an unresolved problem")
	}
}

func TestPermissionsAreTightened(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits do not guard files on Windows")
	}
	h := newHome(t, ssoConfig)
	h.cache.SaveToken(ssocache.TokenKey("corp"), &ssocache.Token{AccessToken: "x", ExpiresAt: t0.Add(time.Hour)})
	tok := h.cache.TokenPath(ssocache.TokenKey("corp"))
	os.Chmod(h.cache.Path, 0o755)
	os.Chmod(tok, 0o644)
	fs := h.run(false, false)
	if n := len(fs); n != 2 || fs[0].Check != "permissions" || !fs[0].Fixable {
		t.Fatalf("want 2 permission findings, got %d: %+v", n, fs)
	}
	h.run(true, false)
	if st, _ := os.Stat(h.cache.Path); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", st.Mode().Perm())
	}
	if st, _ := os.Stat(tok); st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", st.Mode().Perm())
	}
	if fs := h.run(false, false); len(fs) != 0 {
		t.Errorf("still %d findings after --fix", len(fs))
	}
}

func TestLegacyProfilePrintsTheSessionThatFixesIt(t *testing.T) {
	h := newHome(t, `[profile old]
sso_start_url = https://d-2222222222.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = ReadOnly
`)
	f := find(h.run(false, false), "legacy-sso")
	if f == nil {
		t.Fatal("no legacy finding")
	}
	for _, want := range []string{"[sso-session d-2222222222]", "sso_start_url = https://d-2222222222.awsapps.com/start",
		"sso_region = us-east-1", "sso_registration_scopes = sso:account:access", "[profile old]", "sso_session = d-2222222222"} {
		if !strings.Contains(f.Fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, f.Fix)
		}
	}
	// The suggested config really is a valid sso-session profile.
	fixed := strings.ReplaceAll(strings.ReplaceAll(f.Fix, "add:\n\n", ""), "  ", "")
	fixed = strings.Replace(fixed, "and in [profile old] replace sso_start_url and sso_region with:\n", "[profile old]\nsso_account_id = 444455556666\nsso_role_name = ReadOnly", 1)
	h.write(h.files.Config, fixed)
	cfg, err := awsconfig.Load(h.files)
	if err != nil {
		t.Fatalf("suggested config does not load: %v\n%s", err, fixed)
	}
	if p, err := cfg.Resolve("old"); err != nil || p.Kind != awsconfig.KindSSO {
		t.Errorf("suggested config resolves to %v, %v\n%s", p, err, fixed)
	}
}

func TestShadowingSettings(t *testing.T) {
	h := newHome(t, ssoConfig)
	h.write(h.files.Credentials, "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = verysecretvalue\n")
	h.write(filepath.Join(h.dir, ".boto"), "[Credentials]\n")
	h.write(filepath.Join(h.dir, "etc-boto.cfg"), "[Credentials]\n")
	h.env = map[string]string{
		"AWS_ACCESS_KEY_ID":                      "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":                  "verysecretvalue",
		"AWS_PROFILE":                            "missing",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/creds",
		"METAFLOW_DATATOOLS_CLIENT_PARAMS":       `{"aws_access_key_id":"AKIDEXAMPLE","aws_secret_access_key":"verysecretvalue"}`,
	}
	fs := h.run(false, false)
	for _, check := range []string{"env-keys", "env-profile", "default-keys", "boto-config", "env-shadow", "metaflow-keys"} {
		if find(fs, check) == nil {
			t.Errorf("no %s finding", check)
		}
	}
	boto := 0
	for _, f := range fs {
		if f.Check == "boto-config" {
			boto++
		}
		if f.What == "" || f.Where == "" || f.Why == "" || f.Fix == "" {
			t.Errorf("finding %s lacks what/where/why/fix: %+v", f.Check, f)
		}
	}
	if boto != 2 {
		t.Errorf("%d boto findings, want ~/.boto and /etc/boto.cfg", boto)
	}
	var out bytes.Buffer
	Write(&out, fs, false, false)
	if strings.Contains(out.String(), "verysecretvalue") {
		t.Error("doctor printed a secret")
	}
	if !Unresolved(fs) {
		t.Error("AWS_PROFILE naming a missing profile is a problem")
	}
}

func TestAMissingKeeperIsNotedButNotAProblem(t *testing.T) {
	h := newHome(t, ssoConfig)
	cfg, err := awsconfig.Load(h.files)
	in := Input{Files: h.files, Config: cfg, LoadErr: err, Cache: h.cache, Roles: h.roles, Home: h.dir,
		SystemBotoConfig: filepath.Join(h.dir, "etc-boto.cfg"), Getenv: func(string) string { return "" }, Now: t0}

	in.Lean = func() (string, error) { return "/usr/local/bin/ssokeep-keeper", nil }
	if f := find(Run(in), "keeper-binary"); f != nil {
		t.Errorf("a keeper that will be used is reported: %+v", f)
	}

	in.Lean = func() (string, error) { return "", errors.New("ssokeep-keeper is not beside /opt/ssokeep") }
	fs := Run(in)
	f := find(fs, "keeper-binary")
	if f == nil || f.Severity != Info || !strings.Contains(f.Where, "not beside /opt/ssokeep") || !strings.Contains(f.Fix, "go install ./cmd/...") {
		t.Fatalf("finding %+v", f)
	}
	if Unresolved(fs) {
		t.Error("a missing keeper makes doctor fail")
	}
}
