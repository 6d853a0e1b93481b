package cli

import (
	"encoding/json"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/registry"
	"github.com/ssokeep/ssokeep/internal/ssocache"
	"github.com/ssokeep/ssokeep/internal/status"
)

func init() { Register(newStatusCmd) }

func newStatusCmd(g *Globals) *cobra.Command {
	var (
		asJSON, all  bool
		minRemaining string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every IAM Identity Center session: tokens, refreshability, role credentials, session end",
		Long: `Show, for each IAM Identity Center session in the AWS config (an [sso-session], or the start
URL of legacy profiles), what the AWS CLI v2 cache holds: whether a token is present, the time
left on the access token, whether it can be refreshed (a refresh token and an unexpired client
registration), the registration's expiry, the role credentials the AWS CLI cached, and what is
known of the sign-in session's end. It makes no network call.

With -p (or AWS_PROFILE / AWS_DEFAULT_PROFILE set) it reports only the session behind that
profile; otherwise, or with --all, every session.

Exit codes, for scripts:
  0  every session reported is usable: refreshable, or good for at least --min-remaining
  3  the AWS config is invalid, or the profile does not exist
  4  login needed: no token, or an expired token that cannot be refreshed
  5  usable now, but it ends within --min-remaining and cannot be refreshed
  1  any other failure
When sessions differ, the worst wins (3, then 4, then 5).`,
		Example: `  ssokeep status
  ssokeep status -p dev --min-remaining 2h || aws sso login --profile dev
  ssokeep status --all --json | jq '.sessions[] | {name, state}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			min, err := parseFlagDuration("--min-remaining", minRemaining)
			if err != nil {
				return err
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			dir, roles, err := caches()
			if err != nil {
				return err
			}
			keepers, err := registry.In(dir.StateDir()).List(time.Now())
			if err != nil {
				g.logger.Warn("cannot list running keepers", "err", err)
			}
			in := status.Input{Config: cfg, Cache: dir, Roles: roles, Now: now(), MinRemaining: min,
				SessionEnds: sessionEnds(cfg, logins.In(dir.StateDir())), Keepers: keepers}
			if !all {
				in.Profile = g.explicitProfile()
			}
			rep, err := status.Build(in)
			if err != nil {
				return configError(err)
			}
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else if err := rep.Write(g.stdout, g.Color(g.stdout)); err != nil {
				return err
			}
			switch {
			case len(rep.InvalidProfiles) > 0:
				return SilentExit(ExitConfig)
			case rep.State == status.LoginNeeded:
				return SilentExit(ExitLoginNeeded)
			case rep.State == status.Expiring:
				return SilentExit(ExitExpiring)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print as JSON")
	f.BoolVar(&all, "all", false, "report every session, even when a profile is named")
	f.StringVar(&minRemaining, "min-remaining", "15m", "a session that cannot be refreshed and ends sooner than this is \"expiring\" (exit 5)")
	return cmd
}

// sessionEnds reads what ssokeep recorded of each session's login and end,
// and forecasts the end from the configured ssokeep_session_duration.
func sessionEnds(cfg *awsconfig.Config, store *logins.Store) status.SessionEnds {
	return func(name string, s *awsconfig.SSO) status.SessionEnd {
		rec, err := store.Get(ssocache.TokenKey(name))
		if err != nil {
			return status.SessionEnd{State: "unknown"}
		}
		var max time.Duration
		if s.Session != nil {
			max = s.Session.SessionDuration
		}
		f := rec.Forecast(max)
		e := status.SessionEnd{State: f.State, Exact: f.Exact, MaxDuration: status.Seconds(max)}
		if !f.At.IsZero() {
			e.At = &f.At
		}
		if !rec.LoggedInAt.IsZero() {
			e.LoggedInAt = &rec.LoggedInAt
		}
		return e
	}
}
