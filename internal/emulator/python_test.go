package emulator

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/clock"
)

// The Python interop tests: real boto3/botocore against the emulator.

var (
	pythonOnce sync.Map // interpreter -> resolved path or ""
)

// pythonWithBoto3 resolves an interpreter that can import boto3, or skips
// the test saying what is missing.
func pythonWithBoto3(t *testing.T, exe, wantPrefix string) string {
	t.Helper()
	if v, ok := pythonOnce.Load(exe); ok {
		if v == "" {
			t.Skipf("%s with boto3 %s.x is not available", exe, wantPrefix)
		}
		return v.(string)
	}
	out, err := exec.Command(exe, "-c", "import sys, boto3, botocore; print(sys.executable); print(botocore.__version__)").Output()
	lines := strings.Fields(string(out))
	if err != nil || len(lines) != 2 || !strings.HasPrefix(lines[1], wantPrefix) {
		pythonOnce.Store(exe, "")
		t.Skipf("%s with botocore %s.x is not available (got %q, %v); CI installs it (.ci/run)", exe, wantPrefix, out, err)
	}
	pythonOnce.Store(exe, lines[0])
	return lines[0]
}

// pyHarness is an emulator whose clock starts at the wall clock (Python
// clients sign and judge expiry with it) and moves forward only when the
// script asks, through a test-only endpoint beside the emulator.
type pyHarness struct {
	*harness
	advanceURL string
	home       string
}

func newPyHarness(t *testing.T, o Options) *pyHarness {
	t.Helper()
	clk := clock.NewFake(time.Now().UTC().Truncate(time.Second))
	o.MaxClockSkew = 1000 * time.Hour // the script moves the emulator's clock, not its own
	h := newHarnessWithClock(t, o, clk)
	adv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secs, err := strconv.Atoi(r.URL.Query().Get("seconds"))
		if err != nil || secs < 0 {
			http.Error(w, "seconds must be a non-negative integer", 400)
			return
		}
		clk.Advance(time.Duration(secs) * time.Second)
	}))
	t.Cleanup(adv.Close)
	return &pyHarness{harness: h, advanceURL: adv.URL, home: t.TempDir()}
}

// env is a clean environment: the emulator's endpoints (every one on
// loopback), an empty HOME and config, no inherited AWS settings.
func (p *pyHarness) env(extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + p.home, "LANG=C.UTF-8",
		"AWS_CONFIG_FILE=" + filepath.Join(p.home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(p.home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"EMU_URL=" + p.s.URL(), "EMU_START_URL=" + p.s.StartURL(), "EMU_ADVANCE_URL=" + p.advanceURL,
	}
	env = append(env, p.s.Env()...)
	return append(env, extra...)
}

// runPython runs a script from testdata and fails the test with its output
// if it fails. Its output must not contain any secret the emulator issued.
func (p *pyHarness) runPython(exe, script string, env []string) string {
	p.t.Helper()
	cmd := exec.Command(exe, filepath.Join("testdata", script))
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	for _, s := range p.allSecrets() {
		if strings.Contains(string(out), s) {
			p.t.Errorf("%s printed a secret (%d chars)", script, len(s))
		}
	}
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", script, err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		p.t.Fatalf("%s did not finish:\n%s", script, out)
	}
	return string(out)
}

func TestBoto3Sessions(t *testing.T) {
	t.Parallel()
	py := pythonWithBoto3(t, "python3", "1.43")
	const session, role = 8 * time.Hour, time.Hour
	p := newPyHarness(t, Options{SessionDuration: session, RoleDuration: role})
	p.runPython(py, "boto3_sessions.py", p.env(
		"SESSION_SECONDS="+strconv.Itoa(int(session/time.Second)), "ROLE_SECONDS="+strconv.Itoa(int(role/time.Second))))
	if n := len(p.eventsOf(SessionStarted)); n != 3 {
		t.Errorf("%d sessions started, want 3 (first, after the end, after Logout)", n)
	}
}

// TestBotocoreSSOProviderRefreshesThroughEmulator gives botocore's own SSO
// credential provider the generated config and a CLI-format token cache
// whose token is about to expire: botocore must refresh it through the
// emulator, rewrite the file, and resolve role credentials.
func TestBotocoreSSOProviderRefreshesThroughEmulator(t *testing.T) {
	t.Parallel()
	py := pythonWithBoto3(t, "python3", "1.43")
	p := newPyHarness(t, Options{})
	cfgPath := filepath.Join(p.home, "config")
	if err := os.WriteFile(cfgPath, []byte(p.s.AWSConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := p.register("sso:account:access")
	tok := p.deviceLogin(reg)
	cacheDir := filepath.Join(p.home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte(SessionName))
	cacheFile := filepath.Join(cacheDir, hex.EncodeToString(sum[:])+".json")
	rfc := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
	cache := map[string]string{
		"startUrl": p.s.StartURL(), "region": p.s.Region(), "accessToken": *tok.AccessToken,
		// Inside botocore's 15-minute refresh window.
		"expiresAt": rfc(time.Now().Add(5 * time.Minute)), "clientId": reg.id, "clientSecret": reg.secret,
		"registrationExpiresAt": rfc(time.Now().Add(30 * 24 * time.Hour)), "refreshToken": *tok.RefreshToken,
	}
	b, _ := json.Marshal(cache)
	if err := os.WriteFile(cacheFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p.runPython(py, "botocore_sso_provider.py", p.env("AWS_CONFIG_FILE="+cfgPath, "AWS_PROFILE="+ProfileName))

	b, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	var after map[string]string
	if err := json.Unmarshal(b, &after); err != nil {
		t.Fatal(err)
	}
	if after["accessToken"] == cache["accessToken"] || after["refreshToken"] == cache["refreshToken"] || after["refreshToken"] == "" {
		t.Error("botocore did not write the refreshed token and refresh token to the cache file")
	}
	if len(p.eventsOf(TokenRefreshed)) != 1 || len(p.eventsOf(RoleCredentialsIssued)) != 1 {
		t.Errorf("want one refresh and one GetRoleCredentials through the emulator, got %d and %d",
			len(p.eventsOf(TokenRefreshed)), len(p.eventsOf(RoleCredentialsIssued)))
	}
}

// TestBoto3Legacy126S3 runs Debian's boto3 1.26 (botocore 1.29, which
// ignores AWS_ENDPOINT_URL_*) against S3 with an explicit endpoint and
// role credentials fetched here: never with an SSO profile.
func TestBoto3Legacy126S3(t *testing.T) {
	t.Parallel()
	py := pythonWithBoto3(t, "/usr/bin/python3", "1.29")
	p := newPyHarness(t, Options{})
	tok := p.deviceLogin(p.register("sso:account:access"))
	rc, err := p.roleCredentials(*tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	c := rc.RoleCredentials
	p.runPython(py, "boto3_s3.py", p.env("S3_ACCESS_KEY_ID="+*c.AccessKeyId, "S3_SECRET_ACCESS_KEY="+*c.SecretAccessKey,
		"S3_SESSION_TOKEN="+*c.SessionToken, "BUCKET=legacy-boto3"))
}
