package ssocache

import (
	"bytes"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Seeds beyond testdata/fuzz/<Fuzz>/: the writers' formats and some near misses.
var fuzzTokenSeeds = []string{
	cliToken,
	`{"accessToken":"a","expiresAt":"2030-05-17T09:30:00.000Z","startUrl":"u"}`,
	`{"accessToken": "a", "expiresAt": "2030-05-17T09:30:00+02:00", "x": {"y": [1, "\u00e9", null]}, "x": 2}`,
	`{"accessToken": "a\ud800b", "expiresAt": "2030-05-17T09:30:00UTC", "k\"ey": "v"}`,
	`{"accessToken": "a", "expiresAt": "9999-12-31T23:59:59Z", "registrationExpiresAt": "0000-01-01T00:00:00Z"}`,
	`{"accessToken": "a", "expiresAt": "9999-12-31T23:59:59-00:01"}`,
	`{"accessToken": "a", "expiresAt": null}`,
	`[]`, `{`, ``, `{"accessToken": "a", "expiresAt": "2030-05-17T09:30:00Z"} x`,
}

var fuzzRegistrationSeeds = []string{
	`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "scopes": ["sso:account:access"], "grantTypes": ["authorization_code", "refresh_token"]}`,
	`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "scopes": [], "receivedAt": "2030-05-17T09:30:00UTC"}`,
	`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "scopes": null}`,
	`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "scopes": [1]}`,
	`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "accessToken": "a"}`,
}

var fuzzRoleSeeds = []string{
	cliRoleFile,
	`{"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-05-17T09:30:00UTC"}, "AssumedRoleUser": {}}`,
	`{"ProviderType": "sso", "Credentials": []}`,
}

// allowedReason checks that every line of a parse error is one of the package's fixed phrasings, with only
// known field names and numbers filled in: nothing from the file's content can get into an error.
func allowedReason(t *testing.T, err error, fields map[string]bool) {
	t.Helper()
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	templates := map[string]bool{
		"the file is empty": true, "the file is not valid UTF-N": true, "the file is not a JSON object": true,
		"invalid JSON at byte N": true, "invalid JSON": true, "the JSON is cut short": true,
		"there is data after the JSON object": true,
		"F is not a string":                   true, "F is not a list of strings": true, "F is missing": true,
		"F is missing or empty": true, "F or F is missing or empty": true, "F: the year is out of range": true,
		"F: " + errTimeFormat.Error(): true, "F is not a JSON object": true, "F, F or F is missing or empty": true,
		"it holds an F: it is a token, not a registration": true, "F is not sso": true,
		"F.F is missing": true,
	}
	digits := regexp.MustCompile(`\d+`)
	for _, line := range strings.Split(err.Error(), "\n") {
		shape := line
		for _, n := range names {
			shape = strings.ReplaceAll(shape, n, "F")
		}
		shape = strings.ReplaceAll(digits.ReplaceAllString(shape, "N"), "e.g. N-N-NTN:N:NZ", "e.g. 2006-01-02T15:04:05Z")
		if !templates[shape] {
			t.Fatalf("error line %q is not one of the fixed phrasings (shape %q)", line, shape)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range fuzzTokenSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := parseToken(data)
		if err != nil {
			allowedReason(t, err, tokenFields)
			return
		}
		out, err := tok.marshal(nil)
		if err != nil {
			t.Fatalf("a parsed token does not serialize: %v", err)
		}
		back, err := parseToken(out)
		if err != nil {
			t.Fatalf("a serialized token does not parse: %v\n%s", err, out)
		}
		if !sameToken(tok, back) {
			t.Fatalf("the round trip changed the token:\n%s\n%s", tokString(tok), tokString(back))
		}
		if again, _ := back.marshal(nil); !bytes.Equal(again, out) {
			t.Fatalf("serializing is not stable:\n%s\n%s", out, again)
		}
	})
}

func FuzzParseRegistration(f *testing.F) {
	for _, s := range fuzzRegistrationSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRegistration(data)
		if err != nil {
			allowedReason(t, err, map[string]bool{"clientId": true, "clientSecret": true, "expiresAt": true,
				"scopes": true, "grantTypes": true, "accessToken": true})
			return
		}
		out, err := r.marshal(nil)
		if err != nil {
			t.Fatalf("a parsed registration does not serialize: %v", err)
		}
		back, err := parseRegistration(out)
		if err != nil {
			t.Fatalf("a serialized registration does not parse: %v\n%s", err, out)
		}
		same := r.ClientID == back.ClientID && r.ClientSecret == back.ClientSecret && r.ExpiresAt.Equal(back.ExpiresAt) &&
			slices.Equal(r.Scopes, back.Scopes) && (r.Scopes == nil) == (back.Scopes == nil) &&
			slices.Equal(r.GrantTypes, back.GrantTypes) && (r.GrantTypes == nil) == (back.GrantTypes == nil) &&
			sameObject(r.extra, back.extra)
		if !same {
			t.Fatalf("the round trip changed the registration:\n%s\n%s", regString(r), regString(back))
		}
	})
}

func FuzzParseRoleFile(f *testing.F) {
	for _, s := range fuzzRoleSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parseSSORole(data)
		if err != nil {
			allowedReason(t, err, map[string]bool{"ProviderType": true, "Credentials": true, "AccessKeyId": true,
				"SecretAccessKey": true, "SessionToken": true, "Expiration": true, "AccountId": true})
		}
	})
}
