package survival

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Compressed clocks: three session lifetimes of 90 s, tokens of 20 s, role
// credentials of 30 s, and a job that runs a little past three sessions.
const (
	sessionDuration = 90 * time.Second
	tokenLifetime   = 20 * time.Second
	roleDuration    = 30 * time.Second
	jobDuration     = 280 * time.Second
	workers         = 8
	survivalBucket  = "survival"
)

// TestJobSurvivesThreeSessionsAgainstVersityGW is the survival claim checked
// by an S3 server that is not ours. `ssokeep exec` runs a Go SDK job for
// three IAM Identity Center session lifetimes against `ssokeep emulator`
// (SSO OIDC + portal, auto-approving logins); the job's credential fetches
// pass through a recording proxy, and versitygw verifies every S3 request's
// SigV4 signature with exactly the sets the job was served, refusing any
// past its expiry. The job must see no failed call, versitygw must reject
// nothing, and the job must have signed with many rotating keys.
func TestJobSurvivesThreeSessionsAgainstVersityGW(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about 5 minutes: three 90 s sessions (skipped with -short)")
	}
	bin := t.TempDir()
	ssokeep, child := filepath.Join(bin, "ssokeep"), filepath.Join(bin, "child")
	goBuild(t, repoRoot, ssokeep, "./cmd/ssokeep")
	goBuild(t, moduleDir, child, "./child")

	home := t.TempDir()
	emu, emuEnv := startEmulator(t, ssokeep, home)
	proxy := httptest.NewServer(NewCredProxy(reg))
	defer proxy.Close()
	// Every AWS_ENDPOINT_URL_* is a loopback server: the emulator for SSO
	// and STS, versitygw for S3.
	env := append(cleanEnv(), "HOME="+home, "AWS_ENDPOINT_URL_S3="+gw.URL, "SURVIVAL_CRED_PROXY="+proxy.URL)
	for _, kv := range emuEnv {
		if !strings.HasPrefix(kv, "AWS_ENDPOINT_URL_S3=") {
			env = append(env, kv)
		}
	}

	login := exec.Command(ssokeep, "login", "-p", "emulator", "--device-code", "--no-browser")
	login.Env = env
	loginOut, err := login.CombinedOutput()
	if err != nil {
		t.Fatalf("ssokeep login: %v\n%s", err, loginOut)
	}
	createBucket(t, survivalBucket)
	gwBefore, regBefore := gw.Counts(survivalBucket), reg.Stats()
	earlier := map[string]bool{} // other tests' keys
	for _, k := range reg.Keys() {
		earlier[k.ID] = true
	}

	// The job's SDK reads AWS_CONTAINER_CREDENTIALS_FULL_URI; the wrapper
	// points it at the proxy, which names ssokeep's endpoint in its path.
	ctx, cancel := context.WithTimeout(context.Background(), jobDuration+3*time.Minute)
	defer cancel()
	job := exec.CommandContext(ctx, ssokeep, "exec", "-p", "emulator", "--no-desktop", "--log-level", "info",
		"--session-duration", sessionDuration.String(), "--",
		"sh", "-c", `export AWS_CONTAINER_CREDENTIALS_FULL_URI="$SURVIVAL_CRED_PROXY/${AWS_CONTAINER_CREDENTIALS_FULL_URI#http://}"; exec "$0" "$@"`,
		child, "-endpoint", gw.URL, "-bucket", survivalBucket, "-workers", fmt.Sprint(workers), "-duration", jobDuration.String())
	job.Env = env
	var jobOut, jobErr lockedBuffer
	job.Stdout, job.Stderr = &jobOut, &jobErr
	start := time.Now()
	runErr := job.Run()
	elapsed := time.Since(start)
	stats := emulatorStats(t, emuEnv)
	emuLog := emu.stop(t)
	if runErr != nil {
		t.Fatalf("ssokeep exec: %v after %v\nstdout:\n%s\nstderr:\n%s", runErr, elapsed.Round(time.Second), jobOut.String(), jobErr.String())
	}

	sum := childSummary(t, jobOut.String())
	calls := 0
	for _, n := range sum.Calls {
		calls += n
	}
	gwAfter, regAfter := gw.Counts(survivalBucket), reg.Stats()
	answers, lastFail := proxyAnswers(proxy)
	sessions := strings.Count(emuLog, "event=SessionStarted")
	ended := strings.Count(emuLog, "event=SessionEnded")
	t.Logf("job ran %.0f s with %d workers: %d S3 calls %v, %d failed; signed with %d distinct keys (sources %v)",
		sum.Seconds, workers, calls, sum.Calls, failures(sum), sum.Keys, sum.Sources)
	t.Logf("versitygw: %d accepted, rejected %v; registry: %d keys served (%d fetches), %d used, refused %v; proxy answers %v",
		gwAfter.OK-gwBefore.OK, gwAfter.Rejected, regAfter.Keys-regBefore.Keys, regAfter.Served-regBefore.Served,
		regAfter.Accepted-regBefore.Accepted, diffCounts(regAfter.Refused, regBefore.Refused), answers)
	t.Logf("emulator: %d sessions started, %d ended, %d credentials issued, operations %v", sessions, ended, stats.IssuedCredentials, stats.ops())

	// What the user relies on: the job never failed, for three sessions.
	if sum.Seconds < (3 * sessionDuration).Seconds() {
		t.Errorf("the job ran %.0f s, want at least three session lifetimes (%v)", sum.Seconds, 3*sessionDuration)
	}
	if n := failures(sum); n != 0 || sum.Mismatch != 0 {
		t.Errorf("the job had %d failed calls %v and %d corrupt reads; first: %q", n, sum.Failures, sum.Mismatch, sum.Samples)
	}
	if sum.Calls["PutObject"] == 0 || sum.Calls["GetObject"] == 0 || sum.Calls["ListObjectsV2"] == 0 || sum.Calls["DeleteObject"] == 0 {
		t.Errorf("some operation never succeeded: %v", sum.Calls)
	}
	if sessions < 3 || ended < 2 {
		t.Errorf("%d sessions started and %d ended during the run, want the job to outlive at least two session ends", sessions, ended)
	}
	// versitygw verified every call and rejected none.
	if len(gwAfter.Rejected) != 0 {
		t.Errorf("versitygw rejected requests: %v", gwAfter.Rejected)
	}
	if got := gwAfter.OK - gwBefore.OK; got != calls {
		t.Errorf("versitygw accepted %d requests, the job made %d successful calls", got, calls)
	}
	if d := diffCounts(regAfter.Refused, regBefore.Refused); len(d) != 0 || regAfter.Clashes != regBefore.Clashes {
		t.Errorf("the registry refused %v, clashes %d", d, regAfter.Clashes-regBefore.Clashes)
	}
	// Rotation: many keys, each truthfully short-lived, all minted upstream.
	used := regAfter.Accepted - regBefore.Accepted
	if sum.Keys < 10 || used < 10 {
		t.Errorf("the job signed with %d keys and versitygw accepted %d, want at least 10", sum.Keys, used)
	}
	if got := sum.Sources["CredentialsEndpointProvider"]; got == 0 || len(sum.Sources) != 1 {
		t.Errorf("credential sources %v, want only the container endpoint", sum.Sources)
	}
	if served := regAfter.Keys - regBefore.Keys; served > stats.IssuedCredentials {
		t.Errorf("%d keys served, but the emulator issued only %d", served, stats.IssuedCredentials)
	}
	for _, k := range reg.Keys() {
		if earlier[k.ID] {
			continue
		}
		if life := k.Expires.Sub(k.FirstServed); life <= 0 || life > roleDuration+2*time.Second {
			t.Errorf("key %s served with %v left, want (0, %v]: a served expiry must be the true one", k.ID, life.Round(time.Millisecond), roleDuration)
		}
	}
	for kind, n := range answers {
		if kind != "200" {
			t.Errorf("the credentials endpoint answered %q %d times (last: %s)", kind, n, lastFail)
		}
	}

	// No secret anywhere a person or a log would see it.
	secrets := append(reg.Secrets(), cachedSecrets(t, home)...)
	outputs := map[string]string{"login output": string(loginOut), "exec stdout": jobOut.String(),
		"exec stderr": jobErr.String(), "emulator log": emuLog}
	for name, out := range outputs {
		for _, s := range secrets {
			if len(s) >= 8 && strings.Contains(out, s) {
				t.Errorf("%s contains a secret (%d chars)", name, len(s))
			}
		}
	}
	if len(secrets) < 2*used {
		t.Errorf("only %d secrets checked", len(secrets))
	}
}

