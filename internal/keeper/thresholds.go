package keeper

import "time"

// Defaults for a real IAM Identity Center setup (1–12 h role credentials,
// 1 h access tokens, 8 h sessions). Each one scales down with the lifetime it
// applies to, so the emulator's seconds-long credentials behave the same way
// in miniature.
const (
	DefaultMinServed    = 20 * time.Minute // served sets keep at least this much (botocore refreshes at 15 min)
	DefaultRefetchEvery = 15 * time.Minute // fetch a new set at least this often
	DefaultTokenAhead   = 20 * time.Minute // refresh the access token with this much left (botocore: 15 min)
	DefaultLeadTime     = 2 * time.Hour    // warn this long before a forecast session end
	DefaultSafetyMargin = 10 * time.Minute // botocore's mandatory refresh window: the job is "safe until" expiry minus this
)

// Thresholds are the keeper's timings. Zero fields take the defaults, scaled
// to the lifetimes seen.
type Thresholds struct {
	MinServed, RefetchEvery, TokenAhead, LeadTime, SafetyMargin time.Duration
}

// scale returns def, or a fraction of life when life is too short for def.
func scale(def time.Duration, life time.Duration, fraction float64) time.Duration {
	if life <= 0 {
		return def
	}
	if s := time.Duration(float64(life) * fraction); s < def {
		return s
	}
	return def
}

// For role credentials of lifetime life.
func (t Thresholds) refetchEvery(life time.Duration) time.Duration {
	if t.RefetchEvery > 0 {
		return t.RefetchEvery
	}
	return scale(DefaultRefetchEvery, life, 0.25)
}

func (t Thresholds) minServed(life time.Duration) time.Duration {
	if t.MinServed > 0 {
		return t.MinServed
	}
	return scale(DefaultMinServed, life, 1.0/3)
}

func (t Thresholds) safetyMargin(life time.Duration) time.Duration {
	if t.SafetyMargin > 0 {
		return t.SafetyMargin
	}
	return scale(DefaultSafetyMargin, life, 0.2)
}

// For access tokens of lifetime life.
func (t Thresholds) tokenAhead(life time.Duration) time.Duration {
	if t.TokenAhead > 0 {
		return t.TokenAhead
	}
	return scale(DefaultTokenAhead, life, 1.0/3)
}

// For sessions of length max.
func (t Thresholds) leadTime(max time.Duration) time.Duration {
	if t.LeadTime > 0 {
		return t.LeadTime
	}
	return scale(DefaultLeadTime, max, 0.25)
}
