package cli

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/doctor"
)

func init() { Register(newDoctorCmd) }

func newDoctorCmd(g *Globals) *cobra.Command {
	var asJSON, fix, force bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Find what would stop your jobs from getting fresh credentials, and fix what is safe",
		Long: `Check the AWS config and the SSO caches for:
  - cache directories and files others can read (they hold tokens and keys);
  - tokens that are expired and cannot be refreshed, expired client registrations, cache
    files that cannot be parsed, and temporary files an interrupted write left behind;
  - legacy SSO profiles, whose tokens can never be refreshed (it prints the [sso-session]
    config that fixes them; ssokeep never edits your config);
  - anything that would shadow the credentials ssokeep serves to a job: AWS_ACCESS_KEY_ID and
    friends, AWS_PROFILE naming a missing profile, ~/.boto and /etc/boto.cfg, a [default]
    profile with static keys, Metaflow settings that pin static keys;
  - (from ssokeep) whether exec and serve can continue in ssokeep-keeper beside it.

With --fix it repairs permissions (directories 0700, files 0600) and removes only tokens that are
expired and cannot be refreshed, expired client registrations and leftover temporary files. A file it cannot parse is
removed only with --force as well. Nothing else is ever deleted.

Exits 0 when no problem remains (warnings do not count), 1 otherwise.`,
		Example: "  ssokeep doctor\n  ssokeep doctor --fix\n  ssokeep doctor --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if force && !fix {
				return WithCode(ExitUsage, errorf("--force only goes with --fix"))
			}
			files, err := awsconfig.DefaultFiles()
			if err != nil {
				return WithCode(ExitConfig, err)
			}
			cfg, loadErr := awsconfig.Load(files)
			dir, roles, err := caches()
			if err != nil {
				return err
			}
			home, _ := os.UserHomeDir()
			in := doctor.Input{Files: files, Config: cfg, LoadErr: loadErr, Cache: dir, Roles: roles,
				Home: home, SystemBotoConfig: "/etc/boto.cfg", Getenv: os.Getenv, Now: now(), Fix: fix, Force: force}
			if Lean != nil {
				in.Lean = Lean.Target
			}
			findings := doctor.Run(in)
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if findings == nil {
					findings = []*doctor.Finding{}
				}
				if err := enc.Encode(findings); err != nil {
					return err
				}
			} else if err := doctor.Write(g.stdout, findings, fix, g.Color(g.stdout)); err != nil {
				return err
			}
			if doctor.Unresolved(findings) {
				return SilentExit(ExitError)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print as JSON")
	f.BoolVar(&fix, "fix", false, "repair permissions and remove dead cache entries")
	f.BoolVar(&force, "force", false, "with --fix: also remove cache files that cannot be parsed")
	return cmd
}
