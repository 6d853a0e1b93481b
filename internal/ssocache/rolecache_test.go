package ssocache

import (
	"errors"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const cliRoleFile = `{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAFAKE0001", ` +
	`"SecretAccessKey": "` + fakeSecretKey + `", "SessionToken": "` + fakeSessionToken + `", ` +
	`"Expiration": "2030-05-17T09:30:00Z", "AccountId": "111122223333"}}`

func sampleRole() *RoleCredentials {
	return &RoleCredentials{AccessKeyID: "ASIAFAKE0001", SecretAccessKey: fakeSecretKey,
		SessionToken: fakeSessionToken, Expiration: t0, AccountID: "111122223333"}
}

func TestRoleCacheCLIFormat(t *testing.T) {
	c := RoleCache{Path: filepath.Join(t.TempDir(), "cli", "cache")}
	key := RoleKey("111122223333", "Dev", "corp", "")
	if _, err := c.Load(key); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing entry: %v", err)
	}
	if err := c.Save(key, sampleRole()); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, c.FilePath(key))); got != cliRoleFile {
		t.Errorf("written %s\nwant the CLI's %s", redact(got), redact(cliRoleFile))
	}
	got, err := c.Load(key)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *sampleRole() {
		t.Errorf("loaded %+v", redact(got.AccessKeyID+" "+got.Expiration.String()))
	}
	if runtime.GOOS != "windows" {
		assertMode(t, c.FilePath(key), 0o600)
		assertMode(t, filepath.Join(c.StateDir(), "locks", key+".lock"), 0o600)
	}
	if names := dirNames(t, c.Path); !slices.Equal(names, []string{key + ".json"}) {
		t.Errorf("role cache holds %v", names)
	}
	if err := c.Remove(key); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(key); err != nil {
		t.Errorf("Remove of a missing entry: %v", err)
	}
}

func TestRoleCacheRefusesWhatItCannotRead(t *testing.T) {
	c := RoleCache{Path: t.TempDir()}
	for name, content := range map[string]string{
		"not JSON":          "ASIA " + fakeSecretKey,
		"no Credentials":    `{"ProviderType": "sso"}`,
		"bad expiration":    `{"ProviderType": "sso", "Credentials": {"AccessKeyId": "a", "SecretAccessKey": "` + fakeSecretKey + `", "SessionToken": "s", "Expiration": "` + fakeSessionToken + `"}}`,
		"assume-role entry": `{"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "` + fakeSecretKey + `", "SessionToken": "s", "Expiration": "2030-05-17T09:30:00UTC"}}`,
	} {
		key := sha1Hex([]byte(name))
		writeFile(t, c.FilePath(key), []byte(content), 0o600)
		var pe *ParseError
		if _, err := c.Load(key); !errors.As(err, &pe) || pe.Path != c.FilePath(key) {
			t.Errorf("%s: Load = %v, want a *ParseError naming the file", name, err)
		} else {
			assertNoSecret(t, name+": Load error", err.Error())
		}
		if err := c.Save(key, sampleRole()); !errors.As(err, &pe) {
			t.Errorf("%s: Save over it = %v, want a *ParseError", name, err)
		}
		if string(readFile(t, c.FilePath(key))) != content {
			t.Errorf("%s: the file was modified", name)
		}
	}
	if err := c.Save(RoleKey("1", "r", "s", ""), &RoleCredentials{AccessKeyID: "a"}); err == nil {
		t.Error("Save accepted credentials without secret, token and expiry")
	}
}

func TestRoleCacheList(t *testing.T) {
	c := RoleCache{Path: t.TempDir()}
	ssoKey := RoleKey("111122223333", "Dev", "corp", "")
	writeFile(t, c.FilePath(ssoKey), []byte(cliRoleFile), 0o600)
	writeFile(t, c.FilePath("assumed"), []byte(`{"Credentials": {"AccessKeyId": "a", "SecretAccessKey": "`+
		fakeSecretKey+`", "SessionToken": "s", "Expiration": "2030-05-17T10:30:00UTC"}, "AssumedRoleUser": {}}`), 0o644)
	writeFile(t, c.FilePath("corrupt"), []byte(`{"Credentials": `), 0o600)
	writeFile(t, filepath.Join(c.Path, "x.tmp"), []byte(`{}`), 0o600)
	entries, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Fatalf("List returned %d entries, want 3", len(entries))
	}
	byKey := map[string]RoleEntry{}
	for _, e := range entries {
		byKey[e.Key] = e
	}
	if e := byKey[ssoKey]; e.ProviderType != "sso" || !e.Expiration.Equal(t0) || e.AccountID != "111122223333" || e.Err != nil {
		t.Errorf("sso entry: %+v", e)
	}
	if e := byKey["assumed"]; e.ProviderType != "" || !e.Expiration.Equal(t0.Add(time.Hour)) || e.Err != nil ||
		(runtime.GOOS != "windows" && e.Mode.Perm() != 0o644) {
		t.Errorf("assume-role entry: %+v", e)
	}
	var pe *ParseError
	if e := byKey["corrupt"]; !errors.As(e.Err, &pe) || !strings.Contains(e.Err.Error(), c.FilePath("corrupt")) {
		t.Errorf("corrupt entry: %v", e.Err)
	}
	if entries, err := (RoleCache{Path: filepath.Join(c.Path, "nope")}).List(); err != nil || entries != nil {
		t.Errorf("List of a missing directory = %v, %v", entries, err)
	}
}

