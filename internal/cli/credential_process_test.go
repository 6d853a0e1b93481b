package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/ssocache"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

const (
	cpAcct    = emulator.DefaultAccountID
	cpKey     = "AKIAEXAMPLEBOB000001"
	cpSecret  = "bob-long-term-secret-key-000000000000000"
	cpSeed    = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"
	cpMFA     = "arn:aws:iam::" + cpAcct + ":mfa/bob"
	cpRoleARN = "arn:aws:iam::" + cpAcct + ":role/Deployer"
)

// cpWorld is an emulator, a temp HOME whose AWS config points at it, and a login Manager on that HOME's
// caches. With a fake clock, cmd's now follows it (in-process runs); with the wall clock, the built binary
// can be run against it.
type cpWorld struct {
	t     *testing.T
	emu   *emulator.Server
	home  string
	clock *clock.Fake // nil: wall clock
	m     *login.Manager
}

func cpConfig(emu *emulator.Server, extra string) string {
	return "[sso-session emulator]\nsso_start_url = " + emu.StartURL() + "\nsso_region = " + emu.Region() +
		"\nsso_registration_scopes = sso:account:access\n\n" +
		"[profile emu]\nsso_session = emulator\nsso_account_id = " + cpAcct + "\nsso_role_name = Developer\nregion = us-east-1\n\n" +
		"[profile emu-chain]\nrole_arn = " + cpRoleARN + "\nsource_profile = emu\nduration_seconds = 7200\n\n" +
		"[profile bob-mfa]\naws_access_key_id = " + cpKey + "\naws_secret_access_key = " + cpSecret + "\nmfa_serial = " + cpMFA + "\n\n" +
		"[profile bob]\naws_access_key_id = " + cpKey + "\naws_secret_access_key = " + cpSecret + "\n\n" +
		"[profile self]\ncredential_process = ssokeep credential-process -p self\n\n" + extra
}

func newCPWorld(t *testing.T, fake bool, o emulator.Options) *cpWorld {
	t.Helper()
	w := &cpWorld{t: t}
	if fake {
		w.clock = clock.NewFake(time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC))
		o.Now = w.clock.Now
		o.MaxClockSkew = 1000 * time.Hour // the SDK signs with the wall clock
		old := now
		now = w.clock.Now
		t.Cleanup(func() { now = old })
	}
	o.Accounts = []emulator.Account{{ID: cpAcct, Name: "dev", PermissionSets: []emulator.PermissionSet{{Name: "Developer"}},
		Roles: []emulator.Role{{Name: "Deployer", MaxSessionDuration: emulator.Duration(2 * time.Hour)}}}}
	o.Users = []emulator.User{{Name: "bob", AccessKeyID: cpKey, SecretAccessKey: cpSecret, MFA: &emulator.MFADevice{Secret: cpSeed}}}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	w.emu = emu
	w.home = t.TempDir()
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
		"AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "BOTO_CONFIG", "AWS_CREDENTIAL_EXPIRATION"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	// Every client in these tests goes to the loopback emulator: the Go SDK in-process and in the built
	// binary, and boto3 >= 1.31 (boto3 1.26 gets an explicit endpoint_url and only credential_process keys).
	for _, kv := range emu.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("HOME", w.home)
	t.Setenv("USERPROFILE", w.home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(w.home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(w.home, ".aws", "credentials"))
	w.writeConfig("")
	nowFn := time.Now
	if w.clock != nil {
		nowFn = w.clock.Now
	}
	w.m = &login.Manager{Cache: ssocache.Dir{Path: filepath.Join(w.home, ".aws", "sso", "cache")},
		Roles: ssocache.RoleCache{Path: filepath.Join(w.home, ".aws", "cli", "cache")}, Now: nowFn,
		Wait: func(ctx context.Context, d time.Duration) error { emu.ApproveAll(); return ctx.Err() }}
	return w
}

func (w *cpWorld) writeConfig(extra string) {
	w.t.Helper()
	path := filepath.Join(w.home, ".aws", "config")
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, []byte(cpConfig(w.emu, extra)), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *cpWorld) session() login.Session {
	return login.Session{Name: "emulator", StartURL: w.emu.StartURL(), Region: w.emu.Region(),
		Scopes: []string{login.DefaultScope}, Profile: "emu"}
}

