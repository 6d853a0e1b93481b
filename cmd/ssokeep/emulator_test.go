package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

// TestEmulatorCommandStartsServesAndStops runs `ssokeep emulator` as a user
// would: wait for its export lines, source them (here: set them), log in
// through the emulator, let the Go SDK's own SSO provider read the
// generated config, then SIGTERM and expect a clean exit.
func TestEmulatorCommandStartsServesAndStops(t *testing.T) {
	bin := testbin.Ssokeep(t)
	dir := t.TempDir()
	envFile, cfgFile := filepath.Join(dir, "emu.env"), filepath.Join(dir, "emu.config")
	cmd := exec.Command(bin, "emulator", "--approve", "auto", "--role-duration", "30m",
		"--env-file", envFile, "--aws-config", cfgFile)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})

	// The export lines on stdout mean it is listening.
	var printed strings.Builder
	env := map[string]string{}
	sc := bufio.NewScanner(stdout)
	for len(env) < 7 && sc.Scan() {
		line := sc.Text()
		printed.WriteString(line + "\n")
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			t.Fatalf("unexpected stdout line %q", line)
		}
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	if len(env) < 7 {
		t.Fatalf("stdout ended after %q; stderr: %s", printed.String(), stderr.String())
	}
	fileEnv, err := os.ReadFile(envFile)
	if err != nil || string(fileEnv) != printed.String() {
		t.Fatalf("env file %q (%v) differs from stdout %q", fileEnv, err, printed.String())
	}
	base := env["AWS_ENDPOINT_URL_SSO_OIDC"]
	for _, k := range []string{"AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3"} {
		if env[k] != base || !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Errorf("%s = %q, want the loopback base URL %q", k, env[k], base)
		}
	}
	if env["AWS_CONFIG_FILE"] != cfgFile || env["AWS_REGION"] != "us-east-1" {
		t.Errorf("env: %v", env)
	}
	cfgText, err := os.ReadFile(cfgFile)
	if err != nil || !strings.Contains(string(cfgText), "[sso-session emulator]") || !strings.Contains(string(cfgText), "[profile emulator]") {
		t.Fatalf("aws config: %s %v", cfgText, err)
	}

	// "source" the env file: only loopback endpoints, so an SSO profile is safe.
	for k, v := range env {
		t.Setenv(k, v)
	}
	t.Setenv("HOME", dir)
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	ctx := context.Background()
	anon, err := config.LoadDefaultConfig(ctx, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		t.Fatal(err)
	}
	oidc := ssooidc.NewFromConfig(anon)
	reg, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("t"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatal(err)
	}
	da, err := oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId,
		ClientSecret: reg.ClientSecret, StartUrl: aws.String(configValue(string(cfgText), "sso_start_url"))})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: da.DeviceCode})
	if err != nil {
		t.Fatalf("CreateToken under --approve auto: %v", err)
	}
	secrets := []string{*reg.ClientSecret, *tok.AccessToken, *tok.RefreshToken, *da.DeviceCode}

	// The token cache file the CLI would write, then the SDK's own chain.
	cache := filepath.Join(dir, ".aws", "sso", "cache")
	os.MkdirAll(cache, 0o700)
	sum := sha1.Sum([]byte("emulator"))
	exp := time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second).UTC().Format(time.RFC3339)
	cached, _ := json.Marshal(map[string]string{"startUrl": configValue(string(cfgText), "sso_start_url"), "region": "us-east-1",
		"accessToken": *tok.AccessToken, "expiresAt": exp, "clientId": *reg.ClientId, "clientSecret": *reg.ClientSecret,
		"registrationExpiresAt": time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339), "refreshToken": *tok.RefreshToken})
	if err := os.WriteFile(filepath.Join(cache, hex.EncodeToString(sum[:])+".json"), cached, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("emulator"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatalf("SSO credentials through the generated config: %v", err)
	}
	secrets = append(secrets, creds.SecretAccessKey, creds.SessionToken)
	if d := time.Until(creds.Expires); d < 29*time.Minute || d > 31*time.Minute {
		t.Errorf("role credentials expire in %v, want --role-duration 30m", d)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || !strings.Contains(*id.Arn, ":assumed-role/AWSReservedSSO_Developer_") {
		t.Fatalf("GetCallerIdentity: %v %v", id, err)
	}

	resp, err := http.Get(base + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Operations map[string]struct{ Requests int } `json:"operations"`
		Sessions   []struct{ End time.Time }         `json:"sessions"`
	}
	json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if stats.Operations["GetRoleCredentials"].Requests != 1 || stats.Operations["GetCallerIdentity"].Requests != 1 || len(stats.Sessions) != 1 {
		t.Errorf("stats: %+v", stats)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, stdout)
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("after SIGTERM: %v (want exit 0); stderr: %s", err, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{"SessionStarted", "TokenIssued", "RoleCredentialsIssued", "stopping"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, logs)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) || strings.Contains(printed.String(), s) {
			t.Errorf("a secret (%d chars) was printed", len(s))
		}
	}
}

func configValue(cfg, key string) string {
	for _, line := range strings.Split(cfg, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestEmulatorCommandRefusesNonLoopbackAddress(t *testing.T) {
	out, err := exec.Command(testbin.Ssokeep(t), "emulator", "--addr", "0.0.0.0:0").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != cli.ExitUsage || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("exit %v, output %q; want exit %d saying it is not a loopback address", err, out, cli.ExitUsage)
	}
}

func TestEmulatorCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.env")
	os.WriteFile(existing, []byte("keep me\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--env-file", existing}, "already exists; pass --force"},
		{[]string{"--aws-config", existing}, "already exists; pass --force"},
		{[]string{"--approve", "sometimes"}, "--approve"},
		{[]string{"--fault", "CreateToken:error=ThrottlingException"}, "not an error code of SSO OIDC"},
		{[]string{"--fault", "CreateToken"}, "--fault"},
		{[]string{"--session-duration", "0s"}, "--session-duration"},
		{[]string{"--accounts", filepath.Join(dir, "missing.json")}, "missing.json"},
	} {
		var stdout, stderr bytes.Buffer
		code := cli.Run(append([]string{"emulator"}, tc.args...), strings.NewReader(""), &stdout, &stderr)
		if code != cli.ExitUsage || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), cli.ExitUsage, tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "keep me\n" {
		t.Errorf("an existing file was changed: %q", b)
	}
}
