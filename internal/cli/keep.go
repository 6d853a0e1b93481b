package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/pflag"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/keeper"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/notify"
	"github.com/ssokeep/ssokeep/internal/source"
)

// keepFlags are the keeper's knobs, shared by exec and serve.
type keepFlags struct {
	notifyCommand, notifyWebhook string
	noDesktop                    bool
	sessionDuration              string
	leadTime, minServed          string
	refetchEvery, tokenAhead     string
	resetAt                      string
}

func (f *keepFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.notifyCommand, "notify-command", "", "run this command on each event (the event is in SSOKEEP_* variables)")
	fl.StringVar(&f.notifyWebhook, "notify-webhook", "", "POST each event as JSON with a Slack-compatible \"text\" to this URL")
	fl.BoolVar(&f.noDesktop, "no-desktop", false, "no desktop notifications (the terminal line and bell remain)")
	fl.StringVar(&f.sessionDuration, "session-duration", "", "the sign-in session length your administrator set (default: ssokeep_session_duration of the [sso-session])")
	fl.StringVar(&f.leadTime, "lead-time", "", "warn this long before the forecast session end (default 2h, less for short sessions)")
	fl.StringVar(&f.minServed, "min-served", "", "served credentials keep at least this long (default 20m, less for short-lived credentials)")
	fl.StringVar(&f.refetchEvery, "refetch-every", "", "fetch new role credentials at least this often (default 15m, less for short-lived credentials)")
	fl.StringVar(&f.tokenAhead, "token-ahead", "", "refresh the access token with this long left (default 20m, before botocore's 15m window)")
	fl.StringVar(&f.resetAt, "reset-at", "", "at this time (15:04 or RFC 3339), top up credentials, end the session and log in again, so a full session starts when you choose")
}

// thresholds reads the duration flags; empty ones keep the keeper's defaults.
func (f *keepFlags) thresholds() (keeper.Thresholds, error) {
	var t keeper.Thresholds
	for _, d := range []struct {
		flag, v string
		to      *time.Duration
	}{{"--lead-time", f.leadTime, &t.LeadTime}, {"--min-served", f.minServed, &t.MinServed},
		{"--refetch-every", f.refetchEvery, &t.RefetchEvery}, {"--token-ahead", f.tokenAhead, &t.TokenAhead}} {
		if d.v == "" {
			continue
		}
		v, err := parseFlagDuration(d.flag, d.v)
		if err != nil {
			return t, err
		}
		*d.to = v
	}
	return t, nil
}

// notifier builds the channels the human reads: the terminal always, the
// desktop unless told not to, and the configured hook and webhook.
func (f *keepFlags) notifier(g *Globals) (notify.Notifier, error) {
	ns := []notify.Notifier{notify.Terminal(g.stderr)}
	if !f.noDesktop {
		ns = append(ns, notify.Desktop())
	}
	hooks, err := NotifyHooks(f.notifyCommand, f.notifyWebhook)
	if err != nil {
		return nil, err
	}
	// Queued: the keeper must never wait on a webhook or a desktop.
	return notify.Queue(g.logger, 64, notify.Fanout(g.logger, notify.DefaultFanoutTimeout, append(ns, hooks...)...)), nil
}

// NotifyHooks checks and builds --notify-command and --notify-webhook.
func NotifyHooks(command, webhook string) ([]notify.Notifier, error) {
	var ns []notify.Notifier
	if command != "" {
		if _, err := notify.ParseCommand(command); err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--notify-command: %w", err))
		}
		ns = append(ns, notify.Command(command))
	}
	if webhook != "" {
		if _, err := notify.CheckWebhookURL(webhook); err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--notify-webhook: %w", err))
		}
		ns = append(ns, notify.Webhook(webhook, nil))
	}
	return ns, nil
}

// humanEvents are the keeper events a person is told about; the rest go to
// the log only.
var humanEvents = map[keeper.EventKind]notify.Kind{
	keeper.LoginRequired: notify.LoginRequired, keeper.LoginReminder: notify.LoginReminder,
	keeper.LoginApproved: notify.LoginApproved, keeper.SessionEnding: notify.SessionEnding,
	keeper.SessionEnded: notify.SessionEnded,
}

// keeperFor builds the keeper of one profile.
func keeperFor(g *Globals, cfg *awsconfig.Config, m *login.Manager, profile string, f *keepFlags, n notify.Notifier, onEvent func(keeper.Event)) (*keeper.Keeper, error) {
	p, err := cfg.Resolve(profile)
	if err != nil {
		return nil, configError(err)
	}
	th, err := f.thresholds()
	if err != nil {
		return nil, err
	}
	o := keeper.Options{Profile: profile, Manager: m, Thresholds: th, Now: now, Logger: g.logger}
	if f.resetAt != "" {
		if o.ResetAt, err = parseClock(f.resetAt, now()); err != nil {
			return nil, WithCode(ExitUsage, fmt.Errorf("--reset-at %q: %w", f.resetAt, err))
		}
	}
	dir, roles, err := caches()
	if err != nil {
		return nil, err
	}
	if s := p.SSOSource(); s != nil {
		sess := login.SessionOf(profile, s)
		o.Session = &sess
		o.MaxSession = maxSessionDuration(cfg, sess)
		if f.sessionDuration != "" {
			if o.MaxSession, err = parseFlagDuration("--session-duration", f.sessionDuration); err != nil {
				return nil, err
			}
		}
	}
	// The keeper wants a new set each time it asks: an SSO profile goes to
	// the portal directly; chains reuse their cached sources (MFA sessions,
	// intermediate roles) but not a set that is about to be served short.
	var creds aws.CredentialsProvider
	if p.SSO != nil && o.Session != nil {
		creds = &source.SSORole{Session: *o.Session, AccountID: p.SSO.AccountID, RoleName: p.SSO.RoleName,
			Token: source.ManagerTokens(m, 0), Client: source.SDKPortal(profile)}
	} else {
		creds, err = source.Build(p, source.Config{Policy: source.Policy{MinRemaining: 45 * time.Minute}, Now: now,
			Roles: roles, StateDir: dir.StateDir(), Token: source.ManagerTokens(m, time.Minute), Logger: g.logger})
		if err != nil {
			return nil, WithCode(ExitConfig, err)
		}
	}
	o.Credentials = creds
	o.OnEvent = func(e keeper.Event) {
		if kind, ok := humanEvents[e.Kind]; ok && n != nil {
			_ = n.Notify(context.Background(), notify.Event{Kind: kind, Profile: e.Profile, Session: e.Session,
				VerificationURL: e.VerificationURL, UserCode: e.UserCode, Deadline: e.Deadline, Message: e.Message})
		}
		if onEvent != nil {
			onEvent(e)
		}
	}
	return keeper.New(o), nil
}

// parseClock reads a wall-clock time: RFC 3339, or HH:MM today (tomorrow if
// that has passed).
func parseClock(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	hm, err := time.ParseInLocation("15:04", s, time.Local)
	if err != nil {
		return time.Time{}, errors.New("use HH:MM (today, or tomorrow if past) or an RFC 3339 time")
	}
	n := now.Local()
	t := time.Date(n.Year(), n.Month(), n.Day(), hm.Hour(), hm.Minute(), 0, 0, time.Local)
	if !t.After(n) {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}