func goBuild(t *testing.T, dir, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s in %s: %v\n%s", pkg, dir, err, b)
	}
}

// cleanEnv is the test's environment without anything that would point an
// AWS client elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "BOTO_") {
			env = append(env, kv)
		}
	}
	return env
}

type emulator struct {
	cmd *exec.Cmd
	log *lockedBuffer
}

// startEmulator runs `ssokeep emulator` with the compressed clocks and
// returns it with the KEY=VALUE lines it exported.
func startEmulator(t *testing.T, ssokeep, home string) (*emulator, []string) {
	t.Helper()
	cmd := exec.Command(ssokeep, "emulator", "--approve", "auto",
		"--session-duration", sessionDuration.String(), "--token-lifetime", tokenLifetime.String(), "--role-duration", roleDuration.String(),
		"--env-file", filepath.Join(home, "emulator.env"), "--aws-config", filepath.Join(home, "emulator.config"))
	cmd.Env = append(cleanEnv(), "HOME="+home)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{cmd: cmd, log: &lockedBuffer{}}
	cmd.Stderr = e.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	// The export lines on stdout mean it is listening.
	var env []string
	sc := bufio.NewScanner(stdout)
	for len(env) < 7 && sc.Scan() {
		kv, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			t.Fatalf("emulator printed %q", sc.Text())
		}
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	if len(env) < 7 {
		t.Fatalf("emulator stopped early: %s", e.log.String())
	}
	go io.Copy(io.Discard, stdout)
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL") && !strings.Contains(kv, "=http://127.0.0.1:") {
			t.Fatalf("emulator endpoint %s is not loopback", kv)
		}
	}
	return e, env
}

