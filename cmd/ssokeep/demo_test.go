package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ssokeep/ssokeep/internal/cli"
	"github.com/ssokeep/ssokeep/internal/testbin"
)

// demoEnv is an environment whose home holds a broken AWS config and whose
// variables carry static keys and a profile: none of it may reach the demo
// or its job.
func demoEnv(t *testing.T) (env []string, home string) {
	t.Helper()
	home = t.TempDir()
	cfg := filepath.Join(home, ".aws", "config")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("[profile emulator]\nsso_session = nowhere\n"), 0o600)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+home, "AWS_CONFIG_FILE="+cfg, "AWS_PROFILE=prod",
		"AWS_ACCESS_KEY_ID=AKIAUSERSOWNKEY00000", "AWS_SECRET_ACCESS_KEY=usersownsecretusersownsecret0000"), home
}

// isolate gives the test a throwaway home and no AWS variables.
func isolate(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
}

// runCLI runs ssokeep in-process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// filesUnder lists the files below dir.
func filesUnder(dir string) []string {
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// secretShapes match the emulator's tokens and session tokens and the
// endpoint's 256-bit hex token.
var demoSecretShapes = regexp.MustCompile(`\baoa[A-Za-z0-9_-]{8}|\baor[A-Za-z0-9_-]{8}|IQoJb3JpZ2luX2Vj|[0-9a-f]{64}`)

type demoSummary struct {
	Calls            int64  `json:"calls"`
	Failed           int64  `json:"failed"`
	Objects          int    `json:"objects"`
	Rotations        int    `json:"rotations"`
	TokenRefreshes   int    `json:"tokenRefreshes"`
	SessionEnds      int    `json:"sessionEnds"`
	Logins           int    `json:"logins"`
	LoginPending     bool   `json:"loginPending"`
	JobExitCode      int    `json:"jobExitCode"`
	Interrupted      bool   `json:"interrupted"`
	SampleJob        bool   `json:"sampleJob"`
	CredentialSource string `json:"credentialSource"`
	EmulatorCalls    int64  `json:"emulatorCalls"`
	EmulatorRefused  int64  `json:"emulatorRefused"`
	Seconds          float64
	Schedule         struct {
		Speed, SessionSeconds, TokenSeconds, RoleSeconds, JobSeconds float64
	}
}

// TestDemoEndToEnd runs `ssokeep demo --json` as a user would, at three
// times the default speed (about 50 s): the sample job must cross at least
// one session end with no failed call, and each session end must be
// followed by one approved login.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 50-second demo")
	}
	t.Parallel()
	bin := testbin.Ssokeep(t)
	env, home := demoEnv(t)
	cmd := exec.Command(bin, "demo", "--json", "--speed", "3")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ssokeep demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var sum demoSummary
	dec := json.NewDecoder(&stdout)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("stdout is not the JSON summary: %v\n%s", err, stdout.String())
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Errorf("stdout holds more than the summary")
	}
	t.Logf("summary: %+v", sum)
	if sum.Failed != 0 || sum.JobExitCode != 0 || sum.Interrupted || sum.Calls < 100 || !sum.SampleJob {
		t.Errorf("the job must run to its end with no failed call: %+v\n%s", sum, stderr.String())
	}
	if sum.SessionEnds < 1 {
		t.Errorf("no session ended in %d calls: the demo must show a job outliving its session", sum.Calls)
	}
	if sum.Logins != sum.SessionEnds || sum.LoginPending {
		t.Errorf("%d session ends, %d logins approved, pending %v: want one login per session end", sum.SessionEnds, sum.Logins, sum.LoginPending)
	}
	if sum.CredentialSource != "CredentialsEndpointProvider" {
		t.Errorf("the job's SDK took credentials from %q: the user's static keys or profile leaked in", sum.CredentialSource)
	}
	if sum.Rotations < 3 || sum.TokenRefreshes < 3 || sum.Objects == 0 || sum.Schedule.SessionSeconds != 20 {
		t.Errorf("summary %+v: want rotations, refreshes and objects at 20 s sessions", sum)
	}
	if sum.EmulatorCalls < sum.Calls || sum.EmulatorRefused != 0 {
		t.Errorf("the emulator saw %d calls (%d refused) for the job's %d", sum.EmulatorCalls, sum.EmulatorRefused, sum.Calls)
	}
	// Not a terminal: the view is one line per event, on stderr.
	view := stderr.String()
	for _, want := range []string{"» to log in, open http://127.0.0.1:", "✓ logged in", "job started",
		"✗ session over: token refresh refused", "» notification sent: approve code", "✓ login approved",
		"· job ", "✓ job finished (exit 0)"} {
		if !strings.Contains(view, want) {
			t.Errorf("the line view lacks %q", want)
		}
	}
	if strings.Contains(view, "\x1b[") {
		t.Errorf("escape codes in the line view of a pipe")
	}
	if m := demoSecretShapes.FindString(stdout.String() + view); m != "" {
		t.Errorf("something shaped like a secret in the output: %q", m)
	}
	if files := filesUnder(home); len(files) != 1 {
		t.Errorf("the demo wrote into the home directory: %q", files)
	}
}

func TestDemoUsageErrors(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "--speed", "9"}, "--speed 9"},
		{[]string{"demo", "--speed", "0"}, "--speed 0"},
		{[]string{"demo", "--duration", "-5s"}, "--duration"},
		{[]string{"demo", "--job"}, "--job needs the command"},
		{[]string{"demo", "python3", "flow.py"}, `unexpected argument "python3"`},
		{[]string{"demo", "--notify-webhook", "not a url"}, "--notify-webhook"},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != cli.ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d naming %q", tc.args, code, errOut, cli.ExitUsage, tc.want)
		}
	}
}

func TestDemoJobIsHiddenAndRefusesRealS3(t *testing.T) {
	isolate(t)
	_, out, _ := runCLI("--help")
	if strings.Contains(out, "demo-job") || !strings.Contains(out, "demo ") {
		t.Errorf("help should list demo and hide demo-job:\n%s", out)
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://s3.us-east-1.amazonaws.com")
	code, _, errOut := runCLI("demo-job", "--duration", "1s")
	if code == 0 || !strings.Contains(errOut, "not a loopback address") {
		t.Errorf("demo-job against real S3: exit %d, %q", code, errOut)
	}
}
