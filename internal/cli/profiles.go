package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/termui"
)

func init() { Register(newProfilesCmd) }

// profileRow is one line of `ssokeep profiles` and its --json shape.
type profileRow struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	SSOSession string `json:"ssoSession,omitempty"`
	StartURL   string `json:"startUrl,omitempty"`
	AccountID  string `json:"accountId,omitempty"`
	RoleName   string `json:"roleName,omitempty"`
	RoleARN    string `json:"roleArn,omitempty"`
	Source     string `json:"sourceProfile,omitempty"`
	Region     string `json:"region,omitempty"`
	Error      string `json:"error,omitempty"`
}

func newProfilesCmd(g *Globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "List every profile in the AWS config with how it gets credentials",
		Long: `List every profile in the AWS config files ($AWS_CONFIG_FILE, default ~/.aws/config, and
$AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) with its kind, IAM Identity Center
session, account, role and region.

Kinds: sso (through an [sso-session], refreshable), sso-legacy (sso_start_url on the profile:
a fixed ~8 h token that cannot be refreshed), assume-role, mfa-session, static,
credential-process, none. A profile the AWS CLI would reject is listed as "invalid" with the
reason, and the command exits 3.`,
		Example: "  ssokeep profiles\n  ssokeep profiles --json | jq -r '.[] | select(.kind==\"sso\") | .name'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig()
			if err != nil {
				return err
			}
			rows, invalid := profileRows(cfg)
			if asJSON {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return err
				}
			} else {
				t := termui.NewTable("PROFILE", "KIND", "SSO SESSION", "ACCOUNT", "ROLE", "REGION")
				for _, r := range rows {
					if r.Error != "" {
						t.RowCells(termui.C(r.Name, termui.Plain), termui.C("invalid", termui.Red), termui.C(r.Error, termui.Plain))
						continue
					}
					role := r.RoleName
					if r.RoleARN != "" {
						role = r.RoleARN
						if r.Source != "" {
							role += " (from " + r.Source + ")"
						}
					}
					session := r.SSOSession
					if session == "" {
						session = r.StartURL
					}
					t.Row(r.Name, r.Kind, dash(session), dash(r.AccountID), dash(role), dash(r.Region))
				}
				if t.Len() == 0 {
					g.logger.Info("no profiles", "config", cfg.Files.Config)
				}
				if err := t.Write(g.stdout, g.Color(g.stdout)); err != nil {
					return err
				}
			}
			if invalid {
				return SilentExit(ExitConfig)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func profileRows(cfg *awsconfig.Config) (rows []profileRow, invalid bool) {
	rows = []profileRow{}
	for _, name := range cfg.Profiles {
		p, err := cfg.Resolve(name)
		if err != nil {
			rows = append(rows, profileRow{Name: name, Kind: "invalid", Error: err.Error()})
			invalid = true
			continue
		}
		r := profileRow{Name: name, Kind: string(p.Kind), Region: p.Region}
		if p.SSO != nil {
			r.StartURL, r.AccountID, r.RoleName = p.SSO.StartURL, p.SSO.AccountID, p.SSO.RoleName
			if p.SSO.Session != nil {
				r.SSOSession = p.SSO.Session.Name
			}
		}
		if p.Role != nil {
			r.RoleARN = p.Role.RoleARN
			if p.Role.Source != nil {
				r.Source = p.Role.Source.Name
			} else {
				r.Source = p.Role.CredentialSource
			}
		}
		rows = append(rows, r)
	}
	return rows, invalid
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
