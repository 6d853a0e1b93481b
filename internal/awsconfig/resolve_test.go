package awsconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const corpSession = `
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
`

const devSSO = `
[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
region = eu-central-1
`

const baseKeys = `
[base]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + `
`

var corp = &SSOSession{Name: "corp", StartURL: "https://corp.awsapps.com/start", Region: "eu-west-1", RegistrationScopes: []string{"sso:account:access"}}

var devProfile = &Profile{Name: "dev", Kind: KindSSO, Region: "eu-central-1",
	SSO: &SSO{Session: corp, StartURL: corp.StartURL, Region: "eu-west-1", AccountID: "111122223333", RoleName: "Developer", RegistrationScopes: []string{"sso:account:access"}}}

var baseProfile = &Profile{Name: "base", Kind: KindStatic, Static: &StaticKeys{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secret1}}

// tcase is one config and what resolving one of its profiles gives. sdk and boto name the reason why
// aws-sdk-go-v2 or botocore see that profile differently ("" = they must agree; see oracle tests).
type tcase struct {
	name     string
	config   string
	creds    string
	profile  string
	want     *Profile
	profiles []string // expected Config.Profiles, when set
	wantErr  *Error   // expected error: File by base name, Msg as a substring; Load error when Line > 0 or loadErr
	loadErr  bool
	errIs    error
	sdk      string
	boto     string
}

var cases = []tcase{
	// ---- kinds ----
	{name: "sso through an sso-session", config: devSSO + corpSession, profile: "dev",
		want: &Profile{Name: "dev", Kind: KindSSO, Region: "eu-central-1", File: "config", SSO: devProfile.SSO}},
	{name: "ssokeep_session_duration on the session", profile: "dev",
		config: devSSO + corpSession + "ssokeep_session_duration = 90d\n",
		want: &Profile{Name: "dev", Kind: KindSSO, Region: "eu-central-1", SSO: &SSO{
			Session:  &SSOSession{Name: "corp", StartURL: corp.StartURL, Region: "eu-west-1", RegistrationScopes: corp.RegistrationScopes, SessionDuration: 90 * 24 * time.Hour},
			StartURL: corp.StartURL, Region: "eu-west-1", AccountID: "111122223333", RoleName: "Developer", RegistrationScopes: corp.RegistrationScopes}}},
	{name: "legacy sso on the profile", profile: "old", config: `
[profile old]
sso_start_url = https://old.awsapps.com/start
sso_region = us-east-1
sso_account_id = 444455556666
sso_role_name = ReadOnly
region = us-east-2
`, want: &Profile{Name: "old", Kind: KindLegacySSO, Region: "us-east-2", File: "config",
		SSO: &SSO{StartURL: "https://old.awsapps.com/start", Region: "us-east-1", AccountID: "444455556666", RoleName: "ReadOnly"}}},
	{name: "assume role from keys in the credentials file", profile: "admin", creds: baseKeys, config: `
[profile admin]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = base
role_session_name = me
external_id = ext-1
mfa_serial = arn:aws:iam::123456789012:mfa/me
duration_seconds = 3600
region = us-west-2
`, want: &Profile{Name: "admin", Kind: KindAssumeRole, Region: "us-west-2", File: "config", Role: &AssumeRole{
		RoleARN: "arn:aws:iam::123456789012:role/Admin", RoleSessionName: "me", ExternalID: "ext-1",
		MFASerial: "arn:aws:iam::123456789012:mfa/me", Duration: time.Hour, Source: baseProfile}}},
	{name: "assume role chain ending in sso", profile: "prod", config: devSSO + corpSession + `
