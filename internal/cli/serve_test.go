package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

// TestServeDaemon runs `ssokeep serve` as a process: it prints the variables a
// job needs, the Go SDK's default chain gets credentials through them,
// `ssokeep status` lists the daemon, and SIGTERM stops it cleanly.
func TestServeDaemon(t *testing.T) {
	bin := testbin.Ssokeep(t)
	e := newEmuCLIAt(t, emulator.Options{Approve: emulator.Auto}, time.Time{}) // the daemon runs on the real clock
	if code, out, errOut := e.run("login", "-p", "emulator", "--device-code", "--no-browser"); code != 0 {
		t.Fatalf("login: %d %s %s", code, out, errOut)
	}
	cmd := exec.Command(bin, "serve", "emulator", "--no-desktop")
	cmd.Env = os.Environ()
	out, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	env := map[string]string{}
	sc := bufio.NewScanner(out)
	for len(env) < 2 && sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
			env[k] = v
		}
	}
	uri, token := env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
	if !strings.HasPrefix(uri, "http://127.0.0.1:") || !strings.HasSuffix(uri, "/creds/emulator") || len(token) < 64 {
		t.Fatalf("serve printed %q (token %d chars); stderr: %s", uri, len(token), stderr.String())
	}
	// A job with only those two variables (and nothing that outranks them).
	for _, k := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID"} {
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", token)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.Source == "" || !creds.CanExpire || creds.Expires.Before(time.Now()) {
		t.Fatalf("job credentials: %+v %v", creds.Expires, err)
	}
	t.Setenv("AWS_CONFIG_FILE", e.home+"/.aws/config")
	code, js, _ := e.run("status", "--json", "-p", "emulator")
	var rep struct {
		Keepers []struct {
			PID      int
			Command  string
			Profiles []struct{ Profile string }
		}
	}
	json.Unmarshal([]byte(js), &rep)
	if code != 0 || len(rep.Keepers) != 1 || rep.Keepers[0].PID != cmd.Process.Pid || rep.Keepers[0].Command != "serve" ||
		rep.Keepers[0].Profiles[0].Profile != "emulator" {
		t.Errorf("status does not list the daemon: %d %s", code, js)
	}
	if strings.Contains(js, token) || strings.Contains(js, creds.SecretAccessKey) {
		t.Error("status shows a secret")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve did not stop cleanly: %v\n%s", err, stderr.String())
	}
	if strings.Contains(stderr.String(), token) || strings.Contains(stderr.String(), creds.SecretAccessKey) {
		t.Error("serve logged a secret")
	}
	_, js, _ = e.run("status", "--json", "-p", "emulator")
	if strings.Contains(js, `"command": "serve"`) {
		t.Error("the stopped daemon is still listed")
	}
}
