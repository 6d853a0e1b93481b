// Package survival checks ssokeep's survival claim against an S3 server that
// is not ours: versitygw, embedded, verifies every SigV4 signature itself,
// with the temporary credentials that ssokeep actually served to the job.
//
// It is a separate Go module so that versitygw's large dependency tree never
// enters the product's go.mod. It cannot import ssokeep's internal packages,
// so it drives ssokeep through its binary and its HTTP endpoints only.
package survival

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"sort"
	"sync"
	"time"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"
)

// Creds is one set of temporary credentials as a container-credentials
// endpoint serves it.
type Creds struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// ErrExpiredToken is what the registry answers for a key past its expiry:
// S3's 400 ExpiredToken. versitygw's SigningKeyProvider API carries no
// expiry, so the provider is where it must be enforced.
var ErrExpiredToken = s3err.APIError{Code: "ExpiredToken", Description: "The provided token has expired.", HTTPStatusCode: 400}

// Registry is versitygw's IAM for the test: it knows exactly the credential
// sets that were served to the job (Add), and lets versitygw verify requests
// signed with them while they are unexpired. It implements auth.IAMService
// and auth.SigningKeyProvider; user management is not supported.
type Registry struct {
	now func() time.Time

	mu      sync.Mutex
	keys    map[string]*entry
	refused map[string]int // reason → count
	clashes int            // a key served again with another secret, token or expiry
}

type entry struct {
	c        Creds
	first    time.Time // when it was first served
	served   int       // times the set was served
	resolved int       // requests versitygw resolved a signing key for
}

var (
	_ auth.IAMService         = (*Registry)(nil)
	_ auth.SigningKeyProvider = (*Registry)(nil)
)

// NewRegistry returns an empty registry that reads the time from now.
func NewRegistry(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now, keys: map[string]*entry{}, refused: map[string]int{}}
}

// Add records a served set. Serving the same key again is normal (every
// SDK call may refetch); serving it with another secret, token or expiry is
// a clash, counted and not applied.
func (r *Registry) Add(c Creds) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.keys[c.AccessKeyID]; ok {
		if e.c.SecretAccessKey != c.SecretAccessKey || e.c.SessionToken != c.SessionToken || !e.c.Expires.Equal(c.Expires) {
			r.clashes++
			return
		}
		e.served++
		return
	}
	r.keys[c.AccessKeyID] = &entry{c: c, first: r.now(), served: 1}
}

// DeriveSigningKey gives versitygw the SigV4 signing key of a registered,
// unexpired key whose session token matches; versitygw then checks the
// signature itself.
func (r *Registry) DeriveSigningKey(access, sessionToken, date, region, service string) ([]byte, auth.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.keys[access]
	switch {
	case !ok:
		r.refused["unknown key"]++
		return nil, auth.Account{}, auth.ErrNoSuchUser
	case subtle.ConstantTimeCompare([]byte(sessionToken), []byte(e.c.SessionToken)) != 1:
		r.refused["wrong token"]++
		return nil, auth.Account{}, auth.ErrInvalidSessionToken
	case !r.now().Before(e.c.Expires):
		r.refused["expired"]++
		return nil, auth.Account{}, ErrExpiredToken
	}
	e.resolved++
	return SigningKey(e.c.SecretAccessKey, date, region, service), account(access), nil
}

// SigningKey is SigV4's derived key: HMAC-SHA256 chained over the date,
// region, service and "aws4_request", keyed first with "AWS4"+secret.
// (versitygw's own helper is internal to its module.)
func SigningKey(secret, date, region, service string) []byte {
	k := []byte("AWS4" + secret)
	for _, part := range []string{date, region, service, "aws4_request"} {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	return k
}

// account is how versitygw sees a session key: an admin, so that
// authorisation never gets in the way of what this test checks
// (authentication). It carries no secret.
func account(access string) auth.Account {
	return auth.Account{Access: access, Role: auth.RoleAdmin, IsSession: true}
}

// GetUserAccount answers lookups of registered keys, without their secret
// (a SigningKeyProvider never hands secrets to the gateway).
func (r *Registry) GetUserAccount(access string) (auth.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.keys[access]; !ok {
		return auth.Account{}, auth.ErrNoSuchUser
	}
	return account(access), nil
}

// ResolveAccounts returns the keys that are not registered.
func (r *Registry) ResolveAccounts(ids []string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	missing := []string{}
	for _, id := range ids {
		if _, ok := r.keys[id]; !ok {
			missing = append(missing, id)
		}
	}
	return missing, nil
}

// ListUserAccounts lists the registered keys, without secrets.
func (r *Registry) ListUserAccounts() ([]auth.Account, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]auth.Account, 0, len(r.keys))
	for k := range r.keys {
		out = append(out, account(k))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Access < out[j].Access })
	return out, nil
}

var errReadOnly = s3err.GetAPIError(s3err.ErrAdminMethodNotSupported)

// CreateAccount, UpdateUserAccount and DeleteUserAccount are refused: only
// the credentials endpoint's answers add keys.
func (r *Registry) CreateAccount(auth.Account) error                  { return errReadOnly }
func (r *Registry) UpdateUserAccount(string, auth.MutableProps) error { return errReadOnly }
func (r *Registry) DeleteUserAccount(string) error                    { return errReadOnly }
func (r *Registry) Shutdown() error                                   { return nil }

// Stats is what the registry saw.
type Stats struct {
	Keys     int            // distinct keys served
	Served   int            // sets served, counting repeats
	Accepted int            // distinct keys versitygw resolved at least one request for
	Resolved int            // requests resolved
	Refused  map[string]int // refusals by reason
	Clashes  int            // keys served again with another secret, token or expiry
}

// Stats returns the counters.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Keys: len(r.keys), Refused: map[string]int{}, Clashes: r.clashes}
	for _, e := range r.keys {
		s.Served += e.served
		s.Resolved += e.resolved
		if e.resolved > 0 {
			s.Accepted++
		}
	}
	for k, v := range r.refused {
		s.Refused[k] = v
	}
	return s
}

// Secrets returns every secret key and session token registered, for
// tests that check no output contains one.
func (r *Registry) Secrets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.keys {
		out = append(out, e.c.SecretAccessKey, e.c.SessionToken)
	}
	return out
}

// KeyInfo is what is known of one served key, without its secrets.
type KeyInfo struct {
	ID                   string
	Expires, FirstServed time.Time
	Served, Resolved     int
}

// Keys returns every registered key, in the order they were first served.
func (r *Registry) Keys() []KeyInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]KeyInfo, 0, len(r.keys))
	for k, e := range r.keys {
		out = append(out, KeyInfo{ID: k, Expires: e.c.Expires, FirstServed: e.first, Served: e.served, Resolved: e.resolved})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstServed.Before(out[j].FirstServed) })
	return out
}
