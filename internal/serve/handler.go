package serve

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/aws/aws-sdk-go-v2/aws"
)

type routeKind int

const (
	kindNone routeKind = iota
	kindCreds
	kindHealth
	kindMetrics
)

// Status codes the endpoint answers with; index into route.count.
var codes = [...]int{200, 401, 403, 404, 405, 503}

const (
	c200 = iota
	c401
	c403
	c404
	c405
	c503
	nCodes
)

type route struct {
	path  string
	kind  routeKind
	count [nCodes]*metrics.Counter

	// Credential routes only.
	src         Source
	cache       atomic.Pointer[rendered]
	unavailable []byte      // pre-rendered 503 body
	failing     atomic.Bool // last answer was 503: log only the transitions
}

// rendered is a credential set with its JSON body, rendered once per set so
// the hot path only compares and copies.
type rendered struct {
	creds aws.Credentials
	body  []byte
}

// Header values shared by every response; each slice has cap == len so a
// later Header.Add can never write into them. Responses carry only
// Content-Type: net/http adds Content-Length for these small bodies itself,
// without the header-map work a handler-set one costs.
var (
	hdrJSON = []string{"application/json"}
	hdrGet  = []string{"GET"}
	hdrText = []string{"text/plain; version=0.0.4; charset=utf-8"}
)

// Error bodies in the {"code","message"} shape the Go SDK parses (it does so
// only when Content-Type is exactly application/json).
var (
	bodyNoToken   = errorBody("Unauthorized", "missing Authorization header: set AWS_CONTAINER_AUTHORIZATION_TOKEN to the token ssokeep gave this process")
	bodyBadToken  = errorBody("AccessDenied", "wrong Authorization token for this ssokeep endpoint")
	bodyBadHost   = errorBody("AccessDenied", "the Host header must be 127.0.0.1:PORT or localhost:PORT of this ssokeep endpoint")
	bodyNotFound  = errorBody("NotFound", "no credentials at this path on this ssokeep endpoint; check AWS_CONTAINER_CREDENTIALS_FULL_URI")
	bodyNotAllow  = errorBody("MethodNotAllowed", "only GET is supported")
	bodyHealthOK  = []byte(`{"status":"ok"}`)
	bodyHealthBad = []byte(`{"status":"unavailable"}`)
)

func errorBody(code, message string) []byte {
	b, _ := json.Marshal(struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}{code, message})
	return b
}

func (s *Server) newRoute(path string, kind routeKind) *route {
	r := &route{path: path, kind: kind}
	for i, c := range codes {
		r.count[i] = s.metrics.NewCounter(`ssokeep_requests_total{route="` + escapeLabel(path) + `",code="` + strconv.Itoa(c) + `"}`)
	}
	return r
}

// ServeHTTP is the hot path: no per-request allocation of our own beyond
// what net/http does, no lock, no logging above debug.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt := s.routes[r.URL.Path]
	if rt == nil {
		rt = s.unmatched
	}
	// The Host check comes first: a browser page that rebinds its own DNS
	// name to 127.0.0.1 sends its own name here and learns nothing.
	if r.Host == "" || (r.Host != s.hostIP && r.Host != s.hostLocal) {
		s.refuse(w, r, rt, c403, bodyBadHost, "foreign Host header")
		return
	}
	if rt.kind == kindHealth {
		if r.Method != http.MethodGet {
			s.refuse(w, r, rt, c405, bodyNotAllow, "method not allowed")
			return
		}
		s.health(w, rt)
		return
	}
	// Authenticate before routing, so unknown callers cannot probe which
	// profiles exist.
	auth, present := r.Header["Authorization"]
	if !present || len(auth) == 0 || auth[0] == "" {
		s.refuse(w, r, rt, c401, bodyNoToken, "missing token")
		return
	}
	if !s.tokenOK(auth[0], rt.kind == kindMetrics) {
		s.refuse(w, r, rt, c403, bodyBadToken, "wrong token")
		return
	}
	if rt.kind == kindNone {
		s.refuse(w, r, rt, c404, bodyNotFound, "no such route")
		return
	}
	if r.Method != http.MethodGet {
		s.refuse(w, r, rt, c405, bodyNotAllow, "method not allowed")
		return
	}
	if rt.kind == kindMetrics {
		rt.count[c200].Inc()
		w.Header()["Content-Type"] = hdrText
		s.metrics.WritePrometheus(w)
		return
	}

	c, ok := rt.current(s.now())
	if !ok {
		rt.count[c503].Inc()
		if rt.failing.CompareAndSwap(false, true) {
			s.log.Warn("serve: no valid credentials to hand out; answering 503 until the keeper has a set", "route", rt.path, "profile", rt.src.Status().Profile)
		}
		writeJSON(w, http.StatusServiceUnavailable, rt.unavailable)
		return
	}
	if rt.failing.CompareAndSwap(true, false) {
		s.log.Info("serve: serving credentials again", "route", rt.path, "expires", c.creds.Expires.UTC())
	}
	rt.count[c200].Inc()
	w.Header()["Content-Type"] = hdrJSON
	_, _ = w.Write(c.body)
}

