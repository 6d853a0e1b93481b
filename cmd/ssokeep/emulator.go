package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/emulator"
)

func init() { cli.Register(newEmulatorCmd) }

const emulatorLong = `Run a local, stateful stand-in for AWS IAM Identity Center (SSO OIDC and the
SSO portal), STS and S3 on one loopback port, for tests and rehearsals without
an AWS account. Lifetimes are flags, so "days" of tokens, sessions and role
credentials can pass in minutes.

Every service answers on the same base URL: requests SigV4-signed for s3 go to
S3 (path-style buckets), signed for sts go to STS, unsigned ones to SSO OIDC,
the portal, the browser pages and the control API. Every signature is verified
against the credentials the emulator issued, with AWS's error codes.

Sessions behave like IAM Identity Center: approving a login starts a sign-in
session only when none is alive; a second login while one is alive gets tokens
that still die at the old end (the day-2 trap). Access tokens live
--token-lifetime (refreshable registrations, i.e. sso-session profiles) or to
the session end (legacy profiles, no refresh token). Refresh works until the
session ends, then fails with InvalidGrantException. Logout ends the session at
once. Role credentials live --role-duration and outlive the session.

Start-up contract: once listening, the command writes --env-file (export lines
with AWS_ENDPOINT_URL_SSO_OIDC, _SSO, _STS, _S3, AWS_REGION, AWS_DEFAULT_REGION,
and AWS_CONFIG_FILE when --aws-config is given) and --aws-config (an
[sso-session emulator], a [profile emulator] on it, and a legacy
[profile emulator-legacy]), prints the export lines on stdout, logs events to
stderr (never a token or key), and runs until SIGINT/SIGTERM. It never
overwrites either file unless --force is given. Use the generated config only
with the env file sourced: clients that ignore AWS_ENDPOINT_URL_* (botocore
< 1.31, AWS CLI < 2.13) would otherwise call real AWS.

Approving a login: open the verification URL the client prints (a page with
one Approve button), or
  curl -X POST $AWS_ENDPOINT_URL_SSO/_emulator/approve                 # every pending code
  curl -X POST -d '{"userCode":"ABCD-EFGH"}' $AWS_ENDPOINT_URL_SSO/_emulator/approve
or start with --approve auto / --approve auto-after=20s.

Control API (same port): POST /_emulator/approve, POST /_emulator/deny,
POST /_emulator/end-sessions (every live session ends now), GET|PUT
/_emulator/faults, GET /_emulator/stats (counters per operation, live sessions,
credentials issued).

Faults: --fault OP:rate=R,error=E,latency=D (repeatable). OP is an operation
name (CreateToken, GetRoleCredentials, AssumeRole, PutObject, ...) or * for all;
E is an HTTP status (500, 503) or an error code of that service
(TooManyRequestsException for the portal, SlowDownException for OIDC,
Throttling for STS, SlowDown for S3, ...); an error without a rate always fires.

--accounts FILE declares accounts, permission sets, IAM roles and IAM users:
  {"accounts": [{"id": "111122223333", "name": "dev",
                 "permissionSets": [{"name": "Developer", "sessionDuration": "1h"}],
                 "roles": [{"name": "Deployer", "maxSessionDuration": "2h",
                            "externalId": "x", "requireMfa": true}]}],
   "users": [{"name": "alice", "accountId": "111122223333",
              "accessKeyId": "AKIAEXAMPLEALICE0001", "secretAccessKey": "...",
              "mfa": {"secret": "JBSWY3DPEHPK3PXP"}}]}
Without it: account 111122223333 ("emulator") with permission set Developer.`

