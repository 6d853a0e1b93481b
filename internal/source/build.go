package source

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// DefaultSTSRegion is where STS calls go when neither the profile nor its source names a region.
const DefaultSTSRegion = "us-east-1"

// Config is what Build needs from outside: caches, the token source, clients, the clock.
type Config struct {
	Policy Policy           // for the profile's own set; sources of a chain use a shorter minimum
	Now    func() time.Time // default time.Now
	// Roles is the AWS CLI's role-credential cache, shared with the CLI for SSO role sets.
	Roles ssocache.RoleCache
	// StateDir is ssokeep's own state directory (ssocache.Dir.StateDir()); MFA sessions and assumed roles are
	// cached in its credentials/ subdirectory, and fetch locks live there.
	StateDir string
	// Token gives IAM Identity Center access tokens (ManagerTokens of a login.Manager).
	Token TokenFunc
	// Portal and STS build clients when a fetch needs them; nil: the SDK's, for the profile (SDKPortal, SDKSTS).
	Portal func(ctx context.Context, region string) (GetRoleCredentialsAPI, error)
	STS    STSFactory
	// Code asks for MFA codes; nil: profiles that need one fail with an error that says so.
	Code CodeFunc
	// Getenv reads credential_source = Environment keys (default os.Getenv).
	Getenv func(string) string
	Logger *slog.Logger
}

// node is one link of a chain.
type node struct {
	prov     aws.CredentialsProvider
	id       string   // names the source in the cache keys of the links above it
	chaining chaining // what assuming a role from this link is
	region   string
}

type builder struct {
	c   Config
	top *awsconfig.Profile
}

// Build turns a resolved profile into its credentials provider: SSO role, MFA session, static keys, or an
// assume-role chain over any of them (or over credential_source = Environment). Profiles ssokeep cannot serve
// give a *ConfigError that says why and what to do.
func Build(p *awsconfig.Profile, c Config) (aws.CredentialsProvider, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Getenv == nil {
		c.Getenv = os.Getenv
	}
	if c.Portal == nil {
		c.Portal = SDKPortal(p.Name)
	}
	if c.STS == nil {
		c.STS = SDKSTS(p.Name)
	}
	if c.Policy.MinRemaining == 0 {
		c.Policy = CredentialProcessPolicy
	}
	b := &builder{c: c, top: p}
	n, err := b.build(p, c.Policy, true)
	if err != nil {
		return nil, err
	}
	return n.prov, nil
}

func (b *builder) cfgErr(p *awsconfig.Profile, format string, a ...any) error {
	return &ConfigError{File: p.File, Profile: p.Name, Msg: fmt.Sprintf(format, a...)}
}

func (b *builder) cached(up aws.CredentialsProvider, s Store, pol Policy) aws.CredentialsProvider {
	return &Cached{Upstream: up, Store: s, Policy: pol, Now: b.c.Now, Logger: b.c.Logger}
}

func (b *builder) fileStore(key string) FileStore {
	return FileStore{Dir: filepath.Join(b.c.StateDir, "credentials"), Key: key}
}

func (b *builder) build(p *awsconfig.Profile, pol Policy, top bool) (node, error) {
	switch p.Kind {
	case awsconfig.KindSSO, awsconfig.KindLegacySSO:
		return b.sso(p, pol), nil
	case awsconfig.KindStatic:
		k := p.Static
		n := node{prov: credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken),
			id: "static:" + k.AccessKeyID, region: p.Region}
		if k.SessionToken != "" {
			n.chaining = maybeChained
		}
		return n, nil
	case awsconfig.KindMFASession:
		return b.mfaSession(p, pol), nil
	case awsconfig.KindAssumeRole:
		return b.assumeRole(p, pol)
	case awsconfig.KindProcess:
		if top {
			return node{}, b.cfgErr(p, "gets its credentials from credential_process itself; point ssokeep at the profile with the sso_* (or role_arn) settings, e.g. credential_process = ssokeep credential-process -p OTHER-PROFILE")
		}
		return node{}, b.cfgErr(p, "uses credential_process, which ssokeep does not run as a source_profile; use a profile with SSO, keys or a role as the source")
	case awsconfig.KindNone:
		return node{}, b.cfgErr(p, "has no credentials of its own (no sso_account_id and sso_role_name, role_arn or keys); add them or pick another profile")
	}
	return node{}, b.cfgErr(p, "uses %s credentials, which ssokeep does not serve; use it with the AWS SDKs directly", p.Kind)
}

