package serve

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Real clients resolve credentials from the endpoint through their default
// chains with nothing but Server.Env in the environment. They judge expiry
// with the wall clock, so these servers run on it too.

func newWallClockServer(t *testing.T) (*testServer, aws.Credentials) {
	t.Helper()
	ts := newTestServer(t, nil)
	now := time.Now()
	ts.clock.Set(now)
	// A sub-second expiry: the endpoint must round it down, never up.
	c := newCreds(t, now.Add(time.Hour+300*time.Millisecond), "210987654321")
	ts.src.set(c, true)
	return ts, c
}

// cleanAWSEnv clears everything that ranks above the container provider or
// could send a client to real AWS.
func cleanAWSEnv(t *testing.T) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "us-east-1")
}

func TestGoSDKDefaultChain(t *testing.T) {
	ts, want := newWallClockServer(t)
	cleanAWSEnv(t)
	for _, kv := range ts.Env("/creds/dev") {
		name, value, _ := strings.Cut(kv, "=")
		t.Setenv(name, value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey || got.SessionToken != want.SessionToken {
		t.Error("the Go SDK resolved other keys than the served set")
	}
	// The SDK's CredentialsCache reports the expiry minus its 5-minute
	// ExpiryWindow for HTTP providers (config resolveHTTPCredProvider).
	if wantExp := want.Expires.Truncate(time.Second).Add(-5 * time.Minute); !got.Expires.Equal(wantExp) {
		t.Errorf("Go SDK expiry %v, want the true expiry less the SDK's 5 min window, %v", got.Expires, wantExp)
	}
	if got.AccountID != want.AccountID {
		t.Errorf("AccountID %q, want %q", got.AccountID, want.AccountID)
	}
	if !strings.Contains(got.Source, "CredentialsEndpoint") {
		t.Errorf("credentials came from %q, not the container provider", got.Source)
	}

	// A wrong token: the SDK reports our {code,message} and no secret.
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", randHex(t, 32))
	cfg, err = config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg.Credentials.Retrieve(ctx)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("wrong token: want an error carrying AccessDenied, got %v", err)
	}
	for _, s := range ts.secrets() {
		if err != nil && strings.Contains(err.Error(), s) {
			t.Error("the SDK's error carries a secret")
		}
	}
}

// pythonWithBotocore skips the test when exe cannot import botocore of the
// wanted major.minor.
func pythonWithBotocore(t *testing.T, exe, want string) {
	t.Helper()
	out, err := exec.Command(exe, "-c", "import boto3, botocore; print(botocore.__version__)").Output()
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(out)), want) {
		t.Skipf("skipping: %s with botocore %s.x is not available (got %q, %v); CI installs Debian's python3-boto3 for 1.29", exe, want, strings.TrimSpace(string(out)), err)
	}
}

func runBotocore(t *testing.T, exe string, ts *testServer, want aws.Credentials, mode string, env ...string) string {
	t.Helper()
	cmd := exec.Command(exe, filepath.Join("testdata", "container_creds.py"), mode)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8",
		"AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_DEFAULT_REGION=us-east-1",
		"EXPECT_ACCESS_KEY_ID=" + want.AccessKeyID, "EXPECT_SECRET=" + want.SecretAccessKey,
		"EXPECT_TOKEN=" + want.SessionToken, "EXPECT_ACCOUNT_ID=" + want.AccountID,
		"EXPECT_EXPIRY=" + want.Expires.UTC().Truncate(time.Second).Format(time.RFC3339),
	}, ts.Env("/creds/dev")...)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	for _, s := range ts.secrets() {
		if strings.Contains(string(out), s) {
			t.Errorf("%s printed a secret (%d chars)", exe, len(s))
		}
	}
	if err != nil {
		t.Fatalf("%s container_creds.py %s: %v\n%s", exe, mode, err, out)
	}
	return string(out)
}

func TestBoto3Current(t *testing.T) {
	pythonWithBotocore(t, "python3", "1.43")
	ts, want := newWallClockServer(t)
	out := runBotocore(t, "python3", ts, want, "ok")
	if !strings.Contains(out, "PASS") {
		t.Errorf("no PASS:\n%s", out)
	}
	t.Log(strings.TrimSpace(out))
	// botocore retries 3 times with 1 s sleeps before it gives up.
	out = runBotocore(t, "python3", ts, want, "refused", "AWS_CONTAINER_AUTHORIZATION_TOKEN="+randHex(t, 32))
	if !strings.Contains(out, "refused as expected") {
		t.Errorf("wrong token was not refused:\n%s", out)
	}
}

func TestBoto3Debian(t *testing.T) {
	pythonWithBotocore(t, "/usr/bin/python3", "1.29")
	ts, want := newWallClockServer(t)
	out := runBotocore(t, "/usr/bin/python3", ts, want, "ok")
	if !strings.Contains(out, "PASS") {
		t.Errorf("no PASS:\n%s", out)
	}
	t.Log(strings.TrimSpace(out))
}
