// Package awsconfig reads the AWS shared config and credentials files the way the AWS CLI v2 and botocore do,
// and resolves a profile into a typed description: which credential source it uses (SSO, legacy SSO,
// assume-role, MFA session, static keys, credential_process, ...), what that source needs, and every problem as
// an *Error that names the file, the section and the key.
//
// Where botocore and the Go SDK disagree, this package follows botocore (the CLI and the boto3/Metaflow jobs
// ssokeep keeps alive); each such place says so. aws-sdk-go-v2/config is the test oracle for the cases on which
// they agree.
package awsconfig

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/kballard/go-shellquote"
)

// Config is the content of both shared files.
type Config struct {
	Files        Files
	Profiles     []string               // every profile name, in file order (config, then credentials-only ones)
	Sessions     map[string]*SSOSession // every [sso-session] as written; Session(name) also validates it
	SessionNames []string               // the keys of Sessions, in file order

	profiles map[string]*rawProfile
	sessions map[string]*section
}

// rawProfile is a profile's sections: botocore merges them key by key, credentials-file keys winning.
type rawProfile struct {
	name string
	cfg  *section // [profile NAME] or [default] in the config file, nil if none
	cred *section // [NAME] in the credentials file, nil if none
}

// get looks a key up in the merged profile.
func (rp *rawProfile) get(key string) (string, bool) {
	if v, ok := rp.cred.get(key); ok {
		return v, true
	}
	return rp.cfg.get(key)
}

func (rp *rawProfile) has(key string) bool { _, ok := rp.get(key); return ok }

// at says where a key of the merged profile lives (for error messages); without the key, the profile's main
// section.
func (rp *rawProfile) at(key string) *section {
	if rp.cred.has(key) || rp.cfg == nil {
		return rp.cred
	}
	return rp.cfg
}

// SSOSession is an [sso-session NAME] section.
type SSOSession struct {
	Name               string
	StartURL           string        // sso_start_url
	Region             string        // sso_region
	RegistrationScopes []string      // sso_registration_scopes, comma separated; nil when absent
	SessionDuration    time.Duration // ssokeep_session_duration: the IdC session length the admin set; 0 = unknown
	File               string
}

// SessionDurationKey is ssokeep's own key in an [sso-session]: how long the IAM Identity Center sign-in session
// lasts (admin setting, no API tells it). botocore and the SDKs ignore unknown keys.
const SessionDurationKey = "ssokeep_session_duration"

// Load reads both files. A missing file (or an empty path) is not an error: it reads as empty, as in botocore. An
// unreadable or malformed file is an *Error naming the file.
func Load(f Files) (*Config, error) {
	cfg, err := readFile(f.Config)
	if err != nil {
		return nil, err
	}
	creds, err := readFile(f.Credentials)
	if err != nil {
		return nil, err
	}
	return parse(f, cfg, creds)
}

func readFile(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		var pe *fs.PathError
		msg := err.Error()
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return nil, &Error{File: path, Err: err,
			Msg: "cannot be read (" + msg + "); fix its permissions or point the variable (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE) at a readable file"}
	}
	return data, nil
}

// parse builds a Config from the two files' contents (nil = no file).
func parse(f Files, cfgData, credData []byte) (*Config, error) {
	c := &Config{Files: f, Sessions: map[string]*SSOSession{}, profiles: map[string]*rawProfile{}, sessions: map[string]*section{}}
	var cfgSecs, credSecs []*section
	var err error
	if cfgData != nil {
		if cfgSecs, err = parseFile(f.Config, cfgData); err != nil {
			return nil, err
		}
	}
	if credData != nil {
		if credSecs, err = parseFile(f.Credentials, credData); err != nil {
			return nil, err
		}
	}
	// botocore configloader.build_profile_map: in file order, a later section of the same name replaces the
	// earlier one as a whole (so of [default] and [profile default] the later wins; the Go SDK always prefers
	// [profile default]). Bare [NAME] sections other than [default] are not profiles; [services NAME] are not
	// needed here.
	for _, s := range cfgSecs {
		switch {
		case strings.HasPrefix(s.name, "profile"):
			if name, ok := prefixedName(s.name); ok {
				c.profile(name).cfg = s
			}
		case strings.HasPrefix(s.name, "sso-session"):
			if name, ok := prefixedName(s.name); ok {
				if _, seen := c.sessions[name]; !seen {
					c.SessionNames = append(c.SessionNames, name)
				}
				c.sessions[name] = s
			}
		case strings.HasPrefix(s.name, "services"):
		case s.name == "default":
			c.profile("default").cfg = s
		}
	}
	// botocore session.full_config: every credentials-file section is a profile named verbatim (no "profile "
	// prefix there; the Go SDK drops [profile X] sections from this file, botocore lists them as "profile X").
	for _, s := range credSecs {
		c.profile(s.name).cred = s
	}
	for name, s := range c.sessions {
		c.Sessions[name] = newSession(name, s)
	}
	return c, nil
}