const emulatorExample = `  # terminal 1: an emulator whose sessions last 10 minutes
  ssokeep emulator --session-duration 10m --token-lifetime 2m --role-duration 1m \
      --env-file /tmp/emu.env --aws-config /tmp/emu.config

  # terminal 2: point every client at it, log in, use it
  source /tmp/emu.env                  # endpoints, region, AWS_CONFIG_FILE
  ssokeep login --profile emulator     # prints a URL: open it and click Approve
  ssokeep exec --profile emulator -- python3 -c '
  import boto3; s3 = boto3.client("s3")
  s3.create_bucket(Bucket="demo"); s3.put_object(Bucket="demo", Key="k", Body=b"hi")
  print(s3.get_object(Bucket="demo", Key="k")["Body"].read())'
  AWS_PROFILE=emulator python3 -c 'import boto3; print(boto3.client("sts").get_caller_identity()["Arn"])'
  curl -s $AWS_ENDPOINT_URL_SSO/_emulator/stats      # counters, live sessions
  curl -s -X POST $AWS_ENDPOINT_URL_SSO/_emulator/end-sessions   # the session ends now`

type emulatorFlags struct {
	addr                 string
	region               string
	sessionDuration      time.Duration
	tokenLifetime        time.Duration
	roleDuration         time.Duration
	registrationLifetime time.Duration
	deviceCodeLifetime   time.Duration
	stsMaxLifetime       time.Duration
	approve              string
	accounts             string
	faults               []string
	envFile, awsConfig   string
	force                bool
	keepRefreshTokens    bool
}

