package awsconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// secretLike is what the fuzz target treats as a secret it must never see in output: long, key-like values
// (no message template of this package has such a run of characters).
var secretLike = regexp.MustCompile(`^[A-Za-z0-9/+]{20,}$`)

// FuzzLoad feeds arbitrary config and credentials text through Load's parser. It must never panic, every error
// must be an *Error, and a config that loads must resolve every listed profile and session (to a profile or an
// *Error) without leaking a secret value. Seeds: testdata/fuzz/FuzzLoad (the TestResolve configs and more).
func FuzzLoad(f *testing.F) {
	f.Add([]byte(devSSO+corpSession), []byte(baseKeys))
	f.Fuzz(func(t *testing.T, config, creds []byte) {
		files := Files{Config: "/fuzz/config", Credentials: "/fuzz/credentials"}
		c, err := parse(files, config, creds)
		input := string(config) + "\x00" + string(creds)
		if err != nil {
			mustBeError(t, err, nil, input)
			return
		}
		var secretVals []string
		for _, rp := range c.profiles {
			for _, s := range []*section{rp.cfg, rp.cred} {
				for _, k := range []string{"aws_secret_access_key", "aws_session_token", "aws_security_token"} {
					if v, ok := s.get(k); ok && secretLike.MatchString(v) && mixedCaseDigit(v) && strings.Count(input, v) == 1 {
						secretVals = append(secretVals, v)
					}
				}
			}
		}
		if len(c.Profiles) != len(c.profiles) {
			t.Fatalf("Profiles lists %d names for %d profiles", len(c.Profiles), len(c.profiles))
		}
		for _, name := range c.Profiles {
			p, err := c.Resolve(name)
			if err != nil {
				mustBeError(t, err, secretVals, input)
				continue
			}
			if p.Name != name {
				t.Fatalf("Resolve(%q) named %q", name, p.Name)
			}
			switch p.Kind {
			case KindSSO, KindLegacySSO:
				if p.SSO == nil || p.SSO.AccountID == "" || p.SSO.RoleName == "" || p.SSO.StartURL == "" || p.SSO.Region == "" {
					t.Fatalf("%q: incomplete SSO profile %+v", name, p.SSO)
				}
			case KindAssumeRole:
				if p.Role == nil || p.Role.RoleARN == "" || (p.Role.Source == nil) == (p.Role.CredentialSource == "") {
					t.Fatalf("%q: bad assume-role %+v", name, p.Role)
				}
			case KindStatic, KindMFASession:
				if p.Static == nil || p.Static.AccessKeyID == "" || p.Static.SecretAccessKey == "" {
					t.Fatalf("%q: static kind without keys", name)
				}
			case KindProcess, KindWebIdentity, KindLogin, KindNone:
			default:
				t.Fatalf("%q: unknown kind %q", name, p.Kind)
			}
			for k := range p.Settings {
				if secretKeys[k] {
					t.Fatalf("%q: Settings holds %s", name, k)
				}
			}
			out := fmt.Sprintf("%v %+v %s", p, p.Static, dump(p))
			for _, s := range secretVals {
				if strings.Contains(out, s) {
					t.Fatalf("%q: printed profile shows a secret", name)
				}
			}
		}
		for _, name := range c.SessionNames {
			if _, err := c.Session(name); err != nil {
				mustBeError(t, err, secretVals, input)
			}
		}
		if _, ok := c.profiles["\x00none"]; !ok {
			if _, err := c.Resolve("\x00none"); !errors.Is(err, ErrProfileNotFound) {
				t.Fatalf("unknown profile: %v", err)
			}
		}
	})
}

func mixedCaseDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789") && strings.ToLower(s) != s && strings.ToUpper(s) != s
}

func mustBeError(t *testing.T, err error, secretVals []string, input string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error of type %T: %v", err, err)
	}
	msg := err.Error()
	for _, s := range secretVals {
		if strings.Contains(msg, s) {
			t.Fatalf("error message shows a secret value")
		}
	}
	// Syntax errors come before keys can be told apart: check the seeds' fake secrets, when they stand on a line
	// of a secret key (quoting the same text as, say, a source_profile name is fine).
	for _, s := range secrets {
		if strings.Contains(msg, s) && strings.Count(input, s) == 1 && onSecretLine(input, s) {
			t.Fatalf("error message shows a seed secret")
		}
	}
}

func onSecretLine(input, s string) bool {
	i := strings.Index(input, s)
	start := strings.LastIndexAny(input[:i], "\n\r") + 1
	line := strings.ToLower(input[start:i])
	for k := range secretKeys {
		if k != "aws_access_key_id" && strings.Contains(line, k) {
			return true
		}
	}
	return false
}
