package awsconfig

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the credential source a profile uses.
type Kind string

const (
	KindSSO         Kind = "sso"                // SSO through an [sso-session] (refreshable token)
	KindLegacySSO   Kind = "sso-legacy"         // sso_start_url etc. on the profile (fixed ~8 h token, no refresh)
	KindAssumeRole  Kind = "assume-role"        // role_arn with source_profile or credential_source
	KindMFASession  Kind = "mfa-session"        // static keys + mfa_serial and no role_arn (GetSessionToken)
	KindStatic      Kind = "static"             // aws_access_key_id/aws_secret_access_key
	KindProcess     Kind = "credential-process" // credential_process
	KindWebIdentity Kind = "web-identity"       // web_identity_token_file (+ role_arn): AssumeRoleWithWebIdentity
	KindLogin       Kind = "login"              // login_session (`aws login`; botocore 1.43 and the Go SDK know it, 1.29 does not)
	KindNone        Kind = "none"               // e.g. only region: no credentials of its own
)

// Profile is a resolved profile.
type Profile struct {
	Name   string
	Kind   Kind
	Region string
	File   string // where the profile's credential-bearing section lives (config or credentials file)

	SSO                  *SSO        // KindSSO, KindLegacySSO; also KindNone when the profile only names an sso_session (or sso_start_url) without account and role: enough to log in
	Role                 *AssumeRole // KindAssumeRole; KindWebIdentity (RoleARN, RoleSessionName only)
	MFASerial            string      // KindMFASession (on AssumeRole it is Role.MFASerial)
	Static               *StaticKeys // KindStatic, KindMFASession
	CredentialProcess    string      // KindProcess: the command line as written
	WebIdentityTokenFile string      // KindWebIdentity
	LoginSession         string      // KindLogin

	// Settings holds every key of the profile's section(s), merged as botocore does (credentials file wins),
	// except the credentials themselves (aws_access_key_id, aws_secret_access_key, aws_session_token,
	// aws_security_token): for copying region, ca_bundle, retry_mode, s3 ... into a generated config. A nested
	// block such as `s3 =` keeps configparser's form: "\naddressing_style = path\nsignature_version = s3v4".
	Settings map[string]string
}

// SSO is what an SSO profile needs to get role credentials.
type SSO struct {
	Session            *SSOSession // nil for legacy
	StartURL           string
	Region             string
	AccountID          string
	RoleName           string
	RegistrationScopes []string
}

// CacheKey is what names the token cache file (sha1 of it, see reference/aws-protocols.md §3): the session name,
// or the start URL for legacy profiles.
func (s *SSO) CacheKey() string {
	if s.Session != nil {
		return s.Session.Name
	}
	return s.StartURL
}

// AssumeRole is an assume-role profile's role and where its source credentials come from.
type AssumeRole struct {
	RoleARN, RoleSessionName, ExternalID, MFASerial string
	Duration                                        time.Duration // duration_seconds; 0 = default
	Source                                          *Profile      // resolved source_profile (nil when credential_source is used)
	CredentialSource                                string        // Environment | Ec2InstanceMetadata | EcsContainer
}

// StaticKeys are long-lived (or pasted temporary) keys. Printing them with any fmt verb, String or as JSON never
// shows the secret key or the session token.
type StaticKeys struct{ AccessKeyID, SecretAccessKey, SessionToken string }

func (k StaticKeys) String() string {
	s := "access key " + k.AccessKeyID + ", secret " + redact(k.SecretAccessKey)
	if k.SessionToken != "" {
		s += ", session token " + redact(k.SessionToken)
	}
	return s
}

// GoString keeps %#v from printing the fields.
func (k StaticKeys) GoString() string { return "awsconfig.StaticKeys{" + k.String() + "}" }

// Format applies String to every verb (%v, %+v, %s, %q, %x would otherwise reach the fields).
func (k StaticKeys) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, k.GoString())
		return
	}
	fmt.Fprint(f, k.String())
}

