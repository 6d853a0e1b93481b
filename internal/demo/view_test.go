package demo

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/keeper"
)

var t0 = time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)

// scenario plays one session's events into a state on a fake clock: login,
// a rotation and a refresh, the session end, the notification, approval.
func scenario(t *testing.T) (*state, *clock.Fake) {
	t.Helper()
	c := clock.NewFake(t0)
	sched, err := NewSchedule(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	st := newState(c.Now, sched)
	st.Endpoint("http://127.0.0.1:4000", "http://127.0.0.1:5000")
	st.Prompt("http://127.0.0.1:4000/device?user_code=ABCD-EFGH", "ABCD-EFGH")
	c.Advance(3 * time.Second)
	st.Emulator(emulator.Event{Kind: emulator.SessionStarted, Time: c.Now(), SessionEnd: c.Now().Add(time.Minute)})
	st.Approving("ABCD-EFGH", nil)
	st.FirstLogin(c.Now().Add(10 * time.Second))
	st.Keeper(keeper.Event{Kind: keeper.CredentialsRotated, At: c.Now(), Expires: c.Now().Add(30 * time.Second)})
	st.JobStarted("sample job")
	st.Report(Report{Workers: 4, Calls: 10, Keys: 3, Source: "CredentialsEndpointProvider"})
	c.Advance(7 * time.Second)
	st.Keeper(keeper.Event{Kind: keeper.TokenRefreshed, At: c.Now(), Expires: c.Now().Add(10 * time.Second)})
	st.Keeper(keeper.Event{Kind: keeper.CredentialsRotated, At: c.Now(), Expires: c.Now().Add(30 * time.Second)})
	return st, c
}

func TestStateCountsWhatTheSummaryReports(t *testing.T) {
	st, c := scenario(t)
	c.Advance(55 * time.Second) // past the session's end
	st.Keeper(keeper.Event{Kind: keeper.SessionEnded, At: c.Now(), Deadline: c.Now().Add(20 * time.Second)})
	st.Keeper(keeper.Event{Kind: keeper.LoginRequired, At: c.Now(), UserCode: "WXYZ-BCDF",
		VerificationURL: "http://127.0.0.1:4000/device?user_code=WXYZ-BCDF", Deadline: c.Now().Add(20 * time.Second)})
	s := st.Snapshot()
	if !s.SessionOver || s.Pending == nil || s.Pending.Code != "WXYZ-BCDF" || s.Pending.First {
		t.Fatalf("after the session end: over %v, pending %+v", s.SessionOver, s.Pending)
	}
	if want := c.Now().Add(3 * time.Second); !s.Pending.ApproveAt.Equal(want) {
		t.Errorf("the person approves at %v, want the schedule's pause later (%v)", s.Pending.ApproveAt, want)
	}
	st.Report(Report{Workers: 4, Calls: 50, Failed: 2, Keys: 9, LastError: "put worker-0/object-001: 403"})
	c.Advance(4 * time.Second)
	st.Emulator(emulator.Event{Kind: emulator.SessionStarted, Time: c.Now(), SessionEnd: c.Now().Add(time.Minute)})
	st.Keeper(keeper.Event{Kind: keeper.LoginApproved, At: c.Now()})
	st.JobDone(0, nil)

	sum := summarize(st.Snapshot(), Options{Schedule: st.snap.Schedule, Sample: true}, 80*time.Second, false)
	if sum.Rotations != 1 || sum.TokenRefreshes != 1 || sum.SessionEnds != 1 || sum.Logins != 1 || sum.LoginPending {
		t.Errorf("summary %+v: want 1 rotation after the first set, 1 refresh, 1 session end, 1 login, none pending", sum)
	}
	if sum.Calls != 50 || sum.Failed != 2 || sum.Objects != 9 || sum.OK() {
		t.Errorf("summary %+v: want the job's last report (50 calls, 2 failed) and not OK", sum)
	}
	if sum.JobExitCode != 1 {
		t.Errorf("a sample job that never said it was done must not count as a clean exit: %+v", sum)
	}
	var failLines int
	for _, e := range st.Snapshot().Entries {
		if e.Mark == MarkEnded && strings.Contains(e.Text, "2 call(s) failed") && strings.Contains(e.Text, "worker-0/object-001") {
			failLines++
		}
	}
	if failLines != 1 {
		t.Errorf("the failed calls show %d times in the timeline, want once with the error", failLines)
	}
}

func TestSummaryOfTheUsersJobComesFromTheEmulator(t *testing.T) {
	st, _ := scenario(t)
	st.EmulatorCalls(120, 3)
	st.JobDone(0, nil)
	sum := summarize(st.Snapshot(), Options{Schedule: st.snap.Schedule}, time.Minute, false)
	if sum.Calls != 120 || sum.Failed != 3 || sum.SampleJob || sum.OK() {
		t.Errorf("own-job summary %+v: want the emulator's 120 calls, 3 refused, not OK", sum)
	}
}

func plainFrame(t *testing.T, s Snapshot, w, h int) []string {
	t.Helper()
	lines := Frame(s, w, h, false)
	if len(lines) > h {
		t.Errorf("frame has %d lines for a %d-line terminal", len(lines), h)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > w {
			t.Errorf("line of %d cells in a %d-cell terminal: %q", n, w, l)
		}
		if strings.Contains(l, "\x1b") {
			t.Errorf("escape code without colour: %q", l)
		}
	}
	return lines
}

// barOf returns how much of a clock's bar is filled, and its width.
func barOf(t *testing.T, lines []string, label string) (full, width int) {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), label) {
			full = strings.Count(l, "█")
			return full, full + strings.Count(l, "░")
		}
	}
	t.Fatalf("no %q bar in\n%s", label, strings.Join(lines, "\n"))
	return 0, 0
}

