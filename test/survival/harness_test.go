//go:build unix

package survival

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/syncbuf"
)

// The compressed clocks of every scenario (DESIGN.md: role credentials,
// access token, sign-in session).
const (
	sessionLife = 90 * time.Second
	tokenLife   = 20 * time.Second
	roleLife    = 30 * time.Second
	// settle bounds the time from a session's end to the next login: the
	// keeper notices the end at its next token refresh (every 2/3 of the
	// token's life at the latest; in practice 1-3 s, as it forecasts the
	// end) and the hook approves the code at once.
	settle = 25 * time.Second
	// profile is the emulator's [profile emulator] on its sso-session.
	profile = "emulator"
)

// jobDuration is how long the long-running children run: three session
// lifetimes and a little more (the job crosses two or three session ends,
// as each new session starts a few seconds after the last one ended), or
// with -short one lifetime plus the time for the login after its end.
func jobDuration() time.Duration {
	if testing.Short() {
		return sessionLife + 30*time.Second
	}
	return 3*sessionLife + 10*time.Second
}

// approveScript is the notify hook that plays the person approving logins.
func approveScript(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("testdata", "approve.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// baseEnv is the environment of every process a test starts: the test's own
// minus anything that could point a client at real AWS or at the user's
// files, with a private HOME.
func baseEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.HasPrefix(k, "SSOKEEP_"), strings.HasPrefix(k, "SURVIVAL_"),
			strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "METAFLOW_"),
			k == "HOME", k == "BOTO_CONFIG", k == "DISPLAY", k == "WAYLAND_DISPLAY", k == "DBUS_SESSION_BUS_ADDRESS":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home, "AWS_EC2_METADATA_DISABLED=true")
}

// emu is one `ssokeep emulator` process with its own HOME, and everything
// the test saw around it.
type emu struct {
	t      *testing.T
	home   string
	url    string
	env    []string // baseEnv plus the emulator's exports (endpoints, region, AWS_CONFIG_FILE)
	stderr *syncbuf.Buffer

	mu      sync.Mutex
	outputs map[string]string // every output of ssokeep, by name, for the leak check
	secrets map[string]string // every secret seen (value -> kind)
}

func startEmulator(t *testing.T, faults ...string) *emu {
	t.Helper()
	home := t.TempDir()
	cfg := filepath.Join(home, "emulator.config")
	args := []string{"emulator", "--session-duration", sessionLife.String(), "--token-lifetime", tokenLife.String(),
		"--role-duration", roleLife.String(), "--aws-config", cfg}
	for _, f := range faults {
		args = append(args, "--fault", f)
	}
	e := &emu{t: t, home: home, stderr: &syncbuf.Buffer{}, outputs: map[string]string{}, secrets: map[string]string{}}
	cmd := exec.Command(bin.ssokeep, args...)
	cmd.Env = baseEnv(home)
	cmd.Stderr = e.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	// The start-up contract: export lines on stdout once it listens.
	exports := map[string]string{}
	var printed strings.Builder
	sc := bufio.NewScanner(out)
	for len(exports) < 7 && sc.Scan() {
		line := sc.Text()
		printed.WriteString(line + "\n")
		if kv, ok := strings.CutPrefix(line, "export "); ok {
			k, v, _ := strings.Cut(kv, "=")
			exports[k] = strings.Trim(v, "'")
		}
	}
	go io.Copy(io.Discard, out)
	e.url = exports["AWS_ENDPOINT_URL_SSO_OIDC"]
	if len(exports) < 7 || exports["AWS_CONFIG_FILE"] != cfg || !strings.HasPrefix(e.url, "http://127.0.0.1:") {
		t.Fatalf("ssokeep emulator printed %q, not the seven export lines with a loopback URL; stderr:\n%s", printed.String(), e.redact(e.stderr.String()))
	}
	for _, k := range []string{"AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL_SSO", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3"} {
		if exports[k] != e.url {
			t.Fatalf("%s=%s, not the emulator's loopback URL %s: no client may reach real AWS", k, exports[k], e.url)
		}
	}
	e.env = cmd.Env
	for k, v := range exports {
		e.env = append(e.env, k+"="+v)
	}
	e.record("emulator stdout", printed.String())

	// The forecast reads the session length from the [sso-session].
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	section := "[sso-session " + emulator.SessionName + "]\n"
	if !bytes.Contains(b, []byte(section)) {
		t.Fatalf("%s has no %q section:\n%s", cfg, strings.TrimSpace(section), b)
	}
	b = bytes.Replace(b, []byte(section), []byte(section+"ssokeep_session_duration = "+sessionLife.String()+"\n"), 1)
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// ssokeep is a command of the binary under test in the emulator's world.
func (e *emu) ssokeep(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin.ssokeep, args...)
	cmd.Env = e.env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// record keeps an output of ssokeep for the leak check.
func (e *emu) record(name, text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outputs[name] += text
}

var userCodeRe = regexp.MustCompile(`code: ([A-Z0-9]{4}-[A-Z0-9]{4})`)

// login runs `ssokeep login --device-code --no-browser` and approves the
// code it prints through the control API, as the person would.
func (e *emu) login(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := e.ssokeep(ctx, "login", "-p", profile, "--device-code", "--no-browser")
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var printed strings.Builder
	sc := bufio.NewScanner(out)
	approved := false
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if m := userCodeRe.FindStringSubmatch(sc.Text()); m != nil && !approved {
			e.approve(t, m[1])
			approved = true
		}
	}
	err = cmd.Wait()
	e.record("login stdout", printed.String())
	e.record("login stderr", stderr.String())
	if err != nil || !approved {
		t.Fatalf("ssokeep login: %v (code approved: %v)\nstdout:\n%s\nstderr:\n%s", err, approved, e.redact(printed.String()), e.redact(stderr.String()))
	}
}

