package credproc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/awsconfig"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

const config = `[sso-session corp]
sso_start_url = https://d-1111111111.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer

[profile analyst]
role_arn = arn:aws:iam::111122223333:role/Analyst
source_profile = dev
`

func setup(t *testing.T, left time.Duration) (*awsconfig.Config, ssocache.RoleCache) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600)
	cfg, err := awsconfig.Load(awsconfig.Files{Config: filepath.Join(dir, "config")})
	if err != nil {
		t.Fatal(err)
	}
	roles := ssocache.RoleCache{Path: filepath.Join(dir, "cli", "cache")}
	key := ssocache.RoleKey("111122223333", "Developer", "corp", "")
	if err := roles.Save(key, &ssocache.RoleCredentials{AccessKeyID: "ASIAWARM", SecretAccessKey: "s", SessionToken: "t",
		Expiration: t0.Add(left), AccountID: "111122223333"}); err != nil {
		t.Fatal(err)
	}
	// Issued an hour before its expiry: a 1-hour set.
	os.Chtimes(roles.FilePath(key), t0.Add(left-time.Hour), t0.Add(left-time.Hour))
	return cfg, roles
}

func TestWarmServesACachedSetWithMoreThan15MinutesLeft(t *testing.T) {
	cfg, roles := setup(t, 40*time.Minute)
	c, ok := Warm(cfg, "dev", roles, DefaultPolicy, t0)
	if !ok || c.AccessKeyID != "ASIAWARM" || !c.Expires.Equal(t0.Add(40*time.Minute)) {
		t.Fatalf("warm %v %+v", ok, c.Expires)
	}
	b, _ := c.JSON()
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil || got["Version"] != 1.0 || got["Expiration"] != "2026-11-29T08:40:00Z" ||
		got["AccountId"] != "111122223333" || got["SessionToken"] != "t" {
		t.Errorf("contract %s", b)
	}
}

func TestWarmLeavesEverythingElseToTheFullPath(t *testing.T) {
	cfg, roles := setup(t, 10*time.Minute)
	if _, ok := Warm(cfg, "dev", roles, DefaultPolicy, t0); ok {
		t.Error("a set with 10 min left was served: boto3 would run the process on every call")
	}
	cfg, roles = setup(t, time.Hour)
	for _, p := range []string{"analyst", "missing"} {
		if _, ok := Warm(cfg, p, roles, DefaultPolicy, t0); ok {
			t.Errorf("profile %s took the warm path", p)
		}
	}
	if _, ok := Warm(cfg, "dev", ssocache.RoleCache{Path: t.TempDir()}, DefaultPolicy, t0); ok {
		t.Error("an empty cache took the warm path")
	}
}