func TestFrameDrawsTheThreeClocksAsBarsOfTheTimeLeft(t *testing.T) {
	st, c := scenario(t)
	c.Advance(5 * time.Second) // token: 5 of 10 s left; credentials 25 of 30; session 48 of 60
	lines := plainFrame(t, st.Snapshot(), 120, 40)
	for _, tc := range []struct {
		label string
		frac  float64
	}{{"role credentials", 25.0 / 30}, {"access token", 0.5}, {"sign-in session", 48.0 / 60}} {
		full, width := barOf(t, lines, tc.label)
		if width < 10 {
			t.Errorf("%s bar is %d cells wide", tc.label, width)
		}
		if got := float64(full) / float64(width); got < tc.frac-1.0/float64(width) || got > tc.frac+1.0/float64(width) {
			t.Errorf("%s bar filled %d of %d, want %.2f", tc.label, full, width, tc.frac)
		}
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"5.0s of 10.0s", "25s of 30s", "48s of 1m", "rotated 1×", "refreshed 1×",
		"10 calls", "0 failed", "+00:10 ↻ role credentials rotated", "timeline"} {
		if !strings.Contains(text, want) {
			t.Errorf("frame lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "notification") {
		t.Errorf("a notification box with no login pending:\n%s", text)
	}
}

func TestFrameShowsTheLoginNotificationAndTheSessionOver(t *testing.T) {
	st, c := scenario(t)
	c.Advance(55 * time.Second)
	st.Keeper(keeper.Event{Kind: keeper.SessionEnded, At: c.Now(), Deadline: c.Now().Add(20 * time.Second)})
	st.Keeper(keeper.Event{Kind: keeper.LoginRequired, At: c.Now(), UserCode: "WXYZ-BCDF",
		VerificationURL: "http://127.0.0.1:4000/device?user_code=WXYZ-BCDF", Deadline: c.Now().Add(20 * time.Second)})
	c.Advance(time.Second)
	lines := plainFrame(t, st.Snapshot(), 110, 40)
	text := strings.Join(lines, "\n")
	for _, want := range []string{"over: waiting for a login", "approve code WXYZ-BCDF before the job runs out (in 19s)",
		"http://127.0.0.1:4000/device?user_code=WXYZ-BCDF   code: WXYZ-BCDF", "the demo approves it in 2.0s",
		"session over: token refresh refused", "ended 1×"} {
		if !strings.Contains(text, want) {
			t.Errorf("frame lacks %q:\n%s", want, text)
		}
	}
	if full, _ := barOf(t, lines, "sign-in session"); full != 0 {
		t.Errorf("an ended session's bar has %d filled cells", full)
	}
	c.Advance(3 * time.Second)
	if text := strings.Join(plainFrame(t, st.Snapshot(), 110, 40), "\n"); !strings.Contains(text, "approved on the page") {
		t.Errorf("after the pause the box should say the code is approved:\n%s", text)
	}
}

func TestFrameFitsSmallTerminalsAndKeepsTheNewestEntries(t *testing.T) {
	st, c := scenario(t)
	for i := range 50 {
		c.Advance(time.Second)
		st.Entry(MarkInfo, "entry %d", i)
	}
	for _, size := range [][2]int{{80, 24}, {60, 20}, {40, 12}, {200, 60}} {
		lines := plainFrame(t, st.Snapshot(), size[0], size[1])
		if last := lines[len(lines)-1]; !strings.Contains(last, "entry 49") {
			t.Errorf("%dx%d: the last line is %q, want the newest entry", size[0], size[1], last)
		}
	}
	fresh, _ := scenario(t)
	colored := strings.Join(Frame(fresh.Snapshot(), 100, 30, true), "\n")
	if !strings.Contains(colored, "\x1b[32m█") {
		t.Errorf("no green bar for a fresh clock with colour on")
	}
}

func TestLiveViewDrawsInPlaceAndGivesTheTerminalBack(t *testing.T) {
	st, _ := scenario(t)
	var b strings.Builder
	l := &live{w: &b, size: func() (int, int) { return 80, 24 }}
	l.start()
	l.draw(st.Snapshot())
	l.draw(st.Snapshot())
	l.stop()
	out := b.String()
	if !strings.HasPrefix(out, enterScreen) || !strings.HasSuffix(out, leaveScreen) {
		t.Errorf("the view must enter the alternate screen first and leave it last: %q…%q", out[:20], out[len(out)-20:])
	}
	frames := strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, enterScreen), leaveScreen), home)
	if len(frames) != 3 || frames[0] != "" {
		t.Fatalf("want two frames each starting at the home position, got %d parts", len(frames))
	}
	for _, f := range frames[1:] {
		if !strings.HasSuffix(f, clearBelow) {
			t.Errorf("a frame does not clear what is below it")
		}
		for _, ln := range strings.Split(strings.TrimSuffix(f, clearBelow), "\r\n") {
			if !strings.HasSuffix(ln, clearEOL) {
				t.Errorf("line %q is not cleared to its end", ln)
			}
			if n := utf8.RuneCountInString(strings.TrimSuffix(ln, clearEOL)); n >= 80 {
				t.Errorf("line of %d cells reaches the last column of 80", n)
			}
		}
		if strings.Contains(f, "\x1b[2J") {
			t.Errorf("a frame clears the whole screen (flicker)")
		}
	}
}

func TestLineViewPrintsEachEntryAndStatusLines(t *testing.T) {
	st, c := scenario(t)
	s := st.Snapshot()
	line := EntryLine(s.Start, s.Entries[len(s.Entries)-1], false)
	if line != "+00:10 ↻ role credentials rotated ahead of need: new set valid 30s" {
		t.Errorf("entry line %q", line)
	}
	c.Advance(5 * time.Second)
	if got, want := StatusLine(st.Snapshot()), "+00:15 · job 10 calls, 0 failed · role credentials 25s left · token 5.0s left · session 48s left"; got != want {
		t.Errorf("status line\n %q, want\n %q", got, want)
	}
}
