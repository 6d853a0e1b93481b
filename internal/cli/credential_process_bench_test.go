package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// BenchmarkCredentialProcessWarm is the command's own work on the warm path (a valid cached set), in
// process: argument parsing, config parse and resolution, the role-cache read, the policy check and the
// JSON. bench/credproc/run.sh measures whole processes, where the binary's start-up dominates.
func BenchmarkCredentialProcessWarm(b *testing.B) {
	home := b.TempDir()
	b.Setenv("HOME", home)
	b.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	os.Unsetenv("AWS_PROFILE")
	os.MkdirAll(filepath.Join(home, ".aws"), 0o700)
	cfg := "[sso-session bench]\nsso_start_url = https://d-90670ffee0.awsapps.com/start\nsso_region = us-east-1\n\n" +
		"[profile bench]\nsso_session = bench\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = us-east-1\n"
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	roles := ssocache.RoleCache{Path: filepath.Join(home, ".aws", "cli", "cache")}
	err := roles.Save(ssocache.RoleKey("111122223333", "Developer", "bench", ""), &ssocache.RoleCredentials{
		AccessKeyID: "ASIABENCH00000000001", SecretAccessKey: "s", SessionToken: "t", Expiration: time.Now().Add(10 * time.Hour), AccountID: "111122223333"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code := Run([]string{"credential-process", "-p", "bench"}, strings.NewReader(""), io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
