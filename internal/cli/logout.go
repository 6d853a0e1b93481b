package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/login"
)

func init() { Register(newLogoutCmd) }

func newLogoutCmd(g *Globals) *cobra.Command {
	var all bool
	var ssoSession string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "End IAM Identity Center sessions and remove their cached tokens",
		Long: `End the IAM Identity Center sign-in session behind a profile (-p), the one named with
--sso-session, or with --all every session with a cached token (as 'aws sso logout' does): call
sso:Logout, remove the token from the AWS CLI cache and the role credentials the AWS CLI cached
for the session's profiles. Role credentials already handed to running jobs stay valid until
they expire: AWS does not revoke them.`,
		Example: "  ssokeep logout -p dev\n  ssokeep logout --all",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && (ssoSession != "" || g.profile != "") {
				return WithCode(ExitUsage, errors.New("--all logs out of every session: drop -p and --sso-session"))
			}
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			m, err := newManager(g)
			if err != nil {
				return err
			}
			if !all {
				s, err := sessionFor(g, cfg, ssoSession)
				if err != nil {
					return err
				}
				if err := m.Logout(cmd.Context(), s, roleKeys(cfg, s)); err != nil {
					return err
				}
				fmt.Fprintf(g.stdout, "Logged out of %s.\n", s.Label())
				return nil
			}
			// Every cached token, whether or not the config still names it, then
			// every SSO entry of the AWS CLI's role cache, as `aws sso logout` does.
			known := map[string]login.Session{}
			for _, name := range cfg.Profiles {
				if p, err := cfg.Resolve(name); err == nil && p.SSO != nil {
					s := login.SessionOf(name, p.SSO)
					known[s.CacheKey()] = s
				}
			}
			entries, err := m.Cache.List()
			if err != nil {
				return err
			}
			var failed bool
			for _, e := range entries {
				if e.Token == nil {
					continue
				}
				label := e.Token.StartURL
				if s, ok := known[e.Key]; ok {
					err, label = m.Logout(cmd.Context(), s, nil), s.Label()
				} else {
					err = m.LogoutEntry(cmd.Context(), e.Key, e.Token)
				}
				if err != nil {
					fmt.Fprintf(g.stderr, "ssokeep: %v\n", err)
					failed = true
					continue
				}
				fmt.Fprintf(g.stdout, "Logged out of %s.\n", label)
			}
			roles, err := m.Roles.List()
			if err != nil {
				return err
			}
			for _, r := range roles {
				if r.ProviderType == "sso" {
					if err := m.Roles.Remove(r.Key); err != nil {
						return err
					}
				}
			}
			if failed {
				return SilentExit(ExitError)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "log out of every session with a cached token")
	cmd.Flags().StringVar(&ssoSession, "sso-session", "", "log out of this [sso-session]")
	return cmd
}
