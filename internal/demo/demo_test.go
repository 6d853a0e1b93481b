package demo

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// asJob, set in the environment, makes the test binary the demo's sample
// job (as `ssokeep demo-job` is in the real binary), so Run is tested in
// this process, under the race detector, with the real workload as a child.
const asJob = "SSOKEEP_DEMO_TEST_AS_JOB"

func TestMain(m *testing.M) {
	if spec := os.Getenv(asJob); spec != "" {
		os.Exit(runAsJob(spec))
	}
	os.Exit(m.Run())
}

func runAsJob(spec string) int {
	var o JobOptions
	f := strings.Fields(spec)
	var err1, err2 error
	if len(f) == 2 {
		o.Duration, err1 = time.ParseDuration(f[0])
		o.ExpiryWindow, err2 = time.ParseDuration(f[1])
	}
	if len(f) != 2 || err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "bad", asJob, spec)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Bucket, o.Workers, o.Rate, o.Out, o.Log = os.Getenv("SSOKEEP_DEMO_BUCKET"), 3, 40, os.Stdout, os.Stderr
	r, err := RunJob(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if r.Failed > 0 {
		return 1
	}
	return 0
}

// secretShapes are what the emulator's secrets look like: access and refresh
// tokens, session tokens, and the endpoint's 256-bit hex token.
var secretShapes = regexp.MustCompile(`\baoa[A-Za-z0-9_-]{8}|\baor[A-Za-z0-9_-]{8}|IQoJb3JpZ2luX2Vj|[0-9a-f]{64}`)

func TestRunKeepsTheJobGoingThroughASessionEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 20-second demo")
	}
	sched, err := NewSchedule(MaxSpeed, 20*time.Second) // 15 s sessions: one ends during the job
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The demo must neither read nor write the user's AWS files: a broken
	// config there would fail it, and nothing may appear beside it.
	home := t.TempDir()
	userConfig := filepath.Join(home, ".aws", "config")
	os.MkdirAll(filepath.Dir(userConfig), 0o700)
	os.WriteFile(userConfig, []byte("[profile emulator]\nsso_session = nowhere\n"), 0o600)
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", userConfig)
	var out strings.Builder
	sum, err := Run(context.Background(), Options{Schedule: sched, Job: []string{exe}, Sample: true,
		// Whatever the user's environment holds must not reach the job:
		// static keys and a profile would win over the endpoint.
		Base: append(os.Environ(), asJob+"="+fmt.Sprintf("%v %v", sched.Job, sched.ExpiryWindow()),
			"AWS_ACCESS_KEY_ID=AKIAUSERSOWNKEY00000", "AWS_SECRET_ACCESS_KEY=usersownsecret", "AWS_PROFILE=prod"),
		Out: &lockedWriter{w: &out}, Live: true, Size: func() (int, int) { return 100, 30 }})
	if err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Logf("summary: %+v", sum)
	if !sum.OK() || sum.Failed != 0 || sum.Calls == 0 {
		t.Errorf("the job failed: %+v\n%s", sum, tail(text))
	}
	if sum.SessionEnds < 1 || sum.Logins != sum.SessionEnds || sum.LoginPending {
		t.Errorf("%d session ends, %d logins, pending %v: want one approved login per session end", sum.SessionEnds, sum.Logins, sum.LoginPending)
	}
	if sum.CredentialSource != "CredentialsEndpointProvider" {
		t.Errorf("the job's credentials came from %q, not ssokeep's endpoint", sum.CredentialSource)
	}
	if sum.Rotations < 2 || sum.EmulatorCalls < sum.Calls || sum.EmulatorRefused != 0 {
		t.Errorf("summary %+v: want rotations, and every job call seen by the emulator and none refused", sum)
	}
	// The live view left the alternate screen and showed the cursor again,
	// then printed its last frame on the normal screen.
	enter, leave := strings.LastIndex(text, enterScreen), strings.LastIndex(text, leaveScreen)
	if enter != 0 || leave < enter || strings.Count(text, enterScreen) != 1 {
		t.Errorf("alternate screen entered at %d, left at %d", enter, leave)
	}
	// The last frame keeps the story (session end, notification, login),
	// not the routine refreshes.
	final := text[leave+len(leaveScreen):]
	for _, want := range []string{"role credentials", "access token", "sign-in session", "session over",
		"notification sent", "login approved", "job finished (exit 0)"} {
		if !strings.Contains(final, want) {
			t.Errorf("the last frame lacks %q:\n%s", want, final)
		}
	}
	if strings.Contains(final, "refreshed ahead of need") {
		t.Errorf("the last frame lists routine refreshes:\n%s", final)
	}
	if m := secretShapes.FindString(text); m != "" {
		t.Errorf("something shaped like a secret in the demo's output: %q", m)
	}
	var files []string
	filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 || files[0] != userConfig {
		t.Errorf("the demo wrote into the home directory: %q", files)
	}
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}
