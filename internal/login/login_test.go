package login

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/emulator/emutest"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

// world is an emulator and a Manager sharing one fake clock and a temp home.
type world struct {
	t     *testing.T
	clock *clock.Fake
	emu   *emulator.Server
	m     *Manager
	s     Session
}

func newWorld(t *testing.T, o emulator.Options) *world {
	t.Helper()
	if o.SessionDuration == 0 {
		o.SessionDuration = 8 * time.Hour
	}
	emu, c := emutest.Start(t, o, t0)
	home := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	os.Unsetenv("AWS_PROFILE")
	cache := ssocache.Dir{Path: filepath.Join(home, "sso", "cache")}
	w := &world{t: t, clock: c, emu: emu,
		m: &Manager{Cache: cache, Roles: ssocache.RoleCache{Path: filepath.Join(home, "cli", "cache")},
			Logins: logins.In(cache.StateDir()), Now: c.Now},
		s: Session{Name: "corp", StartURL: emu.StartURL(), Region: emu.Region(), Scopes: []string{DefaultScope}, Profile: "dev"}}
	// A person approves each device code the moment ssokeep first polls.
	w.m.Wait = func(ctx context.Context, d time.Duration) error { emu.ApproveAll(); return ctx.Err() }
	return w
}

func (w *world) ops(name string) int { return w.emu.Stats().Operations[name].Requests }

func (w *world) sessionEnd() time.Time {
	w.t.Helper()
	ss := w.emu.Stats().Sessions
	if len(ss) != 1 {
		w.t.Fatalf("%d live sessions, want 1", len(ss))
	}
	return ss[0].End
}

func (w *world) deviceLogin(o Options) *ssocache.Token {
	w.t.Helper()
	var shown DeviceAuth
	tok, err := w.m.DeviceLogin(context.Background(), w.s, o, func(d DeviceAuth) { shown = d })
	if err != nil {
		w.t.Fatal(err)
	}
	if shown.UserCode == "" || !strings.Contains(shown.VerificationURIComplete, shown.UserCode) || shown.ExpiresAt.IsZero() {
		w.t.Errorf("prompt got %+v", shown)
	}
	return tok
}

func TestDeviceLoginWritesTheCLICacheAndReusesTheRegistration(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	tok := w.deviceLogin(Options{})
	if tok.RefreshToken == "" || tok.ClientID == "" || !tok.ExpiresAt.Equal(t0.Add(time.Hour)) || tok.StartURL != w.s.StartURL {
		t.Errorf("token %+v", tok.Remaining(t0))
	}
	onDisk, err := w.m.Cache.LoadToken(ssocache.TokenKey("corp"))
	if err != nil || onDisk.AccessToken != tok.AccessToken || !onDisk.Refreshable(t0) {
		t.Fatalf("cached token: %v", err)
	}
	reg, err := w.m.Cache.LoadRegistration(w.s.registrationKey())
	if err != nil || reg.ClientID != tok.ClientID || !reg.ExpiresAt.Equal(tok.RegistrationExpiresAt) {
		t.Fatalf("registration not cached under the CLI's key: %v", err)
	}
	w.deviceLogin(Options{})
	if n := w.ops("RegisterClient"); n != 1 {
		t.Errorf("%d registrations for two logins, want 1 (reuse)", n)
	}
	rec, _ := w.m.Logins.Get(w.s.CacheKey())
	if !rec.LoggedInAt.Equal(t0) || rec.Fresh {
		t.Errorf("login record %+v", rec)
	}
}

// browser follows the authorize URL as a browser would: the emulator approves
// and redirects to the loopback listener.
func browser(t *testing.T) func(string) error {
	return func(u string) error {
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Login approved") {
			t.Errorf("browser landed on %d %q", resp.StatusCode, body)
		}
		return nil
	}
}

func TestPKCELogin(t *testing.T) {
	w := newWorld(t, emulator.Options{Approve: emulator.Auto})
	tok, err := w.m.PKCELogin(context.Background(), w.s, Options{}, browser(t))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || !tok.Refreshable(t0) {
		t.Error("PKCE token is not refreshable")
	}
	reg, _ := w.m.Cache.LoadRegistration(w.s.registrationKey())
	if !hasGrant(reg.GrantTypes, "authorization_code") || !hasGrant(reg.GrantTypes, "refresh_token") {
		t.Errorf("registration grant types %v", reg.GrantTypes)
	}
	// A device-flow registration is not reused for PKCE (the CLI re-registers too).
	w2 := newWorld(t, emulator.Options{Approve: emulator.Auto})
	w2.deviceLogin(Options{})
	if _, err := w2.m.PKCELogin(context.Background(), w2.s, Options{}, browser(t)); err != nil {
		t.Fatal(err)
	}
	if n := w2.ops("RegisterClient"); n != 2 {
		t.Errorf("%d registrations, want 2", n)
	}
}

