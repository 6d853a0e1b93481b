package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
)

func init() { Register(newExportCmd) }

// exportFormats render the variables; each quotes values for its own syntax.
var exportFormats = map[string]func(b *strings.Builder, k, v string){
	"env":    func(b *strings.Builder, k, v string) { fmt.Fprintf(b, "export %s=%s\n", k, ShellQuote(v)) },
	"dotenv": func(b *strings.Builder, k, v string) { fmt.Fprintf(b, "%s=%s\n", k, dotenvQuote(v)) },
	"fish":   func(b *strings.Builder, k, v string) { fmt.Fprintf(b, "set -gx %s %s\n", k, fishQuote(v)) },
	"powershell": func(b *strings.Builder, k, v string) {
		fmt.Fprintf(b, "$Env:%s = '%s'\n", k, strings.ReplaceAll(v, "'", "''"))
	},
}

func newExportCmd(g *Globals) *cobra.Command {
	var format, mfaCommand string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print a profile's credentials as environment variables (they never refresh)",
		Long: `Print a profile's current credentials for a shell, a .env file or as JSON:

  eval "$(ssokeep export -p dev)"                      # sh, bash, zsh
  ssokeep export -p dev --format fish | source
  ssokeep export -p dev --format powershell | Invoke-Expression
  ssokeep export -p dev --format dotenv > .env
  ssokeep export -p dev --format json                  # as credential-process prints them

Exported keys never refresh: whatever uses them fails when they expire (the warning on
stderr says when). For jobs that outlive them, use credential_process
(ssokeep credential-process --help).

The set comes from the same caches as credential-process (a cached set with more
than 15 minutes left, else a new one). MFA codes come from --mfa-command or are
asked for on the terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			render, ok := exportFormats[format]
			if format != "json" && !ok {
				return WithCode(ExitUsage, fmt.Errorf("--format %q: use env, json, dotenv, fish or powershell", format))
			}
			code := mfaCodeFunc(g, mfaCommand, true, "use --mfa-command CMD (e.g. ssokeep export -p %s --mfa-command ...)")
			creds, err := profileCredentials(cmd.Context(), g, code)
			if err != nil {
				return err
			}
			var out []byte
			if format == "json" {
				if out, err = credentialProcessJSON(creds); err != nil {
					return err
				}
			} else {
				out = []byte(exportVars(creds, render))
			}
			if _, err := g.stdout.Write(out); err != nil {
				return err
			}
			fmt.Fprintln(g.stderr, exportWarning(creds, now()))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "env", "env (POSIX shells), json, dotenv, fish or powershell")
	fl.StringVar(&mfaCommand, "mfa-command", "", "command that prints the MFA code for profiles with mfa_serial")
	return cmd
}

// exportVars renders the variables the SDKs read. AWS_CREDENTIAL_EXPIRATION tells those that read it (botocore,
// the JS SDK) when the keys end; the others ignore it.
func exportVars(c aws.Credentials, render func(*strings.Builder, string, string)) string {
	var b strings.Builder
	render(&b, "AWS_ACCESS_KEY_ID", c.AccessKeyID)
	render(&b, "AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	if c.SessionToken != "" {
		render(&b, "AWS_SESSION_TOKEN", c.SessionToken)
	}
	if c.CanExpire {
		render(&b, "AWS_CREDENTIAL_EXPIRATION", c.Expires.UTC().Format(time.RFC3339))
	}
	if c.AccountID != "" {
		render(&b, "AWS_ACCOUNT_ID", c.AccountID)
	}
	return b.String()
}

// exportWarning is the stderr line: when the exported keys stop working.
func exportWarning(c aws.Credentials, at time.Time) string {
	if !c.CanExpire {
		return "ssokeep: these are long-term keys: they do not expire, and anyone who sees them can use them until they are rotated"
	}
	left := c.Expires.Sub(at).Round(time.Second)
	return fmt.Sprintf("ssokeep: exported credentials never refresh: they expire at %s (in %s); for long jobs use credential_process (ssokeep credential-process --help)",
		c.Expires.UTC().Format(time.RFC3339), left)
}

// dotenvQuote leaves plain values bare (every dotenv reader takes them) and double-quotes the rest.
func dotenvQuote(v string) string {
	if strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:._-+=,@", r))
	}) < 0 {
		return v
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "$", `\$`).Replace(v) + `"`
}

// fishQuote single-quotes for fish, where only \ and ' are special inside single quotes.
func fishQuote(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ShellQuote quotes a value for a POSIX shell when it needs it.
func ShellQuote(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/:._-+=,@%", r))
	}) < 0 {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
