package source

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/login"
)

// ownFiles lists ssokeep's own cached credential files and checks they are private.
func (w *world) ownFiles() []string {
	w.t.Helper()
	files, _ := filepath.Glob(filepath.Join(w.m.Cache.StateDir(), "credentials", "*.json"))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			w.t.Errorf("%s: mode %v, want 0600 (%v)", f, fi.Mode().Perm(), err)
		}
	}
	return files
}

func TestChainFromSSOIsCappedAtOneHourAndRefreshes(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	p := w.provider("chain", w.config()) // duration_seconds = 7200: role chaining allows 3600
	c := w.retrieve(p)
	if !c.Expires.Equal(t0.Add(time.Hour)) || c.AccountID != acct {
		t.Errorf("expires %v account %q, want %v (capped) and %s", c.Expires, c.AccountID, t0.Add(time.Hour), acct)
	}
	if arn := callerARN(t, c); !strings.Contains(arn, ":assumed-role/Deployer/ssokeep-") {
		t.Errorf("caller %s, want the Deployer role with an ssokeep session name", arn)
	}
	if st := w.emu.Stats().Operations["AssumeRole"]; st.Requests != 1 || st.Errors != 0 {
		t.Errorf("AssumeRole %+v: want one call that STS accepted", st)
	}
	if n := len(w.ownFiles()); n != 1 {
		t.Errorf("%d own cache files, want 1 (the assumed role)", n)
	}
	// The SSO source set went to the CLI's cache.
	if _, err := w.m.Roles.Load(w.roleKey()); err != nil {
		t.Errorf("the SSO source set is not in the CLI cache: %v", err)
	}
	w.clock.Advance(40 * time.Minute)
	if again := w.retrieve(w.provider("chain", w.config())); again.AccessKeyID != c.AccessKeyID {
		t.Error("a cached assumed role with 20 min left was not reused")
	}
	w.clock.Advance(6 * time.Minute) // 14 min left: refresh; the SSO source (14 min left) still signs
	next := w.retrieve(p)
	if next.AccessKeyID == c.AccessKeyID || !next.Expires.Equal(w.clock.Now().Add(time.Hour)) {
		t.Error("the assumed role was not refreshed near its expiry")
	}
	if a, g := w.ops("AssumeRole"), w.ops("GetRoleCredentials"); a != 2 || g != 1 {
		t.Errorf("AssumeRole %d, GetRoleCredentials %d; want 2 and 1 (a source needs only %v left)", a, g, sourceMinRemaining)
	}
}

func TestChainOfTwoRoles(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	c := w.retrieve(w.provider("chain2", w.config()))
	if arn := callerARN(t, c); !strings.HasSuffix(arn, ":assumed-role/Auditor/audit-me") {
		t.Errorf("caller %s, want Auditor with role_session_name audit-me", arn)
	}
	if n := len(w.ownFiles()); n != 2 {
		t.Errorf("%d own cache files, want 2 (Deployer and Auditor)", n)
	}
}

func TestAssumeRoleFromLongTermKeysIsNotCapped(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	c := w.retrieve(w.provider("alice-deploy", w.config()))
	if !c.Expires.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("expires %v, want the configured 2 h (no role chaining)", c.Expires)
	}
}

func TestAssumeRoleFromEnvironmentRetriesAtTheChainingCap(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	sso := w.retrieve(w.provider("sso", w.config())) // temporary keys of a role session, as pasted into env
	env := map[string]string{"AWS_ACCESS_KEY_ID": sso.AccessKeyID, "AWS_SECRET_ACCESS_KEY": sso.SecretAccessKey, "AWS_SESSION_TOKEN": sso.SessionToken}
	cfg := w.config()
	cfg.Getenv = func(k string) string { return env[k] }
	c := w.retrieve(w.provider("env-role", cfg))
	if !c.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("expires %v, want 1 h after STS refused 2 h for role chaining", c.Expires)
	}
	if st := w.emu.Stats().Operations["AssumeRole"]; st.Requests != 2 || st.Errors != 1 {
		t.Errorf("AssumeRole %+v: want a refusal, then a capped call", st)
	}
	env = map[string]string{}
	os.RemoveAll(filepath.Join(w.m.Cache.StateDir(), "credentials"))
	_, err := w.provider("env-role", cfg).Retrieve(context.Background())
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("no environment keys: got %v", err)
	}
}