// The CLI's own cache code (botocore's SSOCredentialFetcher with a JSONFileCache) uses an entry Save wrote, and
// Load reads an entry it wrote; both give the same bytes.
func TestRoleCacheInteropWithBotocore(t *testing.T) {
	needBotocore(t, pathPython)
	home := t.TempDir()
	args := map[string]any{"accountId": "111122223333", "roleName": "Dev", "sessionName": "corp",
		"startUrl": interopStartURL, "region": interopRegion}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range args {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}

	// Go writes, botocore uses it as a cache hit (it needs >= 15 min left by the real clock).
	ours := RoleCache{Path: filepath.Join(home, "ours")}
	key := RoleKey("111122223333", "Dev", "corp", interopStartURL)
	rc := sampleRole()
	rc.Expiration = time.Now().Add(time.Hour).Truncate(time.Second)
	if err := ours.Save(key, rc); err != nil {
		t.Fatal(err)
	}
	for _, python := range []string{pathPython, debianPython} {
		t.Run("read by "+python, func(t *testing.T) {
			var read struct {
				AccessKeyIDSha256     string `json:"accessKeyIdSha256"`
				SecretAccessKeySha256 string `json:"secretAccessKeySha256"`
				SessionTokenSha256    string `json:"sessionTokenSha256"`
				ExpiryTime            string `json:"expiryTime"`
			}
			runBotocoreWith(t, python, home, "role-read", with(map[string]any{"cacheDir": ours.Path}), &read)
			if read.AccessKeyIDSha256 != sha256Hex(rc.AccessKeyID) || read.SecretAccessKeySha256 != sha256Hex(fakeSecretKey) ||
				read.SessionTokenSha256 != sha256Hex(fakeSessionToken) {
				t.Error("botocore did not get the saved credentials from the cache")
			}
			if read.ExpiryTime != formatTime(rc.Expiration) {
				t.Errorf("botocore expiry %q, want %q", read.ExpiryTime, formatTime(rc.Expiration))
			}
		})
	}

	// botocore fetches (stubbed sso client) and writes; Go reads.
	theirs := RoleCache{Path: filepath.Join(home, "theirs")}
	var wrote struct {
		Key string `json:"key"`
	}
	runBotocore(t, home, "role-write", with(map[string]any{
		"cacheDir": theirs.Path, "accessKeyId": "ASIAFAKE0001", "secretAccessKey": fakeSecretKey,
		"sessionToken": fakeSessionToken, "expirationMs": t0.UnixMilli() + 999,
	}), &wrote)
	if wrote.Key != key {
		t.Errorf("botocore keyed the entry %s, RoleKey says %s", wrote.Key, key)
	}
	got, err := theirs.Load(key)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *sampleRole() {
		t.Errorf("Load of botocore's entry: expiry %v account %s (secrets match: %v)", got.Expiration, got.AccountID,
			got.SecretAccessKey == fakeSecretKey && got.SessionToken == fakeSessionToken)
	}
	if err := ours.Save(key, sampleRole()); err != nil {
		t.Fatal(err)
	}
	if a, b := readFile(t, ours.FilePath(key)), readFile(t, theirs.FilePath(key)); string(a) != string(b) {
		t.Errorf("our bytes differ from botocore's:\nours   %s\ntheirs %s", redact(string(a)), redact(string(b)))
	}

	// An assume-role entry written the CLI's way has the ...UTC suffix; List reads its expiry, Load and Save
	// leave it alone.
	var none struct{}
	runBotocore(t, home, "assume-write", map[string]any{"cacheDir": theirs.Path, "key": "assumed", "expiresEpoch": t0.Unix()}, &none)
	entries, err := theirs.List()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range entries {
		if e.Key == "assumed" {
			found = true
			if e.ProviderType != "" || !e.Expiration.Equal(t0) || e.Err != nil {
				t.Errorf("assume-role entry from botocore: %+v", e)
			}
		}
	}
	if !found {
		t.Error("List did not report the assume-role entry")
	}
	var pe *ParseError
	if _, err := theirs.Load("assumed"); !errors.As(err, &pe) {
		t.Errorf("Load of an assume-role entry: %v, want a *ParseError", err)
	}
}
