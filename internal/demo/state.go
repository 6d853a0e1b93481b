package demo

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/keeper"
)

// Mark says what kind of thing a timeline entry is; views pick a symbol and
// a colour from it.
type Mark int

const (
	MarkInfo     Mark = iota
	MarkRotate        // new role credentials, a refreshed token
	MarkSession       // a sign-in session started
	MarkWarn          // something to act on soon
	MarkEnded         // a session ended, a call failed
	MarkNotify        // a notification a person would receive
	MarkApproved      // a login approved
)

// Entry is one line of the timeline.
type Entry struct {
	At   time.Time
	Mark Mark
	Text string
}

// Clock is one of the three clocks: what expires when, out of how long.
type Clock struct {
	Expires time.Time
	Life    time.Duration
}

// Left is the time left at now (0 when past or unknown).
func (c Clock) Left(now time.Time) time.Duration {
	if c.Expires.IsZero() || !c.Expires.After(now) {
		return 0
	}
	return c.Expires.Sub(now)
}

// Pending is a login waiting for a person.
type Pending struct {
	First     bool // the login before the job starts
	URL, Code string
	// Deadline is when the job runs out of credentials (zero for the first
	// login: no job yet).
	Deadline  time.Time
	ApproveAt time.Time // when the demo's "person" approves it
}

// Snapshot is everything a view draws, copied out of the state.
type Snapshot struct {
	Now, Start                   time.Time
	Schedule                     Schedule
	Emulator, Endpoint, JobLabel string

	Creds, Token, Session          Clock
	SessionOver                    bool // the session's end has passed and no new one started
	Rotations, Refreshes           int
	SessionEnds, Logins            int
	Pending                        *Pending
	Job                            Report
	JobStarted, JobDone            bool
	JobStart                       time.Time
	JobExit                        int
	EmulatorCalls, EmulatorRefused int64
	Entries                        []Entry // oldest first
	Output                         []string
}

// maxEntries and maxOutput bound what the state keeps for the views.
const (
	maxEntries = 200
	maxOutput  = 5
)

// state is what the demo knows, fed by the keeper's and the emulator's
// events and the job's output, read by the views. Safe for concurrent use.
type state struct {
	mu       sync.Mutex
	now      func() time.Time
	snap     Snapshot
	onEntry  func(Entry) // the line view prints each entry as it comes
	lastFail int64
}

func newState(now func() time.Time, sched Schedule) *state {
	return &state{now: now, snap: Snapshot{Start: now(), Schedule: sched}}
}

// since renders a time as the demo's elapsed time, +MM:SS.
func (s *Snapshot) since(t time.Time) string {
	d := t.Sub(s.Start)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("+%02d:%02d", int(d.Minutes()), int(d.Seconds())%60)
}

// add appends a timeline entry; callers hold mu.
func (s *state) add(m Mark, format string, a ...any) {
	e := Entry{At: s.now(), Mark: m, Text: fmt.Sprintf(format, a...)}
	s.snap.Entries = append(s.snap.Entries, e)
	if len(s.snap.Entries) > maxEntries {
		s.snap.Entries = s.snap.Entries[len(s.snap.Entries)-maxEntries:]
	}
	if s.onEntry != nil {
		s.onEntry(e)
	}
}

// Entry records a line of the demo's own.
func (s *state) Entry(m Mark, format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(m, format, a...)
}

// Snapshot copies the state for drawing.
func (s *state) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.snap
	c.Now = s.now()
	c.Entries = append([]Entry(nil), s.snap.Entries...)
	c.Output = append([]string(nil), s.snap.Output...)
	if p := s.snap.Pending; p != nil {
		cp := *p
		c.Pending = &cp
	}
	c.SessionOver = !c.Session.Expires.IsZero() && !c.Session.Expires.After(c.Now)
	return c
}

// left says how long until t, for the timeline: in tenths of a second when
// the schedule is that short.
func (s *state) left(t, now time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return secs(max(t.Sub(now), 0), s.snap.Schedule.Role)
}

