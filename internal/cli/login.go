package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mdp/qrterminal/v3"
	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/browser"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/termui"
)

func init() { Register(newLoginCmd) }

// browserOpener and canOpenBrowser are variables so tests can be the browser.
var (
	browserOpener  = browser.Open
	canOpenBrowser = browser.CanOpen
)

type loginFlags struct {
	ssoSession   string
	deviceCode   bool
	noBrowser    bool
	fresh        bool
	ifNeeded     bool
	minRemaining string
}

func newLoginCmd(g *Globals) *cobra.Command {
	var f loginFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to an IAM Identity Center session (shared with the AWS CLI and SDKs)",
		Long: `Log in to the IAM Identity Center session behind a profile (-p) or named with --sso-session,
and write the token to the AWS CLI v2 cache (~/.aws/sso/cache), where the AWS CLI, boto3 and the
SDKs find it at once.

For profiles on an [sso-session] it opens the browser and uses the authorization-code flow with
PKCE (the redirect comes back to a listener on 127.0.0.1); it gives up after 10 minutes. Legacy
profiles (sso_start_url on the profile), --device-code, and machines with no browser to show
(SSH, no display) use the device-code flow: it prints the verification URL and the code, a QR
code of the URL on a terminal, and counts down until the code is approved or expires.

Why --fresh: an IAM Identity Center sign-in session has a fixed end set by your administrator
(8 hours by default). Logging in again while it is alive does not start a new one: the browser
reuses the live session, and the new token still dies at the old end. That is the day-2 trap of
long jobs. --fresh first ends the current session (sso:Logout), so the login starts a new
session of full length. Role credentials already handed to running jobs stay valid until they
expire.

--if-needed does nothing (and makes no network call) when the session's token is valid, or can
be refreshed, for at least --min-remaining.`,
		Example: `  ssokeep login -p dev
  ssokeep login --sso-session corp --device-code
  ssokeep login -p dev --fresh          # start a full-length session before a long job
  ssokeep login -p dev --if-needed --min-remaining 2h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogin(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ssoSession, "sso-session", "", "log in to this [sso-session] instead of the profile's")
	fl.BoolVar(&f.deviceCode, "device-code", false, "use the device-code flow (approve on any device)")
	fl.BoolVar(&f.noBrowser, "no-browser", false, "never try to open a browser (implies the device-code flow)")
	fl.BoolVar(&f.fresh, "fresh", false, "end the current sign-in session first, so the new one is full length")
	fl.BoolVar(&f.ifNeeded, "if-needed", false, "do nothing when the token is valid or refreshable for --min-remaining")
	fl.StringVar(&f.minRemaining, "min-remaining", "15m", "with --if-needed: how long the token must stay usable")
	return cmd
}

func runLogin(ctx context.Context, g *Globals, f loginFlags) error {
	min, err := parseFlagDuration("--min-remaining", f.minRemaining)
	if err != nil {
		return err
	}
	if f.ifNeeded && f.fresh {
		return WithCode(ExitUsage, errors.New("--if-needed and --fresh contradict each other: --fresh always logs in"))
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s, err := sessionFor(g, cfg, f.ssoSession)
	if err != nil {
		return err
	}
	m, err := newManager(g)
	if err != nil {
		return err
	}
	if f.ifNeeded {
		if why, ok := usableFor(m, s, maxSessionDuration(cfg, s), min); ok {
			fmt.Fprintf(g.stdout, "%s: %s; no login needed\n", s.Label(), why)
			return nil
		}
	}
	opts := login.Options{Fresh: f.fresh, RoleKeys: roleKeys(cfg, s)}
	usePKCE := !s.Legacy() && !f.deviceCode && !f.noBrowser && canOpenBrowser()
	if usePKCE {
		fmt.Fprintf(g.stdout, "Opening the browser to log in to %s…\n", s.Label())
		_, err = m.PKCELogin(ctx, s, opts, func(u string) error {
			if err := browserOpener(u); err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "If it did not open, visit:\n\n  %s\n\n", u)
			return nil
		})
		if errors.Is(err, login.ErrBrowser) {
			g.logger.Info("no browser; using the device-code flow", "err", err)
			usePKCE = false
			opts.Fresh = false // the old session is already gone
		}
	}
	if !usePKCE {
		err = deviceLogin(ctx, g, m, s, opts, !f.noBrowser && canOpenBrowser())
	}
	if err != nil {
		if login.IsLoginNeeded(err) {
			return WithCode(ExitLoginNeeded, err)
		}
		return err
	}
	return printLoggedIn(g, m, s, maxSessionDuration(cfg, s))
}

// usableFor tells, from the cache alone, whether s's token is valid or
// refreshable for at least min (refreshes cannot outlive a forecast session end).
func usableFor(m *login.Manager, s login.Session, max, min time.Duration) (string, bool) {
	tok, err := m.Cache.LoadToken(s.CacheKey())
	if err != nil {
		return "", false
	}
	n := now()
	if left := tok.Remaining(n); left >= min {
		return "token valid for " + termui.Duration(left), true
	}
	if !tok.Refreshable(n) {
		return "", false
	}
	rec, _ := m.Logins.Get(s.CacheKey())
	f := rec.Forecast(max)
	switch {
	case f.State == "ended":
		return "", false
	case f.State == "forecast" && f.At.Sub(n) < min:
		return "", false
	}
	return "token refreshable", true
}

// deviceLogin runs the device-code flow with a prompt for people: the URL and
// code, a QR code and a live countdown when stdout is a terminal.
func deviceLogin(ctx context.Context, g *Globals, m *login.Manager, s login.Session, o login.Options, openBrowser bool) error {
	tty := IsTerminal(g.stdout)
	stop := make(chan struct{})
	done := make(chan struct{})
	var started bool
	_, err := m.DeviceLogin(ctx, s, o, func(d login.DeviceAuth) {
		fmt.Fprintf(g.stdout, "To log in to %s, open this URL on any device and approve the code:\n\n  %s\n\n  code: %s\n\n",
			s.Label(), d.VerificationURIComplete, d.UserCode)
		if tty {
			qrterminal.GenerateHalfBlock(d.VerificationURIComplete, qrterminal.L, g.stdout)
			fmt.Fprintln(g.stdout)
		}
		if openBrowser {
			_ = browserOpener(d.VerificationURIComplete)
		}
		started = true
		go countdown(g.stdout, tty, d.ExpiresAt, stop, done)
	})
	if started {
		close(stop)
		<-done
	}
	return err
}

// countdown shows the time left to approve, rewriting one line each second on
// a terminal; elsewhere it says once when the code expires.
func countdown(w io.Writer, tty bool, expires time.Time, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if !tty {
		fmt.Fprintf(w, "Waiting for approval (the code expires at %s)…\n", expires.Local().Format("15:04:05"))
		<-stop
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		fmt.Fprintf(w, "\rWaiting for approval… %s left ", termui.Duration(time.Until(expires)))
		select {
		case <-stop:
			fmt.Fprint(w, "\r\x1b[K")
			return
		case <-t.C:
		}
	}
}

func printLoggedIn(g *Globals, m *login.Manager, s login.Session, max time.Duration) error {
	tok, err := m.Cache.LoadToken(s.CacheKey())
	if err != nil {
		return err
	}
	n := now()
	refresh := "cannot be refreshed (legacy profile)"
	if tok.Refreshable(n) {
		refresh = "refreshable"
	}
	fmt.Fprintf(g.stdout, "Logged in to %s: token valid for %s, %s.\n", s.Label(), termui.Duration(tok.Remaining(n)), refresh)
	rec, _ := m.Logins.Get(s.CacheKey())
	switch f := rec.Forecast(max); {
	case f.State == "forecast" && f.Exact:
		fmt.Fprintf(g.stdout, "The sign-in session ends at %s (in %s).\n", f.At.Local().Format("Mon 15:04"), termui.Duration(f.At.Sub(n)))
	case f.State == "forecast":
		fmt.Fprintf(g.stdout, "The sign-in session ends by %s at the latest; use --fresh to be sure it runs that long.\n", f.At.Local().Format("Mon 15:04"))
	case max == 0 && !s.Legacy():
		fmt.Fprintf(g.stdout, "Tip: set ssokeep_session_duration in [sso-session %s] to your organisation's session length, so ssokeep can forecast its end.\n", s.Name)
	}
	return nil
}
