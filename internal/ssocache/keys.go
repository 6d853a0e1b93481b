package ssocache

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
)

// TokenKey names a token file: the SHA-1 hex of the sso-session name, or of the start URL for legacy
// profiles (botocore SSOTokenLoader, cli2 _token_cache_key, the Go SDK's StandardCachedTokenFilepath).
func TokenKey(sessionOrStartURL string) string { return sha1Hex([]byte(sessionOrStartURL)) }

// RegistrationKeyInput is what the CLI (>= 2.9) hashes to name a registration file.
type RegistrationKeyInput struct {
	StartURL, Region string
	SessionName      string   // "" serializes as null (legacy profiles)
	Scopes           []string // nil serializes as null; []string{} as []
}

// RegistrationKey names a registration file as CLI >= 2.9 does: the SHA-1 hex of
// json.dumps({"region","scopes","session_name","startUrl","tool":"botocore"}, sort_keys=True) with Python's
// default separators and ASCII escaping.
func RegistrationKey(r RegistrationKeyInput) string {
	var w objWriter // the keys below are already in sorted order
	w.str("region", r.Region)
	if r.Scopes == nil {
		w.raw("scopes", []byte("null"))
	} else {
		w.strs("scopes", r.Scopes)
	}
	if r.SessionName == "" {
		w.raw("session_name", []byte("null"))
	} else {
		w.str("session_name", r.SessionName)
	}
	w.str("startUrl", r.StartURL)
	w.str("tool", "botocore")
	return sha1Hex(w.bytes())
}

// LegacyRegistrationKey is the name CLI < 2.9 gives its registration file: botocore-client-id-{region}.
func LegacyRegistrationKey(region string) string { return "botocore-client-id-" + region }

// RoleKey names a role-credential file in the CLI's cache (botocore SSOCredentialFetcher._create_cache_key):
// the SHA-1 hex of json.dumps({"accountId","roleName","sessionName"|"startUrl"}, sort_keys=True,
// separators=(',', ':')). sessionName wins when set.
func RoleKey(accountID, roleName, sessionName, startURL string) string {
	var b bytes.Buffer // sorted: accountId < roleName < sessionName < startUrl
	b.WriteString(`{"accountId":`)
	b.Write(pyQuote(accountID))
	b.WriteString(`,"roleName":`)
	b.Write(pyQuote(roleName))
	if sessionName != "" {
		b.WriteString(`,"sessionName":`)
		b.Write(pyQuote(sessionName))
	} else {
		b.WriteString(`,"startUrl":`)
		b.Write(pyQuote(startURL))
	}
	b.WriteByte('}')
	return sha1Hex(b.Bytes())
}

func sha1Hex(b []byte) string {
	sum := sha1.Sum(b)
	return hex.EncodeToString(sum[:])
}