func TestPKCEStopsOnAWrongState(t *testing.T) {
	w := newWorld(t, emulator.Options{Approve: emulator.Auto})
	_, err := w.m.PKCELogin(context.Background(), w.s, Options{}, func(u string) error {
		// An attacker's page hits the callback with its own state.
		i := strings.Index(u, "redirect_uri=")
		redirect := u[i+len("redirect_uri="):]
		redirect = redirect[:strings.Index(redirect, "&")]
		redirect = strings.NewReplacer("%3A", ":", "%2F", "/").Replace(redirect)
		go http.Get(redirect + "?code=stolen&state=forged")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "wrong state") {
		t.Errorf("err %v", err)
	}
	if _, err := w.m.Cache.LoadToken(w.s.CacheKey()); err == nil {
		t.Error("a token was written")
	}
}

func TestPKCEReportsABrowserThatCannotOpen(t *testing.T) {
	w := newWorld(t, emulator.Options{Approve: emulator.Auto})
	_, err := w.m.PKCELogin(context.Background(), w.s, Options{}, func(string) error { return errors.New("no display") })
	if !errors.Is(err, ErrBrowser) {
		t.Errorf("err %v, want ErrBrowser", err)
	}
}

func TestTokenRefreshesOnceAcrossManyCallers(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	first := w.deviceLogin(Options{})
	w.clock.Advance(50 * time.Minute) // 10 min left
	var wg sync.WaitGroup
	toks := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := w.m.Token(context.Background(), w.s, 20*time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			toks <- tok.AccessToken
		}()
	}
	wg.Wait()
	close(toks)
	for tk := range toks {
		if tk == first.AccessToken {
			t.Error("a caller got the old token")
		}
	}
	// One device-code CreateToken plus exactly one refresh.
	if n := w.ops("CreateToken"); n != 2 {
		t.Errorf("%d CreateToken calls, want 2 (one login, one refresh)", n)
	}
	tok, _ := w.m.Cache.LoadToken(w.s.CacheKey())
	if !tok.ExpiresAt.Equal(w.clock.Now().Add(time.Hour)) {
		t.Errorf("refreshed token expires %v", tok.ExpiresAt)
	}
	// Plenty left: no call at all.
	w.m.Token(context.Background(), w.s, 20*time.Minute)
	if n := w.ops("CreateToken"); n != 2 {
		t.Errorf("a fresh token was refreshed again")
	}
}