// login is a person logging in with the device code: the token lands in the temp HOME's CLI cache.
func (w *cpWorld) login() {
	w.t.Helper()
	if _, err := w.m.DeviceLogin(context.Background(), w.session(), login.Options{}, func(login.DeviceAuth) {}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *cpWorld) ops(op string) int { return w.emu.Stats().Operations[op].Requests }

// secrets are every secret the test knows of at this point: the cached token, bob's key, and extra.
func (w *cpWorld) secrets(extra ...string) []string {
	s := append([]string{cpSecret, cpSeed}, extra...)
	if tok, err := w.m.Cache.LoadToken(w.session().CacheKey()); err == nil {
		s = append(s, tok.AccessToken, tok.RefreshToken, tok.ClientSecret)
	}
	if rc, err := w.m.Roles.Load(ssocache.RoleKey(cpAcct, "Developer", "emulator", "")); err == nil {
		s = append(s, rc.SecretAccessKey, rc.SessionToken)
	}
	return s
}

func assertNoSecret(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows a secret (%.4s…)", what, s)
		}
	}
}

// runCP runs ssokeep in-process.
func runCP(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

type cpOutput struct {
	Version         int
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
	AccountID       string `json:"AccountId"`
}

// parseCP checks that stdout is exactly one JSON object of the credential_process contract.
func parseCP(t *testing.T, stdout string) cpOutput {
	t.Helper()
	var o cpOutput
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("stdout is not the credential_process JSON: %v", err)
	}
	if rest := strings.TrimSpace(stdout[dec.InputOffset():]); rest != "" {
		t.Fatalf("stdout has more than the JSON object: %d bytes", len(rest))
	}
	if o.Version != 1 || o.AccessKeyID == "" || o.SecretAccessKey == "" || o.SessionToken == "" {
		t.Fatalf("incomplete credentials (version %d, key %q)", o.Version, o.AccessKeyID)
	}
	return o
}

func (o cpOutput) expires(t *testing.T) time.Time {
	t.Helper()
	e, err := time.Parse(time.RFC3339, o.Expiration)
	if err != nil {
		t.Fatalf("Expiration %q is not RFC 3339", o.Expiration)
	}
	return e
}

func TestCredentialProcessPrintsTheContractAndReusesTheCache(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	w.login()
	code, stdout, stderr := runCP("credential-process", "-p", "emu")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := parseCP(t, stdout)
	if want := w.clock.Now().Add(time.Hour); !o.expires(t).Equal(want) || o.AccountID != cpAcct {
		t.Errorf("Expiration %s AccountId %q, want the true expiry %s and %s", o.Expiration, o.AccountID, want.Format(time.RFC3339), cpAcct)
	}
	assertNoSecret(t, "stderr", stderr, w.secrets())
	// The AWS CLI's own cache holds the same set.
	rc, err := w.m.Roles.Load(ssocache.RoleKey(cpAcct, "Developer", "emulator", ""))
	if err != nil || rc.AccessKeyID != o.AccessKeyID {
		t.Fatalf("CLI role cache: %v", err)
	}
	w.clock.Advance(44 * time.Minute)
	if _, again, _ := runCP("credential-process", "-p", "emu"); parseCP(t, again).AccessKeyID != o.AccessKeyID {
		t.Error("a set with 16 minutes left was not reused")
	}
	w.clock.Advance(2 * time.Minute)
	if _, next, _ := runCP("credential-process", "-p", "emu"); parseCP(t, next).AccessKeyID == o.AccessKeyID {
		t.Error("a set with 14 minutes left was printed again: boto3 would run the command on every request")
	}
	if n := w.ops("GetRoleCredentials"); n != 2 {
		t.Errorf("%d GetRoleCredentials, want 2", n)
	}
}

func TestCredentialProcessChainIsCappedByRoleChaining(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	w.login()
	code, stdout, stderr := runCP("credential-process", "-p", "emu-chain")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := parseCP(t, stdout)
	if want := w.clock.Now().Add(time.Hour); !o.expires(t).Equal(want) || o.AccountID != cpAcct {
		t.Errorf("Expiration %s, want %s: duration_seconds 7200 capped at 3600 for role chaining", o.Expiration, want.Format(time.RFC3339))
	}
	if st := w.emu.Stats().Operations["AssumeRole"]; st.Requests != 1 || st.Errors != 0 {
		t.Errorf("AssumeRole %+v, want one accepted call", st)
	}
}

