package awsconfig

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Fake secrets used in the test configs. No error message, String() or test output may contain them.
const (
	secret1 = "SECRETwJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY1"
	secret2 = "SECRETje7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY2"
	token1  = "TOKENIQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN1"
)

var secrets = []string{secret1, secret2, token1}

// files writes the config and credentials text ("" = no such file) into a fresh directory.
func files(t testing.TB, config, creds string) Files {
	t.Helper()
	dir := t.TempDir()
	f := Files{Config: filepath.Join(dir, "config"), Credentials: filepath.Join(dir, "credentials")}
	if config != "" {
		if err := os.WriteFile(f.Config, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if creds != "" {
		if err := os.WriteFile(f.Credentials, []byte(creds), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// assertNoSecret fails if s contains one of the fake secrets, without printing it.
func assertNoSecret(t testing.TB, what, s string) {
	t.Helper()
	for i, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s contains fake secret #%d", what, i+1)
		}
	}
}

// sameProfile compares got with want on the fields want sets: File and Settings only when want has them; File
// by base name ("config" / "credentials"); SSO.Session without its File.
func sameProfile(t testing.TB, got, want *Profile) {
	t.Helper()
	g := trimProfile(got, want)
	if !reflect.DeepEqual(g, want) {
		t.Errorf("profile differs\n got: %s\nwant: %s", dump(g), dump(want))
		if got.Static != nil && want.Static != nil && *got.Static != *want.Static {
			t.Errorf("static keys differ (values not shown)")
		}
	}
}

func trimProfile(got, want *Profile) *Profile {
	if got == nil || want == nil {
		return got
	}
	g := *got
	if want.File == "" {
		g.File = ""
	} else {
		g.File = filepath.Base(g.File)
	}
	if want.Settings == nil {
		g.Settings = nil
	}
	if g.SSO != nil {
		sso := *g.SSO
		if sso.Session != nil {
			s := *sso.Session
			s.File = ""
			sso.Session = &s
		}
		g.SSO = &sso
	}
	if g.Role != nil {
		r := *g.Role
		if want.Role != nil {
			r.Source = trimProfile(r.Source, want.Role.Source)
		}
		g.Role = &r
	}
	return &g
}

// dump renders a profile for failure messages; StaticKeys marshal without their secrets.
func dump(p *Profile) string {
	b, _ := json.Marshal(p)
	return string(b)
}
