package ssocache

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fake secrets. Tests check that none of them reaches an error message, and redact them from anything they print.
const (
	fakeAccessToken  = "aoaFAKEaccessTOKENvalue0001"
	fakeRefreshToken = "aorFAKErefreshTOKENvalue0002"
	fakeClientSecret = "FAKEclientSECRETvalue0003"
	fakeSecretKey    = "FAKEsecretACCESSkey0004"
	fakeSessionToken = "FAKEsessionTOKEN0005"
	fakeNewAccess    = "aoaNEWfakeACCESS0006"
	fakeNewRefresh   = "aorNEWfakeREFRESH0007"
)

var fakeSecrets = []string{fakeAccessToken, fakeRefreshToken, fakeClientSecret, fakeSecretKey, fakeSessionToken,
	fakeNewAccess, fakeNewRefresh}

func redact(s string, secrets ...string) string {
	for _, v := range append(secrets, fakeSecrets...) {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}

// assertNoSecret fails if s holds any of the fake secrets (or the extra ones given).
func assertNoSecret(t *testing.T, what, s string, extra ...string) {
	t.Helper()
	for _, v := range append(extra, fakeSecrets...) {
		if v != "" && strings.Contains(s, v) {
			t.Errorf("%s contains a secret: %s", what, redact(s, extra...))
		}
	}
}

var t0 = time.Date(2030, 5, 17, 9, 30, 0, 0, time.UTC)

func sampleToken() *Token {
	return &Token{
		StartURL:              "https://d-1234567890.awsapps.com/start",
		Region:                "eu-west-1",
		AccessToken:           fakeAccessToken,
		ExpiresAt:             t0.Add(time.Hour),
		ClientID:              "client-id-1",
		ClientSecret:          fakeClientSecret,
		RegistrationExpiresAt: t0.Add(90 * 24 * time.Hour),
		RefreshToken:          fakeRefreshToken,
	}
}

func writeFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirNames lists a directory, for checks that no temporary file is left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// The Pythons with a botocore: python3 on PATH (botocore 1.43 here) and Debian's (botocore 1.29.27).
const (
	pathPython   = "python3"
	debianPython = "/usr/bin/python3"
)

var botocoreChecks sync.Map // python -> error text ("" when botocore imports)

// needBotocore skips the test only when python cannot import botocore.
func needBotocore(t *testing.T, python string) {
	t.Helper()
	v, ok := botocoreChecks.Load(python)
	if !ok {
		msg := ""
		if out, err := exec.Command(python, "-c", "import botocore, dateutil").CombinedOutput(); err != nil {
			msg = strings.TrimSpace(err.Error() + ": " + string(out))
		}
		v, _ = botocoreChecks.LoadOrStore(python, msg)
	}
	if msg := v.(string); msg != "" {
		t.Skipf("skipping: this test drives the real botocore, but `%s -c 'import botocore'` failed (%s)", python, msg)
	}
}

// loopbackEnv is the environment for python: the caller's, without any AWS_ variable, with HOME in a test
// directory and every endpoint on a closed loopback port, so that nothing can reach AWS.
func loopbackEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	const closed = "http://127.0.0.1:9"
	env = append(env,
		"HOME="+home,
		"AWS_CONFIG_FILE="+filepath.Join(home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, ".aws", "credentials"),
		"AWS_ENDPOINT_URL="+closed,
		"AWS_ENDPOINT_URL_SSO="+closed,
		"AWS_ENDPOINT_URL_SSO_OIDC="+closed,
		"AWS_ENDPOINT_URL_STS="+closed,
		"AWS_EC2_METADATA_DISABLED=true",
	)
	return append(env, extra...)
}

// runBotocore runs testdata/botocore_interop.py MODE under python3 with args as JSON on stdin and decodes its
// JSON output.
func runBotocore(t *testing.T, home, mode string, args, out any) {
	t.Helper()
	runBotocoreWith(t, pathPython, home, mode, args, out)
}

func runBotocoreWith(t *testing.T, python, home, mode string, args, out any) {
	t.Helper()
	needBotocore(t, python)
	in, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "botocore_interop.py"), mode)
	cmd.Env = loopbackEnv(home)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("botocore (%s) %s: %v\n%s", python, mode, err, redact(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("botocore %s: output is not JSON: %v", mode, err)
	}
}