func TestCredentialProcessMFA(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	// Without a way to get a code it never prompts: one line saying what to add.
	code, stdout, stderr := runCP("credential-process", "-p", "bob-mfa")
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--mfa-command") {
		t.Errorf("no code source: exit %d, stdout %d bytes, stderr %q", code, len(stdout), stderr)
	}
	otp, err := totp.GenerateCode(cpSeed, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCP("credential-process", "-p", "bob-mfa", "--mfa-command", "echo "+otp)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := parseCP(t, stdout)
	if want := w.clock.Now().Add(12 * time.Hour); !o.expires(t).Equal(want) {
		t.Errorf("Expiration %s, want %s (GetSessionToken's 12 h)", o.Expiration, want.Format(time.RFC3339))
	}
	// Cached in ssokeep's own 0600 file: the next run needs no code.
	code, stdout, _ = runCP("credential-process", "-p", "bob-mfa", "--mfa-command", "false")
	if code != 0 || parseCP(t, stdout).AccessKeyID != o.AccessKeyID {
		t.Errorf("cached MFA session not reused (exit %d)", code)
	}
	files, _ := filepath.Glob(filepath.Join(w.home, ".aws", "sso", "ssokeep", "credentials", "*.json"))
	if len(files) != 1 {
		t.Fatalf("own cache files %v, want 1", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("own cache file mode %v", fi.Mode().Perm())
	}
	// Near the end a new code is needed. While the cached session is still valid, a failure to get one
	// serves it (with a warning), so running jobs keep going.
	w.clock.Advance(11*time.Hour + 50*time.Minute)
	code, stdout, stderr = runCP("credential-process", "-p", "bob-mfa", "--mfa-command", "false")
	if code != 0 || parseCP(t, stdout).AccessKeyID != o.AccessKeyID || !strings.Contains(stderr, "serving the cached set") {
		t.Errorf("10 min left, no code: exit %d, stderr %q", code, stderr)
	}
	// With 30 s left there is nothing to fall back to: a failing command is one line, without what it printed.
	w.clock.Advance(9*time.Minute + 30*time.Second)
	code, stdout, stderr = runCP("credential-process", "-p", "bob-mfa", "--mfa-command", "sh -c 'echo 000000; exit 3'")
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--mfa-command sh") || strings.Contains(stderr, "000000") {
		t.Errorf("failing --mfa-command: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr = runCP("credential-process", "-p", "bob-mfa", "--mfa-command", "echo 000000")
	if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "fresh code") {
		t.Errorf("refused code: exit %d, stderr %q", code, stderr)
	}
	assertNoSecret(t, "stderr", stderr, w.secrets(o.SecretAccessKey, o.SessionToken))
}

func TestCredentialProcessLoginNeededIsOneLineAndExit1(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	check := func(what string) {
		t.Helper()
		code, stdout, stderr := runCP("credential-process", "-p", "emu")
		if code != 1 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "run `ssokeep login -p emu`") {
			t.Errorf("%s: exit %d, stdout %d bytes, stderr %q; want exit 1, nothing on stdout, one line naming the login", what, code, len(stdout), stderr)
		}
		assertNoSecret(t, what+": stderr", stderr, w.secrets())
	}
	check("never logged in")
	w.login()
	if code, _, stderr := runCP("credential-process", "-p", "emu"); code != 0 {
		t.Fatalf("after login: exit %d: %s", code, stderr)
	}
	w.emu.EndSessions()
	w.clock.Advance(time.Hour) // the set has expired and the session is over
	check("session ended")
}

func TestCredentialProcessLoginFlag(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	old := interactiveLogin
	t.Cleanup(func() { interactiveLogin = old })
	interactiveLogin = nil
	code, stdout, stderr := runCP("credential-process", "-p", "emu", "--login")
	if code != 1 || stdout != "" || !strings.Contains(stderr, "ssokeep login -p emu") {
		t.Errorf("without a login hook: exit %d, stderr %q", code, stderr)
	}
	var asked []string
	interactiveLogin = func(ctx context.Context, g *Globals, profile string) error {
		asked = append(asked, profile)
		fmt.Fprintln(g.stderr, "logging in") // what a login prints must not reach stdout
		w.login()
		return nil
	}
	code, stdout, stderr = runCP("credential-process", "-p", "emu", "--login")
	if code != 0 || len(asked) != 1 || asked[0] != "emu" {
		t.Fatalf("exit %d, logins %v: %s", code, asked, stderr)
	}
	parseCP(t, stdout)
}

