package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/ssokeep/ssokeep/internal/syncbuf"
)

// The test binary doubles as the hook program: NOTIFY_TEST_HELPER picks
// what it does.
func TestMain(m *testing.M) {
	switch os.Getenv("NOTIFY_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "dumpenv": // write the environment to the file named by argv[1]
		if err := os.WriteFile(os.Args[1], []byte(strings.Join(os.Environ(), "\n")), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println("hook ran for", os.Getenv("SSOKEEP_PROFILE"))
		os.Exit(0)
	case "fail":
		fmt.Fprintln(os.Stderr, "boom: the hook could not reach its pager")
		os.Exit(3)
	case "hang": // blocks until killed
		select {}
	}
}

func sampleEvent() Event {
	return Event{
		Kind:            LoginRequired,
		Profile:         "corp",
		Session:         "corp-sso",
		VerificationURL: "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
		UserCode:        "ABCD-EFGH",
		Deadline:        time.Date(2026, 3, 14, 14, 5, 0, 0, time.FixedZone("CET", 3600)),
		Message:         "Approve the login for corp by 14:05 or the job loses AWS access at 16:00",
	}
}

// helperCmdline runs this test binary in a helper mode, quoted as a user
// would write it (the temp dir may contain spaces).
func helperCmdline(t *testing.T, mode string, args ...string) string {
	t.Helper()
	t.Setenv("NOTIFY_TEST_HELPER", mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return shellquote.Join(append([]string{exe}, args...)...)
}

func captureLog() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

func TestCommandGetsExactlyTheEventEnv(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dir with spaces")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "env.txt")
	// A stale value from an outer ssokeep must not reach the hook.
	t.Setenv("SSOKEEP_EVENT", "stale")
	t.Setenv("SSOKEEP_SOMETHING_ELSE", "stale")
	log, logs := captureLog()
	n := CommandWith(helperCmdline(t, "dumpenv", out), CommandOptions{Logger: log})
	if err := n.Notify(t.Context(), sampleEvent()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range strings.Split(string(data), "\n") {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SSOKEEP_") {
			if _, dup := got[k]; dup {
				t.Errorf("%s set twice", k)
			}
			got[k] = v
		}
	}
	want := map[string]string{
		"SSOKEEP_EVENT":            "login-required",
		"SSOKEEP_PROFILE":          "corp",
		"SSOKEEP_SESSION":          "corp-sso",
		"SSOKEEP_VERIFICATION_URL": "https://device.sso.us-east-1.amazonaws.com/?user_code=ABCD-EFGH",
		"SSOKEEP_USER_CODE":        "ABCD-EFGH",
		"SSOKEEP_DEADLINE":         "2026-03-14T13:05:00Z",
		"SSOKEEP_MESSAGE":          "Approve the login for corp by 14:05 or the job loses AWS access at 16:00",
	}
	if len(got) != len(want) {
		t.Errorf("hook saw SSOKEEP_* %v, want exactly %v", slices.Sorted(mapsKeys(got)), slices.Sorted(mapsKeys(want)))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	// The rest of the environment is inherited (PATH, DISPLAY, … a hook needs).
	if !strings.Contains(string(data), "NOTIFY_TEST_HELPER=dumpenv") {
		t.Error("the hook did not inherit ssokeep's environment")
	}
	if !strings.Contains(logs.String(), "hook ran for corp") {
		t.Errorf("the hook's output is not in the log:\n%s", logs)
	}

	// Unknown fields are present and empty, so hooks can rely on them.
	if err := n.Notify(t.Context(), Event{Kind: Recovered, Profile: "corp"}); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(out)
	for _, k := range []string{"SSOKEEP_DEADLINE=", "SSOKEEP_USER_CODE=", "SSOKEEP_VERIFICATION_URL="} {
		if !slices.Contains(strings.Split(string(data), "\n"), k) {
			t.Errorf("%s missing or not empty for an event without it", k)
		}
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestCommandFailureAndTimeout(t *testing.T) {
	log, logs := captureLog()
	err := CommandWith(helperCmdline(t, "fail"), CommandOptions{Logger: log}).Notify(t.Context(), sampleEvent())
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing hook: %v, want its exit status", err)
	}
	if !strings.Contains(logs.String(), "boom: the hook could not reach its pager") || !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a failing hook's stderr should be logged as a warning:\n%s", logs)
	}

	err = CommandWith(helperCmdline(t, "hang"), CommandOptions{Logger: log, Timeout: 200 * time.Millisecond}).Notify(t.Context(), sampleEvent())
	if err == nil || !strings.Contains(err.Error(), "no answer after 200ms") {
		t.Errorf("hanging hook: %v, want a timeout error", err)
	}
}

func TestCommandLineParsing(t *testing.T) {
	for _, bad := range []string{"", "   ", `notify-send "unterminated`} {
		if _, err := ParseCommand(bad); err == nil {
			t.Errorf("ParseCommand(%q) accepted it", bad)
		}
		if err := Command(bad).Notify(t.Context(), sampleEvent()); err == nil {
			t.Errorf("Command(%q).Notify did not report the bad command line", bad)
		}
	}
	argv, err := ParseCommand(`/opt/my hooks/page "on call" --text='$SSOKEEP_MESSAGE' a\ b`)
	want := []string{"/opt/my", "hooks/page", "on call", "--text=$SSOKEEP_MESSAGE", "a b"}
	if err != nil || !slices.Equal(argv, want) {
		t.Errorf("ParseCommand = %q, %v; want %q (no shell expansion)", argv, err, want)
	}
	// Only the program's name is used in logs: the rest may hold a secret.
	if s := fmt.Sprint(Command(`/usr/local/bin/page --api-key=SECRETKEY`)); s != "command page" || strings.Contains(s, "SECRET") {
		t.Errorf("String() = %q", s)
	}
}

func TestTerminalWritesOneLineAndBell(t *testing.T) {
	var buf bytes.Buffer
	e := sampleEvent()
	e.Message = "line one\nline two\r\x1b[31mred\x1b[0m\tend"
	if err := Terminal(&buf).Notify(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\a") {
		t.Errorf("no bell first: %q", out)
	}
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Errorf("want exactly one line: %q", out)
	}
	if strings.ContainsAny(out[1:len(out)-1], "\x1b\r\t\a\n") {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	for _, want := range []string{"corp", "line one line two", e.VerificationURL, "ABCD-EFGH", "AWS login required"} {
		if !strings.Contains(out, want) {
			t.Errorf("line lacks %q: %q", want, out)
		}
	}
	// A default sentence when the keeper gives none.
	buf.Reset()
	_ = Terminal(&buf).Notify(t.Context(), Event{Kind: SessionEnded, Profile: "corp"})
	if !strings.Contains(buf.String(), "has ended; log in again") {
		t.Errorf("default message missing: %q", buf.String())
	}
}

func TestWebhook(t *testing.T) {
	type got struct {
		method, ctype string
		body          []byte
	}
	reqs := make(chan got, 4)
	status := http.StatusOK
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/slow") {
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		b, _ := io.ReadAll(r.Body)
		reqs <- got{r.Method, r.Header.Get("Content-Type"), b}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "invalid_token\n")
	}))
	defer srv.Close()
	defer close(release)
	// The path is the credential of a Slack webhook.
	secretPath := "/services/T0001/B0002/XyZsecretPART"

	e := sampleEvent()
	e.Message = "Approve <now> & then relax"
	if err := Webhook(srv.URL+secretPath, nil).Notify(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	r := <-reqs
	if r.method != "POST" || r.ctype != "application/json" {
		t.Errorf("%s with Content-Type %q, want POST application/json", r.method, r.ctype)
	}
	var p struct {
		Text  string
		Event map[string]string
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"*AWS login required (corp)*", "Approve &lt;now&gt; &amp; then relax", "<" + e.VerificationURL + "|Open the AWS login page>", "`ABCD-EFGH`"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("Slack text lacks %q:\n%s", want, p.Text)
		}
	}
	wantEvent := map[string]string{
		"kind": "login-required", "profile": "corp", "session": "corp-sso",
		"verification_url": e.VerificationURL, "user_code": "ABCD-EFGH",
		"deadline": "2026-03-14T13:05:00Z", "message": e.Message, "title": "AWS login required (corp)",
	}
	if len(p.Event) != len(wantEvent) {
		t.Errorf("event fields %v, want %v", p.Event, wantEvent)
	}
	for k, v := range wantEvent {
		if p.Event[k] != v {
			t.Errorf("event.%s = %q, want %q", k, p.Event[k], v)
		}
	}

	status = http.StatusForbidden
	err := Webhook(srv.URL+secretPath, nil).Notify(t.Context(), e)
	<-reqs
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "invalid_token") {
		t.Errorf("non-2xx: %v, want an error with the status and the answer", err)
	}
	if err != nil && strings.Contains(err.Error(), "XyZsecretPART") {
		t.Error("the error carries the webhook URL's secret path")
	}

	client := &http.Client{Timeout: 100 * time.Millisecond}
	err = Webhook(srv.URL+secretPath+"/slow", client).Notify(t.Context(), e)
	if err == nil || !strings.Contains(err.Error(), "no answer in time") || strings.Contains(err.Error(), "XyZsecretPART") {
		t.Errorf("slow webhook: %v, want a timeout error without the URL", err)
	}
	// ctx bounds it as well as the client.
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if err := Webhook(srv.URL+secretPath+"/slow", nil).Notify(ctx, e); err == nil || strings.Contains(err.Error(), "XyZsecretPART") {
		t.Errorf("slow webhook with ctx deadline: %v", err)
	}

	// Unreachable: the transport error, still without the URL.
	err = Webhook("http://127.0.0.1:1"+secretPath, nil).Notify(t.Context(), e)
	if err == nil || strings.Contains(err.Error(), "XyZsecretPART") {
		t.Errorf("unreachable webhook: %v", err)
	}
	for _, bad := range []string{"", "hooks.slack.com/services/x", "ftp://x/y", "https://"} {
		if err := Webhook(bad, nil).Notify(t.Context(), e); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}

