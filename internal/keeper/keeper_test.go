package keeper

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/emulator/emutest"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/logins"
	"github.com/ssokeep/ssokeep/internal/source"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

// rig is an emulator, a login manager and keepers on one fake clock: a day of
// IAM Identity Center in a few hundred deterministic steps.
type rig struct {
	t     *testing.T
	clock *clock.Fake
	emu   *emulator.Server
	m     *login.Manager
	s     login.Session

	mu      sync.Mutex
	events  []Event
	approve bool          // the human approves device codes at once
	parked  bool          // a background login waits for the human
	answer  chan struct{} // closed when the human approves
}

func newRig(t *testing.T, o emulator.Options) *rig {
	t.Helper()
	emu, c := emutest.Start(t, o, t0)
	home := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	os.Unsetenv("AWS_PROFILE")
	cache := ssocache.Dir{Path: filepath.Join(home, "sso", "cache")}
	r := &rig{t: t, clock: c, emu: emu, approve: true, answer: make(chan struct{}),
		s: login.Session{Name: "corp", StartURL: emu.StartURL(), Region: emu.Region(), Scopes: []string{login.DefaultScope}, Profile: "dev"}}
	r.m = &login.Manager{Cache: cache, Roles: ssocache.RoleCache{Path: filepath.Join(home, "cli", "cache")},
		Logins: logins.In(cache.StateDir()), Now: c.Now,
		Wait: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			ok := r.approve
			r.parked = !ok
			r.mu.Unlock()
			if !ok { // the human has not looked yet: wait for them, not for the clock
				select {
				case <-r.answer:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			emu.ApproveAll()
			return nil
		}}
	return r
}

func (r *rig) login(fresh bool) {
	r.t.Helper()
	if _, err := r.m.DeviceLogin(context.Background(), r.s, login.Options{Fresh: fresh}, nil); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) keeper(o Options) *Keeper {
	s := r.s
	o.Profile, o.Session, o.Manager, o.Now = "dev", &s, r.m, r.clock.Now
	o.Credentials = &source.SSORole{Session: s, AccountID: emulator.DefaultAccountID, RoleName: emulator.DefaultPermissionSet,
		Token: source.ManagerTokens(r.m, 0), Client: source.SDKPortal("")}
	o.Rand = func() float64 { return 0.5 }
	o.Sleep = func(context.Context, time.Duration) {}
	o.OnEvent = func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
	}
	return New(o)
}

func (r *rig) count(kind EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// humanApproves lets the waiting background login through.
func (r *rig) humanApproves() {
	r.mu.Lock()
	r.approve, r.parked = true, false
	r.mu.Unlock()
	close(r.answer)
}

// settle waits for a background login the keeper started to finish, or to
// park waiting for the human. The login runs on the fake clock; only the
// goroutine hand-off is awaited.
func (r *rig) settle(k *Keeper) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k.mu.Lock()
		running := k.st.loginRunning
		k.mu.Unlock()
		r.mu.Lock()
		parked := r.parked
		r.mu.Unlock()
		if !running || parked {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("background login did not finish")
		}
		time.Sleep(time.Millisecond) // a goroutine hand-off, not a stand-in for the clock
	}
}

// run steps the keepers until the fake clock reaches end, jumping from one
// wake-up to the next, and calls check at every stop.
func (r *rig) run(end time.Time, ks []*Keeper, check func(now time.Time)) {
	r.t.Helper()
	ctx := context.Background()
	for steps := 0; r.clock.Now().Before(end); steps++ {
		if steps > 20000 {
			r.t.Fatalf("more than 20000 steps before %v: the keeper spins", end)
		}
		next := end
		for _, k := range ks {
			if n := k.Step(ctx); n.Before(next) {
				next = n
			}
			r.settle(k)
		}
		if check != nil {
			check(r.clock.Now())
		}
		if !next.After(r.clock.Now()) {
			next = r.clock.Now().Add(time.Second)
		}
		r.clock.Set(next)
	}
}

func TestADayOfRotationsAndSessionEnds(t *testing.T) {
	r := newRig(t, emulator.Options{SessionDuration: 8 * time.Hour, TokenLifetime: time.Hour, RoleDuration: time.Hour})
	r.login(false)
	k := r.keeper(Options{MaxSession: 8 * time.Hour})
	var minLeft, minToken = 24 * time.Hour, 24 * time.Hour
	r.run(t0.Add(24*time.Hour), []*Keeper{k}, func(now time.Time) {
		c, ok := k.Current()
		if !ok {
			t.Fatalf("%v: nothing to serve", now.Sub(t0))
		}
		minLeft = min(minLeft, c.Expires.Sub(now))
		if tok, err := r.m.Cache.LoadToken(r.s.CacheKey()); err == nil {
			if left := tok.Remaining(now); left > 0 {
				minToken = min(minToken, left)
			}
		}
	})
	if minLeft < DefaultMinServed {
		t.Errorf("served credentials fell to %v left; the keeper must keep at least %v", minLeft, DefaultMinServed)
	}
	if minToken < 15*time.Minute {
		t.Errorf("the access token fell to %v left, inside botocore's 15-minute refresh window", minToken)
	}
	st := r.emu.Stats().Operations
	ends := 3 // sessions of 8 h in 24 h
	if got := r.count(LoginApproved); got != ends-1 && got != ends {
		t.Errorf("%d logins approved in 24 h of 8-hour sessions", got)
	}
	if got, want := st["StartDeviceAuthorization"].Requests, 1+r.count(LoginApproved); got != want {
		t.Errorf("%d device authorizations, want %d: exactly one login per session end", got, want)
	}
	if got := r.count(SessionEnding); got < ends-1 {
		t.Errorf("%d session-ending warnings", got)
	}
	if rot := k.Status().Rotations; rot < 24*4-8 {
		t.Errorf("%d rotations in 24 h, want about one per 15 min", rot)
	}
	if n := st["GetRoleCredentials"].Requests; n > 24*4+20 {
		t.Errorf("%d GetRoleCredentials calls: the keeper is chatty", n)
	}
}

