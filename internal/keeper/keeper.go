// Package keeper keeps one profile's AWS credentials fresh ahead of need, for
// as long as a job runs: it refreshes the IAM Identity Center access token
// before botocore's 15-minute window, fetches new role credentials well before
// the served ones run low, forecasts the sign-in session's end, and when a
// human must log in again it starts a device-code login in the background and
// says so (as events) while the job keeps running on the credentials it holds.
//
// The keeper owns the three clocks of DESIGN.md for its profile. It never
// blocks its readers: Current answers from memory.
package keeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ssokeep/ssokeep/internal/fsutil"
	"github.com/ssokeep/ssokeep/internal/login"
)

// Options configure a Keeper.
type Options struct {
	Profile string
	// Session is the IAM Identity Center session the credentials come from;
	// nil for profiles that do not use one (static keys, MFA sessions...).
	Session *login.Session
	// MaxSession is the configured maximum session length, for the forecast
	// (0: unknown, then the end is learned when a refresh is refused).
	MaxSession time.Duration
	Manager    *login.Manager
	// Credentials fetches a new set on every call (no cache in front).
	Credentials aws.CredentialsProvider
	Thresholds  Thresholds
	// ResetAt, when set, tops up the credentials, ends the session and starts
	// a new login at that time, so a full-length session begins when the user
	// chose.
	ResetAt time.Time
	Now     func() time.Time
	Logger  *slog.Logger
	// OnEvent receives every Event, from the keeper's goroutines; it must not
	// block for long.
	OnEvent func(Event)
	// Rand returns a number in [0,1) for backoff jitter (default math/rand).
	Rand func() float64
	// Sleep pauses the background login between failed attempts (default: a
	// real timer).
	Sleep func(ctx context.Context, d time.Duration)
}

// Keeper keeps one profile's credentials. Create it with New, run it with Run.
type Keeper struct {
	o    Options
	cur  atomic.Pointer[served]
	wake chan struct{}

	calls, failures atomic.Uint64

	mu sync.Mutex
	st state
}

// served is the set Current hands out, with how close to its expiry it stops
// being handed out (scaled to its lifetime).
type served struct {
	creds  aws.Credentials
	margin time.Duration
}

// state is owned by the Run goroutine, shared with the login goroutine and
// Status under mu.
type state struct {
	fetchedAt, credsExpire time.Time
	credsLife              time.Duration
	rotations              int

	tokenExpires time.Time
	tokenLife    time.Duration

	needLogin    error     // why a human must log in (a *login.LoginNeededError), nil when fine
	endNoticedAt time.Time // when needLogin was first set
	tokenSeen    time.Time // the cached token's expiry then: a new login changes it
	loginRunning bool
	pending      *login.DeviceAuth
	loginStarted time.Time
	reminded     int
	warnedEnd    time.Time // the forecast end already announced
	resetDone    bool

	token, creds retry
	lastErr      string
}

// retry is the backoff state of one kind of upstream call.
type retry struct {
	streak int
	until  time.Time
}

// New returns a keeper; nothing runs until Run.
func New(o Options) *Keeper {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}
	}
	return &Keeper{o: o, wake: make(chan struct{}, 1)}
}

// Current returns the credentials to serve, from memory. ok is false when no
// set is valid for a little while longer (the endpoint then answers 503).
func (k *Keeper) Current() (aws.Credentials, bool) {
	c := k.cur.Load()
	if c == nil || c.creds.Expires.Sub(k.o.Now()) <= c.margin {
		return aws.Credentials{}, false
	}
	return c.creds, true
}

// held returns the set being served, nil when none.
func (k *Keeper) held() *aws.Credentials {
	if c := k.cur.Load(); c != nil {
		return &c.creds
	}
	return nil
}

