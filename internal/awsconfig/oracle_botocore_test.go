package awsconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// botoResult is what testdata/botocore_oracle.py reports for one pair of files.
type botoResult struct {
	ParseError *string                                    `json:"parse_error"`
	Profiles   []string                                   `json:"profiles"`
	Config     map[string]map[string]any                  `json:"config"`
	Sessions   map[string]map[string]any                  `json:"sessions"`
	Resolve    map[string]struct{ Method, Error *string } `json:"resolve"`
}

// pythons are the interpreters whose botocore serves as oracle: the python3 on PATH (botocore 1.43) and
// Debian's (botocore 1.29), each when present.
func pythons(t *testing.T) []string {
	var out []string
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		}
		dup := false
		for _, o := range out {
			dup = dup || o == path
		}
		if !dup && exec.Command(path, "-c", "import botocore").Run() == nil {
			out = append(out, path)
		}
	}
	if len(out) == 0 {
		t.Skip("no python3 with botocore installed: the botocore oracle cannot run")
	}
	return out
}

// TestBotocoreOracle reads every test config with botocore (as the AWS CLI does) and requires the same profile
// list, the same merged keys per profile and sso-session, the same parse failures, and the same credential
// source or failure for every profile — except where a case names botocore's known difference, which must then
// really show.
func TestBotocoreOracle(t *testing.T) {
	for _, py := range pythons(t) {
		t.Run(filepath.Base(py), func(t *testing.T) {
			t.Parallel()
			botocoreOracle(t, py)
		})
	}
}

func botocoreOracle(t *testing.T, python string) {
	type input struct {
		ID          string `json:"id"`
		Config      string `json:"config"`
		Credentials string `json:"credentials"`
	}
	var in []input
	loaded := map[string]*Config{}
	loadErrs := map[string]error{}
	for i, tc := range cases {
		f := files(t, tc.config, tc.creds)
		id := fmt.Sprint(i)
		in = append(in, input{id, f.Config, f.Credentials})
		loaded[id], loadErrs[id] = Load(f)
	}
	body, _ := json.Marshal(in)
	out := runOracle(t, python, body)
	hasLogin := exec.Command(python, "-c", "import botocore.credentials as c; c.LoginProvider").Run() == nil

	for i, tc := range cases {
		id := fmt.Sprint(i)
		r, ok := out[id]
		if !ok {
			t.Fatalf("%s: no oracle result", tc.name)
		}
		c, loadErr := loaded[id], loadErrs[id]
		if (r.ParseError != nil) != (loadErr != nil) {
			if tc.boto == "" || !tc.loadErr {
				t.Errorf("%s: botocore parse error %v, ours %v", tc.name, deref(r.ParseError), loadErr)
			}
			continue
		}
		if loadErr != nil {
			if tc.loadErr && tc.boto != "" {
				t.Errorf("%s: expected botocore to differ (%s) but it fails too", tc.name, tc.boto)
			}
			continue
		}
		if !reflect.DeepEqual(c.Profiles, r.Profiles) && !(len(c.Profiles) == 0 && len(r.Profiles) == 0) {
			t.Errorf("%s: profiles %q, botocore %q", tc.name, c.Profiles, r.Profiles)
		}
		for _, name := range c.Profiles {
			if d := diffKeys(rawView(c.profiles[name]), r.Config[name]); d != "" {
				t.Errorf("%s: profile %q keys differ: %s", tc.name, name, d)
			}
			sameAsBotocore(t, tc, c, name, r.Config[name], r.Resolve[name].Method, r.Resolve[name].Error, hasLogin)
		}
		for _, name := range c.SessionNames {
			if d := diffKeys(sectionView(c.sessions[name]), r.Sessions[name]); d != "" {
				t.Errorf("%s: sso-session %q keys differ: %s", tc.name, name, d)
			}
		}
		if len(c.SessionNames) != len(r.Sessions) {
			t.Errorf("%s: sessions %q, botocore has %d", tc.name, c.SessionNames, len(r.Sessions))
		}
	}
}

