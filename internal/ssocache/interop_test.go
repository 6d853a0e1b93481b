package ssocache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

const (
	interopStartURL = "https://d-1234567890.awsapps.com/start"
	interopRegion   = "eu-west-1"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// interopHome makes a home directory with an sso-session profile "p" (session "corp"), as `aws configure sso`
// writes it, and returns the home and its token cache.
func interopHome(t *testing.T) (string, Dir) {
	t.Helper()
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".aws", "config"), []byte(`[profile p]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev
region = eu-west-1

[sso-session corp]
sso_start_url = `+interopStartURL+`
sso_region = `+interopRegion+`
sso_registration_scopes = sso:account:access
`), 0o600)
	return home, Dir{Path: filepath.Join(home, ".aws", "sso", "cache")}
}

// (a) A token saved by SaveToken for session "corp" is found by botocore's own SSOTokenLoader under the same
// key, and served by the SSOTokenProvider of a profile using that session, with the same expiry. botocore's
// default cache directory for that home is DefaultDir. Checked with botocore 1.43 (python3 on PATH) and with
// Debian's botocore 1.29 (/usr/bin/python3), which old boto3 installs still run.
func TestBotocoreReadsASavedToken(t *testing.T) {
	for _, python := range []string{pathPython, debianPython} {
		t.Run(python, func(t *testing.T) {
			needBotocore(t, python)
			home, d := interopHome(t)
			tok := sampleToken()
			if err := d.SaveToken(TokenKey("corp"), tok); err != nil {
				t.Fatal(err)
			}
			var got struct {
				ExpiresAt            string  `json:"expiresAt"`
				AccessTokenSha256    string  `json:"accessTokenSha256"`
				ProviderTokenSha256  string  `json:"providerTokenSha256"`
				ProviderExpiresEpoch float64 `json:"providerExpiresEpoch"`
				SessionCacheDir      string  `json:"sessionCacheDir"`
				BotocoreVersion      string  `json:"botocoreVersion"`
			}
			runBotocoreWith(t, python, home, "read-token", map[string]any{
				"cacheDir": d.Path, "sessionName": "corp", "startUrl": interopStartURL, "profile": "p",
				"now": t0.Unix(), // an hour before expiry: outside botocore's 15-minute refresh window
			}, &got)
			t.Logf("botocore %s", got.BotocoreVersion)
			if got.ExpiresAt != "2030-05-17T10:30:00Z" {
				t.Errorf("botocore read expiresAt %q, want 2030-05-17T10:30:00Z", got.ExpiresAt)
			}
			if got.AccessTokenSha256 != sha256Hex(fakeAccessToken) || got.ProviderTokenSha256 != sha256Hex(fakeAccessToken) {
				t.Error("botocore did not read the access token that was saved")
			}
			if int64(got.ProviderExpiresEpoch) != tok.ExpiresAt.Unix() {
				t.Errorf("SSOTokenProvider expiry %v, want %v", time.Unix(int64(got.ProviderExpiresEpoch), 0).UTC(), tok.ExpiresAt)
			}

			t.Setenv("HOME", home)
			t.Setenv("USERPROFILE", home)
			def, err := DefaultDir()
			if err != nil {
				t.Fatal(err)
			}
			if got.SessionCacheDir != def.Path {
				t.Errorf("botocore's cache directory for this home is %s, DefaultDir says %s", got.SessionCacheDir, def.Path)
			}
		})
	}
}

