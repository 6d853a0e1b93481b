// Package doctor finds what would stop ssokeep, the AWS CLI or a job's SDK from
// getting the credentials the user expects: loose permissions on secret files,
// dead cache entries, profiles that can never refresh, and settings that would
// shadow credentials served to a job. With Fix it repairs what is safe to repair.
package doctor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// Severity says how much a finding matters.
type Severity string

const (
	Problem Severity = "problem" // something is broken or will break
	Warning Severity = "warning" // works, but may surprise (credentials shadowed, tokens that cannot refresh)
	Info    Severity = "info"
)

// Finding is one thing doctor noticed: what, where, why it matters, and the fix.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	What     string   `json:"what"`
	Where    string   `json:"where"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
	// Fixable: --fix repairs it (NeedsForce: only with --force as well).
	Fixable    bool   `json:"fixable"`
	NeedsForce bool   `json:"needsForce,omitempty"`
	Fixed      bool   `json:"fixed"`
	FixError   string `json:"fixError,omitempty"`

	repair func() error
}

// Input is what doctor looks at. Every path and the environment are injected so
// tests can build a whole home directory in a temp dir.
type Input struct {
	Files   awsconfig.Files
	Config  *awsconfig.Config // nil when loading failed
	LoadErr error
	Cache   ssocache.Dir
	Roles   ssocache.RoleCache
	Home    string
	// SystemBotoConfig is /etc/boto.cfg; tests point it elsewhere.
	SystemBotoConfig string
	Getenv           func(string) string
	Now              time.Time
	Fix, Force       bool
	// Lean says which binary exec and serve continue in, or why they stay
	// in this one (cli.Lean.Target); nil when there is nothing to check.
	Lean func() (string, error)
}

// Run performs every check and, with Fix, the repairs. It never deletes a file
// that still holds something usable: only tokens that are expired and cannot be
// refreshed, expired client registrations, and (with Force) files it cannot parse.
func Run(in Input) []*Finding {
	if in.Getenv == nil {
		in.Getenv = os.Getenv
	}
	var fs []*Finding
	fs = append(fs, checkConfig(in)...)
	fs = append(fs, checkPermissions(in)...)
	fs = append(fs, checkTokenCache(in)...)
	fs = append(fs, checkLeftovers(in)...)
	fs = append(fs, checkEnvironment(in)...)
	fs = append(fs, checkLean(in)...)
	if in.Fix {
		for _, f := range fs {
			if f.repair == nil || f.NeedsForce && !in.Force {
				continue
			}
			if err := f.repair(); err != nil {
				f.FixError = err.Error()
			} else {
				f.Fixed = true
			}
		}
	}
	return fs
}

func checkConfig(in Input) []*Finding {
	if in.Config == nil {
		if in.LoadErr == nil {
			return nil
		}
		return []*Finding{{Check: "config", Severity: Problem, What: "the AWS config cannot be read",
			Where: in.Files.Config, Why: in.LoadErr.Error(),
			Fix: "correct the file; the AWS CLI and every SDK fail on it too"}}
	}
	var out []*Finding
	for _, name := range in.Config.Profiles {
		p, err := in.Config.Resolve(name)
		if err != nil {
			where := in.Files.Config
			var ce *awsconfig.Error
			if errors.As(err, &ce) && ce.File != "" {
				where = ce.File
			}
			out = append(out, &Finding{Check: "profile", Severity: Problem, What: "profile " + name + " is invalid",
				Where: where, Why: err.Error(), Fix: "correct the profile; the AWS CLI rejects it too"})
			continue
		}
		if p.Kind == awsconfig.KindLegacySSO {
			out = append(out, legacyFinding(in.Config, p))
		}
	}
	return out
}

// legacyFinding explains how to move a legacy SSO profile to an sso-session,
// which is what makes its tokens refreshable. ssokeep never edits the config.
func legacyFinding(c *awsconfig.Config, p *awsconfig.Profile) *Finding {
	name := sessionNameFor(c, p.SSO.StartURL)
	var b strings.Builder
	if _, err := c.Session(name); err != nil {
		fmt.Fprintf(&b, "add:\n\n  [sso-session %s]\n  sso_start_url = %s\n  sso_region = %s\n  sso_registration_scopes = sso:account:access\n\n", name, p.SSO.StartURL, p.SSO.Region)
	}
	section := "profile " + p.Name
	if p.Name == "default" {
		section = "default"
	}
	fmt.Fprintf(&b, "and in [%s] replace sso_start_url and sso_region with:\n\n  sso_session = %s\n", section, name)
	return &Finding{Check: "legacy-sso", Severity: Warning,
		What:  "profile " + p.Name + " uses legacy SSO settings",
		Where: p.File,
		Why: "its access token lasts a fixed ~8 h with no refresh token, so nothing (not the SDKs, not ssokeep) " +
			"can keep it alive: a long job stops when it runs out",
		Fix: strings.TrimRight(b.String(), "\n")}
}

// sessionNameFor picks a session name for a start URL: an existing session with
// that URL, else the directory name of the portal (d-1234567890 in
// https://d-1234567890.awsapps.com/start).
func sessionNameFor(c *awsconfig.Config, startURL string) string {
	names := make([]string, 0, len(c.Sessions))
	for n := range c.Sessions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c.Sessions[n].StartURL == startURL {
			return n
		}
	}
	host := strings.TrimPrefix(strings.TrimPrefix(startURL, "https://"), "http://")
	if i := strings.IndexAny(host, "./"); i > 0 {
		host = host[:i]
	}
	if host == "" {
		return "sso"
	}
	return host
}

func checkPermissions(in Input) []*Finding {
	if runtime.GOOS == "windows" {
		return nil // ACLs, not mode bits, guard these files there
	}
	var out []*Finding
	for _, dir := range []string{in.Cache.Path, in.Roles.Path} {
		if dir == "" {
			continue
		}
		if st, err := os.Stat(dir); err == nil && st.IsDir() && st.Mode().Perm()&0o077 != 0 {
			out = append(out, modeFinding(dir, st.Mode().Perm(), 0o700))
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			info, err := e.Info()
			if err == nil && info.Mode().Perm()&0o077 != 0 {
				out = append(out, modeFinding(filepath.Join(dir, e.Name()), info.Mode().Perm(), 0o600))
			}
		}
	}
	return out
}

func modeFinding(path string, have, want fs.FileMode) *Finding {
	return &Finding{Check: "permissions", Severity: Problem,
		What:  fmt.Sprintf("readable by other users (mode %04o)", have),
		Where: path,
		Why:   "it holds tokens or keys that let anyone who reads them act as you in AWS",
		Fix:   fmt.Sprintf("chmod %04o %s", want, path), Fixable: true,
		repair: func() error { return os.Chmod(path, want) }}
}

func checkTokenCache(in Input) []*Finding {
	entries, err := in.Cache.List()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return []*Finding{{Check: "cache", Severity: Problem, What: "the SSO cache cannot be read",
			Where: in.Cache.Path, Why: err.Error(), Fix: "check the directory's owner and permissions"}}
	}
	var out []*Finding
	for _, e := range entries {
		path := e.Path
		remove := func() error { return removeFile(path) }
		switch {
		case e.Err != nil:
			out = append(out, &Finding{Check: "corrupt-cache-file", Severity: Problem,
				What: "not a valid SSO cache file", Where: path,
				Why: e.Err.Error() + "; the AWS CLI and the SDKs fail on it when they need this entry",
				Fix: "remove it (doctor --fix --force), then log in again", Fixable: true, NeedsForce: true, repair: remove})
		case e.Token != nil && e.Token.Remaining(in.Now) <= 0 && !e.Token.Refreshable(in.Now):
			out = append(out, &Finding{Check: "expired-token", Severity: Info,
				What:  "expired token that cannot be refreshed",
				Where: path + " (" + e.Token.StartURL + ")",
				Why:   fmt.Sprintf("it expired %s and has no usable refresh token: it is dead weight", e.Token.ExpiresAt.UTC().Format(time.RFC3339)),
				Fix:   "remove it (doctor --fix)", Fixable: true, repair: remove})
		case e.Registration != nil && !e.Registration.ExpiresAt.IsZero() && !e.Registration.ExpiresAt.After(in.Now):
			out = append(out, &Finding{Check: "expired-registration", Severity: Info,
				What:  "expired client registration",
				Where: path,
				Why:   fmt.Sprintf("it expired %s; the next login registers a new client", e.Registration.ExpiresAt.UTC().Format(time.RFC3339)),
				Fix:   "remove it (doctor --fix)", Fixable: true, repair: remove})
		}
	}
	return out
}

// leftoverAge is how old a temporary file must be before doctor calls it a
// leftover: a write in progress renames its file within milliseconds.
const leftoverAge = time.Hour

// checkLeftovers finds temporary files that a writer killed between writing
// and renaming left behind (".<name>.json.*.tmp"): nobody reads them, but they
// hold tokens or keys.
func checkLeftovers(in Input) []*Finding {
	var out []*Finding
	for _, dir := range []string{in.Cache.Path, in.Roles.Path} {
		if dir == "" {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			name := e.Name()
			info, err := e.Info()
			if e.IsDir() || !strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".tmp") || !strings.Contains(name, ".json.") ||
				err != nil || in.Now.Sub(info.ModTime()) < leftoverAge {
				continue
			}
			path := filepath.Join(dir, name)
			out = append(out, &Finding{Check: "leftover-temp-file", Severity: Info,
				What: "a temporary file an interrupted write left behind", Where: path,
				Why: "no tool reads it, but it may hold a token or keys", Fix: "remove it (doctor --fix)",
				Fixable: true, repair: func() error { return removeFile(path) }})
		}
	}
	return out
}

func removeFile(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// checkEnvironment finds what outranks credentials served to a job (see the
// SDKs' chain order in docs/): a job started by `ssokeep exec` is cleaned of
// these, but credential_process users and other tools are not.
func checkEnvironment(in Input) []*Finding {
	var out []*Finding
	env := func(k string) string { return strings.TrimSpace(in.Getenv(k)) }
	var keys []string
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"} {
		if env(k) != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		out = append(out, &Finding{Check: "env-keys", Severity: Warning,
			What: strings.Join(keys, ", ") + " set", Where: "environment",
			Why: "static keys in the environment win over every profile in every SDK, so the profile you name is " +
				"ignored and the keys never refresh",
			Fix: "unset " + strings.Join(keys, " ")})
	}
	if in.Config != nil {
		for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
			name := env(k)
			if name == "" {
				continue
			}
			if _, err := in.Config.Resolve(name); errors.Is(err, awsconfig.ErrProfileNotFound) {
				out = append(out, &Finding{Check: "env-profile", Severity: Problem,
					What: fmt.Sprintf("%s names profile %q, which is not in the config", k, name), Where: "environment",
					Why: "boto3 and the Go SDK stop with ProfileNotFound instead of falling back to other credentials",
					Fix: fmt.Sprintf("unset %s, or add [profile %s] to %s", k, name, in.Files.Config)})
			}
		}
		if p, err := in.Config.Resolve("default"); err == nil && p.Static != nil {
			out = append(out, &Finding{Check: "default-keys", Severity: Warning,
				What: "the default profile has static keys", Where: p.File,
				Why: "any program run without a profile uses them (they rank above credentials served by ssokeep " +
					"through credential_process or the container endpoint)",
				Fix: "move the keys into a named profile"})
		}
	}
	boto := []string{filepath.Join(in.Home, ".boto"), in.SystemBotoConfig}
	if b := env("BOTO_CONFIG"); b != "" {
		boto = append([]string{b}, boto...)
	}
	for _, path := range boto {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err == nil {
			out = append(out, &Finding{Check: "boto-config", Severity: Warning,
				What: "a legacy boto config file exists", Where: path,
				Why: "botocore reads keys from it before it asks the container endpoint that `ssokeep exec` serves",
				Fix: "remove any aws_access_key_id/aws_secret_access_key from it"})
		}
	}
	for k, why := range map[string]string{
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "it takes precedence over the endpoint `ssokeep exec` sets (AWS_CONTAINER_CREDENTIALS_FULL_URI)",
		"AWS_WEB_IDENTITY_TOKEN_FILE":            "web identity outranks SSO and the container endpoint in the SDK chains",
		"AWS_CREDENTIAL_FILE":                    "botocore reads keys from this legacy file before the container endpoint",
	} {
		if env(k) != "" {
			out = append(out, &Finding{Check: "env-shadow", Severity: Warning, What: k + " set", Where: "environment",
				Why: why, Fix: "unset " + k})
		}
	}
	if p := env("METAFLOW_DATATOOLS_CLIENT_PARAMS"); p != "" {
		var params map[string]any
		if json.Unmarshal([]byte(p), &params) == nil {
			for _, k := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
				if _, ok := params[k]; ok {
					out = append(out, &Finding{Check: "metaflow-keys", Severity: Problem,
						What:  "METAFLOW_DATATOOLS_CLIENT_PARAMS pins static credentials",
						Where: "environment",
						Why:   "Metaflow passes them to every S3 client, so fresh credentials are never used and the flow dies when they expire",
						Fix:   "remove aws_access_key_id, aws_secret_access_key and aws_session_token from it"})
					break
				}
			}
		}
	}
	if v := strings.ToLower(env("METAFLOW_AWS_SANDBOX_ENABLED")); v == "true" || v == "1" {
		out = append(out, &Finding{Check: "metaflow-sandbox", Severity: Warning,
			What: "METAFLOW_AWS_SANDBOX_ENABLED is on", Where: "environment",
			Why: "Metaflow then fetches credentials once from its sandbox service and ignores the AWS chain",
			Fix: "unset METAFLOW_AWS_SANDBOX_ENABLED"})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Check != out[j].Check {
			return out[i].Check < out[j].Check
		}
		return out[i].What < out[j].What
	})
	return out
}

// checkLean notes when exec and serve would run in the full binary: nothing
// breaks, but the process beside the job keeps more of itself resident.
func checkLean(in Input) []*Finding {
	if in.Lean == nil {
		return nil
	}
	if _, err := in.Lean(); err != nil {
		return []*Finding{{Check: "keeper-binary", Severity: Info,
			What: "exec and serve will run in ssokeep itself, not in ssokeep-keeper", Where: err.Error(),
			Why: "those processes live as long as the job; ssokeep-keeper links neither the emulator nor the demo " +
				"and keeps about 5 MiB less of itself in memory",
			Fix: "install the binaries together from one build: CGO_ENABLED=0 go install ./cmd/..."}}
	}
	return nil
}