// MarshalJSON shows only the access key id.
func (k StaticKeys) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"AccessKeyID":%q,"SecretAccessKey":%q,"SessionToken":%q}`,
		k.AccessKeyID, redact(k.SecretAccessKey), redact(k.SessionToken))), nil
}

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "<redacted>"
}

// credentialSources are botocore's CanonicalNameCredentialSourcer names (exact case).
var credentialSources = []string{"Environment", "Ec2InstanceMetadata", "EcsContainer"}

// secretKeys never go into Settings.
var secretKeys = map[string]bool{
	"aws_access_key_id": true, "aws_secret_access_key": true, "aws_session_token": true, "aws_security_token": true,
}

// Resolve returns the profile's typed description, following source_profile chains. It checks what the
// profile's credential source uses, as botocore does when it loads credentials, and reports each problem as an
// *Error; an unknown profile wraps ErrProfileNotFound.
//
// The kind follows botocore's chain (credentials.py create_credential_resolver + ProfileProviderBuilder):
// role_arn (without web_identity_token_file) → assume-role; web_identity_token_file → web identity;
// sso_account_id or sso_role_name → SSO; keys in the credentials file → static; login_session → login;
// credential_process → process; keys in the config file → static; else none. Static keys with mfa_serial and no
// role_arn are an mfa-session (ssokeep adds GetSessionToken; botocore would use the keys as they are). The Go SDK
// orders these differently (static keys first) and is not followed.
func (c *Config) Resolve(name string) (*Profile, error) {
	rp, ok := c.profiles[name]
	if !ok {
		return nil, c.notFound(name)
	}
	r := &resolver{c: c, visited: []string{name}}
	return r.resolve(rp, true)
}

func (c *Config) notFound(name string) error {
	file, sect := c.Files.Config, "profile "+name
	if name == "default" {
		sect = "default"
	}
	if file == "" {
		file = c.Files.Credentials
	}
	msg := "no such profile"
	if c.Files.Credentials != "" && c.Files.Credentials != file {
		msg += " here or in " + c.Files.Credentials
	}
	if near := closeNames(name, c.Profiles); len(near) > 0 {
		msg += "; did you mean " + quoteList(near) + "?"
	} else if len(c.Profiles) > 0 && len(c.Profiles) <= 10 {
		msg += "; known profiles: " + quoteList(c.Profiles)
	}
	msg += "; add the section or pick an existing profile"
	return &Error{File: file, Section: sect, Msg: msg, Err: ErrProfileNotFound}
}

type resolver struct {
	c       *Config
	visited []string // botocore AssumeRoleProvider._visited_profiles
}

// errAt builds an *Error for a key of the profile, pointing at the section that holds it.
func errAt(rp *rawProfile, key, msg string) *Error {
	s := rp.at(key)
	return &Error{File: s.file, Section: s.name, Key: key, Msg: msg}
}

// resolve describes rp. top is false for a source_profile: botocore then uses the profile's own chain without
// assume-role when the profile has static keys or no role_arn (AssumeRoleProvider._resolve_credentials_from_profile),
// so a source with both keys and role_arn gives its keys.
func (r *resolver) resolve(rp *rawProfile, top bool) (*Profile, error) {
	p := &Profile{Name: rp.name, Kind: KindNone, Settings: map[string]string{}}
	p.Region, _ = rp.get("region")
	for _, s := range []*section{rp.cfg, rp.cred} { // credentials file last: its keys win
		if s == nil {
			continue
		}
		for _, k := range s.keys {
			if !secretKeys[k] {
				p.Settings[k] = s.vals[k]
			}
		}
	}
	main := rp.at("")
	p.File = main.file
	hasStatic := rp.has("aws_access_key_id") || rp.has("aws_secret_access_key")
	webID := rp.has("web_identity_token_file")
	if rp.has("role_arn") && !webID && (top || !hasStatic) {
		return r.assumeRole(p, rp)
	}
	if webID {
		// botocore and the Go SDK both refuse a token file without a role (botocore also takes AWS_ROLE_ARN).
		if v, _ := rp.get("role_arn"); v == "" {
			return nil, errAt(rp, "web_identity_token_file", "needs role_arn (the role to assume with the token); add it")
		}
		p.Kind, p.File = KindWebIdentity, rp.at("web_identity_token_file").file
		p.WebIdentityTokenFile, _ = rp.get("web_identity_token_file")
		p.Role = &AssumeRole{}
		p.Role.RoleARN, _ = rp.get("role_arn")
		p.Role.RoleSessionName, _ = rp.get("role_session_name")
		return p, nil
	}
	if rp.has("sso_account_id") || rp.has("sso_role_name") {
		return r.sso(p, rp)
	}
	if rp.cred.has("aws_access_key_id") || rp.cred.has("aws_secret_access_key") {
		return r.static(p, rp, rp.cred)
	}
	if v, ok := rp.get("login_session"); ok {
		p.Kind, p.File, p.LoginSession = KindLogin, rp.at("login_session").file, v
		return p, nil
	}
	if v, ok := rp.get("credential_process"); ok {
		if strings.TrimSpace(v) == "" {
			return nil, errAt(rp, "credential_process", "empty; set the command that prints credentials, or remove the key")
		}
		p.Kind, p.File, p.CredentialProcess = KindProcess, rp.at("credential_process").file, v
		return p, nil
	}
	if rp.cfg.has("aws_access_key_id") || rp.cfg.has("aws_secret_access_key") {
		return r.static(p, rp, rp.cfg)
	}
	// No credentials of its own. Keep what `ssokeep login --profile` needs if the profile names an SSO portal.
	if name, ok := rp.get("sso_session"); ok {
		s, err := r.session(rp, name)
		if err != nil {
			return nil, err
		}
		p.SSO = &SSO{Session: s, StartURL: s.StartURL, Region: s.Region, RegistrationScopes: s.RegistrationScopes}
	} else if u, ok := rp.get("sso_start_url"); ok {
		p.SSO = &SSO{StartURL: u}
		p.SSO.Region, _ = rp.get("sso_region")
		if v, ok := rp.get("sso_registration_scopes"); ok {
			p.SSO.RegistrationScopes = parseScopes(v)
		}
	}
	return p, nil
}

// static reads keys from one section (botocore SharedCredentialProvider / ConfigProvider: each reads its own file).
func (r *resolver) static(p *Profile, rp *rawProfile, s *section) (*Profile, error) {
	id, hasID := s.get("aws_access_key_id")
	secret, hasSecret := s.get("aws_secret_access_key")
	switch {
	case !hasSecret:
		// botocore raises PartialCredentialsError.
		return nil, &Error{File: s.file, Section: s.name, Key: "aws_access_key_id",
			Msg: "set without aws_secret_access_key; add the secret key next to it or remove the key id"}
	case !hasID:
		// botocore skips such a section; the Go SDK refuses the profile. Either way the secret is unused.
		return nil, &Error{File: s.file, Section: s.name, Key: "aws_secret_access_key",
			Msg: "set without aws_access_key_id; add the key id next to it or remove the secret"}
	case id == "":
		return nil, &Error{File: s.file, Section: s.name, Key: "aws_access_key_id", Msg: "empty; fill in the key id or remove both keys"}
	case secret == "":
		return nil, &Error{File: s.file, Section: s.name, Key: "aws_secret_access_key", Msg: "empty; fill in the secret or remove both keys"}
	}
	// botocore prefers the legacy aws_security_token name when both are present.
	token, ok := s.get("aws_security_token")
	if !ok {
		token, _ = s.get("aws_session_token")
	}
	p.Kind, p.File = KindStatic, s.file
	p.Static = &StaticKeys{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token}
	if mfa, ok := rp.get("mfa_serial"); ok && mfa != "" && !rp.has("role_arn") {
		p.Kind, p.MFASerial = KindMFASession, mfa
	}
	return p, nil
}

// session resolves the profile's sso_session reference the way botocore's SSOProvider does: the session must
// exist and every key it shares with the profile must have the same value (InvalidConfigError otherwise; the Go
// SDK checks sso_start_url and sso_region only).
func (r *resolver) session(rp *rawProfile, name string) (*SSOSession, error) {
	if _, ok := r.c.sessions[name]; !ok {
		msg := fmt.Sprintf("no [sso-session %s] section", name)
		if near := closeNames(name, r.c.SessionNames); len(near) > 0 {
			msg += " (did you mean " + quoteList(near) + "?)"
		}
		return nil, errAt(rp, "sso_session", msg+"; add one or fix the name")
	}
	sec := r.c.sessions[name]
	for _, k := range sec.keys {
		sv := sec.vals[k]
		if pv, ok := rp.get(k); ok && pv != sv {
			what := "differs from the value"
			if strings.HasPrefix(k, "sso_") || k == "region" { // values safe to quote (never a secret)
				what = fmt.Sprintf("%q differs from %q", pv, sv)
			}
			return nil, errAt(rp, k, fmt.Sprintf("%s in [%s], which the AWS CLI refuses; remove it from the profile or make them equal", what, sec.name))
		}
	}
	return r.c.Session(name)
}

func (r *resolver) sso(p *Profile, rp *rawProfile) (*Profile, error) {
	account, _ := rp.get("sso_account_id")
	role, _ := rp.get("sso_role_name")
	p.File = rp.at("sso_account_id").file
	if name, ok := rp.get("sso_session"); ok {
		s, err := r.session(rp, name)
		if err != nil {
			return nil, err
		}
		if err := missing(rp, "an SSO profile needs sso_account_id and sso_role_name", "sso_account_id", "sso_role_name"); err != nil {
			return nil, err
		}
		p.Kind = KindSSO
		p.SSO = &SSO{Session: s, StartURL: s.StartURL, Region: s.Region, AccountID: account, RoleName: role, RegistrationScopes: s.RegistrationScopes}
		return p, nil
	}
	if err := missing(rp, "a legacy SSO profile (no sso_session) needs sso_start_url, sso_region, sso_account_id and sso_role_name; better, move sso_start_url and sso_region into an [sso-session] for refreshable tokens",
		"sso_start_url", "sso_region", "sso_account_id", "sso_role_name"); err != nil {
		return nil, err
	}
	p.Kind = KindLegacySSO
	p.SSO = &SSO{AccountID: account, RoleName: role}
	p.SSO.StartURL, _ = rp.get("sso_start_url")
	p.SSO.Region, _ = rp.get("sso_region")
	if v, ok := rp.get("sso_registration_scopes"); ok {
		p.SSO.RegistrationScopes = parseScopes(v)
	}
	return p, nil
}

// missing reports the first of keys that is absent or empty, naming all missing ones.
func missing(rp *rawProfile, need string, keys ...string) error {
	var gone []string
	for _, k := range keys {
		if v, _ := rp.get(k); v == "" {
			gone = append(gone, k)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	s := rp.at("")
	return &Error{File: s.file, Section: s.name, Key: gone[0], Msg: "missing (" + strings.Join(gone, ", ") + " missing); " + need}
}

func (r *resolver) assumeRole(p *Profile, rp *rawProfile) (*Profile, error) {
	p.Kind, p.File = KindAssumeRole, rp.at("role_arn").file
	role := &AssumeRole{}
	p.Role = role
	role.RoleARN, _ = rp.get("role_arn")
	role.RoleSessionName, _ = rp.get("role_session_name")
	role.ExternalID, _ = rp.get("external_id")
	role.MFASerial, _ = rp.get("mfa_serial")
	if role.RoleARN == "" {
		return nil, errAt(rp, "role_arn", "empty; set the ARN of the role to assume (arn:aws:iam::ACCOUNT:role/NAME)")
	}
	src, hasSrc := rp.get("source_profile")
	cs, hasCS := rp.get("credential_source")
	switch {
	case hasSrc && hasCS:
		return nil, errAt(rp, "credential_source", "set together with source_profile; keep only one of them")
	case !hasSrc && !hasCS:
		return nil, errAt(rp, "role_arn", "needs source_profile (a profile with credentials) or credential_source (Environment, Ec2InstanceMetadata or EcsContainer); add one")
	}
	if v, ok := rp.get("duration_seconds"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 900 || n > 43200 {
			return nil, errAt(rp, "duration_seconds", fmt.Sprintf("%q is not a number of seconds between 900 and 43200; fix it or remove the key", v))
		}
		role.Duration = time.Duration(n) * time.Second
	}
	if hasCS {
		for _, ok := range credentialSources {
			if cs == ok {
				role.CredentialSource = cs
				return p, nil
			}
		}
		return nil, errAt(rp, "credential_source", fmt.Sprintf("%q is not one of Environment, Ec2InstanceMetadata, EcsContainer (case matters); fix it", cs))
	}
	srp, ok := r.c.profiles[src]
	if !ok {
		msg := fmt.Sprintf("no profile %q", src)
		if near := closeNames(src, r.c.Profiles); len(near) > 0 {
			msg += " (did you mean " + quoteList(near) + "?)"
		}
		return nil, errAt(rp, "source_profile", msg+"; add it or fix the name")
	}
	// botocore _validate_source_profile: revisiting a profile is a loop, except a profile naming itself when it
	// has static keys (role_arn and the keys to assume it with in one profile).
	for _, v := range r.visited {
		if v != src {
			continue
		}
		if src != rp.name || !(srp.has("aws_access_key_id") || srp.has("aws_secret_access_key")) {
			chain := strings.Join(append(append([]string{}, r.visited...), src), " -> ")
			return nil, errAt(rp, "source_profile", "source_profile chain loops ("+chain+"); break the loop (only a profile with its own keys may name itself)")
		}
	}
	r.visited = append(r.visited, src)
	sp, err := r.resolve(srp, false)
	if err != nil {
		return nil, err
	}
	if sp.Kind == KindNone {
		return nil, errAt(rp, "source_profile", fmt.Sprintf("profile %q has no credentials of its own; give it keys, SSO or a role, or pick another source", src))
	}
	role.Source = sp
	return p, nil
}

// SSOSource returns the IAM Identity Center settings the profile's
// credentials come from, following assume-role sources; nil when the chain
// does not reach IAM Identity Center.
func (p *Profile) SSOSource() *SSO {
	for i := 0; p != nil && i < 64; i++ { // Resolve refuses cycles; the bound is a belt
		if p.SSO != nil {
			return p.SSO
		}
		if p.Role == nil {
			return nil
		}
		p = p.Role.Source
	}
	return nil
}