[profile prod]
role_arn = arn:aws:iam::999988887777:role/Deploy
source_profile = hop
[profile hop]
role_arn = arn:aws:iam::555566667777:role/Hop
source_profile = dev
`, want: &Profile{Name: "prod", Kind: KindAssumeRole, Role: &AssumeRole{RoleARN: "arn:aws:iam::999988887777:role/Deploy",
		Source: &Profile{Name: "hop", Kind: KindAssumeRole, Role: &AssumeRole{RoleARN: "arn:aws:iam::555566667777:role/Hop", Source: devProfile}}}}},
	{name: "assume role with credential_source", profile: "ec2", config: `
[profile ec2]
role_arn = arn:aws:iam::123456789012:role/FromEnv
credential_source = Environment
`, want: &Profile{Name: "ec2", Kind: KindAssumeRole, Role: &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/FromEnv", CredentialSource: "Environment"}}},
	{name: "a profile may be its own source when it has keys", profile: "self", config: `
[profile self]
role_arn = arn:aws:iam::123456789012:role/Self
source_profile = self
`, creds: `
[self]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + "\n",
		want: &Profile{Name: "self", Kind: KindAssumeRole, File: "config", Role: &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/Self",
			Source: &Profile{Name: "self", Kind: KindStatic, File: "credentials", Static: baseProfile.Static}}}},
	{name: "a source with keys and a role gives its plain keys (no mfa session)", profile: "top", creds: `
[mid]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + "\n", config: `
[profile top]
role_arn = arn:aws:iam::123456789012:role/Top
source_profile = mid
[profile mid]
role_arn = arn:aws:iam::123456789012:role/Mid
source_profile = nowhere
mfa_serial = arn:aws:iam::123456789012:mfa/mid
`, want: &Profile{Name: "top", Kind: KindAssumeRole, Role: &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/Top",
		Source: &Profile{Name: "mid", Kind: KindStatic, Static: baseProfile.Static}}}},
	{name: "static keys with mfa_serial are an mfa session", profile: "base", creds: baseKeys, config: `
[profile base]
mfa_serial = arn:aws:iam::123456789012:mfa/me
`, want: &Profile{Name: "base", Kind: KindMFASession, File: "credentials", MFASerial: "arn:aws:iam::123456789012:mfa/me", Static: baseProfile.Static}},
	{name: "static keys with a session token", profile: "tmp", creds: `
[tmp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + `
aws_session_token = ` + token1 + "\n",
		want: &Profile{Name: "tmp", Kind: KindStatic, File: "credentials", Static: &StaticKeys{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: secret1, SessionToken: token1}}},
	{name: "botocore prefers aws_security_token", profile: "tmp", sdk: "the Go SDK reads only aws_session_token", creds: `
[tmp]
aws_access_key_id = ASIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + `
aws_session_token = other
aws_security_token = ` + token1 + "\n",
		want: &Profile{Name: "tmp", Kind: KindStatic, Static: &StaticKeys{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: secret1, SessionToken: token1}}},
	{name: "static keys in the config file", profile: "default", config: `
[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + `
region = sa-east-1
`, want: &Profile{Name: "default", Kind: KindStatic, Region: "sa-east-1", File: "config", Static: baseProfile.Static,
		Settings: map[string]string{"region": "sa-east-1"}}},
	{name: "credential_process", profile: "proc", config: `
[profile proc]
credential_process = /usr/local/bin/get-creds --profile "dev x"
`, want: &Profile{Name: "proc", Kind: KindProcess, File: "config", CredentialProcess: `/usr/local/bin/get-creds --profile "dev x"`}},
	{name: "credential_process continued on an indented line", profile: "proc", config: `
[profile proc]
credential_process = /usr/local/bin/get-creds
    --profile dev
region = us-east-1
`, want: &Profile{Name: "proc", Kind: KindProcess, Region: "us-east-1", CredentialProcess: "/usr/local/bin/get-creds\n--profile dev"}},
	{name: "web identity", profile: "wi", config: `
[profile wi]
web_identity_token_file = /var/run/token
role_arn = arn:aws:iam::123456789012:role/Web
role_session_name = job
`, want: &Profile{Name: "wi", Kind: KindWebIdentity, WebIdentityTokenFile: "/var/run/token",
		Role: &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/Web", RoleSessionName: "job"}}},
	{name: "aws login session", profile: "console", config: `
[profile console]
login_session = arn:aws:iam::123456789012:user/me
`, want: &Profile{Name: "console", Kind: KindLogin, LoginSession: "arn:aws:iam::123456789012:user/me"}},
	{name: "only a region is no credentials", profile: "plain", config: "[profile plain]\nregion = ca-central-1\n",
		want: &Profile{Name: "plain", Kind: KindNone, Region: "ca-central-1", File: "config", Settings: map[string]string{"region": "ca-central-1"}}},
	{name: "an sso_session without account and role can only log in", profile: "login", sdk: "the Go SDK calls any profile with sso_session an SSO profile",
		config: "[profile login]\nsso_session = corp\n" + corpSession,
		want:   &Profile{Name: "login", Kind: KindNone, SSO: &SSO{Session: corp, StartURL: corp.StartURL, Region: "eu-west-1", RegistrationScopes: corp.RegistrationScopes}}},
	{name: "a legacy sso_start_url without account and role can only log in", profile: "l", sdk: "the Go SDK calls it a (broken) legacy SSO profile",
		config: "[profile l]\nsso_start_url = https://old.awsapps.com/start\nsso_region = us-east-1\n",
		want:   &Profile{Name: "l", Kind: KindNone, SSO: &SSO{StartURL: "https://old.awsapps.com/start", Region: "us-east-1"}}},
	{name: "a profile only in the credentials file", profile: "base", creds: baseKeys, config: "[profile other]\n",
		profiles: []string{"other", "base"}, want: baseProfile},

	// ---- merging and precedence (botocore order) ----
	{name: "credentials-file keys win over config-file keys", profile: "dev", config: `
[profile dev]
region = us-east-1
output = json
`, creds: `
[dev]
region = eu-west-1
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + "\n",
		want: &Profile{Name: "dev", Kind: KindStatic, Region: "eu-west-1", File: "credentials", Static: baseProfile.Static,
			Settings: map[string]string{"region": "eu-west-1", "output": "json"}}},
	{name: "role_arn beats sso", profile: "both", config: `
[profile both]
role_arn = arn:aws:iam::123456789012:role/R
credential_source = Environment
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
` + corpSession, want: &Profile{Name: "both", Kind: KindAssumeRole, Role: &AssumeRole{RoleARN: "arn:aws:iam::123456789012:role/R", CredentialSource: "Environment"}}},
	{name: "sso beats static keys", profile: "dev", sdk: "the Go SDK takes static keys first", config: devSSO + corpSession, creds: `
[dev]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = ` + secret1 + "\n", want: &Profile{Name: "dev", Kind: KindSSO, Region: "eu-central-1", SSO: devProfile.SSO}},
	{name: "credentials-file keys beat credential_process", profile: "p", config: "[profile p]\ncredential_process = /bin/creds\n",
		creds: "[p]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + secret1 + "\n",
		want:  &Profile{Name: "p", Kind: KindStatic, File: "credentials", Static: baseProfile.Static}},
	{name: "credential_process beats config-file keys", profile: "p", sdk: "the Go SDK takes static keys first",
		config: "[profile p]\ncredential_process = /bin/creds\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = " + secret1 + "\n",
		want:   &Profile{Name: "p", Kind: KindProcess, CredentialProcess: "/bin/creds"}},
	{name: "the later of [default] and [profile default] wins (profile last)", profile: "default",
		config: "[default]\nregion = us-east-1\noutput = json\n[profile default]\nregion = eu-west-1\n",
		want:   &Profile{Name: "default", Kind: KindNone, Region: "eu-west-1", Settings: map[string]string{"region": "eu-west-1"}}},
	{name: "the later of [default] and [profile default] wins (default last)", profile: "default", sdk: "the Go SDK always prefers [profile default]",
		config:   "[profile default]\nregion = eu-west-1\n[default]\nregion = us-east-1\n",
		profiles: []string{"default"},
		want:     &Profile{Name: "default", Kind: KindNone, Region: "us-east-1"}},

	// ---- syntax as the AWS CLI reads it ----
	{name: "a bare section in the config file is not a profile", profile: "dev", config: "[dev]\nregion = x\n[profile prod]\nregion = y\n",
		profiles: []string{"prod"}, errIs: ErrProfileNotFound, wantErr: &Error{File: "config", Section: "profile dev", Msg: "no such profile"}},
	{name: "a [profile X] section in the credentials file is named \"profile X\"", profile: "profile x", sdk: "the Go SDK drops such sections",
		creds: "[profile x]\nregion = eu-south-1\n", profiles: []string{"profile x"}, want: &Profile{Name: "profile x", Kind: KindNone, Region: "eu-south-1"}},
	{name: "quoted profile name", profile: "my dev", sdk: "the Go SDK keeps the quotes in the name",
		config:   "[profile \"my dev\"]\nregion = me-south-1\n[profile a b]\nregion = ignored\n[profilex]\nregion = ignored\n",
		profiles: []string{"my dev"}, want: &Profile{Name: "my dev", Kind: KindNone, Region: "me-south-1"}},
	{name: "extra spaces in the header", profile: "spaced", config: "[profile    spaced]\nregion = af-south-1\n",
		want: &Profile{Name: "spaced", Kind: KindNone, Region: "af-south-1"}},
	{name: "[DEFAULT] keys are inherited by every section", profile: "a", sdk: "the Go SDK has no [DEFAULT] section",
		config: "[DEFAULT]\nregion = eu-north-1\nsso_region = eu-west-1\n[profile a]\noutput = json\n" + corpSession,
		want:   &Profile{Name: "a", Kind: KindNone, Region: "eu-north-1", Settings: map[string]string{"region": "eu-north-1", "output": "json", "sso_region": "eu-west-1"}}},
	{name: "no inline comments: they are part of the value", profile: "c", sdk: "the Go SDK strips ' # ...'",
		config: "[profile c]\nregion = us-east-1 # primary\noutput = json ; text\n",
		want:   &Profile{Name: "c", Kind: KindNone, Region: "us-east-1 # primary", Settings: map[string]string{"region": "us-east-1 # primary", "output": "json ; text"}}},
	{name: "indented keys and a nested s3 block", profile: "nested", config: `
[profile nested]
  region = us-east-2
  output = json
s3 =
  addressing_style = path

  # a comment inside the block
  signature_version = s3v4
max_attempts = 5
`, want: &Profile{Name: "nested", Kind: KindNone, Region: "us-east-2", Settings: map[string]string{
		"region": "us-east-2", "output": "json", "s3": "\naddressing_style = path\n\nsignature_version = s3v4", "max_attempts": "5"}}},
	{name: "keys are case-insensitive, names are not", profile: "Mixed", config: `
[profile Mixed]
Region = ap-south-1
SSO_Session = corp
SSO_ACCOUNT_ID = 111122223333
sso_role_name = Developer
` + corpSession, want: &Profile{Name: "Mixed", Kind: KindSSO, Region: "ap-south-1", SSO: &SSO{Session: corp, StartURL: corp.StartURL, Region: "eu-west-1",
		AccountID: "111122223333", RoleName: "Developer", RegistrationScopes: corp.RegistrationScopes}}},
	{name: "comments, colons and CRLF", profile: "w", config: "# top\r\n; also\r\n[profile w]\r\n  # indented\r\nregion: eu-west-3\r\nquoted = \"kept\"\r\n",
		want: &Profile{Name: "w", Kind: KindNone, Region: "eu-west-3", Settings: map[string]string{"region": "eu-west-3", "quoted": `"kept"`}}},
	{name: "no files at all", profile: "default", profiles: []string{}, errIs: ErrProfileNotFound,
		wantErr: &Error{File: "config", Section: "default", Msg: "no such profile"}},

	// ---- syntax errors: the AWS CLI refuses these files ----
	{name: "a setting before the first section", config: "region = us-east-1\n[default]\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 1, Msg: "before the first [section]"}},
	{name: "a line without = or :", config: "[default]\n\nregion us-east-1\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 3, Section: "default", Msg: "neither a [section]"}},
	{name: "a section twice in one file", config: "[profile a]\nregion = x\n[profile b]\n[profile a]\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 4, Section: "profile a", Msg: "appears twice"}},
	{name: "a key twice in one section", config: "[profile a]\nregion = x\nRegion = y\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 3, Section: "profile a", Key: "region", Msg: "first on line 2"}},
	{name: "a byte-order mark", config: "\ufeff[default]\nregion = x\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 1, Msg: "byte-order mark"}},
	{name: "not UTF-8", config: "[default]\nregion = x\n[profile \xff]\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 3, Msg: "not UTF-8"}},
	{name: "a nested block line without =", config: "[profile a]\ns3 =\n  addressing_style path\n", loadErr: true,
		wantErr: &Error{File: "config", Line: 2, Section: "profile a", Key: "s3", Msg: "name = value"}},
	{name: "a malformed secret line is not echoed", creds: "[a]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key " + secret1 + "\n", loadErr: true,
		wantErr: &Error{File: "credentials", Line: 3, Section: "a", Msg: "neither a [section]"}},
	{name: "a backquoted value", config: "[profile a]\nregion = `x`\n", loadErr: true, boto: "botocore reads it; ini.v1 would unquote it, so ssokeep refuses",
		wantErr: &Error{File: "config", Line: 2, Section: "profile a", Key: "region", Msg: "not supported"}},

	// ---- problems of meaning ----
	{name: "unknown profile", profile: "devlop", config: "[profile develop]\n[profile prod]\n", errIs: ErrProfileNotFound,
		wantErr: &Error{File: "config", Section: "profile devlop", Msg: `did you mean "develop"?`}},
	{name: "sso_session names a missing section", profile: "dev", config: strings.Replace(devSSO, "= corp", "= crop", 1) + corpSession,
		wantErr: &Error{File: "config", Section: "profile dev", Key: "sso_session", Msg: `no [sso-session crop] section (did you mean "corp"?); add one or fix the name`}},
	{name: "sso-session without sso_start_url", profile: "dev", config: devSSO + "[sso-session corp]\nsso_region = eu-west-1\n",
		wantErr: &Error{File: "config", Section: "sso-session corp", Key: "sso_start_url", Msg: "missing"}},
	{name: "sso-session without sso_region", profile: "dev", config: devSSO + "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n",
		wantErr: &Error{File: "config", Section: "sso-session corp", Key: "sso_region", Msg: "missing"}},
	{name: "profile sso_start_url contradicts its session", profile: "dev", config: devSSO + "sso_start_url = https://other.awsapps.com/start\n" + corpSession,
		wantErr: &Error{File: "config", Section: "profile dev", Key: "sso_start_url", Msg: `"https://other.awsapps.com/start" differs from "https://corp.awsapps.com/start" in [sso-session corp]`}},
	{name: "profile sso_region contradicts its session", profile: "dev", config: devSSO + "sso_region = us-east-1\n" + corpSession,
		wantErr: &Error{File: "config", Section: "profile dev", Key: "sso_region", Msg: "differs"}},
	{name: "sso profile without sso_account_id", profile: "dev", config: strings.Replace(devSSO, "sso_account_id = 111122223333\n", "", 1) + corpSession,
		wantErr: &Error{File: "config", Section: "profile dev", Key: "sso_account_id", Msg: "needs sso_account_id and sso_role_name"}},
	{name: "sso profile without sso_role_name", profile: "dev", config: strings.Replace(devSSO, "sso_role_name = Developer\n", "", 1) + corpSession,
		wantErr: &Error{File: "config", Section: "profile dev", Key: "sso_role_name", Msg: "needs sso_account_id and sso_role_name"}},
	{name: "assume role without a source", profile: "r", config: "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "role_arn", Msg: "needs source_profile"}},
	{name: "assume role with both sources", profile: "r", creds: baseKeys,
		config:  "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\ncredential_source = Environment\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "credential_source", Msg: "keep only one"}},
	{name: "unknown credential_source", profile: "r", config: "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\ncredential_source = environment\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "credential_source", Msg: "case matters"}},
	{name: "source_profile names a missing profile", profile: "r", creds: baseKeys,
		config:  "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = bsae\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "source_profile", Msg: `no profile "bsae" (did you mean "base"?)`}},
	{name: "source_profile loop", profile: "a", config: `
[profile a]
role_arn = arn:aws:iam::123456789012:role/A
source_profile = b
[profile b]
role_arn = arn:aws:iam::123456789012:role/B
source_profile = a
`, wantErr: &Error{File: "config", Section: "profile b", Key: "source_profile", Msg: "loops (a -> b -> a)"}},
	{name: "a profile without keys naming itself", profile: "a", config: "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = a\n",
		wantErr: &Error{File: "config", Section: "profile a", Key: "source_profile", Msg: "loops (a -> a)"}},
	{name: "source profile without credentials", profile: "r", config: "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = plain\n[profile plain]\nregion = x\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "source_profile", Msg: `"plain" has no credentials`}},
	{name: "aws_access_key_id without secret", profile: "k", creds: "[k]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
		wantErr: &Error{File: "credentials", Section: "k", Key: "aws_access_key_id", Msg: "without aws_secret_access_key"}},
	{name: "aws_secret_access_key without key id", profile: "k", creds: "[k]\naws_secret_access_key = " + secret2 + "\n",
		boto:    "botocore ignores a lone secret (the Go SDK refuses the profile)",
		wantErr: &Error{File: "credentials", Section: "k", Key: "aws_secret_access_key", Msg: "without aws_access_key_id"}},
	{name: "duration_seconds not a number", profile: "admin", creds: baseKeys, boto: "botocore drops a non-numeric duration",
		config:  "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = base\nduration_seconds = 1h\n",
		wantErr: &Error{File: "config", Section: "profile admin", Key: "duration_seconds", Msg: `"1h" is not a number of seconds between 900 and 43200`}},
	{name: "duration_seconds too short", profile: "admin", creds: baseKeys, boto: "STS, not botocore, refuses it",
		config:  "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = base\nduration_seconds = 899\n",
		wantErr: &Error{File: "config", Section: "profile admin", Key: "duration_seconds", Msg: "between 900 and 43200"}},
	{name: "duration_seconds too long", profile: "admin", creds: baseKeys, boto: "STS, not botocore, refuses it",
		config:  "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/A\nsource_profile = base\nduration_seconds = 43201\n",
		wantErr: &Error{File: "config", Section: "profile admin", Key: "duration_seconds", Msg: "between 900 and 43200"}},
	{name: "bad ssokeep_session_duration", profile: "dev", boto: "botocore ignores ssokeep's key",
		config:  devSSO + corpSession + "ssokeep_session_duration = 8 hours\n",
		wantErr: &Error{File: "config", Section: "sso-session corp", Key: "ssokeep_session_duration", Msg: `bad duration "8 hours"`}},
	{name: "zero ssokeep_session_duration", profile: "dev", boto: "botocore ignores ssokeep's key",
		config:  devSSO + corpSession + "ssokeep_session_duration = 0\n",
		wantErr: &Error{File: "config", Section: "sso-session corp", Key: "ssokeep_session_duration", Msg: "longer than zero"}},
	{name: "web identity without role_arn", profile: "wi", config: "[profile wi]\nweb_identity_token_file = /var/run/token\n",
		wantErr: &Error{File: "config", Section: "profile wi", Key: "web_identity_token_file", Msg: "needs role_arn"}},
	{name: "empty role_arn", profile: "r", creds: baseKeys, boto: "botocore sends the empty ARN to STS",
		config:  "[profile r]\nrole_arn =\nsource_profile = base\n",
		wantErr: &Error{File: "config", Section: "profile r", Key: "role_arn", Msg: "empty"}},
}

func init() {
	// A legacy profile missing any one of its four keys.
	full := map[string]string{"sso_start_url": "https://old.awsapps.com/start", "sso_region": "us-east-1", "sso_account_id": "444455556666", "sso_role_name": "ReadOnly"}
	for _, drop := range []string{"sso_start_url", "sso_region", "sso_account_id", "sso_role_name"} {
		text := "[profile old]\n"
		for _, k := range []string{"sso_start_url", "sso_region", "sso_account_id", "sso_role_name"} {
			if k != drop {
				text += k + " = " + full[k] + "\n"
			}
		}
		cases = append(cases, tcase{name: "legacy sso without " + drop, profile: "old", config: text,
			wantErr: &Error{File: "config", Section: "profile old", Key: drop, Msg: "a legacy SSO profile (no sso_session) needs"}})
	}
}

// TestResolve is the specification: every kind, every precedence rule and every error, each on a tiny config.
func TestResolve(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(files(t, tc.config, tc.creds))
			if tc.loadErr {
				checkErr(t, err, tc)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tc.profiles != nil && fmt.Sprint(c.Profiles) != fmt.Sprint(tc.profiles) {
				t.Errorf("Profiles = %q, want %q", c.Profiles, tc.profiles)
			}
			p, err := c.Resolve(tc.profile)
			if tc.wantErr != nil {
				if p != nil {
					t.Errorf("Resolve returned a profile with its error")
				}
				checkErr(t, err, tc)
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tc.profile, err)
			}
			sameProfile(t, p, tc.want)
			assertNoSecret(t, "profile printed with %+v", fmt.Sprintf("%+v %v %#v %s", p, p.Static, p.Static, p.Static))
			assertNoSecret(t, "profile as JSON", dump(p))
			if p.Static != nil {
				assertNoSecret(t, "StaticKeys.String", p.Static.String())
				assertNoSecret(t, "StaticKeys value", fmt.Sprintf("%v %+v %#v %q %x", *p.Static, *p.Static, *p.Static, *p.Static, *p.Static))
			}
			for k := range p.Settings {
				if secretKeys[k] {
					t.Errorf("Settings holds credential key %s", k)
				}
			}
		})
	}
}

func checkErr(t *testing.T, err error, tc tcase) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", tc.wantErr)
	}
	assertNoSecret(t, "error message", err.Error())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, want *Error: %v", err, err)
	}
	if tc.errIs != nil && !errors.Is(err, tc.errIs) {
		t.Errorf("errors.Is(%v, %v) = false", err, tc.errIs)
	}
	w := tc.wantErr
	if filepath.Base(e.File) != w.File || e.Line != w.Line || e.Section != w.Section || e.Key != w.Key || !strings.Contains(e.Msg, w.Msg) {
		t.Errorf("error = %v\n(file %s line %d section %q key %q)\nwant file %s line %d section %q key %q msg containing %q",
			err, filepath.Base(e.File), e.Line, e.Section, e.Key, w.File, w.Line, w.Section, w.Key, w.Msg)
	}
	if !strings.HasPrefix(err.Error(), e.File) || !strings.Contains(err.Error(), e.Msg) {
		t.Errorf("Error() %q does not start with the file and carry the message", err.Error())
	}
}