// Keeper takes the keeper's events (keeper.Options.OnEvent).
func (s *state) Keeper(e keeper.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch e.Kind {
	case keeper.CredentialsRotated:
		s.snap.Creds = Clock{Expires: e.Expires, Life: s.snap.Schedule.Role}
		if s.snap.Rotations++; s.snap.Rotations == 1 {
			s.add(MarkRotate, "first role credentials (valid %s): the endpoint will serve them to the job", s.left(e.Expires, now))
			return
		}
		s.add(MarkRotate, "role credentials rotated ahead of need: new set valid %s", s.left(e.Expires, now))
	case keeper.TokenRefreshed:
		s.snap.Token = Clock{Expires: e.Expires, Life: s.snap.Schedule.Token}
		s.snap.Refreshes++
		s.add(MarkRotate, "access token refreshed ahead of need: valid %s", s.left(e.Expires, now))
	case keeper.SessionEnding:
		s.add(MarkWarn, "session ends in ~%s: credentials get topped up just before; a login will be needed", s.left(e.Deadline, now))
	case keeper.SessionEnded:
		s.snap.SessionEnds++
		s.add(MarkEnded, "session over: token refresh refused; the job runs on credentials good for %s", s.left(e.Deadline, now))
	case keeper.LoginRequired:
		p := &Pending{URL: e.VerificationURL, Code: e.UserCode, Deadline: e.Deadline, ApproveAt: now.Add(s.snap.Schedule.Pause)}
		s.snap.Pending = p
		s.add(MarkNotify, "notification sent: approve code %s within %s: %s", e.UserCode, s.left(e.Deadline, now), e.VerificationURL)
	case keeper.LoginReminder:
		s.add(MarkNotify, "reminder sent: code %s still waiting, %s left", e.UserCode, s.left(e.Deadline, now))
	case keeper.LoginApproved:
		s.snap.Logins++
		s.snap.Pending = nil
		s.add(MarkApproved, "login approved: a new session; fresh credentials flow and the job never noticed")
	case keeper.UpstreamFailed:
		s.add(MarkWarn, "credentials fetch failed, the current set is kept: %s", strings.TrimPrefix(e.Message, "fetching role credentials failed: "))
	case keeper.Recovered:
		s.add(MarkInfo, "%s", e.Message)
	}
}

// Emulator takes the emulator's events (emulator.Options.OnEvent): the
// sessions as IAM Identity Center knows them, which no AWS API tells a
// client.
func (s *state) Emulator(e emulator.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Kind != emulator.SessionStarted {
		return
	}
	s.snap.Session = Clock{Expires: e.SessionEnd, Life: e.SessionEnd.Sub(e.Time)}
	s.add(MarkSession, "IAM Identity Center: new sign-in session; it ends in %s, refreshes or not", s.left(e.SessionEnd, s.now()))
}

// FirstLogin records the login made before the job starts.
func (s *state) FirstLogin(tokenExpires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.snap.Token = Clock{Expires: tokenExpires, Life: s.snap.Schedule.Token}
	s.snap.Pending = nil
	s.add(MarkApproved, "logged in: access token valid %s, with a refresh token", s.left(tokenExpires, now))
}

// Prompt shows a login a person must approve (the first one; the keeper's
// come as events).
func (s *state) Prompt(url, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.snap.Pending = &Pending{First: true, URL: url, Code: code, ApproveAt: now.Add(s.snap.Schedule.Pause)}
	s.add(MarkNotify, "to log in, open %s and approve code %s", url, code)
}

// Approving records the demo's "person" approving a code.
func (s *state) Approving(code string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.add(MarkEnded, "the demo could not approve code %s: %v", code, err)
		return
	}
	s.add(MarkInfo, "(the person opens the link and approves code %s)", code)
}

// Endpoint records where the job's credentials come from.
func (s *state) Endpoint(emulatorURL, endpointURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Emulator, s.snap.Endpoint = emulatorURL, endpointURL
}

// JobStarted records the job's start.
func (s *state) JobStarted(label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.JobLabel, s.snap.JobStarted, s.snap.JobStart = label, true, s.now()
	s.add(MarkInfo, "job started: %s", label)
}

// Report takes a progress line of the sample job.
func (s *state) Report(r Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.snap.Job.Workers == 0
	s.snap.Job = r
	if first {
		s.add(MarkInfo, "the job's AWS SDK gets its credentials from %s", sourceName(r.Source))
	}
	if r.Failed > s.lastFail {
		s.add(MarkEnded, "job: %d call(s) failed: %s", r.Failed-s.lastFail, r.LastError)
		s.lastFail = r.Failed
	}
}

func sourceName(src string) string {
	if src == "CredentialsEndpointProvider" {
		return "ssokeep's endpoint (the container-credentials provider)"
	}
	if src == "" {
		return "nowhere yet"
	}
	return src + " (not ssokeep's endpoint!)"
}

// Output keeps the last lines the job printed (other than reports).
func (s *state) Output(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Output = append(s.snap.Output, line)
	if len(s.snap.Output) > maxOutput {
		s.snap.Output = s.snap.Output[len(s.snap.Output)-maxOutput:]
	}
}

// EmulatorCalls records the AWS calls the emulator answered for the job.
func (s *state) EmulatorCalls(calls, refused int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.EmulatorCalls, s.snap.EmulatorRefused = calls, refused
}

// JobDone records the job's end.
func (s *state) JobDone(code int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.JobDone, s.snap.JobExit = true, code
	switch {
	case err != nil:
		s.add(MarkEnded, "job did not run: %v", err)
	case code == 130:
		s.add(MarkEnded, "job stopped by Ctrl-C (exit 130)")
	case code != 0:
		s.add(MarkEnded, "job exited with code %d", code)
	default:
		s.add(MarkApproved, "job finished (exit 0)")
	}
}
