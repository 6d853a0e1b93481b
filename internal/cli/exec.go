package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/jobrun"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/registry"
	"github.com/ssokeep/ssokeep/internal/termui"
)

func init() { Register(newExecCmd) }

type execFlags struct {
	keepFlags
	expect     string
	deviceCode bool
}

func newExecCmd(g *Globals) *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] -- COMMAND [ARGS...]",
		Short: "Run a job with AWS credentials that stay fresh for its whole life",
		Long: `Run COMMAND with a private credentials endpoint on 127.0.0.1 that every AWS SDK reads
(the container-credentials provider). ssokeep keeps the profile's role credentials fresh
underneath it: the access token is refreshed before botocore's 15-minute window, new role
credentials are fetched well before the served ones run low, and every SDK in the job (and in
its subprocesses) picks them up without a restart.

When the IAM Identity Center session ends, nothing but a human can start a new one. ssokeep
sees it coming (from ssokeep_session_duration in the [sso-session], or --session-duration),
warns ahead of it, and when the session is over starts a device-code login in the background
and tells you — terminal line and bell, desktop notification, --notify-command, --notify-webhook —
with the URL, the code and the time the job runs out, reminding you as that nears. The job keeps
running on the credentials it holds; once you approve, credentials keep flowing.

The job's environment is cleaned so nothing outranks the endpoint: static keys, AWS_PROFILE,
web identity and other container settings are removed, the credentials file, ~/.boto and
/etc/boto.cfg are neutralised, and the profile's other settings (region, retries, S3 addressing,
CA bundle) are kept in a generated config. ssokeep forwards signals to the job, exits with its
exit code, and keeps serving until the job and every process it started are done.

Notify hooks get SSOKEEP_EVENT, SSOKEEP_PROFILE, SSOKEEP_SESSION, SSOKEEP_VERIFICATION_URL,
SSOKEEP_USER_CODE, SSOKEEP_DEADLINE and SSOKEEP_MESSAGE in their environment.`,
		Example: `  ssokeep exec -p dev -- python flow.py run
  ssokeep exec -p dev --expect 36h -- python flow.py run --max-workers 16
  ssokeep exec -p dev --notify-webhook https://hooks.slack.com/services/... -- ./train.sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			handOver(cmd.Context(), g)
			return runExec(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	f.keepFlags.register(fl)
	fl.StringVar(&f.expect, "expect", "", "how long the job will run: say before starting whether the session lasts that long")
	fl.BoolVar(&f.deviceCode, "device-code", false, "if a login is needed before the job starts, use the device-code flow")
	fl.SetInterspersed(false)
	return cmd
}

func runExec(ctx context.Context, g *Globals, f *execFlags, argv []string) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	profile := g.profileName()
	p, err := cfg.Resolve(profile)
	if err != nil {
		return configError(err)
	}
	m, err := newManager(g)
	if err != nil {
		return err
	}
	if s := p.SSOSource(); s != nil {
		sess := login.SessionOf(profile, s)
		if err := ensureLoggedIn(ctx, g, m, sess, f.deviceCode); err != nil {
			return err
		}
		if f.expect != "" {
			if err := sayForecast(g, cfg, m, sess, f); err != nil {
				return err
			}
		}
	}
	n, err := f.notifier(g)
	if err != nil {
		return err
	}
	k, err := keeperFor(g, cfg, m, profile, &f.keepFlags, n, nil)
	if err != nil {
		return err
	}
	var stdin *os.File
	if f, ok := g.stdin.(*os.File); ok {
		stdin = f
	}
	reg := registry.In(m.Cache.StateDir())
	code, err := jobrun.Run(ctx, jobrun.Options{Keeper: k, Argv: argv, Base: os.Environ(), Settings: p.Settings,
		Stdin: stdin, Stdout: g.stdout, Stderr: g.stderr, Signals: ForwardedSignals, Logger: g.logger, Now: now,
		Registry: &reg})
	var se *jobrun.StartError
	switch {
	case errors.As(err, &se):
		return WithCode(127, err)
	case err != nil:
		return err
	case code != 0:
		return SilentExit(code)
	}
	return nil
}

// ensureLoggedIn makes sure the session has a usable token before the job
// starts: a login on the terminal if one is needed and a person is there.
func ensureLoggedIn(ctx context.Context, g *Globals, m *login.Manager, s login.Session, deviceCode bool) error {
	if _, err := m.Token(ctx, s, 0); err == nil || !login.IsLoginNeeded(err) {
		return err
	} else if !IsTerminal(g.stdin) {
		return WithCode(ExitLoginNeeded, err)
	}
	fmt.Fprintf(g.stderr, "ssokeep: %s must log in before the job starts.\n", s.Label())
	saved := g.profile
	g.profile = s.Profile
	defer func() { g.profile = saved }()
	return runLogin(ctx, g, loginFlags{deviceCode: deviceCode, minRemaining: "0s"})
}

// sayForecast tells, before the job starts, whether the session lasts as long
// as the job is expected to run, and what to do if not.
func sayForecast(g *Globals, cfg *awsconfig.Config, m *login.Manager, s login.Session, f *execFlags) error {
	expect, err := parseFlagDuration("--expect", f.expect)
	if err != nil {
		return err
	}
	max := maxSessionDuration(cfg, s)
	if f.sessionDuration != "" {
		if max, err = parseFlagDuration("--session-duration", f.sessionDuration); err != nil {
			return err
		}
	}
	n := now()
	done := n.Add(expect)
	rec, _ := m.Logins.Get(s.CacheKey())
	fc := rec.Forecast(max)
	switch {
	case s.Legacy():
		fmt.Fprintf(g.stderr, "ssokeep: %s is a legacy profile: its token cannot be refreshed, so a login will be needed when it expires. Run `ssokeep doctor` for the config that fixes it.\n", s.Label())
	case fc.State == "unknown":
		fmt.Fprintf(g.stderr, "ssokeep: the end of session %s is unknown (set ssokeep_session_duration in [sso-session %s] or pass --session-duration). If the job outlives it, you will be asked to approve a new login while it runs.\n", s.Label(), s.Name)
	case !fc.At.Before(done):
		fmt.Fprintf(g.stderr, "ssokeep: the session for %s lasts until %s: it covers the expected %s.\n", s.Label(), fc.At.Local().Format("Mon 15:04"), termui.Duration(expect))
	default:
		bound := "ends at"
		if !fc.Exact {
			bound = "ends by"
		}
		fmt.Fprintf(g.stderr, "ssokeep: the session for %s %s %s, %s before the job is expected to finish. You will be asked to approve a new login then; to avoid it, stop now and run `ssokeep login -p %s --fresh` for a full-length session", s.Label(), bound, fc.At.Local().Format("Mon 15:04"), termui.Duration(done.Sub(fc.At)), s.Profile)
		if max > 0 && expect > max {
			fmt.Fprintf(g.stderr, " (the job outlives even a full session of %s: at least %d logins will be needed)", termui.Duration(max), int(expect/max))
		}
		fmt.Fprintln(g.stderr, ".")
	}
	return nil
}