// (b) botocore's SSOTokenProvider refreshes a token inside its 15-minute window and writes the result back
// through JSONFileCache, as it does for every boto3 user. LoadToken reads that file with the right expiry, and
// writing the same token gives botocore's bytes exactly.
func TestLoadTokenReadsWhatBotocoreWritesOnRefresh(t *testing.T) {
	needBotocore(t, pathPython)
	home, d := interopHome(t)
	key := TokenKey("corp")
	old := sampleToken()
	old.ExpiresAt = t0.Add(5 * time.Minute)
	if err := d.SaveToken(key, old); err != nil {
		t.Fatal(err)
	}
	const newAccess, newRefresh = fakeNewAccess, fakeNewRefresh
	var got struct {
		ProviderTokenSha256  string  `json:"providerTokenSha256"`
		ProviderExpiresEpoch float64 `json:"providerExpiresEpoch"`
	}
	runBotocore(t, home, "refresh-token", map[string]any{
		"cacheDir": d.Path, "sessionName": "corp", "startUrl": interopStartURL, "region": interopRegion,
		"profile": "p", "now": t0.Unix(), "expiresIn": 3600,
		"newAccessToken": newAccess, "newRefreshToken": newRefresh,
	}, &got)
	if got.ProviderTokenSha256 != sha256Hex(newAccess) {
		t.Fatal("botocore did not refresh the token")
	}

	tok, err := d.LoadToken(key)
	if err != nil {
		t.Fatal(redact(err.Error()))
	}
	want := sampleToken()
	want.AccessToken, want.RefreshToken, want.ExpiresAt = newAccess, newRefresh, t0.Add(time.Hour)
	if !sameToken(tok, want) {
		t.Errorf("LoadToken after botocore's refresh: %s", redact(tokString(tok)))
	}
	if int64(got.ProviderExpiresEpoch) != tok.ExpiresAt.Unix() {
		t.Errorf("botocore serves expiry %d, LoadToken reads %v", int64(got.ProviderExpiresEpoch), tok.ExpiresAt)
	}
	ours, err := tok.marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if theirs := readFile(t, d.TokenPath(key)); string(ours) != string(theirs) {
		t.Errorf("our bytes differ from botocore's for the same token:\nours   %s\ntheirs %s",
			redact(string(ours)), redact(string(theirs)))
	}
}

// A legacy profile's token (keyed by start URL) written by botocore's JSONFileCache with a datetime expiry.
func TestLoadTokenReadsALegacyTokenBotocoreWrote(t *testing.T) {
	needBotocore(t, pathPython)
	home, d := interopHome(t)
	var none struct{}
	runBotocore(t, home, "write-token", map[string]any{
		"cacheDir": d.Path, "startUrl": interopStartURL,
		"expiresEpoch": float64(t0.Unix()) + 0.75, // botocore drops the fraction when it writes
		"token": map[string]any{
			"startUrl": interopStartURL, "region": interopRegion, "accessToken": fakeAccessToken,
		},
	}, &none)
	tok, err := d.LoadToken(TokenKey(interopStartURL))
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ExpiresAt.Equal(t0) || tok.AccessToken != fakeAccessToken || tok.Refreshable(t0.Add(-time.Hour)) {
		t.Errorf("legacy token: expiry %v, refreshable %v", tok.ExpiresAt, tok.Refreshable(t0.Add(-time.Hour)))
	}
}

// The Go SDK (ssocreds, the reader every Go program uses) finds a token SaveToken wrote at the path it derives
// itself, and reads it (it insists on RFC 3339).
func TestGoSDKReadsASavedToken(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	d, err := DefaultDir()
	if err != nil {
		t.Fatal(err)
	}
	sdkPath, err := ssocreds.StandardCachedTokenFilepath("corp")
	if err != nil {
		t.Fatal(err)
	}
	if sdkPath != d.TokenPath(TokenKey("corp")) {
		t.Fatalf("the Go SDK looks for %s, we write %s", sdkPath, d.TokenPath(TokenKey("corp")))
	}
	tok := sampleToken()
	tok.ExpiresAt = time.Now().Add(time.Hour).Truncate(time.Second) // the SDK compares with the real clock
	if err := d.SaveToken(TokenKey("corp"), tok); err != nil {
		t.Fatal(err)
	}
	// A real client pointed at a closed loopback port: only a refresh would call it, and none is due.
	client := ssooidc.New(ssooidc.Options{Region: interopRegion, BaseEndpoint: aws.String("http://127.0.0.1:9")})
	bearer, err := ssocreds.NewSSOTokenProvider(client, sdkPath).RetrieveBearerToken(context.Background())
	if err != nil {
		t.Fatal(redact(err.Error()))
	}
	if bearer.Value != fakeAccessToken || !bearer.Expires.Equal(tok.ExpiresAt) {
		t.Errorf("Go SDK read expiry %v, want %v (token matches: %v)", bearer.Expires, tok.ExpiresAt, bearer.Value == fakeAccessToken)
	}
	if _, err := os.Stat(sdkPath); err != nil {
		t.Fatal(err)
	}
}
