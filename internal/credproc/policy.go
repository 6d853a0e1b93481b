package credproc

import "time"

// Policy decides when a cached set of credentials is still worth serving.
//
// A set is reused while more than Threshold(lifetime) of it is left, where Threshold is MinRemaining, or half
// the set's whole lifetime when that is shorter. Real sets live at least 15 minutes (STS) and usually an hour
// or more, so for them the rule is "more than MinRemaining left". Emulated sets that live seconds would
// otherwise never be reusable; half their life keeps them useful while still leaving the consumer the other
// half. When the lifetime is unknown the full MinRemaining applies (the safe side: fetch earlier).
//
// credential-process uses 15 minutes, botocore's advisory refresh window: boto3 runs the process again once a
// set has less than 15 minutes left, and that call must return a newer set, not the same one (botocore has no
// throttle: every request in the window would run the process again).
type Policy struct {
	MinRemaining time.Duration
}

// DefaultPolicy is the policy of `ssokeep credential-process` and `ssokeep export`.
var DefaultPolicy = Policy{MinRemaining: 15 * time.Minute}

// Threshold is how much of a set with this lifetime must be left for it to be reused (lifetime <= 0: unknown).
func (p Policy) Threshold(lifetime time.Duration) time.Duration {
	if lifetime > 0 && lifetime/2 < p.MinRemaining {
		return lifetime / 2
	}
	return p.MinRemaining
}

// Reusable reports whether a set issued at issued (zero: unknown) and expiring at expires may be served at now.
func (p Policy) Reusable(issued, expires, now time.Time) bool {
	var lifetime time.Duration
	if !issued.IsZero() {
		lifetime = expires.Sub(issued)
	}
	return expires.Sub(now) > p.Threshold(lifetime)
}
