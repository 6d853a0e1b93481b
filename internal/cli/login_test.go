package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/emulator/emutest"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// emuCLI is the CLI in a temp home whose AWS config points at an in-process
// emulator; the emulator and the CLI share a fake clock.
type emuCLI struct {
	*cli
	emu   *emulator.Server
	clock *clock.Fake
}

func newEmuCLI(t *testing.T, o emulator.Options) *emuCLI { return newEmuCLIAt(t, o, t0) }

// newEmuCLIAt starts the emulator's clock at start; a zero start is the real
// clock, shared with this process's commands.
func newEmuCLIAt(t *testing.T, o emulator.Options, start time.Time) *emuCLI {
	t.Helper()
	emu, c := emutest.Start(t, o, start)
	config := emu.AWSConfig()
	config = strings.Replace(config, "sso_registration_scopes = sso:account:access\n",
		"sso_registration_scopes = sso:account:access\nssokeep_session_duration = 8h\n", 1)
	cl := newCLI(t, config)
	if c != nil {
		now = c.Now
	} else {
		now = time.Now
	}
	return &emuCLI{cli: cl, emu: emu, clock: c}
}

func (e *emuCLI) ops(op string) int { return e.emu.Stats().Operations[op].Requests }

func TestLoginWithDeviceCodeThenStatusForecastsTheEnd(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto})
	code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"code:", "/device?user_code=", "Logged in to emulator", "refreshable", "ends by"} {
		if !strings.Contains(out, want) {
			t.Errorf("login output lacks %q:\n%s", want, out)
		}
	}
	tok, err := ssocache.Dir{Path: filepath.Join(e.home, ".aws", "sso", "cache")}.LoadToken(ssocache.TokenKey("emulator"))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("token: %v", err)
	}
	if strings.Contains(out+errOut, tok.AccessToken) || strings.Contains(out+errOut, tok.RefreshToken) {
		t.Error("login printed a token")
	}
	code, js, _ := e.run("status", "-p", "emulator", "--json")
	var rep struct {
		Sessions []struct {
			SessionEnd struct {
				State      string
				At         time.Time
				LoggedInAt time.Time
				Exact      bool
			}
		}
	}
	json.Unmarshal([]byte(js), &rep)
	if code != 0 || len(rep.Sessions) != 1 {
		t.Fatalf("status exit %d:\n%s", code, js)
	}
	end := rep.Sessions[0].SessionEnd
	if end.State != "forecast" || !end.At.Equal(t0.Add(8*time.Hour)) || !end.LoggedInAt.Equal(t0) || end.Exact {
		t.Errorf("session end %+v", end)
	}
}

func TestLoginIfNeededMakesNoCallWhenNothingIsNeeded(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto})
	if code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser"); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	before := e.emu.Stats().Operations
	e.clock.Advance(50 * time.Minute) // 10 min left, but refreshable
	code, out, _ := e.run("login", "-p", "emulator", "--if-needed", "--min-remaining", "1h")
	if code != 0 || !strings.Contains(out, "no login needed") {
		t.Errorf("exit %d: %s", code, out)
	}
	after := e.emu.Stats().Operations
	for op, st := range after {
		if st.Requests != before[op].Requests {
			t.Errorf("--if-needed called %s", op)
		}
	}
	// 7h50 in, the forecast session end (8h) is closer than 1h: a login is needed.
	e.clock.Advance(7 * time.Hour)
	code, out, _ = e.run("login", "-p", "emulator", "--if-needed", "--min-remaining", "1h", "--device-code", "--no-browser")
	if code != 0 || !strings.Contains(out, "Logged in") {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestLoginFreshStartsAFullSession(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto, SessionDuration: 8 * time.Hour})
	e.run("login", "-p", "emulator", "--device-code", "--no-browser")
	e.clock.Advance(6 * time.Hour)
	code, out, _ := e.run("login", "-p", "emulator", "--device-code", "--no-browser", "--fresh")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	ss := e.emu.Stats().Sessions
	if len(ss) != 1 || !ss[0].End.Equal(e.clock.Now().Add(8*time.Hour)) {
		t.Errorf("sessions %+v", ss)
	}
	if !strings.Contains(out, "ends at") {
		t.Errorf("a fresh login knows its exact end:\n%s", out)
	}
}

func TestLoginUsesPKCEWhenABrowserCanOpen(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto})
	oldOpen, oldCan := browserOpener, canOpenBrowser
	t.Cleanup(func() { browserOpener, canOpenBrowser = oldOpen, oldCan })
	canOpenBrowser = func() bool { return true }
	var opened string
	browserOpener = func(u string) error {
		opened = u
		resp, err := http.Get(u) // the browser follows the redirect to our listener
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil
	}
	code, out, errOut := e.run("login", "-p", "emulator")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(opened, "/authorize?") || !strings.Contains(opened, "code_challenge_method=S256") {
		t.Errorf("opened %q", opened)
	}
	if n := e.ops("StartDeviceAuthorization"); n != 0 {
		t.Errorf("PKCE login started %d device authorizations", n)
	}
}

func TestLoginErrors(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"login", "-p", "nope"}, ExitConfig, "nope"},
		{[]string{"login", "--sso-session", "nope"}, ExitConfig, "nope"},
		{[]string{"login", "-p", "emulator", "--fresh", "--if-needed"}, ExitUsage, "contradict"},
		{[]string{"logout", "--all", "-p", "emulator"}, ExitUsage, "--all"},
	} {
		code, _, errOut := e.run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
	os.WriteFile(filepath.Join(e.home, ".aws", "config"), []byte("[profile keys]\naws_access_key_id = A\naws_secret_access_key = B\n"), 0o600)
	if code, _, errOut := e.run("login", "-p", "keys"); code != ExitConfig || !strings.Contains(errOut, "does not use IAM Identity Center") {
		t.Errorf("non-SSO profile: %d %q", code, errOut)
	}
}

func TestLogout(t *testing.T) {
	e := newEmuCLI(t, emulator.Options{Approve: emulator.Auto})
	e.run("login", "-p", "emulator", "--device-code", "--no-browser")
	e.run("login", "-p", "emulator-legacy", "--device-code", "--no-browser")
	if n := len(e.emu.Stats().Sessions); n != 1 {
		t.Fatalf("%d sessions", n) // one user, one start URL: both logins share the session
	}
	code, out, _ := e.run("logout", "--all")
	if code != 0 || strings.Count(out, "Logged out") != 2 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if n := len(e.emu.Stats().Sessions); n != 0 {
		t.Errorf("%d live sessions after logout --all", n)
	}
	if code, _, _ := e.run("status", "--all"); code != ExitLoginNeeded {
		t.Errorf("status after logout: exit %d", code)
	}
}