func newEmulatorCmd(g *cli.Globals) *cobra.Command {
	var f emulatorFlags
	cmd := &cobra.Command{
		Use:     "emulator",
		Short:   "Run a local IAM Identity Center + STS + S3 emulator for tests and rehearsals",
		Long:    emulatorLong,
		Example: emulatorExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEmulator(cmd, g, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address; loopback only (127.0.0.1, ::1, localhost); port 0 picks a free one")
	fl.StringVar(&f.region, "region", emulator.DefaultRegion, "region the emulator answers for")
	fl.DurationVar(&f.sessionDuration, "session-duration", emulator.DefaultSessionDuration, "IAM Identity Center sign-in session length")
	fl.DurationVar(&f.tokenLifetime, "token-lifetime", emulator.DefaultTokenLifetime, "access token lifetime for refreshable (sso-session) registrations")
	fl.DurationVar(&f.roleDuration, "role-duration", emulator.DefaultRoleDuration, "GetRoleCredentials lifetime (the permission set's session duration)")
	fl.DurationVar(&f.registrationLifetime, "registration-lifetime", emulator.DefaultRegistrationLifetime, "RegisterClient lifetime")
	fl.DurationVar(&f.deviceCodeLifetime, "device-code-lifetime", emulator.DefaultDeviceCodeLifetime, "device code lifetime")
	fl.DurationVar(&f.stsMaxLifetime, "sts-max-lifetime", 0, "cap on every STS credential's lifetime (0: as requested), for compressed rehearsals")
	fl.StringVar(&f.approve, "approve", "manual", "who approves logins: manual, auto or auto-after=DUR")
	fl.StringVar(&f.accounts, "accounts", "", "JSON `FILE` declaring accounts, permission sets, IAM roles and users (see above)")
	fl.StringArrayVar(&f.faults, "fault", nil, "inject faults (repeatable): `OP:SPEC` such as GetRoleCredentials:rate=0.2,error=TooManyRequestsException,latency=300ms")
	fl.StringVar(&f.envFile, "env-file", "", "write the export lines to `FILE` once listening")
	fl.StringVar(&f.awsConfig, "aws-config", "", "write an AWS config with the emulator's sso-session and profiles to `FILE`")
	fl.BoolVar(&f.force, "force", false, "overwrite --env-file and --aws-config if they exist")
	fl.BoolVar(&f.keepRefreshTokens, "keep-refresh-tokens", false, "leave a used refresh token valid (default: each refresh spends it)")
	return cmd
}

func runEmulator(cmd *cobra.Command, g *cli.Globals, f *emulatorFlags) error {
	policy, err := emulator.ParseApprovePolicy(f.approve)
	if err != nil {
		return cli.WithCode(cli.ExitUsage, fmt.Errorf("--approve: %w", err))
	}
	faults := emulator.Faults{}
	for _, spec := range f.faults {
		op, fault, err := emulator.ParseFault(spec)
		if err != nil {
			return cli.WithCode(cli.ExitUsage, fmt.Errorf("--fault: %w", err))
		}
		faults[op] = fault
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--session-duration", f.sessionDuration}, {"--token-lifetime", f.tokenLifetime}, {"--role-duration", f.roleDuration},
		{"--registration-lifetime", f.registrationLifetime}, {"--device-code-lifetime", f.deviceCodeLifetime}} {
		if d.v <= 0 {
			return cli.WithCode(cli.ExitUsage, fmt.Errorf("%s %v: must be a positive duration such as 90m", d.name, d.v))
		}
	}
	if f.stsMaxLifetime < 0 {
		return cli.WithCode(cli.ExitUsage, fmt.Errorf("--sts-max-lifetime %v: must not be negative", f.stsMaxLifetime))
	}
	o := emulator.Options{
		Addr: f.addr, Region: f.region, Approve: policy, Faults: faults,
		SessionDuration: f.sessionDuration, TokenLifetime: f.tokenLifetime, RoleDuration: f.roleDuration,
		RegistrationLifetime: f.registrationLifetime, DeviceCodeLifetime: f.deviceCodeLifetime,
		STSMaxLifetime: f.stsMaxLifetime, KeepRefreshTokens: f.keepRefreshTokens,
		Logger: eventLogger(g),
	}
	if f.accounts != "" {
		af, err := emulator.LoadAccountsFile(f.accounts)
		if err != nil {
			return cli.WithCode(cli.ExitUsage, fmt.Errorf("--accounts: %w", err))
		}
		o.Accounts, o.Users = af.Accounts, af.Users
	}
	var envPath, cfgPath string
	for _, p := range []struct {
		flag string
		in   string
		out  *string
	}{{"--env-file", f.envFile, &envPath}, {"--aws-config", f.awsConfig, &cfgPath}} {
		if p.in == "" {
			continue
		}
		abs, err := filepath.Abs(p.in)
		if err != nil {
			return cli.WithCode(cli.ExitUsage, fmt.Errorf("%s %s: %v", p.flag, p.in, err))
		}
		if _, err := os.Stat(abs); err == nil && !f.force {
			return cli.WithCode(cli.ExitUsage, fmt.Errorf("%s %s already exists; pass --force to overwrite it", p.flag, abs))
		}
		*p.out = abs
	}

	s, err := emulator.New(o)
	if err != nil {
		return cli.WithCode(cli.ExitUsage, err)
	}
	if err := s.Start(); err != nil {
		return err
	}
	defer s.Close()

	env := s.Env()
	if cfgPath != "" {
		env = append(env, "AWS_CONFIG_FILE="+cfgPath)
	}
	var exports strings.Builder
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&exports, "export %s=%s\n", k, cli.ShellQuote(v))
	}
	// The config first: once the env file exists, a waiting script may
	// source it and use the config at once.
	if cfgPath != "" {
		if err := writeNew(cfgPath, s.AWSConfig(), f.force); err != nil {
			return fmt.Errorf("--aws-config: %w", err)
		}
	}
	if envPath != "" {
		if err := writeNew(envPath, exports.String(), f.force); err != nil {
			return fmt.Errorf("--env-file: %w", err)
		}
	}
	if _, err := io.WriteString(g.Stdout(), exports.String()); err != nil {
		return err
	}
	fmt.Fprintf(g.Stderr(), "ssokeep emulator: listening on %s (approve: %s); Ctrl-C stops it\n", s.URL(), policy)

	<-cmd.Context().Done()
	fmt.Fprintln(g.Stderr(), "ssokeep emulator: stopping")
	if err := s.Close(); err != nil {
		return fmt.Errorf("closing the emulator: %w", err)
	}
	return nil
}

// eventLogger shows the emulator's events (info) even at the default
// --log-level warn: they are this command's output. --log-level debug adds
// one line per request.
func eventLogger(g *cli.Globals) *slog.Logger {
	return slog.New(slog.NewTextHandler(g.Stderr(), &slog.HandlerOptions{Level: min(g.LogLevel(), slog.LevelInfo)}))
}

// writeNew writes a file atomically (temp file + rename). Without force it
// refuses to replace an existing file, even one that appeared since the
// flags were checked.
func writeNew(path, content string, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s already exists; pass --force to overwrite it", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
