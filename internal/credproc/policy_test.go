package credproc

import (
	"testing"
	"time"
)

func TestPolicyThresholdScalesWithShortLifetimes(t *testing.T) {
	p := DefaultPolicy
	for _, c := range []struct {
		lifetime, want time.Duration
	}{
		{0, 15 * time.Minute},                // unknown: the full minimum
		{-time.Minute, 15 * time.Minute},     // nonsense issue time: treated as unknown
		{12 * time.Hour, 15 * time.Minute},   // real sets
		{time.Hour, 15 * time.Minute},        // the shortest permission set
		{30 * time.Minute, 15 * time.Minute}, // exactly twice the minimum
		{20 * time.Minute, 10 * time.Minute}, // shorter: half of it
		{30 * time.Second, 15 * time.Second}, // emulator role credentials
		{3 * time.Second, 1500 * time.Millisecond},
	} {
		if got := p.Threshold(c.lifetime); got != c.want {
			t.Errorf("Threshold(%v) = %v, want %v", c.lifetime, got, c.want)
		}
	}
}

func TestPolicyReusable(t *testing.T) {
	p := DefaultPolicy
	issued := t0
	for _, c := range []struct {
		name            string
		issued, expires time.Time
		now             time.Time
		want            bool
	}{
		{"fresh 1h set", issued, issued.Add(time.Hour), issued.Add(time.Minute), true},
		{"16 min left", issued, issued.Add(time.Hour), issued.Add(44 * time.Minute), true},
		{"exactly 15 min left: boto3 is about to ask again", issued, issued.Add(time.Hour), issued.Add(45 * time.Minute), false},
		{"10 min left", issued, issued.Add(time.Hour), issued.Add(50 * time.Minute), false},
		{"expired", issued, issued.Add(time.Hour), issued.Add(2 * time.Hour), false},
		{"unknown issue, 20 min left", time.Time{}, issued.Add(time.Hour), issued.Add(40 * time.Minute), true},
		{"unknown issue, 14 min left", time.Time{}, issued.Add(time.Hour), issued.Add(46 * time.Minute), false},
		{"30 s set, 20 s left", issued, issued.Add(30 * time.Second), issued.Add(10 * time.Second), true},
		{"30 s set, 14 s left", issued, issued.Add(30 * time.Second), issued.Add(16 * time.Second), false},
		{"30 s set of unknown issue", time.Time{}, issued.Add(30 * time.Second), issued, false},
	} {
		if got := p.Reusable(c.issued, c.expires, c.now); got != c.want {
			t.Errorf("%s: Reusable = %v, want %v", c.name, got, c.want)
		}
	}
}
