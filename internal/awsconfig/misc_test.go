package awsconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultFiles(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)

	os.Unsetenv("AWS_CONFIG_FILE")
	os.Unsetenv("AWS_SHARED_CREDENTIALS_FILE")
	t.Cleanup(func() { os.Unsetenv("AWS_CONFIG_FILE"); os.Unsetenv("AWS_SHARED_CREDENTIALS_FILE") })
	f, err := DefaultFiles()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Files{filepath.Join(home, ".aws", "config"), filepath.Join(home, ".aws", "credentials")}); f != want {
		t.Errorf("defaults = %+v, want %+v", f, want)
	}

	t.Setenv("AWS_CONFIG_FILE", "~/elsewhere/cfg")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/creds")
	if f, _ = DefaultFiles(); f != (Files{filepath.Join(home, "elsewhere", "cfg"), "/etc/aws/creds"}) {
		t.Errorf("from env = %+v", f)
	}

	// Set but empty means no file (botocore; Metaflow's devstack runs children with AWS_SHARED_CREDENTIALS_FILE=).
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "")
	if f, _ = DefaultFiles(); f.Credentials != "" {
		t.Errorf("empty variable gave %q", f.Credentials)
	}
	// "~user/x" and "x~" are not expanded.
	t.Setenv("AWS_CONFIG_FILE", "rel/~/x")
	if f, _ = DefaultFiles(); f.Config != "rel/~/x" {
		t.Errorf("non-leading ~ expanded: %q", f.Config)
	}
}

func TestDefaultFilesWithoutHome(t *testing.T) {
	t.Setenv("HOME", "")
	t.Setenv("AWS_CONFIG_FILE", "/abs/config")
	os.Unsetenv("AWS_SHARED_CREDENTIALS_FILE")
	_, err := DefaultFiles()
	if err == nil || !strings.Contains(err.Error(), "AWS_SHARED_CREDENTIALS_FILE") {
		t.Fatalf("want an error naming AWS_SHARED_CREDENTIALS_FILE, got %v", err)
	}
}

func TestLoadMissingAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	c, err := Load(Files{Config: filepath.Join(dir, "nope"), Credentials: ""})
	if err != nil || len(c.Profiles) != 0 || len(c.Sessions) != 0 {
		t.Fatalf("missing files: %v, %+v", err, c)
	}
	// /dev/null is what ssokeep exec gives children: empty, not an error.
	if c, err = Load(Files{Config: os.DevNull, Credentials: os.DevNull}); err != nil || len(c.Profiles) != 0 {
		t.Fatalf("/dev/null: %v", err)
	}
	// A directory in place of the file (root can read any file, so this stands in for "unreadable").
	_, err = Load(Files{Config: dir})
	var e *Error
	if !errors.As(err, &e) || e.File != dir || !strings.Contains(e.Msg, "cannot be read") {
		t.Fatalf("directory as config: %v", err)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Errorf("the fs error is not wrapped: %v", err)
	}
}

func TestSession(t *testing.T) {
	c, err := Load(files(t, `
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access, ,codecatalyst:read_write
ssokeep_session_duration = 28800
[sso-session "quoted name"]
sso_start_url = https://q.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes =
[sso-session broken]
sso_region = us-east-1
ssokeep_session_duration = 8 hours
`, ""))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.SessionNames) != "[corp quoted name broken]" {
		t.Errorf("SessionNames = %q", c.SessionNames)
	}
	s, err := c.Session("corp")
	if err != nil {
		t.Fatal(err)
	}
	if s.StartURL != "https://corp.awsapps.com/start" || s.Region != "eu-west-1" || s.SessionDuration != 8*time.Hour ||
		fmt.Sprint(s.RegistrationScopes) != "[sso:account:access codecatalyst:read_write]" || filepath.Base(s.File) != "config" {
		t.Errorf("corp = %+v", s)
	}
	if s, err = c.Session("quoted name"); err != nil || s.RegistrationScopes == nil || len(s.RegistrationScopes) != 0 {
		t.Errorf("present but empty scopes must be an empty list: %+v %v", s, err)
	}
	// The map holds broken sessions as written; Session refuses them.
	if c.Sessions["broken"] == nil || c.Sessions["broken"].SessionDuration != 0 {
		t.Errorf("Sessions[broken] = %+v", c.Sessions["broken"])
	}
	if _, err = c.Session("broken"); err == nil || !strings.Contains(err.Error(), "[sso-session broken] sso_start_url: missing") {
		t.Errorf("broken: %v", err)
	}
	if _, err = c.Session("crop"); err == nil || !strings.Contains(err.Error(), `[sso-session crop] no such section`) || !strings.Contains(err.Error(), `"corp"`) {
		t.Errorf("unknown session: %v", err)
	}
}

func TestCacheKey(t *testing.T) {
	if k := (&SSO{Session: &SSOSession{Name: "corp"}, StartURL: "https://x"}).CacheKey(); k != "corp" {
		t.Errorf("session profile key %q", k)
	}
	if k := (&SSO{StartURL: "https://old.awsapps.com/start"}).CacheKey(); k != "https://old.awsapps.com/start" {
		t.Errorf("legacy profile key %q", k)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "/home/u/.aws/config", Section: "profile dev", Key: "sso_session", Msg: "no [sso-session corp] section; add one or fix the name"}
	if got := e.Error(); got != "/home/u/.aws/config: [profile dev] sso_session: no [sso-session corp] section; add one or fix the name" {
		t.Errorf("Error() = %q", got)
	}
	e = &Error{File: "/c", Line: 7, Msg: "bad"}
	if got := e.Error(); got != "/c:7: bad" {
		t.Errorf("Error() = %q", got)
	}
}

func TestStaticKeysNeverPrintSecrets(t *testing.T) {
	k := StaticKeys{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret1, SessionToken: token1}
	p := &Profile{Name: "x", Kind: KindStatic, Static: &k}
	for _, s := range []string{k.String(), k.GoString(), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%10.3v", k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v", &k, p, *p), dump(p)} {
		assertNoSecret(t, "formatted StaticKeys", s)
		if !strings.Contains(s, "AKIAIOSFODNN7EXAMPLE") && !strings.Contains(s, "0x") {
			t.Errorf("access key id missing from %q", s)
		}
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"8h": 8 * time.Hour, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute, "28800": 8 * time.Hour, "0": 0,
		"90d": 90 * 24 * time.Hour, "1d12h": 36 * time.Hour, " 12h ": 12 * time.Hour, "1.5h": 90 * time.Minute,
	}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "8 hours", "-5m", "-1", "+5m", "1.5d", "d", "5x", "99999999999999999999", "106752d", "1d-1h", "1d+1h", "h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "90d") {
			t.Errorf("error %q does not say what is accepted", err)
		}
	}
}
