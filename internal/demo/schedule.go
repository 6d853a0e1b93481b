package demo

import (
	"fmt"
	"time"
)

// The schedule at --speed 1: a sign-in session of a minute, access tokens of
// 10 s and role credentials of 30 s, so one session holds 6 token refreshes
// and 8 credential rotations, and the job runs through two session ends and
// into a third session in two and a half minutes.
const (
	baseSession = 60 * time.Second
	baseToken   = 10 * time.Second
	baseRole    = 30 * time.Second
	baseJob     = 150 * time.Second // two and a half sessions: the job ends mid-session, not on an end
	basePause   = 3 * time.Second   // how long "the person" takes to approve a code
)

// Speed limits. Below MinSpeed a demo stops being a demo; above MaxSpeed the
// parts that are not compressed (the device-code poll interval of 1 s,
// process start-up) take a large share of a role credential's life, which
// is not what a real setup looks like.
const (
	MinSpeed = 0.05
	MaxSpeed = 4
)

// Schedule is the compressed time of one demo.
type Schedule struct {
	Speed   float64
	Session time.Duration // IAM Identity Center sign-in session
	Token   time.Duration // OIDC access token
	Role    time.Duration // role credentials from sso:GetRoleCredentials
	Job     time.Duration // how long the sample job runs
	Pause   time.Duration // how long the demo waits before approving a login, as a person would
}

// NewSchedule is the base schedule run speed times faster. job, when not
// zero, is the job's wall-clock run time instead of two and a half sessions.
func NewSchedule(speed float64, job time.Duration) (Schedule, error) {
	if speed < MinSpeed || speed > MaxSpeed {
		return Schedule{}, fmt.Errorf("--speed %g: use a value from %g to %g (1 runs a 60 s session; the device-code poll interval and process start-up are not compressed, so faster is not faithful)", speed, float64(MinSpeed), float64(MaxSpeed))
	}
	if job < 0 {
		return Schedule{}, fmt.Errorf("--duration %v: must be positive", job)
	}
	div := func(d time.Duration) time.Duration { return time.Duration(float64(d) / speed).Round(time.Millisecond) }
	s := Schedule{Speed: speed, Session: div(baseSession), Token: div(baseToken), Role: div(baseRole),
		Job: div(baseJob), Pause: div(basePause)}
	if job > 0 {
		s.Job = job
	}
	return s, nil
}

// ExpiryWindow is how long before expiry the job's SDK treats credentials as
// expired: the Go SDK uses 5 minutes of a 1 h set, a twelfth.
func (s Schedule) ExpiryWindow() time.Duration { return s.Role / 12 }

// pollInterval is the emulator's device-code interval: real time, not
// compressed.
const pollInterval = time.Second

// keeperMaxSession is the session length the keeper forecasts with. A login
// is recorded when the client's next poll collects the token, up to one poll
// interval after the approval that started the session; at full scale that
// second is nothing beside the keeper's two-minute top-up margin, here it is
// not, so the forecast is told the session is that much shorter.
func (s Schedule) keeperMaxSession() time.Duration { return s.Session - pollInterval }