// recorder is a Notifier that remembers what it got.
type recorder struct {
	mu  sync.Mutex
	got []Event
}

func (r *recorder) Notify(_ context.Context, e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, e)
	return nil
}

// hung ignores its context and returns only when the test ends.
type hung struct{ release chan struct{} }

func (h hung) Notify(context.Context, Event) error { <-h.release; return nil }
func (hung) String() string                        { return "hung" }

type failing struct{}

func (failing) Notify(context.Context, Event) error { return errors.New("smtp relay said no") }
func (failing) String() string                      { return "failing" }

func TestFanoutDoesNotWaitForAHungNotifier(t *testing.T) {
	h := hung{release: make(chan struct{})}
	defer close(h.release)
	rec := &recorder{}
	log, logs := captureLog()
	f := Fanout(log, 100*time.Millisecond, h, rec, failing{})

	returned := make(chan error, 1)
	go func() { returned <- f.Notify(t.Context(), sampleEvent()) }()
	var err error
	select {
	case err = <-returned:
	case <-time.After(time.Minute): // a liveness guard, not a speed check
		t.Fatal("Fanout is still waiting for a notifier that never returns")
	}
	if err == nil || !strings.Contains(err.Error(), "hung: still running") || !strings.Contains(err.Error(), "failing: smtp relay said no") {
		t.Errorf("Fanout error %v, want the hung and the failing notifier named", err)
	}
	rec.mu.Lock()
	n := len(rec.got)
	rec.mu.Unlock()
	if n != 1 {
		t.Errorf("the working notifier got %d events, want 1", n)
	}
	if !strings.Contains(logs.String(), "smtp relay said no") || !strings.Contains(logs.String(), "notifier=hung") {
		t.Errorf("failures not logged:\n%s", logs)
	}
	// All good: nil.
	if err := Fanout(log, time.Second, rec).Notify(t.Context(), sampleEvent()); err != nil {
		t.Errorf("Fanout with one working notifier: %v", err)
	}
}

func TestDesktopFallsBackToNotifySend(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the notify-send fallback is Linux's; macOS and Windows use their notification centers")
	}
	bin := t.TempDir()
	argsFile := filepath.Join(t.TempDir(), "args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > " + shellquote.Join(argsFile) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "notify-send"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	// A session bus address that cannot be reached: beeep's D-Bus attempt
	// fails and it falls back to notify-send, as on a desktop without a
	// notification daemon.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+filepath.Join(bin, "no-bus"))
	if err := Desktop().Notify(t.Context(), sampleEvent()); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatalf("notify-send was not run: %v", err)
	}
	args := string(data)
	for _, want := range []string{"AWS login required (corp)\n", "Approve the login for corp by 14:05", sampleEvent().VerificationURL, "Code: ABCD-EFGH", "ssokeep\n"} {
		if !strings.Contains(args, want) {
			t.Errorf("notify-send args lack %q:\n%s", want, args)
		}
	}
}

func TestDesktopWithoutADesktop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	for _, v := range []string{"DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY"} {
		t.Setenv(v, "")
	}
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	if err := Desktop().Notify(t.Context(), sampleEvent()); !errors.Is(err, ErrNoDesktop) {
		t.Errorf("headless: %v, want ErrNoDesktop", err)
	}
}
