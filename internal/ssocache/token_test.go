package ssocache

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseTimeWritersFormats(t *testing.T) {
	want := time.Date(2030, 5, 17, 9, 30, 0, 0, time.UTC)
	cases := []struct{ writer, in string }{
		{"AWS CLI v2 / botocore", "2030-05-17T09:30:00Z"},
		{"Go SDK, RFC 3339", "2030-05-17T09:30:00Z"},
		{"Go SDK, RFC 3339 with fractions (cut to the second)", "2030-05-17T09:30:00.987654321Z"},
		{"RFC 3339 with a positive offset", "2030-05-17T11:30:00+02:00"},
		{"RFC 3339 with a negative offset and fractions", "2030-05-17T04:00:00.5-05:30"},
		{"JS SDK toISOString()", "2030-05-17T09:30:00.000Z"},
		{"CLI role cache, botocore %Z of a UTC datetime", "2030-05-17T09:30:00UTC"},
		{"the UTC suffix with fractions", "2030-05-17T09:30:00.25UTC"},
		{"Python isoformat()", "2030-05-17T09:30:00+00:00"},
	}
	for _, c := range cases {
		got, err := parseTime(c.in)
		if err != nil {
			t.Errorf("%s %q: %v", c.writer, c.in, err)
			continue
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s %q: got %v, want %v in UTC", c.writer, c.in, got, want)
		}
	}
	for _, bad := range []string{
		"", "2030-05-17", "2030-05-17 09:30:00Z", "2030-05-17T09:30:00", "1715938200", "2030-13-01T00:00:00Z",
		"2030-05-17T09:30:00CET", "9999-12-31T23:59:59-01:00", "SECRETVALUE-not-a-time",
	} {
		if got, err := parseTime(bad); err == nil {
			t.Errorf("parseTime(%q) = %v, want an error", bad, got)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("parseTime(%q): the error quotes the input: %v", bad, err)
		}
	}
	if got := formatTime(time.Date(2030, 5, 17, 11, 30, 0, 0, time.FixedZone("x", 2*3600))); got != "2030-05-17T09:30:00Z" {
		t.Errorf("formatTime = %q, want the CLI's 2030-05-17T09:30:00Z", got)
	}
}

// A file as the CLI writes it after a login, byte for byte.
const cliToken = `{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "eu-west-1", ` +
	`"accessToken": "` + fakeAccessToken + `", "expiresAt": "2030-05-17T10:30:00Z", "clientId": "client-id-1", ` +
	`"clientSecret": "` + fakeClientSecret + `", "registrationExpiresAt": "2030-08-15T09:30:00Z", ` +
	`"refreshToken": "` + fakeRefreshToken + `"}`

func TestTokenReadsAndWritesTheCLIFormat(t *testing.T) {
	tok, err := parseToken([]byte(cliToken))
	if err != nil {
		t.Fatal(err)
	}
	want := sampleToken()
	if !sameToken(tok, want) {
		t.Fatalf("parsed %+v\nwant   %+v", redact(tokString(tok)), redact(tokString(want)))
	}
	out, err := want.marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != cliToken {
		t.Errorf("written\n%s\nwant the CLI's bytes\n%s", redact(string(out)), redact(cliToken))
	}
}

