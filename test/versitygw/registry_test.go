package survival

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
)

// The example from AWS's SigV4 documentation ("Examples of how to derive a
// signing key for Signature Version 4").
func TestSigningKeyMatchesAWSDocumentationExample(t *testing.T) {
	got := hex.EncodeToString(SigningKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"))
	const want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	if got != want {
		t.Fatalf("signing key %s, want %s", got, want)
	}
}

func TestRegistryResolvesOnlyServedUnexpiredKeysWithTheirToken(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := NewRegistry(func() time.Time { return now })
	c := Creds{AccessKeyID: "ASIAEXAMPLE000000001", SecretAccessKey: "secret-1", SessionToken: "token-1", Expires: now.Add(30 * time.Second)}
	r.Add(c)
	r.Add(c) // served again: normal

	key, acct, err := r.DeriveSigningKey(c.AccessKeyID, c.SessionToken, "20260102", "us-east-1", "s3")
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(key) != hex.EncodeToString(SigningKey("secret-1", "20260102", "us-east-1", "s3")) {
		t.Error("wrong signing key")
	}
	if acct.Access != c.AccessKeyID || acct.Secret != "" || acct.Role != auth.RoleAdmin {
		t.Errorf("account %v", acct)
	}

	for _, tc := range []struct {
		name, access, token string
		at                  time.Time
		want                error
	}{
		{"unknown key", "ASIAEXAMPLE000000002", "token-1", now, auth.ErrNoSuchUser},
		{"wrong token", c.AccessKeyID, "token-2", now, auth.ErrInvalidSessionToken},
		{"no token", c.AccessKeyID, "", now, auth.ErrInvalidSessionToken},
		{"at expiry", c.AccessKeyID, "token-1", c.Expires, ErrExpiredToken},
		{"after expiry", c.AccessKeyID, "token-1", c.Expires.Add(time.Millisecond), ErrExpiredToken},
	} {
		now = tc.at
		_, _, err := r.DeriveSigningKey(tc.access, tc.token, "20260102", "us-east-1", "s3")
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if se, ok := any(ErrExpiredToken).(s3err.S3Error); !ok || se.StatusCode() != 400 {
		t.Error("ExpiredToken is not rendered as S3's 400")
	}

	// A key served again with other secrets is a clash, and the first set stays.
	now = c.Expires.Add(-time.Second)
	r.Add(Creds{AccessKeyID: c.AccessKeyID, SecretAccessKey: "other", SessionToken: "token-1", Expires: c.Expires})
	if _, _, err := r.DeriveSigningKey(c.AccessKeyID, "token-1", "20260102", "us-east-1", "s3"); err != nil {
		t.Errorf("after a clash: %v", err)
	}
	s := r.Stats()
	if s.Keys != 1 || s.Served != 2 || s.Accepted != 1 || s.Resolved != 2 || s.Clashes != 1 ||
		s.Refused["unknown key"] != 1 || s.Refused["wrong token"] != 2 || s.Refused["expired"] != 2 {
		t.Errorf("stats %+v", s)
	}

	// Nothing the gateway can print carries a secret.
	accts, _ := r.ListUserAccounts()
	got, _ := r.GetUserAccount(c.AccessKeyID)
	printed := fmt.Sprintf("%v %+v %v", accts, got, r.Keys())
	for _, secret := range r.Secrets() {
		if strings.Contains(printed, secret) {
			t.Errorf("a secret (%d chars) is printed", len(secret))
		}
	}
	if missing, _ := r.ResolveAccounts([]string{c.AccessKeyID, "ASIAEXAMPLE000000009"}); len(missing) != 1 || missing[0] != "ASIAEXAMPLE000000009" {
		t.Errorf("ResolveAccounts: %v", missing)
	}
	if err := r.CreateAccount(auth.Account{Access: "x", Secret: "y"}); err == nil {
		t.Error("CreateAccount is accepted")
	}
}
