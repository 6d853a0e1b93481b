package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/ssocache"
)

const config = `[sso-session corp]
sso_start_url = https://d-1111111111.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Developer
`

// install builds this binary, and with full also ssokeep, into one directory,
// as `go install ./cmd/...` does.
func install(t *testing.T, full bool) string {
	t.Helper()
	dir := t.TempDir()
	exe := ""
	if runtime.GOOS == "windows" {
		exe = ".exe"
	}
	build := func(pkg, name string) {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name+exe), pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	build(".", "ssokeep-credential-process")
	if full {
		build("../ssokeep", "ssokeep")
	}
	return filepath.Join(dir, "ssokeep-credential-process"+exe)
}

// home is a user with the config above and, when left > 0, a cached role set
// with that much left.
func home(t *testing.T, left time.Duration) []string {
	t.Helper()
	h := t.TempDir()
	os.MkdirAll(filepath.Join(h, ".aws"), 0o700)
	os.WriteFile(filepath.Join(h, ".aws", "config"), []byte(config), 0o600)
	if left > 0 {
		roles := ssocache.RoleCache{Path: filepath.Join(h, ".aws", "cli", "cache")}
		key := ssocache.RoleKey("111122223333", "Developer", "corp", "")
		exp := time.Now().Add(left).Truncate(time.Second)
		if err := roles.Save(key, &ssocache.RoleCredentials{AccessKeyID: "ASIAWARM", SecretAccessKey: "secret-key",
			SessionToken: "secret-token", Expiration: exp, AccountID: "111122223333"}); err != nil {
			t.Fatal(err)
		}
		issued := exp.Add(-time.Hour)
		os.Chtimes(roles.FilePath(key), issued, issued)
	}
	// Nothing from the caller's AWS setup, and no ssokeep on PATH.
	return []string{"HOME=" + h, "USERPROFILE=" + h, "PATH=" + filepath.Dir(os.Args[0]),
		"AWS_CONFIG_FILE=" + filepath.Join(h, ".aws", "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(h, "none")}
}

func run(t *testing.T, bin string, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), o.String(), e.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, o.String(), e.String()
}

func TestWarmAnswerNeedsNoFullBinary(t *testing.T) {
	bin := install(t, false)
	for _, args := range [][]string{{"-p", "dev"}, {"--profile=dev"}, {"-pdev"}} {
		code, out, errOut := run(t, bin, home(t, 50*time.Minute), args...)
		var got map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got["AccessKeyId"] != "ASIAWARM" || got["Version"] != 1.0 {
			t.Errorf("%v: exit %d\nstdout %q\nstderr %q", args, code, out, errOut)
		}
	}
	env := append(home(t, 50*time.Minute), "AWS_PROFILE=dev")
	if code, out, _ := run(t, bin, env); code != 0 || !strings.Contains(out, "ASIAWARM") {
		t.Errorf("AWS_PROFILE: exit %d %q", code, out)
	}
}

func TestColdOrUnknownGoesToTheFullCommand(t *testing.T) {
	bin := install(t, true)
	// 10 min left: too little to serve from the front (boto3 would ask again at
	// once), so the full command tries a fetch; with no token it serves the
	// still-valid set and says why it could not do better.
	code, out, errOut := run(t, bin, home(t, 10*time.Minute), "-p", "dev")
	if code != 0 || !strings.Contains(out, "ASIAWARM") || !strings.Contains(errOut, "ssokeep login -p dev") {
		t.Errorf("short set: exit %d stdout %q stderr %q", code, out, errOut)
	}
	// Nothing cached: the full command's one line, exit 1.
	code, out, errOut = run(t, bin, home(t, 0), "-p", "dev")
	if code != 1 || out != "" || !strings.Contains(errOut, "ssokeep login -p dev") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("nothing cached: exit %d stdout %q stderr %q", code, out, errOut)
	}
	if code, out, _ := run(t, bin, home(t, 0), "--help"); code != 0 || !strings.Contains(out, "credential_process = ssokeep credential-process") {
		t.Errorf("--help from the full command: %d %q", code, out)
	}
	if strings.Contains(errOut, "secret-") {
		t.Error("a secret reached stderr")
	}
}

func TestColdWithoutTheFullBinarySaysWhatToInstall(t *testing.T) {
	bin := install(t, false)
	code, out, errOut := run(t, bin, home(t, 0), "-p", "dev")
	if code != 1 || out != "" || !strings.Contains(errOut, "go install ./cmd/...") {
		t.Errorf("exit %d stdout %q stderr %q", code, out, errOut)
	}
}
