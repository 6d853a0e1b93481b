package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// botocoreUsesTheToken is run by the python3 on PATH (botocore 1.43). Every
// AWS_ENDPOINT_URL_* points at the emulator (the test checks), so the SSO
// profile can only reach it. It prints the caller's ARN.
const botocoreUsesTheToken = `
import os, sys, boto3
for k in ("AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_STS"):
    assert os.environ[k].startswith("http://127.0.0.1:"), k
arn = boto3.Session(profile_name="emulator").client("sts").get_caller_identity()["Arn"]
print(arn)
`

// TestBotocoreAndSsokeepShareTheToken: ssokeep logs in; botocore's own SSO
// provider uses that token with no login of its own, and (the token being
// inside its 15-minute window) refreshes it; ssokeep then uses what botocore
// wrote. The emulator rotates refresh tokens, so a side that kept a stale one
// would fail.
func TestBotocoreAndSsokeepShareTheToken(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("python3 with boto3 is not installed")
	}
	// Python signs and reads token expiries on the wall clock: so must the emulator.
	e := newEmuCLIAt(t, emulator.Options{Approve: emulator.Auto, TokenLifetime: 10 * time.Minute}, time.Time{})
	if code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	dir := ssocache.Dir{Path: filepath.Join(e.home, ".aws", "sso", "cache")}
	mine, err := dir.LoadToken(ssocache.TokenKey("emulator"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", botocoreUsesTheToken)
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), ":assumed-role/AWSReservedSSO_Developer_") {
		t.Fatalf("botocore with ssokeep's token: %v\n%s", err, out)
	}
	if n := e.ops("StartDeviceAuthorization"); n != 1 {
		t.Errorf("%d logins: botocore logged in itself", n)
	}
	theirs, err := dir.LoadToken(ssocache.TokenKey("emulator"))
	if err != nil || theirs.AccessToken == mine.AccessToken || theirs.RefreshToken == mine.RefreshToken {
		t.Fatalf("botocore did not refresh the shared token (err %v)", err)
	}
	// ssokeep now refreshes with the refresh token botocore wrote (the one it
	// logged in with is spent), and the role credentials flow.
	g := &Globals{profile: "emulator", stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.DiscardHandler)}
	m, err := newManager(g)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := loadConfig()
	s, err := sessionFor(g, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(context.Background(), s, time.Hour) // more than is left: forces a refresh
	if err != nil || tok.AccessToken == theirs.AccessToken {
		t.Fatalf("ssokeep could not refresh after botocore: %v", err)
	}
	if code, out, errOut := e.run("credential-process", "-p", "emulator"); code != 0 || !strings.Contains(out, `"Version":1`) {
		t.Errorf("credential-process after botocore's refresh: %d %s %s", code, out, errOut)
	}
	for _, secret := range []string{mine.AccessToken, mine.RefreshToken, theirs.RefreshToken} {
		if strings.Contains(string(out), secret) {
			t.Error("python printed a token")
		}
	}
}