func TestMFASessionCachesAndRefreshesNearExpiry(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	c := w.retrieve(w.provider("alice-mfa", w.config()))
	if !c.Expires.Equal(t0.Add(12*time.Hour)) || w.codes != 1 {
		t.Errorf("expires %v after %d codes, want 12 h (the STS default) after 1", c.Expires, w.codes)
	}
	if arn := callerARN(t, c); arn != "arn:aws:iam::"+acct+":user/alice" {
		t.Errorf("caller %s", arn)
	}
	if n := len(w.ownFiles()); n != 1 {
		t.Errorf("%d own cache files, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(w.home, ".aws", "cli", "cache")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("an MFA session went into the AWS CLI's cache")
	}
	w.clock.Advance(11*time.Hour + 40*time.Minute)
	if again := w.retrieve(w.provider("alice-mfa", w.config())); again.AccessKeyID != c.AccessKeyID || w.codes != 1 {
		t.Error("the cached MFA session was not reused without a code")
	}
	w.clock.Advance(6 * time.Minute) // 14 min left
	next := w.retrieve(w.provider("alice-mfa", w.config()))
	if next.AccessKeyID == c.AccessKeyID || w.codes != 2 || w.ops("GetSessionToken") != 2 {
		t.Errorf("near expiry: %d codes, %d GetSessionToken; want a new session with a new code", w.codes, w.ops("GetSessionToken"))
	}
}

func TestMFASessionAsSourceOfAnMFAGuardedRole(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	c := w.retrieve(w.provider("mfa-guarded", w.config()))
	if arn := callerARN(t, c); !strings.Contains(arn, ":assumed-role/Guarded/") || w.codes != 1 {
		t.Errorf("caller %s after %d codes", arn, w.codes)
	}
	// Not role chaining: the role's default hour.
	if !c.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("expires %v", c.Expires)
	}
}

func TestRoleWithMFASerialAsksForACodeOnEachFetch(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	p := w.provider("alice-guarded", w.config())
	w.retrieve(p)
	w.clock.Advance(50 * time.Minute)
	w.retrieve(p)
	if w.codes != 2 || w.ops("AssumeRole") != 2 {
		t.Errorf("%d codes for %d AssumeRole, want 2 and 2", w.codes, w.ops("AssumeRole"))
	}
}

func TestMFAErrorsAreOneLine(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	cfg := w.config()
	cfg.Code = func(context.Context, string, string) (string, error) { return "000000", nil }
	_, err := w.provider("alice-mfa", cfg).Retrieve(context.Background())
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "profile alice-mfa") ||
		!strings.Contains(err.Error(), "fresh code") {
		t.Errorf("wrong code: %v", err)
	}
	if s := w.secretsIn(err.Error()); len(s) > 0 {
		t.Errorf("error shows secrets %v", s)
	}
	cfg.Code = func(context.Context, string, string) (string, error) { return "12ab", nil }
	if _, err := w.provider("alice-mfa", cfg).Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), "6 digits") {
		t.Errorf("malformed code: %v", err)
	}
	cfg.Code = nil
	if _, err := w.provider("alice-mfa", cfg).Retrieve(context.Background()); err == nil || !strings.Contains(err.Error(), aliceMFA) {
		t.Errorf("no way to ask: %v", err)
	}
	if n := w.ops("GetSessionToken"); n != 1 {
		t.Errorf("%d GetSessionToken; malformed or missing codes must not reach STS", n)
	}
}

func TestDurationAboveTheRolesMaximumIsExplained(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	p := w.profile("alice-deploy")
	p.Role.Duration = 3 * time.Hour // Deployer allows 2 h
	prov, err := Build(p, w.config())
	if err != nil {
		t.Fatal(err)
	}
	_, err = prov.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "lower duration_seconds") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v", err)
	}
}

func TestProfilesSsokeepCannotServe(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	for name, want := range map[string]string{
		"cp":       "credential_process itself",
		"bare":     "no credentials of its own",
		"ecs-role": "credential_source = EcsContainer",
	} {
		_, err := Build(w.profile(name), w.config())
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), w.cfg.Files.Config) ||
			!strings.Contains(err.Error(), "profile "+name) {
			t.Errorf("%s: got %v, want a ConfigError naming the file and profile and saying %q", name, err, want)
		}
	}
	static, err := Build(w.profile("alice"), w.config())
	if err != nil {
		t.Fatal(err)
	}
	c, err := static.Retrieve(context.Background())
	if err != nil || c.AccessKeyID != aliceKey || c.CanExpire {
		t.Errorf("static profile: %v", err)
	}
}

func TestChainNeedsLoginAsItsSSOSourceDoes(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	_, err := w.provider("chain2", w.config()).Retrieve(context.Background())
	var ln *login.LoginNeededError
	if !errors.As(err, &ln) || !strings.Contains(err.Error(), "ssokeep login -p chain2") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want the LoginNeededError of the SSO source, naming the profile asked for", err)
	}
	if n := w.ops("AssumeRole"); n != 0 {
		t.Errorf("%d AssumeRole calls without source credentials", n)
	}
}
