package demo

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleCompressesEveryLifetimeBySpeed(t *testing.T) {
	one, err := NewSchedule(1, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := Schedule{Speed: 1, Session: time.Minute, Token: 10 * time.Second, Role: 30 * time.Second,
		Job: 150 * time.Second, Pause: 3 * time.Second}
	if one != want {
		t.Errorf("speed 1: %+v, want %+v", one, want)
	}
	// The default run must stay under three minutes with the login and
	// start-up around it.
	if one.Job+one.Pause+10*time.Second > 3*time.Minute {
		t.Errorf("the default job of %v cannot finish in three minutes", one.Job)
	}
	two, err := NewSchedule(2.5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if two.Session != 24*time.Second || two.Token != 4*time.Second || two.Role != 12*time.Second || two.Job != time.Minute {
		t.Errorf("speed 2.5: %+v", two)
	}
	// The job spans parts of three sessions and does not end on a session end.
	if n := float64(two.Job) / float64(two.Session); n < 2.2 || n > 2.8 {
		t.Errorf("the job runs %.2f sessions; want about two and a half", n)
	}
	fixed, err := NewSchedule(2, 42*time.Second)
	if err != nil || fixed.Job != 42*time.Second || fixed.Session != 30*time.Second {
		t.Errorf("--duration 42s at speed 2: %+v, %v", fixed, err)
	}
}

func TestScheduleKeepsTheKeeperAheadOfTheJob(t *testing.T) {
	for _, speed := range []float64{MinSpeed, 1, 2.5, MaxSpeed} {
		s, err := NewSchedule(speed, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The SDK's window must be a small part of a set's life, or the job
		// would fetch on every call.
		if w := s.ExpiryWindow(); w <= 0 || w > s.Role/4 {
			t.Errorf("speed %g: expiry window %v for %v credentials", speed, w, s.Role)
		}
		// The forecast the keeper uses ends before the real session.
		if m := s.keeperMaxSession(); m >= s.Session || m < s.Session/2 {
			t.Errorf("speed %g: keeper max session %v for a %v session", speed, m, s.Session)
		}
		// The person approves well within what one credential set covers.
		if s.Pause+pollInterval >= s.Role/2 {
			t.Errorf("speed %g: a %v pause and a %v poll do not fit in half of %v", speed, s.Pause, pollInterval, s.Role)
		}
	}
}

func TestScheduleRejectsSpeedsItCannotKeepFaithful(t *testing.T) {
	for _, speed := range []float64{0, -1, 0.01, 5, 100} {
		_, err := NewSchedule(speed, 0)
		if err == nil || !strings.Contains(err.Error(), "--speed") {
			t.Errorf("speed %g: err %v, want one naming --speed", speed, err)
		}
	}
	if _, err := NewSchedule(1, -time.Second); err == nil || !strings.Contains(err.Error(), "--duration") {
		t.Errorf("negative duration: err %v, want one naming --duration", err)
	}
}
