package ssocache

import (
	"testing"
)

// Vectors computed once with botocore 1.43.11 (SSOTokenLoader._generate_cache_key,
// SSOCredentialFetcher._create_cache_key) and the CLI v2's registration-key recipe.
func TestKeysKnownVectors(t *testing.T) {
	const url = "https://d-1234567890.awsapps.com/start"
	cases := []struct{ name, got, want string }{
		{"token for sso-session corp", TokenKey("corp"), "ee0bfd2552fbd840c02cc48b6e823320543c450f"},
		{"token for a legacy start URL", TokenKey(url), "7487b5b67d5fa1132cf33fa93ae51ef38cc37752"},
		{"registration", RegistrationKey(RegistrationKeyInput{
			StartURL: url, Region: "eu-west-1", SessionName: "corp", Scopes: []string{"sso:account:access"},
		}), "c6a06e42182fb324db02aec3d36dc183754bc04e"},
		{"role", RoleKey("111122223333", "Dev", "corp", url), "20985b56d713cfd135648cadc68a6115ca80d9a5"},
		{"legacy registration", LegacyRegistrationKey("us-east-1"), "botocore-client-id-us-east-1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: key %s, want %s", c.name, c.got, c.want)
		}
	}
}

// The keys must match what botocore computes for any input a config file can hold, including text that
// Python's json.dumps escapes (quotes, backslashes, control characters, DEL, non-ASCII, beyond the BMP).
func TestKeysMatchBotocore(t *testing.T) {
	tricky := []string{
		"corp", "", "my session", `quo"te`, `back\slash`, "tab\there", "nl\nand\r\f\b", "\x01\x1f\x7f",
		"é-ü-ß", "日本語", "emoji 😀 𝄞", "slash/and:colon", "https://d-1234567890.awsapps.com/start#x",
	}
	type tokIn struct {
		StartURL    string  `json:"startUrl"`
		SessionName *string `json:"sessionName"`
	}
	type regIn struct {
		StartURL    string   `json:"startUrl"`
		Region      string   `json:"region"`
		SessionName *string  `json:"sessionName"`
		Scopes      []string `json:"scopes"`
	}
	type roleIn struct {
		AccountID   string `json:"accountId"`
		RoleName    string `json:"roleName"`
		SessionName string `json:"sessionName"`
		StartURL    string `json:"startUrl"`
	}
	var in struct {
		Tokens        []tokIn  `json:"tokens"`
		Registrations []regIn  `json:"registrations"`
		Roles         []roleIn `json:"roles"`
	}
	var want struct{ Tokens, Registrations, Roles []string }

	var gotTokens, gotRegs, gotRoles []string
	for _, s := range tricky {
		s := s
		// Session name (botocore hashes it when set; an empty name is falsy only for the role key).
		in.Tokens = append(in.Tokens, tokIn{StartURL: "ignored", SessionName: &s})
		gotTokens = append(gotTokens, TokenKey(s))
		in.Tokens = append(in.Tokens, tokIn{StartURL: s})
		gotTokens = append(gotTokens, TokenKey(s))

		for _, scopes := range [][]string{nil, {}, {"sso:account:access"}, {s, "codewhisperer:completions"}} {
			var name *string
			if s != "" {
				name = &s
			}
			in.Registrations = append(in.Registrations, regIn{StartURL: "https://x/" + s, Region: "eu-west-1", SessionName: name, Scopes: scopes})
			gotRegs = append(gotRegs, RegistrationKey(RegistrationKeyInput{StartURL: "https://x/" + s, Region: "eu-west-1", SessionName: s, Scopes: scopes}))
		}

		in.Roles = append(in.Roles, roleIn{AccountID: "111122223333", RoleName: "Dev" + s, SessionName: s, StartURL: "https://u/" + s})
		gotRoles = append(gotRoles, RoleKey("111122223333", "Dev"+s, s, "https://u/"+s))
		in.Roles = append(in.Roles, roleIn{AccountID: "0" + s, RoleName: "R", StartURL: s})
		gotRoles = append(gotRoles, RoleKey("0"+s, "R", "", s))
	}
	runBotocore(t, t.TempDir(), "keys", in, &want)

	check := func(kind string, got, want []string, inputs func(i int) any) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: botocore returned %d keys for %d inputs", kind, len(want), len(got))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s key for %+v: %s, botocore says %s", kind, inputs(i), got[i], want[i])
			}
		}
	}
	check("token", gotTokens, want.Tokens, func(i int) any { return in.Tokens[i] })
	check("registration", gotRegs, want.Registrations, func(i int) any { return in.Registrations[i] })
	check("role", gotRoles, want.Roles, func(i int) any { return in.Roles[i] })
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{TokenKey("corp"), LegacyRegistrationKey("us-east-1"), "A_b.c-1"} {
		if err := validKey(k); err != nil {
			t.Errorf("validKey(%q): %v", k, err)
		}
	}
	for _, k := range []string{"", ".", "..", "../x", "a/b", `a\b`, ".hidden", "-flag", "a b", "a\x00b"} {
		if err := validKey(k); err == nil {
			t.Errorf("validKey(%q) accepted a key that could leave or hide in the directory", k)
		}
	}
	d := Dir{Path: t.TempDir()}
	if _, err := d.LoadToken("../escape"); err == nil {
		t.Error("LoadToken accepted ../escape")
	}
	if err := d.SaveToken("../escape", sampleToken()); err == nil {
		t.Error("SaveToken accepted ../escape")
	}
}