func TestLoginIsAskedOnceWithURLCodeAndDeadline(t *testing.T) {
	r := newRig(t, emulator.Options{SessionDuration: 2 * time.Hour, DeviceCodeLifetime: 8 * time.Hour})
	r.login(false)
	r.approve = false
	k := r.keeper(Options{}) // no configured maximum: the end is learned when a refresh is refused
	other := r.keeper(Options{})
	r.run(t0.Add(2*time.Hour+30*time.Minute), []*Keeper{k, other}, nil)
	var req *Event
	for i := range r.events {
		if r.events[i].Kind == LoginRequired {
			if req != nil {
				t.Fatal("two keepers on one session asked for two logins")
			}
			req = &r.events[i]
		}
	}
	if req == nil {
		t.Fatal("no login-required event after the session ended")
	}
	if req.UserCode == "" || !strings.Contains(req.VerificationURL, req.UserCode) || req.Deadline.IsZero() ||
		!strings.Contains(req.Message, "approve the AWS login for corp before") {
		t.Errorf("login-required event %+v", req)
	}
	if r.count(SessionEnded) == 0 {
		t.Error("no session-ended event")
	}
	// Nobody answers: reminders grow more urgent as the deadline nears.
	r.run(req.Deadline, []*Keeper{k, other}, nil)
	if n := r.count(LoginReminder); n < 2 {
		t.Errorf("%d reminders before the deadline", n)
	}
	r.humanApproves()
	r.run(r.clock.Now().Add(10*time.Minute), []*Keeper{k, other}, nil)
	if n := r.count(LoginApproved); n != 1 {
		t.Errorf("%d approvals", n)
	}
	if n := r.emu.Stats().Operations["StartDeviceAuthorization"].Requests; n != 2 {
		t.Errorf("%d device authorizations, want the first login and one re-login", n)
	}
	for _, kk := range []*Keeper{k, other} {
		if _, ok := kk.Current(); !ok || kk.Status().LoginNeeded {
			t.Errorf("keeper not serving after the approval: %+v", kk.Status())
		}
	}
}

func TestUpstreamFailuresNeverDropAValidSet(t *testing.T) {
	r := newRig(t, emulator.Options{SessionDuration: 12 * time.Hour})
	r.login(false)
	// The SDK retries each call 3 times, so 60% fails a fetch about one time
	// in five: the keeper sees many failures in 11 hours.
	if err := r.emu.SetFaults(emulator.Faults{
		"GetRoleCredentials": {Rate: 0.6, Error: "TooManyRequestsException"},
		"CreateToken":        {Rate: 0.6, Error: "500"},
	}); err != nil {
		t.Fatal(err)
	}
	k := r.keeper(Options{MaxSession: 12 * time.Hour})
	r.run(t0.Add(11*time.Hour), []*Keeper{k}, func(now time.Time) {
		if k.Status().Rotations == 0 {
			return // the very first fetch may fail: nothing was served yet
		}
		if c, ok := k.Current(); !ok || c.Expires.Sub(now) < DefaultSafetyMargin {
			t.Fatalf("%v: serving %v (ok=%v)", now.Sub(t0), c.Expires.Sub(now), ok)
		}
	})
	st := r.emu.Stats().Operations
	if st["GetRoleCredentials"].Faults == 0 || k.Status().UpstreamFailures == 0 {
		t.Errorf("no faults were injected: %+v", st["GetRoleCredentials"])
	}
	if r.count(Recovered) == 0 {
		t.Error("no recovered event after failures")
	}
}

func TestThresholdsScaleToSecondsLongCredentials(t *testing.T) {
	r := newRig(t, emulator.Options{SessionDuration: 90 * time.Second, TokenLifetime: 20 * time.Second, RoleDuration: 30 * time.Second})
	r.login(false)
	k := r.keeper(Options{MaxSession: 90 * time.Second})
	r.run(t0.Add(5*time.Minute), []*Keeper{k}, func(now time.Time) {
		if c, ok := k.Current(); !ok || c.Expires.Sub(now) < 5*time.Second {
			t.Fatalf("%v: serving %v (ok=%v)", now.Sub(t0), c.Expires.Sub(now), ok)
		}
	})
	if n := r.count(LoginApproved); n < 2 {
		t.Errorf("%d logins in 5 minutes of 90-second sessions", n)
	}
}

func TestResetAtStartsAFullSessionWhenChosen(t *testing.T) {
	r := newRig(t, emulator.Options{SessionDuration: 8 * time.Hour})
	r.login(false)
	reset := t0.Add(3 * time.Hour)
	k := r.keeper(Options{MaxSession: 8 * time.Hour, ResetAt: reset})
	r.run(reset.Add(time.Minute), []*Keeper{k}, func(now time.Time) {
		if _, ok := k.Current(); !ok {
			t.Fatalf("%v: nothing to serve", now.Sub(t0))
		}
	})
	ss := r.emu.Stats().Sessions
	if len(ss) != 1 || ss[0].Start.Before(reset) {
		t.Fatalf("sessions %+v, want one started at the reset", ss)
	}
	rec, _ := r.m.Logins.Get(r.s.CacheKey())
	if !rec.Fresh {
		t.Error("the reset login is not recorded as fresh")
	}
}