func TestSessionEndIsSaidPlainly(t *testing.T) {
	w := newWorld(t, emulator.Options{SessionDuration: 2 * time.Hour})
	w.deviceLogin(Options{})
	for i := 0; i < 3; i++ { // refreshes work while the session lives
		w.clock.Advance(50 * time.Minute)
		if _, err := w.m.Token(context.Background(), w.s, 15*time.Minute); err != nil && w.clock.Now().Before(t0.Add(2*time.Hour)) {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	// Now 2h30 in: the session ended at 2h and the last token expired.
	_, err := w.m.Token(context.Background(), w.s, 15*time.Minute)
	var ln *LoginNeededError
	if !errors.As(err, &ln) || ln.Reason != SessionEnded {
		t.Fatalf("err %v, want session ended", err)
	}
	for _, want := range []string{"IAM Identity Center session for corp", "ended", "ssokeep login -p dev"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	for _, noise := range []string{"operation error", "InvalidGrantException", "https://"} {
		if strings.Contains(err.Error(), noise) {
			t.Errorf("message %q carries SDK noise %q", err, noise)
		}
	}
	rec, _ := w.m.Logins.Get(w.s.CacheKey())
	if rec.EndedBy.IsZero() {
		t.Error("the end was not recorded")
	}
}

func TestDay2LoginJoinsTheLiveSessionButFreshStartsANewOne(t *testing.T) {
	w := newWorld(t, emulator.Options{SessionDuration: 8 * time.Hour})
	w.deviceLogin(Options{})
	end := w.sessionEnd()
	w.clock.Advance(6 * time.Hour)
	w.deviceLogin(Options{})
	if got := w.sessionEnd(); !got.Equal(end) {
		t.Errorf("plain re-login moved the session end from %v to %v", end, got)
	}
	w.deviceLogin(Options{Fresh: true})
	if got, want := w.sessionEnd(), w.clock.Now().Add(8*time.Hour); !got.Equal(want) {
		t.Errorf("fresh login: session ends %v, want %v", got, want)
	}
	rec, _ := w.m.Logins.Get(w.s.CacheKey())
	if !rec.Fresh || !rec.LoggedInAt.Equal(w.clock.Now()) || !rec.EndedBy.IsZero() {
		t.Errorf("record %+v", rec)
	}
	if f := rec.Forecast(8 * time.Hour); f.State != "forecast" || !f.Exact || !f.At.Equal(w.clock.Now().Add(8*time.Hour)) {
		t.Errorf("forecast %+v", f)
	}
}

func TestLegacySessionsCannotRefresh(t *testing.T) {
	w := newWorld(t, emulator.Options{SessionDuration: 8 * time.Hour})
	w.s = Session{StartURL: w.emu.StartURL(), Region: w.emu.Region(), Profile: "old"}
	tok := w.deviceLogin(Options{})
	if tok.RefreshToken != "" {
		t.Error("a legacy registration got a refresh token")
	}
	if _, err := os.Stat(w.m.Cache.TokenPath(ssocache.TokenKey(w.emu.StartURL()))); err != nil {
		t.Errorf("legacy token not under sha1(start URL): %v", err)
	}
	w.clock.Advance(tok.Remaining(t0) + time.Second)
	_, err := w.m.Token(context.Background(), w.s, time.Minute)
	var ln *LoginNeededError
	if !errors.As(err, &ln) || ln.Reason != Expired || !strings.Contains(err.Error(), "legacy") {
		t.Errorf("err %v", err)
	}
}

func TestLogoutEndsTheSessionAndRemovesItsFiles(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.deviceLogin(Options{})
	rk := ssocache.RoleKey("111122223333", "Developer", "corp", "")
	if err := w.m.Roles.Save(rk, &ssocache.RoleCredentials{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t",
		Expiration: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := w.m.Logout(context.Background(), w.s, []string{rk}); err != nil {
		t.Fatal(err)
	}
	if n := len(w.emu.Stats().Sessions); n != 0 {
		t.Errorf("%d live sessions after logout", n)
	}
	if _, err := w.m.Cache.LoadToken(w.s.CacheKey()); err == nil {
		t.Error("token file kept")
	}
	if _, err := w.m.Roles.Load(rk); err == nil {
		t.Error("role cache entry kept")
	}
	// Logging out again is not an error.
	if err := w.m.Logout(context.Background(), w.s, []string{rk}); err != nil {
		t.Error(err)
	}
}

func TestNoTokenIsLoginNeeded(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	_, err := w.m.Token(context.Background(), w.s, 0)
	var ln *LoginNeededError
	if !errors.As(err, &ln) || ln.Reason != NoToken || !strings.Contains(err.Error(), "ssokeep login -p dev") {
		t.Errorf("err %v", err)
	}
}

func TestLogoutRefreshesAnExpiredTokenToEndTheSession(t *testing.T) {
	w := newWorld(t, emulator.Options{SessionDuration: 8 * time.Hour})
	w.deviceLogin(Options{})
	w.clock.Advance(3 * time.Hour) // the access token died at 1h; the session lives on
	if err := w.m.Logout(context.Background(), w.s, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(w.emu.Stats().Sessions); n != 0 {
		t.Errorf("%d live sessions: logging out with an expired token left the session alive", n)
	}
}

func TestAForgottenRegistrationIsReplaced(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	// A registration from another IAM Identity Center (or one revoked) sits in the cache.
	if err := w.m.Cache.SaveRegistration(w.s.registrationKey(), &ssocache.Registration{ClientID: "unknown",
		ClientSecret: "stale", ExpiresAt: t0.Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok := w.deviceLogin(Options{})
	if tok.ClientID == "unknown" {
		t.Error("the forgotten registration was used")
	}
	if n := w.ops("RegisterClient"); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
}

func TestDeviceLoginRidesOutServerErrorsWhilePolling(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	polls := 0
	w.m.Wait = func(ctx context.Context, d time.Duration) error {
		polls++
		switch polls {
		case 1: // the service fails every try of the next poll
			w.emu.SetFaults(emulator.Faults{"CreateToken": {Rate: 1, Error: "500"}})
		case 2:
			w.emu.SetFaults(nil)
			w.emu.ApproveAll()
		}
		return nil
	}
	if _, err := w.m.DeviceLogin(context.Background(), w.s, Options{}, nil); err != nil {
		t.Fatalf("a 500 while polling ended the login: %v", err)
	}
	if n := w.ops("StartDeviceAuthorization"); n != 1 {
		t.Errorf("%d device authorizations: the person would be asked twice", n)
	}
}