// stop ends the emulator with SIGTERM and returns its log.
func (e *emulator) stop(t *testing.T) string {
	t.Helper()
	e.cmd.Process.Signal(syscall.SIGTERM)
	if err := e.cmd.Wait(); err != nil {
		t.Errorf("emulator exit: %v", err)
	}
	return e.log.String()
}

type emuStats struct {
	IssuedCredentials int `json:"issuedCredentials"`
	Operations        map[string]struct {
		Requests int `json:"requests"`
		Errors   int `json:"errors"`
	} `json:"operations"`
}

func (s emuStats) ops() string {
	var parts []string
	for k, v := range s.Operations {
		parts = append(parts, fmt.Sprintf("%s=%d/%d", k, v.Requests, v.Errors))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ") + " (requests/errors)"
}

func emulatorStats(t *testing.T, env []string) emuStats {
	t.Helper()
	var base string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "AWS_ENDPOINT_URL_SSO="); ok {
			base = v
		}
	}
	var s emuStats
	resp, err := http.Get(base + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// summary mirrors the child's JSON line.
type summary struct {
	Seconds  float64        `json:"seconds"`
	Calls    map[string]int `json:"calls"`
	Failures map[string]int `json:"failures"`
	Samples  []string       `json:"samples"`
	Mismatch int            `json:"mismatch"`
	Keys     int            `json:"keys"`
	Sources  map[string]int `json:"sources"`
}

func childSummary(t *testing.T, stdout string) summary {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var s summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		t.Fatalf("the job's last line is not its summary: %v\n%s", err, stdout)
	}
	return s
}

func failures(s summary) int {
	n := 0
	for _, v := range s.Failures {
		n += v
	}
	return n
}

func proxyAnswers(s *httptest.Server) (map[string]int, string) {
	return s.Config.Handler.(*CredProxy).Answers()
}

func diffCounts(after, before map[string]int) map[string]int {
	d := map[string]int{}
	for k, v := range after {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

// cachedSecrets are the OIDC secrets ssokeep keeps in the CLI cache: the
// access token, refresh token and client secret of the last login.
func cachedSecrets(t *testing.T, home string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(home, ".aws", "sso", "cache", "*.json"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		for _, k := range []string{"accessToken", "refreshToken", "clientSecret"} {
			if v, ok := m[k].(string); ok && v != "" {
				out = append(out, v)
			}
		}
	}
	if len(out) == 0 {
		t.Error("no token found in the SSO cache")
	}
	return out
}

// lockedBuffer is a bytes.Buffer a process may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
