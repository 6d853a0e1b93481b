package keeper

import "time"

// Status is a snapshot for metrics, `ssokeep status` and the demo. No secrets.
type Status struct {
	Profile           string
	CredentialsExpire time.Time
	TokenExpires      time.Time
	SessionEnd        time.Time // forecast; zero when unknown
	SafeUntil         time.Time
	Rotations         int
	UpstreamCalls     uint64
	UpstreamFailures  uint64
	LoginNeeded       bool
	LoginPending      bool
	VerificationURL   string
	UserCode          string
	LastError         string
}

// Status returns the keeper's state now.
func (k *Keeper) Status() Status {
	now := k.o.Now()
	s := Status{Profile: k.o.Profile, SessionEnd: k.forecast(now), SafeUntil: k.safeUntil(),
		UpstreamCalls: k.calls.Load(), UpstreamFailures: k.failures.Load()}
	k.mu.Lock()
	defer k.mu.Unlock()
	s.CredentialsExpire, s.TokenExpires, s.Rotations = k.st.credsExpire, k.st.tokenExpires, k.st.rotations
	s.LoginNeeded, s.LastError = k.st.needLogin != nil, k.st.lastErr
	if p := k.st.pending; p != nil {
		s.LoginPending, s.VerificationURL, s.UserCode = true, p.VerificationURIComplete, p.UserCode
	}
	return s
}