func sameAsBotocore(t *testing.T, tc tcase, c *Config, name string, raw map[string]any, method, boErr *string, hasLogin bool) {
	t.Helper()
	p, err := c.Resolve(name)
	var ours, theirs string
	if err != nil {
		ours = "error"
	} else {
		ours = string(p.Kind)
		switch p.Kind {
		case KindMFASession:
			ours = string(KindStatic) // botocore uses such keys as they are; ssokeep adds GetSessionToken
		case KindLogin:
			if !hasLogin {
				ours = string(KindNone) // botocore before 1.42 has no login provider
			}
		}
	}
	switch {
	case boErr != nil:
		theirs = "error"
	case method == nil:
		theirs = string(KindNone)
	default:
		theirs = map[string]string{
			"assume-role": string(KindAssumeRole), "assume-role-with-web-identity": string(KindWebIdentity),
			"shared-credentials-file": string(KindStatic), "config-file": string(KindStatic),
			"custom-process": string(KindProcess), "login": string(KindLogin),
		}[*method]
		if *method == "sso" {
			theirs = string(KindLegacySSO)
			if _, ok := raw["sso_session"]; ok {
				theirs = string(KindSSO)
			}
		}
		if theirs == "" {
			theirs = "method " + *method
		}
	}
	if name == tc.profile && tc.boto != "" {
		if ours == theirs {
			t.Errorf("%s: profile %q: expected botocore to differ (%s) but both say %s", tc.name, name, tc.boto, ours)
		}
		return
	}
	if ours != theirs {
		t.Errorf("%s: profile %q: ours %s (%v), botocore %s (%s)", tc.name, name, ours, err, theirs, deref(boErr))
	}
}

func runOracle(t *testing.T, python string, input []byte) map[string]botoResult {
	t.Helper()
	cmd := exec.Command(python, filepath.Join("testdata", "botocore_oracle.py"))
	// A clean environment: no credentials or profile from the machine, no IMDS, every endpoint on loopback.
	env := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "PYTHONUTF8=1", "AWS_EC2_METADATA_DISABLED=true",
		"BOTO_CONFIG=/nonexistent", "AWS_ENDPOINT_URL=http://127.0.0.1:9"}
	for _, svc := range []string{"SSO", "SSO_OIDC", "STS", "SIGNIN"} {
		env = append(env, "AWS_ENDPOINT_URL_"+svc+"=http://127.0.0.1:9")
	}
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		// stderr is a Python traceback about the driver, not file contents.
		t.Fatalf("%s botocore_oracle.py: %v\n%s", python, err, stderr.String())
	}
	out := map[string]botoResult{}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("oracle output: %v", err)
	}
	return out
}

// rawView is the merged profile as botocore's session.full_config holds it: config-file keys, overridden by
// credentials-file keys, nested blocks as maps.
func rawView(rp *rawProfile) map[string]any {
	m := map[string]any{}
	for _, s := range []*section{rp.cfg, rp.cred} {
		for k, v := range sectionView(s) {
			m[k] = v
		}
	}
	return m
}

func sectionView(s *section) map[string]any {
	m := map[string]any{}
	if s == nil {
		return m
	}
	for _, k := range s.keys {
		v := s.vals[k]
		if !strings.HasPrefix(v, "\n") {
			m[k] = v
			continue
		}
		nested := map[string]any{} // botocore configloader._parse_nested
		for _, l := range strings.Split(v, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				k2, v2, _ := strings.Cut(l, "=")
				nested[strings.TrimSpace(k2)] = strings.TrimSpace(v2)
			}
		}
		m[k] = nested
	}
	return m
}

// diffKeys names the keys whose values differ, showing values only for keys that cannot hold a secret.
func diffKeys(ours, theirs map[string]any) string {
	var d []string
	keys := map[string]bool{}
	for k := range ours {
		keys[k] = true
	}
	for k := range theirs {
		keys[k] = true
	}
	for k := range keys {
		if reflect.DeepEqual(ours[k], theirs[k]) {
			continue
		}
		if secretKeys[k] {
			d = append(d, k+" (values hidden)")
		} else {
			d = append(d, fmt.Sprintf("%s: ours %#v, botocore %#v", k, ours[k], theirs[k]))
		}
	}
	sort.Strings(d)
	return strings.Join(d, "; ")
}

func deref(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}