// profile returns the named profile, appending it to the list on first sight.
func (c *Config) profile(name string) *rawProfile {
	rp, ok := c.profiles[name]
	if !ok {
		rp = &rawProfile{name: name}
		c.profiles[name] = rp
		c.Profiles = append(c.Profiles, name)
	}
	return rp
}

// prefixedName is botocore's _parse_section: the header split like a shell (shlex.split) must have exactly two
// words, and the second is the name. So [profile  dev] is "dev", [profile "my dev"] is "my dev", and
// [profile a b] or [profilex] are not profiles at all (botocore ignores them silently).
func prefixedName(header string) (string, bool) {
	words, err := shellquote.Split(header)
	if err != nil || len(words) != 2 {
		return "", false
	}
	return words[1], true
}

func newSession(name string, s *section) *SSOSession {
	ss := &SSOSession{Name: name, File: s.file}
	ss.StartURL, _ = s.get("sso_start_url")
	ss.Region, _ = s.get("sso_region")
	if v, ok := s.get("sso_registration_scopes"); ok {
		ss.RegistrationScopes = parseScopes(v)
	}
	if v, ok := s.get(SessionDurationKey); ok {
		if d, err := ParseDuration(v); err == nil {
			ss.SessionDuration = d
		}
	}
	return ss
}

// parseScopes is the CLI's parse_sso_registration_scopes: comma separated, trimmed, empty items dropped. A key that
// is present but empty gives an empty, non-nil list.
func parseScopes(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Session looks up an [sso-session] and checks that it can be used: it needs sso_start_url and sso_region, and
// ssokeep_session_duration, if set, must be a positive duration.
func (c *Config) Session(name string) (*SSOSession, error) {
	s, ok := c.sessions[name]
	if !ok {
		msg := "no such section in this file; add it (aws configure sso-session) or fix the name"
		if near := closeNames(name, c.SessionNames); len(near) > 0 {
			msg += "; did you mean " + quoteList(near) + "?"
		}
		return nil, &Error{File: c.Files.Config, Section: "sso-session " + name, Msg: msg}
	}
	if v, _ := s.get("sso_start_url"); v == "" {
		return nil, &Error{File: s.file, Section: s.name, Key: "sso_start_url",
			Msg: "missing; add your AWS access portal URL, e.g. sso_start_url = https://my-org.awsapps.com/start"}
	}
	if v, _ := s.get("sso_region"); v == "" {
		return nil, &Error{File: s.file, Section: s.name, Key: "sso_region",
			Msg: "missing; add the region of your IAM Identity Center instance, e.g. sso_region = us-east-1"}
	}
	if v, ok := s.get(SessionDurationKey); ok {
		d, err := ParseDuration(v)
		if err != nil {
			return nil, &Error{File: s.file, Section: s.name, Key: SessionDurationKey, Msg: err.Error()}
		}
		if d <= 0 {
			return nil, &Error{File: s.file, Section: s.name, Key: SessionDurationKey,
				Msg: "must be longer than zero; set the session duration from the IAM Identity Center settings (e.g. 8h, 12h, 90d) or remove the key"}
		}
	}
	return c.Sessions[name], nil
}