// Run keeps the credentials until ctx ends. It returns nil then.
func (k *Keeper) Run(ctx context.Context) error {
	for {
		next := k.Step(ctx)
		d := next.Sub(k.o.Now())
		if d < 0 {
			d = 0
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-k.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// Wake makes Run take its next step now.
func (k *Keeper) Wake() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// Step does everything due now and returns when it next wants to run. Run
// calls it in a loop; tests call it with an injected clock.
func (k *Keeper) Step(ctx context.Context) time.Time {
	now := k.o.Now()
	next := now.Add(time.Minute)
	earliest := func(t time.Time) {
		if !t.IsZero() && t.Before(next) {
			next = t
		}
	}
	if k.o.Session != nil {
		earliest(k.stepToken(ctx, now))
	}
	earliest(k.stepCredentials(ctx, now, false))
	if k.o.Session != nil {
		earliest(k.stepLogin(ctx, now))
	}
	if next.Before(now) {
		next = now
	}
	return next
}

func (k *Keeper) emit(e Event) {
	e.Profile = k.o.Profile
	if k.o.Session != nil {
		e.Session = k.o.Session.Label()
	}
	if e.At.IsZero() {
		e.At = k.o.Now()
	}
	k.o.Logger.Info(e.Message, "event", string(e.Kind), "profile", e.Profile)
	if k.o.OnEvent != nil {
		k.o.OnEvent(e)
	}
}

// backoff schedules the next attempt after a failure: exponential with full
// jitter, scaled to the credentials' lifetime, capped at a minute.
func (k *Keeper) backoff(r *retry, now time.Time, err error) time.Time {
	k.mu.Lock()
	defer k.mu.Unlock()
	r.streak++
	k.st.lastErr = err.Error()
	base, ceiling := scale(2*time.Second, k.st.credsLife, 1.0/60), scale(time.Minute, k.st.credsLife, 1.0/6)
	d := base << min(r.streak-1, 20)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	d = time.Duration(k.o.Rand()*float64(d)) + base/2
	r.until = now.Add(d)
	return r.until
}

func (k *Keeper) recovered(r *retry) {
	k.mu.Lock()
	streak := r.streak
	r.streak, r.until = 0, time.Time{}
	if k.st.token.streak == 0 && k.st.creds.streak == 0 {
		k.st.lastErr = ""
	}
	k.mu.Unlock()
	if streak > 0 {
		k.emit(Event{Kind: Recovered, Message: fmt.Sprintf("AWS calls work again after %d failures", streak)})
	}
}

// stepToken keeps the access token ahead of botocore's refresh window.
func (k *Keeper) stepToken(ctx context.Context, now time.Time) time.Time {
	k.mu.Lock()
	ahead := k.o.Thresholds.tokenAhead(k.st.tokenLife)
	backoffUntil := k.st.token.until
	k.mu.Unlock()
	if now.Before(backoffUntil) {
		return backoffUntil
	}
	if k.waitingForLogin() {
		return now.Add(k.pollEvery())
	}
	k.calls.Add(1) // a file read, and a refresh when due
	tok, err := k.o.Manager.Keep(ctx, *k.o.Session, ahead)
	if tok != nil {
		k.mu.Lock()
		changed := !tok.ExpiresAt.Equal(k.st.tokenExpires)
		first := k.st.tokenExpires.IsZero()
		if changed {
			k.st.tokenExpires = tok.ExpiresAt
			if life := tok.ExpiresAt.Sub(now); life > k.st.tokenLife {
				k.st.tokenLife = life
			}
		}
		k.mu.Unlock()
		if changed && !first {
			k.emit(Event{Kind: TokenRefreshed, Expires: tok.ExpiresAt, Message: "access token refreshed"})
		}
	}
	var ln *login.LoginNeededError
	switch {
	case err == nil:
		k.recovered(&k.st.token)
		k.loginDone(now)
		if at := tok.ExpiresAt.Add(-ahead); at.After(now) {
			return at
		}
		return tok.ExpiresAt // cannot be refreshed (legacy): look again when it expires
	case errors.As(err, &ln):
		k.needsLogin(now, ln)
		return now.Add(k.pollEvery())
	default:
		k.failures.Add(1)
		k.o.Logger.Warn("refreshing the access token failed; retrying", "profile", k.o.Profile, "err", err)
		return k.backoff(&k.st.token, now, err)
	}
}

// waitingForLogin reports whether a login is still needed and nobody has
// logged in since: the cached token is the one that could not be used. Then
// asking IAM Identity Center again is pointless; any login (ssokeep's in this
// or another process, or the AWS CLI's) changes the file.
func (k *Keeper) waitingForLogin() bool {
	k.mu.Lock()
	need, seen := k.st.needLogin != nil, k.st.tokenSeen
	k.mu.Unlock()
	if !need {
		return false
	}
	tok, err := k.o.Manager.Cache.LoadToken(k.o.Session.CacheKey())
	if err != nil {
		return seen.IsZero()
	}
	return tok.ExpiresAt.Equal(seen)
}

// pollEvery is how often a keeper waiting for a login re-reads the cache, to
// notice a login made by another process.
func (k *Keeper) pollEvery() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return scale(5*time.Second, k.st.tokenLife, 0.05)
}

func (k *Keeper) needsLogin(now time.Time, ln *login.LoginNeededError) {
	var seen time.Time
	if tok, err := k.o.Manager.Cache.LoadToken(k.o.Session.CacheKey()); err == nil {
		seen = tok.ExpiresAt
	}
	k.mu.Lock()
	first := k.st.needLogin == nil
	if first {
		k.st.needLogin, k.st.endNoticedAt = ln, now
	}
	k.st.tokenSeen = seen
	k.mu.Unlock()
	if first && ln.Reason == login.SessionEnded {
		k.emit(Event{Kind: SessionEnded, Message: ln.Error(), Deadline: k.safeUntil()})
	}
}

// loginDone clears the need for a login once a usable token is back.
func (k *Keeper) loginDone(now time.Time) {
	k.mu.Lock()
	was := k.st.needLogin != nil
	k.st.needLogin, k.st.pending, k.st.reminded = nil, nil, 0
	k.mu.Unlock()
	if was {
		k.Wake()
	}
}

// stepCredentials fetches a new set when the current one is old, running
// low, or about to be the last before a forecast session end; force fetches
// one now (a top-up before a planned reset).
func (k *Keeper) stepCredentials(ctx context.Context, now time.Time, force bool) time.Time {
	k.mu.Lock()
	life, fetchedAt, backoffUntil := k.st.credsLife, k.st.fetchedAt, k.st.creds.until
	blocked := k.st.needLogin != nil
	k.mu.Unlock()
	cur := k.held()
	refetch := k.o.Thresholds.refetchEvery(life)
	due := fetchedAt.Add(refetch)
	if cur != nil {
		if low := cur.Expires.Add(-k.o.Thresholds.minServed(life)); low.Before(due) {
			due = low
		}
	}
	// A last top-up just before the session ends makes the last set outlive
	// it by as much as possible.
	if end := k.forecast(now); !end.IsZero() {
		top := end.Add(-scale(2*time.Minute, life, 0.1))
		if fetchedAt.Before(top) && top.Before(due) {
			due = top
		}
	}
	if cur != nil && now.Before(due) && !force {
		return due
	}
	if blocked {
		return time.Time{} // the token step decides when to look again
	}
	if now.Before(backoffUntil) {
		return backoffUntil
	}
	k.calls.Add(1)
	creds, err := k.o.Credentials.Retrieve(ctx)
	if err != nil {
		k.failures.Add(1)
		var ln *login.LoginNeededError
		if errors.As(err, &ln) {
			k.needsLogin(now, ln)
		}
		left := "none"
		if cur != nil {
			left = cur.Expires.Sub(now).Round(time.Second).String()
		}
		level := slog.LevelWarn
		if errors.As(err, &ln) {
			level = slog.LevelInfo // said once, as an event
		}
		k.o.Logger.Log(ctx, level, "fetching role credentials failed; serving the current set", "profile", k.o.Profile,
			"left", left, "err", err)
		k.emit(Event{Kind: UpstreamFailed, Message: "fetching role credentials failed: " + err.Error(), Deadline: k.safeUntil()})
		return k.backoff(&k.st.creds, now, err)
	}
	k.recovered(&k.st.creds)
	k.mu.Lock()
	k.st.fetchedAt, k.st.credsExpire = now, creds.Expires
	if l := creds.Expires.Sub(now); l > k.st.credsLife {
		k.st.credsLife = l
	}
	k.st.rotations++
	life = k.st.credsLife
	k.mu.Unlock()
	// Never serve a set that may expire during the request that uses it.
	k.cur.Store(&served{creds: creds, margin: scale(time.Minute, life, 0.1)})
	k.emit(Event{Kind: CredentialsRotated, Expires: creds.Expires, Message: "new role credentials, valid until " + creds.Expires.Local().Format("15:04:05")})
	return now.Add(k.o.Thresholds.refetchEvery(life))
}

// forecast is the session end ssokeep expects (zero when unknown or past).
func (k *Keeper) forecast(now time.Time) time.Time {
	if k.o.Session == nil || k.o.Manager.Logins == nil {
		return time.Time{}
	}
	rec, err := k.o.Manager.Logins.Get(k.o.Session.CacheKey())
	if err != nil {
		return time.Time{}
	}
	f := rec.Forecast(k.o.MaxSession)
	if f.State != "forecast" || !f.At.After(now) {
		return time.Time{}
	}
	return f.At
}

// safeUntil is when the job runs out: the served set's expiry less the safety
// margin (botocore's mandatory refresh window).
func (k *Keeper) safeUntil() time.Time {
	c := k.held()
	if c == nil {
		return time.Time{}
	}
	return c.Expires.Add(-k.o.Thresholds.safetyMargin(k.credsLife()))
}

// stepLogin warns ahead of a forecast session end and, when a human must log
// in, starts the background login and reminds them.
func (k *Keeper) stepLogin(ctx context.Context, now time.Time) time.Time {
	var next time.Time
	if end := k.forecast(now); !end.IsZero() {
		warnAt := end.Add(-k.o.Thresholds.leadTime(k.o.MaxSession))
		k.mu.Lock()
		warn := !now.Before(warnAt) && !k.st.warnedEnd.Equal(end)
		if warn {
			k.st.warnedEnd = end
		}
		k.mu.Unlock()
		if warn {
			k.emit(Event{Kind: SessionEnding, Deadline: end, Message: fmt.Sprintf(
				"the IAM Identity Center session for %s ends at %s; the job then runs on its credentials until about %s, and a login code will follow. To avoid any gap, run `ssokeep login -p %s --fresh` before then",
				k.o.Session.Label(), wallClock(end, now), wallClock(end.Add(k.credsLife()), now), k.o.Profile)})
		} else if now.Before(warnAt) {
			next = warnAt
		}
	}
	k.mu.Lock()
	reset := !k.o.ResetAt.IsZero() && !now.Before(k.o.ResetAt) && !k.st.resetDone
	if reset {
		k.st.resetDone = true
	} else if !k.o.ResetAt.IsZero() && !k.st.resetDone && (next.IsZero() || k.o.ResetAt.Before(next)) {
		next = k.o.ResetAt
	}
	start := (k.st.needLogin != nil || reset) && !k.st.loginRunning
	if start {
		k.st.loginRunning = true
	}
	pending, started, reminded := k.st.pending, k.st.loginStarted, k.st.reminded
	k.mu.Unlock()
	if reset {
		k.stepCredentials(ctx, now, true) // top up: the new login may take a while
	}
	if start {
		go k.relogin(ctx, reset)
	}
	if pending != nil {
		if at := k.reminderAt(started, reminded); !at.IsZero() {
			if !now.Before(at) {
				k.mu.Lock()
				k.st.reminded++
				k.mu.Unlock()
				k.emit(Event{Kind: LoginReminder, VerificationURL: pending.VerificationURIComplete, UserCode: pending.UserCode,
					Deadline: k.safeUntil(), Message: k.loginMessage(pending, "still waiting: ")})
			} else if next.IsZero() || at.Before(next) {
				next = at
			}
		}
	}
	return next
}

func (k *Keeper) credsLife() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.st.credsLife
}

// reminderAt is when to remind the human the n-th time: at half, three
// quarters and seven eighths of the time from the first notice to the
// deadline, so reminders grow more urgent as it nears.
func (k *Keeper) reminderAt(started time.Time, n int) time.Time {
	deadline := k.safeUntil()
	if n >= 3 || deadline.IsZero() || !deadline.After(started) {
		return time.Time{}
	}
	span := deadline.Sub(started)
	return deadline.Add(-span >> (n + 1))
}

// loginMessage says what the human must do and by when; the URL and code
// travel in the event's own fields, which every channel shows.
func (k *Keeper) loginMessage(d *login.DeviceAuth, prefix string) string {
	msg := fmt.Sprintf("%sapprove the AWS login for %s", prefix, k.o.Session.Label())
	if su := k.safeUntil(); !su.IsZero() {
		msg += fmt.Sprintf(" before %s, when the job runs out of AWS credentials", wallClock(su, k.o.Now()))
	}
	return msg
}

// relogin runs one background login for the session, at most one across all
// ssokeep processes: the others see the new token in the cache.
func (k *Keeper) relogin(ctx context.Context, reset bool) {
	defer func() {
		k.mu.Lock()
		k.st.loginRunning, k.st.pending = false, nil
		k.mu.Unlock()
		k.Wake()
	}()
	s := *k.o.Session
	unlock, ok, err := fsutil.TryLock(filepath.Join(k.o.Manager.Cache.StateDir(), "locks", "relogin-"+s.CacheKey()+".lock"))
	if err != nil {
		k.o.Logger.Warn("cannot take the login lock", "err", err)
		return
	}
	if !ok {
		k.o.Logger.Info("another ssokeep process is running the login for this session", "session", s.Label())
		return
	}
	defer unlock()
	k.mu.Lock()
	noticed := k.st.endNoticedAt
	k.mu.Unlock()
	if !reset && k.loggedInSince(noticed) {
		return // another process logged in while we waited for the lock
	}
	// A planned reset ends the session first (Fresh), so the login starts a
	// full-length one; the credentials were topped up just before.
	for fresh := reset; ctx.Err() == nil; fresh = false {
		_, err := k.o.Manager.DeviceLogin(ctx, s, login.Options{Fresh: fresh}, func(d login.DeviceAuth) {
			k.mu.Lock()
			k.st.pending, k.st.loginStarted, k.st.reminded = &d, k.o.Now(), 0
			k.mu.Unlock()
			k.emit(Event{Kind: LoginRequired, VerificationURL: d.VerificationURIComplete, UserCode: d.UserCode,
				Deadline: k.safeUntil(), Message: k.loginMessage(&d, "")})
			k.Wake() // schedule the reminders
		})
		if err == nil {
			k.emit(Event{Kind: LoginApproved, Message: "login approved for " + s.Label() + "; credentials keep flowing"})
			return
		}
		if ctx.Err() != nil {
			return
		}
		k.o.Logger.Warn("background login did not complete; starting a new code", "session", s.Label(), "err", err)
		if k.loggedInSince(noticed) {
			return
		}
		k.o.Sleep(ctx, scale(10*time.Second, k.credsLife(), 0.05)) // do not hammer IAM Identity Center
	}
}

// loggedInSince reports whether a login was recorded after t.
func (k *Keeper) loggedInSince(t time.Time) bool {
	if k.o.Manager.Logins == nil || t.IsZero() {
		return false
	}
	rec, err := k.o.Manager.Logins.Get(k.o.Session.CacheKey())
	return err == nil && rec.LoggedInAt.After(t)
}

// wallClock shows t as people read a deadline: to the minute, or to the
// second when it is under an hour away (compressed rehearsals, last minutes).
func wallClock(t, now time.Time) string {
	if t.Sub(now) < time.Hour {
		return t.Local().Format("15:04:05")
	}
	return t.Local().Format("15:04")
}