func TestTokenReadsOtherWriters(t *testing.T) {
	// The Go SDK marshals a map: sorted keys, RFC 3339, compact.
	goSDK := `{"accessToken":"` + fakeAccessToken + `","clientId":"client-id-1","clientSecret":"` + fakeClientSecret +
		`","expiresAt":"2030-05-17T10:30:00Z","refreshToken":"` + fakeRefreshToken + `","region":"eu-west-1",` +
		`"registrationExpiresAt":"2030-08-15T09:30:00Z","startUrl":"https://d-1234567890.awsapps.com/start"}` + "\n"
	// The JS SDK: toISOString() times, pretty-printed by some tools.
	js := "{\n  \"startUrl\": \"https://d-1234567890.awsapps.com/start\",\n  \"region\": \"eu-west-1\",\n" +
		"  \"accessToken\": \"" + fakeAccessToken + "\",\n  \"expiresAt\": \"2030-05-17T10:30:00.000Z\",\n" +
		"  \"clientId\": \"client-id-1\",\n  \"clientSecret\": \"" + fakeClientSecret + "\",\n" +
		"  \"registrationExpiresAt\": \"2030-08-15T11:30:00.000+02:00\",\n  \"refreshToken\": \"" + fakeRefreshToken + "\"\n}\n"
	for name, in := range map[string]string{"Go SDK": goSDK, "JS SDK": js} {
		tok, err := parseToken([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !sameToken(tok, sampleToken()) {
			t.Errorf("%s: parsed %s", name, redact(tokString(tok)))
		}
	}
}

func TestTokenKeepsUnknownFieldsVerbatim(t *testing.T) {
	in := `{"startUrl": "https://d-1234567890.awsapps.com/start", "futureField": {"nested": [1, 2.50, "x"]},` +
		` "accessToken": "old", "expiresAt": "2030-05-17T10:30:00Z", "number": 1.50e0, "nothing": null}`
	tok, err := parseToken([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	tok.AccessToken = fakeAccessToken
	out, err := tok.marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, verbatim := range []string{`"futureField": {"nested": [1, 2.50, "x"]}`, `"number": 1.50e0`, `"nothing": null`} {
		if !strings.Contains(string(out), verbatim) {
			t.Errorf("rewrite lost %s: %s", verbatim, redact(string(out)))
		}
	}
	// Fields already on disk survive when the caller's token does not carry them (a fresh login), and the
	// caller's own unknown fields win by name.
	fresh := sampleToken()
	if err := fresh.SetExtra("number", json.RawMessage(`7`)); err != nil {
		t.Fatal(err)
	}
	out, err = fresh.marshal(tok.extra)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parseToken(out)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := again.Extra("futureField"); string(raw) != `{"nested": [1, 2.50, "x"]}` {
		t.Errorf("futureField after a fresh save = %s", raw)
	}
	if raw, _ := again.Extra("number"); string(raw) != `7` {
		t.Errorf("number after SetExtra = %s, want 7", raw)
	}
	if err := fresh.SetExtra("accessToken", json.RawMessage(`"x"`)); err == nil {
		t.Error("SetExtra accepted a known field name")
	}
	if err := fresh.SetExtra("bad", json.RawMessage(`{`)); err == nil {
		t.Error("SetExtra accepted invalid JSON")
	}
}

func TestTokenSetExtraDoesNotLeakIntoCopies(t *testing.T) {
	a := sampleToken()
	if err := a.SetExtra("n", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	b := *a
	if err := b.SetExtra("n", json.RawMessage(`2`)); err != nil {
		t.Fatal(err)
	}
	if raw, _ := a.Extra("n"); string(raw) != "1" {
		t.Errorf("editing a copy changed the original: n = %s", raw)
	}
}

func TestTokenRefreshableAndRemaining(t *testing.T) {
	now := t0
	cases := []struct {
		name string
		edit func(*Token)
		want bool
	}{
		{"complete", func(*Token) {}, true},
		{"no refresh token (legacy profile)", func(t *Token) { t.RefreshToken = "" }, false},
		{"no client id", func(t *Token) { t.ClientID = "" }, false},
		{"no client secret", func(t *Token) { t.ClientSecret = "" }, false},
		{"no registration expiry", func(t *Token) { t.RegistrationExpiresAt = time.Time{} }, false},
		{"registration expired", func(t *Token) { t.RegistrationExpiresAt = now.Add(-time.Second) }, false},
		{"registration expires at now", func(t *Token) { t.RegistrationExpiresAt = now }, false},
		{"access token expired but registration alive", func(t *Token) { t.ExpiresAt = now.Add(-time.Hour) }, true},
	}
	for _, c := range cases {
		tok := sampleToken()
		c.edit(tok)
		if got := tok.Refreshable(now); got != c.want {
			t.Errorf("%s: Refreshable = %v, want %v", c.name, got, c.want)
		}
	}
	tok := sampleToken()
	if got := tok.Remaining(now); got != time.Hour {
		t.Errorf("Remaining = %v, want 1h", got)
	}
	if got := tok.Remaining(now.Add(90 * time.Minute)); got != -30*time.Minute {
		t.Errorf("Remaining after expiry = %v, want -30m", got)
	}
}

func TestTokenParseErrorsNameTheProblemNotTheContent(t *testing.T) {
	cases := map[string]string{
		"":                            "empty",
		"   \n":                       "empty",
		fakeAccessToken:               "invalid JSON",
		`["` + fakeAccessToken + `"]`: "not a JSON object",
		`{"accessToken": "` + fakeAccessToken + `"`:                                             "cut short",
		`{"accessToken": "` + fakeAccessToken + `"} {}`:                                         "after the JSON object",
		`{"accessToken": "` + fakeAccessToken + `"}`:                                            "expiresAt is missing",
		`{"expiresAt": "2030-05-17T10:30:00Z"}`:                                                 "accessToken is missing",
		`{"accessToken": 12, "expiresAt": "2030-05-17T10:30:00Z"}`:                              "accessToken is not a string",
		`{"accessToken": "a", "expiresAt": "` + fakeRefreshToken + `"}`:                         "expiresAt: not a time",
		`{"accessToken": "a", "expiresAt": "2030-05-17T10:30:00Z", "registrationExpiresAt": 5}`: "registrationExpiresAt is not a string",
		"{\"accessToken\": \"\xff\xfe\", \"expiresAt\": \"2030-05-17T10:30:00Z\"}":              "not valid UTF-8",
	}
	for in, want := range cases {
		_, err := parseToken([]byte(in))
		if err == nil {
			t.Errorf("%q parsed", redact(in))
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q does not say %q", redact(in), redact(err.Error()), want)
		}
		assertNoSecret(t, "parse error", err.Error())
	}
}

func TestRegistrationFormat(t *testing.T) {
	const pkce = `{"clientId": "cid", "clientSecret": "` + fakeClientSecret + `", "expiresAt": "2030-08-15T09:30:00Z", ` +
		`"scopes": ["sso:account:access"], "grantTypes": ["authorization_code", "refresh_token"]}`
	r, err := parseRegistration([]byte(pkce))
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientID != "cid" || r.ClientSecret != fakeClientSecret || !r.ExpiresAt.Equal(t0.Add(90*24*time.Hour)) ||
		strings.Join(r.Scopes, ",") != "sso:account:access" || strings.Join(r.GrantTypes, ",") != "authorization_code,refresh_token" {
		t.Fatalf("parsed %+v", redact(regString(r)))
	}
	out, err := r.marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != pkce {
		t.Errorf("written %s\nwant the CLI's %s", redact(string(out)), redact(pkce))
	}
	if !r.Expired(t0.Add(91*24*time.Hour)) || r.Expired(t0) {
		t.Error("Expired is wrong")
	}

	// A device-code registration has no grantTypes; an old CLI's none of the optional fields.
	plain := &Registration{ClientID: "cid", ClientSecret: fakeClientSecret, ExpiresAt: t0}
	out, _ = plain.marshal(nil)
	if want := `{"clientId": "cid", "clientSecret": "` + fakeClientSecret + `", "expiresAt": "2030-05-17T09:30:00Z"}`; string(out) != want {
		t.Errorf("nil Scopes/GrantTypes: written %s", redact(string(out)))
	}
	empty := &Registration{ClientID: "cid", ClientSecret: fakeClientSecret, ExpiresAt: t0, Scopes: []string{}}
	out, _ = empty.marshal(nil)
	if !bytes.Contains(out, []byte(`"scopes": []`)) {
		t.Errorf("empty Scopes not kept as []: %s", redact(string(out)))
	}
	if back, err := parseRegistration(out); err != nil || back.Scopes == nil || back.GrantTypes != nil {
		t.Errorf("[] scopes read back as %#v (err %v), grantTypes %#v", back.Scopes, err, back.GrantTypes)
	}
	for _, bad := range []string{`{"clientId": "c", "expiresAt": "2030-08-15T09:30:00Z"}`,
		`{"clientId": "c", "clientSecret": "s", "expiresAt": "2030-08-15T09:30:00Z", "scopes": "one"}`,
		`{"clientId": "c", "clientSecret": "s"}`} {
		if _, err := parseRegistration([]byte(bad)); err == nil {
			t.Errorf("%s parsed as a registration", bad)
		}
	}
}

func sameToken(a, b *Token) bool {
	return a.StartURL == b.StartURL && a.Region == b.Region && a.AccessToken == b.AccessToken &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret &&
		a.RegistrationExpiresAt.Equal(b.RegistrationExpiresAt) && a.RefreshToken == b.RefreshToken &&
		sameObject(a.extra, b.extra)
}

func sameObject(a, b object) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].raw, b[i].raw) {
			return false
		}
	}
	return true
}

func tokString(t *Token) string {
	b, err := t.marshal(nil)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func regString(r *Registration) string {
	b, err := r.marshal(nil)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
