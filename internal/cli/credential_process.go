package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/kballard/go-shellquote"
	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/credproc"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/source"
)

func init() { Register(newCredentialProcessCmd) }

// interactiveLogin logs the user in to the IAM Identity Center session behind
// profile, for `credential-process --login`. Its prompts must go to stderr:
// stdout belongs to the SDK that reads the credentials. Tests replace it; nil
// makes --login say it is unavailable.
var interactiveLogin = loginOnStderr

// loginOnStderr is `ssokeep login -p PROFILE` with everything it prints sent
// to stderr.
func loginOnStderr(ctx context.Context, g *Globals, profile string) error {
	lg := *g
	lg.stdout, lg.profile = g.stderr, profile
	return runLogin(ctx, &lg, loginFlags{minRemaining: "15m"})
}

// credTokenMin is how long the access token must stay valid to fetch role
// credentials with it; a token with less left is refreshed first.
const credTokenMin = 5 * time.Minute

// mfaCommandTimeout bounds --mfa-command, as the SDKs bound credential_process.
const mfaCommandTimeout = time.Minute

type credFlags struct {
	login      bool   // may run an interactive login or prompt for an MFA code
	mfaCommand string // prints the MFA code
}

func newCredentialProcessCmd(g *Globals) *cobra.Command {
	var f credFlags
	cmd := &cobra.Command{
		Use:   "credential-process",
		Short: "Print credentials for the SDKs' credential_process setting",
		Long: `Print a profile's credentials as the AWS SDKs' credential_process setting expects:
one JSON object on stdout, with the true expiry, and nothing else.

Add a separate profile for it to ~/.aws/config, naming the profile that has the
SSO (or role, or MFA) settings:

  [profile dev-cp]
  credential_process = ssokeep credential-process -p dev

and use AWS_PROFILE=dev-cp in jobs. Keep it a separate profile: a profile with both
sso_* keys and credential_process is ambiguous (each SDK picks one of them).

For speed, name ssokeep-credential-process instead (installed beside ssokeep by
go install ./cmd/...): it takes the same arguments, answers a warm SSO profile from
the cache without loading the AWS SDK (about 1.4x the start-up of the smallest Go
program, against about 4x for ssokeep itself), and hands over to this command when a
fetch is needed. boto3 runs the command in every process, so this adds up.

Sets are cached and shared: SSO role credentials in the AWS CLI's cache
(~/.aws/cli/cache), MFA sessions and assumed roles in ssokeep's own 0600 files. A
cached set is printed while more than 15 minutes of it are left (half its lifetime
for sets shorter than 30 minutes), so boto3, which runs the command again once
fewer than 15 minutes are left, always gets a newer set. Concurrent runs make one
upstream call. The IAM Identity Center token is refreshed as needed.

It never prompts: when a login is needed it exits 1 with one line on stderr saying
what to run. --login runs the login instead (in a terminal). Profiles that need an
MFA code get it from --mfa-command, which prints the code; with --login it is asked
for on the terminal.`,
		Example: `  # ~/.aws/config
  [profile dev-cp]
  credential_process = ssokeep credential-process -p dev

  [profile admin-cp]
  credential_process = ssokeep credential-process -p admin --mfa-command "ykman oath accounts code -s aws"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCredentialProcess(cmd.Context(), g, f)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.login, "login", false, "when a login is needed, run it (interactive: use it in a terminal)")
	fl.StringVar(&f.mfaCommand, "mfa-command", "", "command that prints the MFA code for profiles with mfa_serial (split like a shell line, run without a shell)")
	return cmd
}

// credentialProcessJSON prints a set in the credential_process contract
// (Version 1; no Expiration for keys that never expire).
func credentialProcessJSON(c aws.Credentials) ([]byte, error) {
	out := credproc.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, AccountID: c.AccountID}
	if c.CanExpire {
		out.Expires = c.Expires
	}
	return out.JSON()
}

func runCredentialProcess(ctx context.Context, g *Globals, f credFlags) error {
	// The warm path first: a cached SSO set still worth serving needs no SDK,
	// no token and no lock (the lean ssokeep-credential-process does only this).
	if cfg, err := loadConfig(); err == nil {
		if _, roles, err := caches(); err == nil {
			if c, ok := credproc.Warm(cfg, g.profileName(), roles, credproc.DefaultPolicy, now()); ok {
				b, err := c.JSON()
				if err == nil {
					_, err = g.stdout.Write(b)
				}
				return err
			}
		}
	}
	code := mfaCodeFunc(g, f.mfaCommand, f.login, "add --mfa-command CMD to its credential_process line, or run `ssokeep credential-process -p %s --login` once in a terminal")
	creds, err := profileCredentials(ctx, g, code)
	if err != nil && f.login && login.IsLoginNeeded(err) {
		if interactiveLogin == nil {
			return errors.New("--login is not available in this build; run `ssokeep login -p " + g.profileName() + "`, then try again")
		}
		if lerr := interactiveLogin(ctx, g, g.profileName()); lerr != nil {
			return lerr
		}
		creds, err = profileCredentials(ctx, g, code)
	}
	if err != nil {
		return err
	}
	b, err := credentialProcessJSON(creds)
	if err != nil {
		return err
	}
	_, err = g.stdout.Write(b)
	return err
}

// profileCredentials resolves the profile -p names into credentials, from the caches when a set there is
// still good (no SDK configuration is loaded then), else from upstream. Configuration problems exit 3; a
// needed login is a *login.LoginNeededError (exit 1).
func profileCredentials(ctx context.Context, g *Globals, code source.CodeFunc) (aws.Credentials, error) {
	cfg, err := loadConfig()
	if err != nil {
		return aws.Credentials{}, err
	}
	p, err := cfg.Resolve(g.profileName())
	if err != nil {
		return aws.Credentials{}, configError(err)
	}
	dir, roles, err := caches()
	if err != nil {
		return aws.Credentials{}, err
	}
	m := &login.Manager{Cache: dir, Roles: roles, Logins: logins.In(dir.StateDir()), Now: now, Logger: g.logger}
	prov, err := source.Build(p, source.Config{Policy: source.CredentialProcessPolicy, Now: now, Roles: roles,
		StateDir: dir.StateDir(), Token: source.ManagerTokens(m, credTokenMin), Code: code, Logger: g.logger})
	if err != nil {
		return aws.Credentials{}, credConfigError(err)
	}
	creds, err := prov.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, credConfigError(err)
	}
	return creds, nil
}

// credConfigError gives configuration errors their exit code.
func credConfigError(err error) error {
	var se *source.ConfigError
	var ae *awsconfig.Error
	if errors.As(err, &se) || errors.As(err, &ae) {
		return WithCode(ExitConfig, err)
	}
	return err
}

// mfaCodeFunc is where MFA codes come from: the --mfa-command, else a terminal prompt when interactive is
// allowed, else an error that says what to do (howTo: a format with the %s of the profile asked for).
func mfaCodeFunc(g *Globals, command string, interactive bool, howTo string) source.CodeFunc {
	return func(ctx context.Context, profile, serial string) (string, error) {
		switch {
		case command != "":
			return runMFACommand(ctx, g, command)
		case interactive:
			return promptMFACode(profile, serial)
		}
		return "", fmt.Errorf("profile %s needs a code from MFA device %s: "+howTo, profile, serial, g.profileName())
	}
}

// runMFACommand runs --mfa-command and returns what it printed. The command line is split like a shell line
// and run without a shell, as the SDKs run credential_process. Its stderr goes to ours; its output (the code)
// is never logged.
func runMFACommand(ctx context.Context, g *Globals, command string) (string, error) {
	args, err := shellquote.Split(command)
	if err != nil || len(args) == 0 {
		return "", WithCode(ExitUsage, fmt.Errorf("--mfa-command %q: not a command line (%v); quote it as one argument", command, err))
	}
	ctx, cancel := context.WithTimeout(ctx, mfaCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, g.stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no code within %v", mfaCommandTimeout)
		}
		return "", fmt.Errorf("--mfa-command %s: %v", args[0], err)
	}
	return strings.TrimSpace(out.String()), nil
}

// promptMFACode asks on the terminal itself, not stdin/stdout, which may be an SDK's pipes.
func promptMFACode(profile, serial string) (string, error) {
	in, out, err := mfaTerminal()
	if err != nil {
		return "", fmt.Errorf("profile %s needs a code from MFA device %s and there is no terminal to ask on; use --mfa-command", profile, serial)
	}
	defer in.Close()
	if out != in {
		defer out.Close()
	}
	fmt.Fprintf(out, "MFA code for %s (profile %s): ", serial, profile)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the MFA code: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// mfaTerminal opens the terminal to prompt on; tests replace it.
var mfaTerminal = openTerminal

func openTerminal() (in, out *os.File, err error) {
	if runtime.GOOS == "windows" {
		if in, err = os.Open("CONIN$"); err != nil {
			return nil, nil, err
		}
		if out, err = os.OpenFile("CONOUT$", os.O_WRONLY, 0); err != nil {
			in.Close()
			return nil, nil, err
		}
		return in, out, nil
	}
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	return f, f, err
}
