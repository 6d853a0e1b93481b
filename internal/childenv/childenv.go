// Package childenv builds the environment of a job run under `ssokeep exec`:
// it removes everything that ranks above the container-credentials provider
// in the SDKs' credential chains, neutralises the user's credential files
// while keeping the profile's other settings (region, retries, S3 addressing,
// CA bundle...), and points the SDKs at ssokeep's endpoint.
package childenv

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Unset are the variables that outrank the container provider in botocore
// and the Go/JS SDKs, or would redirect it (reference/boto3-and-metaflow.md §5).
var Unset = []string{
	// static keys win over everything
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
	// a named profile is read from files (and a missing one is fatal)
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	// web identity ranks above SSO and the container provider
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	// another container endpoint: RELATIVE_URI wins over FULL_URI
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	// legacy files botocore reads before the container provider
	"AWS_CREDENTIAL_FILE", "BOTO_CONFIG",
	// replaced by generated files
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
}

// credentialKeys are profile settings that choose or carry credentials: none
// of them may reach the child's config, or its SDK would use them instead of
// the endpoint.
var credentialKeys = map[string]bool{
	"aws_access_key_id": true, "aws_secret_access_key": true, "aws_session_token": true, "aws_security_token": true,
	"role_arn": true, "source_profile": true, "credential_source": true, "role_session_name": true,
	"external_id": true, "mfa_serial": true, "duration_seconds": true, "credential_process": true,
	"web_identity_token_file": true, "sso_session": true, "sso_start_url": true, "sso_region": true,
	"sso_account_id": true, "sso_role_name": true, "sso_registration_scopes": true, "login_session": true,
	// a [services] section is not copied, so a reference to it would dangle
	"services": true,
}

// Options are what Build needs.
type Options struct {
	Base     []string          // the parent's environment (os.Environ())
	Endpoint []string          // KEY=VALUE lines from serve.Server.Env
	Settings map[string]string // the profile's settings (awsconfig.Profile.Settings)
	Dir      string            // a private directory for the generated files (0700)
}

// Result is the child's environment and what the user should know about it.
type Result struct {
	Env      []string
	Warnings []string
}

// Build writes the generated files into o.Dir and returns the environment.
func Build(o Options) (*Result, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	config := filepath.Join(o.Dir, "config")
	empty := filepath.Join(o.Dir, "empty")
	if err := os.WriteFile(config, []byte(ConfigFile(o.Settings)), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range Unset {
		drop[k] = true
	}
	r := &Result{}
	for _, kv := range o.Base {
		k, v, _ := strings.Cut(kv, "=")
		if drop[k] {
			continue
		}
		r.Env = append(r.Env, kv)
		r.Warnings = append(r.Warnings, metaflowWarnings(k, v)...)
	}
	r.Env = append(r.Env,
		"AWS_CONFIG_FILE="+config,
		// An empty file, not /dev/null: it exists on every OS.
		"AWS_SHARED_CREDENTIALS_FILE="+empty,
		// botocore reads ~/.boto and /etc/boto.cfg unless BOTO_CONFIG names a file.
		"BOTO_CONFIG="+empty,
		// Never fall through to the instance metadata service if the endpoint fails.
		"AWS_EC2_METADATA_DISABLED=true",
	)
	r.Env = append(r.Env, o.Endpoint...)
	if _, ok := o.Settings["services"]; ok {
		r.Warnings = append(r.Warnings, "the profile's `services` setting (custom endpoints) is not passed to the job")
	}
	return r, nil
}

// ConfigFile is an AWS config whose [default] profile has the settings that
// do not concern credentials: region, retry_mode, ca_bundle, s3 = ... and so on.
func ConfigFile(settings map[string]string) string {
	keys := make([]string, 0, len(settings))
	for k := range settings {
		if !credentialKeys[k] && !strings.HasPrefix(k, "ssokeep_") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# Written by ssokeep exec for one job: the profile's settings, no credentials.\n[default]\n")
	for _, k := range keys {
		v := settings[k]
		if strings.HasPrefix(v, "\n") { // a nested block such as s3 = \n addressing_style = path
			fmt.Fprintf(&b, "%s =\n", k)
			for _, line := range strings.Split(strings.TrimPrefix(v, "\n"), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					fmt.Fprintf(&b, "  %s\n", line)
				}
			}
			continue
		}
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	return b.String()
}

// metaflowWarnings says when Metaflow would pin static credentials despite the
// endpoint (reference/boto3-and-metaflow.md §1, "Where stale credentials can persist").
func metaflowWarnings(k, v string) []string {
	switch k {
	case "METAFLOW_DATATOOLS_CLIENT_PARAMS":
		var params map[string]any
		if json.Unmarshal([]byte(v), &params) == nil {
			for _, key := range []string{"aws_access_key_id", "aws_secret_access_key", "aws_session_token"} {
				if _, ok := params[key]; ok {
					return []string{"METAFLOW_DATATOOLS_CLIENT_PARAMS sets " + key + ": Metaflow will use those static keys, not the fresh ones ssokeep serves; remove the aws_* keys from it"}
				}
			}
		}
	case "METAFLOW_AWS_SANDBOX_ENABLED":
		if s := strings.ToLower(v); s == "true" || s == "1" {
			return []string{"METAFLOW_AWS_SANDBOX_ENABLED is on: Metaflow fetches its own credentials once and ignores ssokeep's"}
		}
	}
	return nil
}
