package emulator

import (
	"sync"
	"time"
)

// Principal is who a set of credentials belongs to: what GetCallerIdentity
// answers and what STS needs to apply its rules.
type Principal struct {
	Account string
	ARN     string // arn:aws:sts::ACCT:assumed-role/ROLE/SESSION or arn:aws:iam::ACCT:user/NAME
	UserID  string
	// RoleSession marks credentials of an assumed role (SSO role
	// credentials included): AssumeRole from them is role chaining.
	RoleSession bool
	// MFA marks sessions created with a valid MFA code.
	MFA bool
	// IAMUser is the IAM user behind long-term keys and their
	// GetSessionToken sessions.
	IAMUser string
	// LongTerm marks an IAM user's own access key.
	LongTerm bool
}

// credential is one access key the emulator knows.
type credential struct {
	secret       string
	sessionToken string    // empty for long-term keys
	expires      time.Time // zero for long-term keys
	principal    Principal
}

// registry holds every key the emulator issued or was configured with.
// Expired keys stay, so S3 and STS can answer ExpiredToken rather than
// InvalidAccessKeyId, as AWS does.
type registry struct {
	mu     sync.RWMutex
	keys   map[string]credential
	issued int
}

// keepExpired is how long an expired key is remembered, to answer
// ExpiredToken rather than InvalidAccessKeyId. Forgetting keys after that
// keeps a long compressed-time rehearsal from growing without bound.
const keepExpired = 24 * time.Hour

// pruneEvery is how many additions pass between sweeps of dead state.
const pruneEvery = 1024

func newRegistry() *registry { return &registry{keys: map[string]credential{}} }

func (r *registry) add(id string, c credential) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[id] = c
	if !c.principal.LongTerm {
		r.issued++
	}
}

func (r *registry) get(id string) (credential, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.keys[id]
	return c, ok
}

// counts returns how many temporary credentials were issued and how many
// of them are still valid at now.
func (r *registry) counts(now time.Time) (issued, live int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range r.keys {
		if !c.principal.LongTerm && now.Before(c.expires) {
			live++
		}
	}
	return r.issued, live
}

// issue mints temporary credentials for a principal.
func (r *registry) issue(p Principal, now, expires time.Time) (id string, c credential) {
	id = newAccessKeyID("ASIA")
	c = credential{secret: newSecretAccessKey(), sessionToken: newSessionToken(), expires: expires, principal: p}
	r.add(id, c)
	if r.issued%pruneEvery == 0 {
		r.prune(now)
	}
	return id, c
}

func (r *registry) prune(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, c := range r.keys {
		if !c.principal.LongTerm && now.Sub(c.expires) > keepExpired {
			delete(r.keys, id)
		}
	}
}