func (b *builder) sso(p *awsconfig.Profile, pol Policy) node {
	s := login.SessionOf(b.top.Name, p.SSO)
	key := ssocache.RoleKey(p.SSO.AccountID, p.SSO.RoleName, s.Name, s.StartURL)
	up := &SSORole{Session: s, AccountID: p.SSO.AccountID, RoleName: p.SSO.RoleName, Token: b.c.Token, Client: b.c.Portal}
	store := CLIRoleStore{Cache: b.c.Roles, Key: key, LockDir: filepath.Join(b.c.StateDir, "credentials")}
	return node{prov: b.cached(up, store, pol), id: "sso:" + key, chaining: chained, region: p.Region}
}

func (b *builder) mfaSession(p *awsconfig.Profile, pol Policy) node {
	k := p.Static
	src := credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, k.SessionToken)
	up := &MFASession{Profile: p.Name, Serial: p.MFASerial, Duration: DefaultSessionTokenDuration, Source: src,
		Region: regionOr(p.Region), STS: b.c.STS, Code: b.c.Code}
	key := digest(map[string]any{"op": "GetSessionToken", "accessKeyId": k.AccessKeyID, "serial": p.MFASerial,
		"seconds": int(up.Duration / time.Second)})
	return node{prov: b.cached(up, b.fileStore(key), pol), id: "mfa:" + key, chaining: notChained, region: p.Region}
}

func (b *builder) assumeRole(p *awsconfig.Profile, pol Policy) (node, error) {
	r := p.Role
	var src node
	switch {
	case r.Source != nil:
		var err error
		if src, err = b.build(r.Source, forSource(pol), false); err != nil {
			return node{}, err
		}
	case r.CredentialSource == "Environment":
		src = b.environment(p)
	default:
		return node{}, b.cfgErr(p, "credential_source = %s is not supported by ssokeep (only Environment); use source_profile, or the SDKs directly on that host", r.CredentialSource)
	}
	region := p.Region
	if region == "" {
		region = src.region
	}
	up := &AssumeRole{Profile: p.Name, RoleARN: r.RoleARN, SessionName: r.RoleSessionName, ExternalID: r.ExternalID,
		MFASerial: r.MFASerial, Duration: r.Duration, Chaining: src.chaining, Source: src.prov, Region: regionOr(region),
		STS: b.c.STS, Code: b.c.Code, Now: b.c.Now}
	// The key names everything that changes the set, never a secret; an automatic session name is left out
	// (as botocore leaves it out of its own cache key) so it does not change the key on every fetch.
	key := digest(map[string]any{"op": "AssumeRole", "roleArn": r.RoleARN, "sessionName": r.RoleSessionName,
		"externalId": r.ExternalID, "serial": r.MFASerial, "seconds": int(up.duration() / time.Second), "source": src.id})
	return node{prov: b.cached(up, b.fileStore(key), pol), id: "role:" + key, chaining: chained, region: region}, nil
}

// environment is credential_source = Environment: the keys in the process environment, read when used.
func (b *builder) environment(p *awsconfig.Profile) node {
	get := b.c.Getenv
	prov := aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		id, secret := get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")
		if id == "" || secret == "" {
			return aws.Credentials{}, b.cfgErr(p, "credential_source = Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set; set them or use source_profile")
		}
		token := get("AWS_SESSION_TOKEN")
		if token == "" {
			token = get("AWS_SECURITY_TOKEN")
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token, Source: "Environment"}, nil
	})
	// Environment keys may be anything: long-term, or a role session (then a long duration needs the cap).
	ch := notChained
	if get("AWS_SESSION_TOKEN") != "" || get("AWS_SECURITY_TOKEN") != "" {
		ch = maybeChained
	}
	return node{prov: prov, id: "env:" + get("AWS_ACCESS_KEY_ID"), chaining: ch, region: p.Region}
}

func regionOr(r string) string {
	if r == "" {
		return DefaultSTSRegion
	}
	return r
}

// digest names a cache file: the SHA-1 hex of the JSON of what identifies the set (encoding/json sorts keys).
func digest(v map[string]any) string {
	data, _ := json.Marshal(v)
	sum := sha1.Sum(data)
	return hex.EncodeToString(sum[:])
}