// TestCredentialProcessLoginRunsTheLoginCommand is --login with the real login command (PKCE, the test
// being the browser): the login's output goes to stderr, stdout holds only the credentials.
func TestCredentialProcessLoginRunsTheLoginCommand(t *testing.T) {
	w := newCPWorld(t, false, emulator.Options{Approve: emulator.Auto})
	oldOpen, oldCan := browserOpener, canOpenBrowser
	t.Cleanup(func() { browserOpener, canOpenBrowser = oldOpen, oldCan })
	canOpenBrowser = func() bool { return true }
	browserOpener = func(u string) error {
		resp, err := http.Get(u) // the browser follows the redirect to the login's loopback listener
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	code, stdout, stderr := runCP("credential-process", "-p", "emu", "--login")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	parseCP(t, stdout)
	if !strings.Contains(stderr, "Opening the browser") {
		t.Errorf("the login's messages are not on stderr: %q", stderr)
	}
	if n := w.ops("CreateToken"); n != 1 {
		t.Errorf("%d CreateToken, want 1 (one login)", n)
	}
	assertNoSecret(t, "stderr", stderr, w.secrets())
}

func TestCredentialProcessHelpShowsTheConfigLine(t *testing.T) {
	code, stdout, _ := runCP("credential-process", "--help")
	if code != 0 || !strings.Contains(stdout, "\n  credential_process = ssokeep credential-process -p dev\n") ||
		!strings.Contains(stdout, "separate profile") {
		t.Errorf("exit %d, help:\n%s", code, stdout)
	}
}

// Long-term keys have no expiry: the output has no Expiration (the SDKs then never run the command again).
func TestCredentialProcessStaticKeysHaveNoExpiration(t *testing.T) {
	newCPWorld(t, true, emulator.Options{})
	code, stdout, stderr := runCP("credential-process", "-p", "bob")
	var o map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &o) != nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, ok := o["Expiration"]; ok || o["AccessKeyId"] != cpKey || o["Version"] != 1.0 {
		t.Errorf("got fields %v", keysOf(o))
	}
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestCredentialProcessConfigErrorsExit3NamingTheFile(t *testing.T) {
	w := newCPWorld(t, true, emulator.Options{})
	cfgPath := filepath.Join(w.home, ".aws", "config")
	for _, tc := range []struct{ profile, want string }{
		{"nope", "no such profile"},
		{"self", "credential_process itself"},
	} {
		code, stdout, stderr := runCP("credential-process", "-p", tc.profile)
		if code != ExitConfig || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, cfgPath) || !strings.Contains(stderr, tc.want) {
			t.Errorf("-p %s: exit %d, stderr %q", tc.profile, code, stderr)
		}
	}
}

// TestCredentialProcessConcurrentRunsFetchOnce runs the built binary 20 times at once on an empty cache, as
// boto3 does when a flow starts many workers: one GetRoleCredentials, every run prints the same set.
func TestCredentialProcessConcurrentRunsFetchOnce(t *testing.T) {
	bin := testbin.Ssokeep(t)
	w := newCPWorld(t, false, emulator.Options{})
	w.login()
	const n = 20
	outs := make([]string, n)
	errs := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "credential-process", "-p", "emu")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			<-start
			err := cmd.Run()
			outs[i], errs[i] = out.String(), errb.String()
			if err != nil {
				codes[i] = -1
				if ee, ok := err.(*exec.ExitError); ok {
					codes[i] = ee.ExitCode()
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	var first string
	for i := 0; i < n; i++ {
		if codes[i] != 0 {
			t.Fatalf("run %d: exit %d: %s", i, codes[i], errs[i])
		}
		o := parseCP(t, outs[i])
		if first == "" {
			first = o.AccessKeyID
		} else if o.AccessKeyID != first {
			t.Errorf("run %d printed another set", i)
		}
		assertNoSecret(t, "stderr", errs[i], w.secrets())
	}
	if st := w.emu.Stats().Operations["GetRoleCredentials"]; st.Requests != 1 {
		t.Errorf("%d concurrent runs made %d GetRoleCredentials calls, want 1", n, st.Requests)
	}
}

// TestCredentialProcessBinaryLoginNeeded is the real process: exit status 1, stdout empty, one line.
func TestCredentialProcessBinaryLoginNeeded(t *testing.T) {
	bin := testbin.Ssokeep(t)
	w := newCPWorld(t, false, emulator.Options{})
	cmd := exec.Command(bin, "credential-process", "-p", "emu")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 || out.Len() != 0 || strings.Count(errb.String(), "\n") != 1 ||
		errb.String() != "ssokeep: not logged in to IAM Identity Center session emulator; run `ssokeep login -p emu`\n" {
		t.Errorf("err %v, stdout %d bytes, stderr %q", err, out.Len(), errb.String())
	}
	assertNoSecret(t, "stderr", errb.String(), w.secrets())
}