// approve approves one user code through the control API.
func (e *emu) approve(t *testing.T, code string) {
	t.Helper()
	resp, err := http.Post(e.url+"/_emulator/approve", "application/json", strings.NewReader(`{"userCode":"`+code+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("approving %s: %s %s", code, resp.Status, b)
	}
}

func (e *emu) stats(t *testing.T) emulator.Stats {
	t.Helper()
	resp, err := http.Get(e.url + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st emulator.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decoding /_emulator/stats: %v", err)
	}
	return st
}

// event is one "emulator event" line of the emulator's log.
type event struct {
	kind     string
	at, ends time.Time // ends: session_end, for SessionStarted
	userCode string
	reason   string
}

var logFieldRe = regexp.MustCompile(`(\w+)=("(?:[^"\\]|\\.)*"|\S+)`)

// events reads the emulator's event log (its stderr).
func (e *emu) events() []event {
	var evs []event
	for line := range strings.Lines(e.stderr.String()) {
		if !strings.Contains(line, `msg="emulator event"`) {
			continue
		}
		var ev event
		for _, m := range logFieldRe.FindAllStringSubmatch(line, -1) {
			v := strings.Trim(m[2], `"`)
			switch m[1] {
			case "event":
				ev.kind = v
			case "at":
				ev.at, _ = time.Parse(time.RFC3339, v)
			case "session_end":
				ev.ends, _ = time.Parse(time.RFC3339, v)
			case "user_code":
				ev.userCode = v
			case "reason":
				ev.reason = v
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

// secretKeys are the JSON fields of the caches that hold secrets.
var secretKeys = map[string]string{
	"accessToken": "access token", "refreshToken": "refresh token", "clientSecret": "client secret",
	"SecretAccessKey": "secret access key", "SessionToken": "session token",
	"secretAccessKey": "secret access key", "sessionToken": "session token",
}

// collectCacheSecrets adds every secret in the JSON files under HOME (the
// SSO token and registration cache, role caches, ssokeep's state).
func (e *emu) collectCacheSecrets() {
	_ = filepath.WalkDir(e.home, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			return nil
		}
		e.addSecrets(v, "")
		return nil
	})
}

func (e *emu) addSecrets(v any, key string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			e.addSecrets(c, k)
		}
	case []any:
		for _, c := range x {
			e.addSecrets(c, key)
		}
	case string:
		if kind, ok := secretKeys[key]; ok && x != "" {
			e.addSecret(x, kind)
		}
	}
}

func (e *emu) addSecret(s, kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets[s] = kind
}

// addSecretsFile adds the secrets a child wrote, one a line.
func (e *emu) addSecretsFile(t *testing.T, path, kind string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the child wrote no secrets file: %v", err)
	}
	n := 0
	for line := range strings.Lines(string(b)) {
		if s := strings.TrimSpace(line); s != "" {
			e.addSecret(s, kind)
			n++
		}
	}
	return n
}