// tokenOK compares in constant time. SDKs send the token verbatim; /metrics
// also takes "Bearer TOKEN", which is what Prometheus' authorization config
// sends.
func (s *Server) tokenOK(got string, allowBearer bool) bool {
	if allowBearer && len(got) > 7 && strings.EqualFold(got[:7], "Bearer ") {
		got = got[7:]
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// current returns the rendered body for the source's current set, rendering
// it only when the set changed. It refuses sets that cannot be served: no
// set, no expiry (every SDK needs Expiration), or already expired.
func (rt *route) current(now time.Time) (*rendered, bool) {
	creds, ok := rt.src.Current()
	if !ok || !creds.CanExpire || creds.AccessKeyID == "" || creds.SecretAccessKey == "" || creds.SessionToken == "" || !now.Before(creds.Expires) {
		return nil, false
	}
	if c := rt.cache.Load(); c != nil && sameCreds(&c.creds, &creds) {
		return c, true
	}
	c := render(creds)
	rt.cache.Store(c)
	return c, true
}

// sameCreds is cheap when the keeper hands back the same strings: Go's
// string comparison returns early on identical pointers.
func sameCreds(a, b *aws.Credentials) bool {
	return a.Expires.Equal(b.Expires) && a.AccessKeyID == b.AccessKeyID &&
		a.SessionToken == b.SessionToken && a.SecretAccessKey == b.SecretAccessKey &&
		a.AccountID == b.AccountID
}

// credentialsJSON is the container-provider response. Expiration is the true
// expiry in UTC, truncated to the second (never later than the real one).
type credentialsJSON struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
	AccountID       string `json:"AccountId,omitempty"`
}

func render(c aws.Credentials) *rendered {
	body, err := json.Marshal(credentialsJSON{
		AccessKeyID:     c.AccessKeyID,
		SecretAccessKey: c.SecretAccessKey,
		Token:           c.SessionToken,
		Expiration:      c.Expires.UTC().Format(time.RFC3339),
		AccountID:       c.AccountID,
	})
	if err != nil { // strings and a time cannot fail to marshal
		panic("serve: rendering credentials: " + err.Error())
	}
	return &rendered{creds: c, body: body}
}

func (s *Server) health(w http.ResponseWriter, rt *route) {
	now := s.now()
	for _, cr := range s.credRoute {
		if _, ok := cr.current(now); !ok {
			rt.count[c503].Inc()
			writeJSON(w, http.StatusServiceUnavailable, bodyHealthBad)
			return
		}
	}
	rt.count[c200].Inc()
	writeJSON(w, http.StatusOK, bodyHealthOK)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, rt *route, code int, body []byte, why string) {
	rt.count[code].Inc()
	if code == c405 {
		w.Header()["Allow"] = hdrGet
	}
	// Debug only: a misbehaving client must not flood the log. The
	// Authorization value is never logged.
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.Debug("serve: refused request", "route", rt.path, "status", codes[code], "reason", why, "method", r.Method, "remote", r.RemoteAddr)
	}
	writeJSON(w, codes[code], body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