// assertNoSecrets checks every recorded output of ssokeep against every
// secret seen. Failures name the output and the kind of secret, and show a
// hash prefix, never the secret.
func (e *emu) assertNoSecrets(t *testing.T, atLeast int) {
	t.Helper()
	e.collectCacheSecrets()
	e.record("emulator stderr", e.stderr.String())
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.secrets) < atLeast {
		t.Fatalf("only %d secrets collected, want at least %d: the leak check would prove nothing", len(e.secrets), atLeast)
	}
	kinds := map[string]int{}
	for s, kind := range e.secrets {
		kinds[kind]++
		for name, text := range e.outputs {
			if strings.Contains(text, s) {
				sum := sha256.Sum256([]byte(s))
				t.Errorf("%s contains a %s (sha256 %x…)", name, kind, sum[:6])
			}
		}
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range e.outputs {
			if !yield(n) {
				return
			}
		}
	})
	t.Logf("no-leak check: %d secrets (%v) against %d outputs (%s)", len(e.secrets), kinds, len(names), strings.Join(names, ", "))
}

// watch runs `ssokeep status` (table and JSON) every 20 s and collects the
// cache's secrets every 2 s (tokens rotate every ~13 s) until stop is
// closed. Real processes on the real clock: this is polling, not waiting.
func (e *emu) watch(t *testing.T, stop <-chan struct{}) (done <-chan struct{}) {
	d := make(chan struct{})
	statusRuns := 0
	runStatus := func() {
		for _, args := range [][]string{{"status"}, {"status", "--json"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			out, err := e.ssokeep(ctx, args...).CombinedOutput()
			cancel()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Errorf("ssokeep %s: %v", strings.Join(args, " "), err)
			}
			if !strings.Contains(string(out), profile) {
				t.Errorf("ssokeep %s does not mention the %s session:\n%s", strings.Join(args, " "), profile, e.redact(string(out)))
			}
			e.record("ssokeep "+strings.Join(args, " "), string(out))
		}
		statusRuns++
	}
	go func() {
		defer close(d)
		secrets := time.NewTicker(2 * time.Second)
		status := time.NewTicker(20 * time.Second)
		defer secrets.Stop()
		defer status.Stop()
		runStatus()
		for {
			select {
			case <-stop:
				runStatus()
				e.collectCacheSecrets()
				t.Logf("ssokeep status ran %d times during the job", statusRuns)
				return
			case <-secrets.C:
				e.collectCacheSecrets()
			case <-status.C:
				runStatus()
			}
		}
	}()
	return d
}

// jobResult is what one `ssokeep exec` did.
type jobResult struct {
	code           int
	stdout, stderr string
	started, ended time.Time
}

// execArgs are the flags of every `ssokeep exec` here: the emulator's
// profile, no desktop, and the approving hook.
func execArgs(t *testing.T, argv ...string) []string {
	return append([]string{"exec", "-p", profile, "--no-desktop", "--notify-command", "sh '" + approveScript(t) + "'", "--"}, argv...)
}

// execCmd is an `ssokeep exec` of argv with extra environment for the job.
func (e *emu) execCmd(ctx context.Context, t *testing.T, env []string, argv ...string) *exec.Cmd {
	cmd := e.ssokeep(ctx, execArgs(t, argv...)...)
	cmd.Env = append(slices.Clone(e.env), "SURVIVAL_APPROVALS="+e.approvalsFile())
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

func (e *emu) approvalsFile() string { return filepath.Join(e.home, "approvals.log") }

// hookCodes are the codes the notify hook was told about, and whether it
// approved each.
func (e *emu) hookCodes() (approved, ignored []string) {
	b, _ := os.ReadFile(e.approvalsFile())
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[1] == "ignored":
			ignored = append(ignored, f[0])
		case len(f) > 0:
			approved = append(approved, f[0])
		}
	}
	return approved, ignored
}

// redact replaces every secret seen so far in text, for failure messages
// that show ssokeep's output: a test prints no secret even when ssokeep
// leaks one (the leak check names the leak).
func (e *emu) redact(text string) string {
	e.collectCacheSecrets()
	e.mu.Lock()
	defer e.mu.Unlock()
	for s, kind := range e.secrets {
		text = strings.ReplaceAll(text, s, "[a "+kind+"]")
	}
	return text
}

// run runs `ssokeep exec` to the end (with a deadline well past the job's).
func (e *emu) run(t *testing.T, timeout time.Duration, env []string, argv ...string) jobResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := e.execCmd(ctx, t, env, argv...)
	var stdout, stderr syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	r := jobResult{started: time.Now()}
	err := cmd.Run()
	r.ended = time.Now()
	r.code = exitCode(t, err)
	r.stdout, r.stderr = stdout.String(), stderr.String()
	name := "ssokeep exec " + label(argv)
	e.record(name+" stdout", r.stdout)
	e.record(name+" stderr", r.stderr)
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v\nstderr:\n%s", name, timeout, e.redact(r.stderr))
	}
	return r
}

// label names a job in messages: its argv on one line, shortened.
func label(argv []string) string {
	s := strings.Join(strings.Fields(strings.Join(argv, " ")), " ")
	if len(s) > 48 {
		s = s[:45] + "..."
	}
	return s
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("ssokeep did not exit normally: %v", err)
	return -1
}

// childReport is the JSON both children print at the end.
type childReport struct {
	Client              string         `json:"client"`
	Boto3               string         `json:"boto3"`
	Botocore            string         `json:"botocore"`
	Seconds             float64        `json:"seconds"`
	Workers             int            `json:"workers"`
	Calls               int            `json:"calls"`
	Failures            int            `json:"failures"`
	ByOperation         map[string]int `json:"byOperation"`
	FailuresByOperation map[string]int `json:"failuresByOperation"`
	Errors              []string       `json:"errors"`
	AccessKeys          []string       `json:"accessKeys"`
	CredentialSources   []string       `json:"credentialSources"`
	ClientsBuilt        int            `json:"clientsBuilt"`
	SecretsSeen         int            `json:"secretsSeen"`
	// FirstFailure is when the first call failed, in seconds from the
	// child's start (gochild only; 0: none).
	FirstFailure float64 `json:"firstFailureSeconds"`
	// LongestPause is the longest stretch, in seconds, without a successful
	// call (from the start to the end).
	LongestPause float64 `json:"longestPauseSeconds"`
}

// parseReport reads the last JSON line a child printed.
func (e *emu) parseReport(t *testing.T, stdout, stderr string) childReport {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	last := lines[len(lines)-1]
	var r childReport
	if err := json.Unmarshal([]byte(last), &r); err != nil {
		t.Fatalf("the child printed no JSON report (%v); stdout:\n%s\nssokeep stderr:\n%s", err, e.redact(stdout), e.redact(stderr))
	}
	return r
}

// sessionsSeen counts, from the emulator's events, the sign-in sessions
// that started and how many of them ended by t.
type sessionCount struct {
	started, endedBy, endedSettled int
	// gaps are the times from each session's end to the next one's start:
	// how long the job ran on the credentials it held, waiting for a login.
	gaps []time.Duration
}

func countSessions(evs []event, end time.Time) sessionCount {
	var c sessionCount
	var prevEnd time.Time
	for _, ev := range evs {
		if ev.kind != string(emulator.SessionStarted) {
			continue
		}
		if !prevEnd.IsZero() {
			c.gaps = append(c.gaps, ev.at.Sub(prevEnd))
		}
		prevEnd = ev.ends
		c.started++
		if !ev.ends.After(end) {
			c.endedBy++
		}
		if !ev.ends.After(end.Add(-settle)) {
			c.endedSettled++
		}
	}
	return c
}

func countEvents(evs []event, kind emulator.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.kind == string(kind) {
			n++
		}
	}
	return n
}

// python resolves an interpreter with boto3, or skips the test saying why.
func python(t *testing.T, exe string) (path, versions string) {
	t.Helper()
	out, err := exec.Command(exe, "-c", "import sys, boto3, botocore; print(sys.executable); print('boto3 %s / botocore %s' % (boto3.__version__, botocore.__version__))").Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || len(lines) != 2 {
		t.Skipf("%s cannot import boto3 (%v): this scenario needs it; install python3-boto3 for /usr/bin/python3", exe, err)
	}
	return lines[0], lines[1]
}

// describe is a short, secret-free line for failure messages.
func (r childReport) describe() string {
	return fmt.Sprintf("%d calls, %d failed %v, errors %q", r.Calls, r.Failures, r.FailuresByOperation, r.Errors)
}
