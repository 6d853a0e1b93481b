// Package serve is the container-credentials endpoint: the HTTP server that
// boto3, the Go/JS/Java SDKs and the AWS CLI reach through
// AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN.
//
// It answers only from memory (Source.Current), so a job's 64 concurrent
// workers never wait on the network or on a human; it listens on 127.0.0.1
// only, checks a random 256-bit token in constant time and refuses foreign
// Host headers (DNS rebinding from a browser).
package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"github.com/aws/aws-sdk-go-v2/aws"
)

// Source is one profile's credentials as the keeper holds them. Current must
// answer from memory, never block on the network or a human; ok=false when no
// valid set exists (then the endpoint answers 503).
type Source interface {
	Current() (creds aws.Credentials, ok bool)
	Status() Status
}

// Status feeds /metrics and `ssokeep status` (no secrets).
type Status struct {
	Profile                         string
	UpstreamCalls, UpstreamFailures uint64
	CredentialsExpire, TokenExpires time.Time // zero when unknown
	SessionEnd                      time.Time // forecast; zero when unknown
	LoginPending                    bool
}

// Options configures a Server.
type Options struct {
	Addr   string            // default "127.0.0.1:0"; anything but 127.0.0.1/localhost is refused
	Token  string            // the Authorization value; generated (32 random bytes, hex) when ""
	Routes map[string]Source // URL path → source, e.g. "/creds/dev"
	Now    func() time.Time  // default time.Now
	Logger *slog.Logger      // default: discard
}

// Reserved paths that are not credential routes.
const (
	HealthPath  = "/healthz"
	MetricsPath = "/metrics"
)

// MinTokenLength is the shortest Options.Token accepted: 32 characters, the
// length of 128 random bits in hex; the generated token is 64 (256 bits).
const MinTokenLength = 32

// Server is one endpoint with one token and any number of routes.
type Server struct {
	bindAddr string
	token    string
	now      func() time.Time
	log      *slog.Logger

	routes    map[string]*route // credential routes plus /healthz and /metrics
	credRoute []*route          // credential routes, sorted by path
	unmatched *route            // counts requests to unknown paths
	metrics   *metrics.Set

	// Set once by Start, before the first request is served.
	ln        net.Listener
	srv       *http.Server
	base      string // "http://127.0.0.1:PORT"
	hostIP    string // "127.0.0.1:PORT"
	hostLocal string // "localhost:PORT"

	mu      sync.Mutex
	started bool
	serveCh chan error
}

// New checks the options and builds a Server; it does not listen yet.
func New(o Options) (*Server, error) {
	bind, err := loopbackAddr(o.Addr)
	if err != nil {
		return nil, err
	}
	token := o.Token
	if token == "" {
		if token, err = NewToken(); err != nil {
			return nil, err
		}
	} else if err := checkToken(token); err != nil {
		return nil, err
	}
	if len(o.Routes) == 0 {
		return nil, errors.New("serve: no credential routes: give at least one path → profile source")
	}
	s := &Server{
		bindAddr: bind,
		token:    token,
		now:      o.Now,
		log:      o.Logger,
		routes:   make(map[string]*route, len(o.Routes)+2),
		metrics:  metrics.NewSet(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for path, src := range o.Routes {
		if err := checkRoutePath(path); err != nil {
			return nil, err
		}
		if src == nil {
			return nil, fmt.Errorf("serve: route %q has no credentials source", path)
		}
		r := s.newRoute(path, kindCreds)
		r.src = src
		r.unavailable = errorBody("CredentialsUnavailable",
			"ssokeep has no valid credentials for "+path+" right now; run `ssokeep status` to see why")
		s.routes[path] = r
		s.credRoute = append(s.credRoute, r)
	}
	sort.Slice(s.credRoute, func(i, j int) bool { return s.credRoute[i].path < s.credRoute[j].path })
	s.routes[HealthPath] = s.newRoute(HealthPath, kindHealth)
	s.routes[MetricsPath] = s.newRoute(MetricsPath, kindMetrics)
	s.unmatched = s.newRoute("unmatched", kindNone)
	s.registerSourceMetrics()
	return s, nil
}

// NewToken returns 32 random bytes in hex: the per-job bearer secret.
func NewToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("serve: generating the endpoint token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// checkToken refuses tokens that are guessable or that cannot travel in an
// HTTP header / environment variable unchanged (botocore rejects CR/LF).
func checkToken(t string) error {
	if len(t) < MinTokenLength {
		return fmt.Errorf("serve: the endpoint token is %d characters; use at least %d random characters (or leave it empty to generate one)", len(t), MinTokenLength)
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c <= ' ' || c > '~' {
			return fmt.Errorf("serve: the endpoint token has a space, control or non-ASCII character at byte %d; use printable ASCII only (or leave it empty to generate one)", i)
		}
	}
	return nil
}

// loopbackAddr turns Options.Addr into the address to bind. Only 127.0.0.1
// (or "localhost", bound as 127.0.0.1) is allowed: botocore ≤ 1.31 accepts
// exactly 127.0.0.1 and localhost, and the endpoint is for this machine only.
func loopbackAddr(addr string) (string, error) {
	if addr == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("serve: address %q: %v; use 127.0.0.1:PORT", addr, err)
	}
	if host != "127.0.0.1" && host != "localhost" {
		return "", fmt.Errorf("serve: address %q is not 127.0.0.1: the endpoint hands out credentials and must not be reachable from other machines (and old botocore accepts only 127.0.0.1/localhost); use 127.0.0.1:PORT", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("serve: address %q: port %q is not a number from 0 to 65535; use 127.0.0.1:PORT (0 picks a free port)", addr, port)
	}
	return net.JoinHostPort("127.0.0.1", port), nil
}

func checkRoutePath(p string) error {
	switch {
	case p == HealthPath || p == MetricsPath:
		return fmt.Errorf("serve: route %q is reserved; pick another path such as /creds/PROFILE", p)
	case !strings.HasPrefix(p, "/") || p == "/":
		return fmt.Errorf("serve: route %q must be a path below / such as /creds/PROFILE", p)
	case strings.ContainsAny(p, "?#% \t\r\n\"\\"):
		return fmt.Errorf("serve: route %q has a character that does not survive a URL unchanged; use letters, digits, '-', '_', '.', '/'", p)
	}
	return nil
}

// Start binds the listener and serves in the background; it returns once the
// port is bound, so URL and Env are valid as soon as it returns.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("serve: Start called twice")
	}
	ln, err := net.Listen("tcp4", s.bindAddr)
	if err != nil {
		return fmt.Errorf("serve: listening on %s: %w (is the port in use? 127.0.0.1:0 picks a free one)", s.bindAddr, err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	s.ln = ln
	s.hostIP = "127.0.0.1:" + port
	s.hostLocal = "localhost:" + port
	s.base = "http://" + s.hostIP
	s.srv = &http.Server{
		Handler: s,
		// SDK clients send tiny requests and give up after 1–2 s; these
		// bound what a stuck or hostile local client can hold (half-sent
		// headers, idle keep-alive connections). No ReadTimeout or
		// WriteTimeout: GETs have no body and an answer (~1.5 KB) fits in
		// the socket buffer, while each would arm one more timer per request
		// (~0.3 µs, ~1% of a request's CPU).
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.started = true
	s.serveCh = make(chan error, 1)
	go func() { s.serveCh <- s.srv.Serve(ln) }()
	s.log.Info("serve: credentials endpoint listening", "url", s.base, "routes", len(s.credRoute))
	return nil
}

// URL is the endpoint URL for path, e.g. "http://127.0.0.1:PORT/creds/dev".
func (s *Server) URL(path string) string { return s.base + path }

// Token is the value clients must send in Authorization.
func (s *Server) Token() string { return s.token }

// Env is what a child process needs to use route path through the SDKs'
// container provider. The caller clears the variables that rank above it.
func (s *Server) Env(path string) []string {
	return []string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + s.URL(path),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + s.token,
	}
}

// Shutdown stops accepting, waits for in-flight answers (bounded by ctx) and
// closes the listener. Safe to call when Start was never called.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, started := s.srv, s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	err := srv.Shutdown(ctx)
	if serr := <-s.serveCh; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	s.serveCh <- http.ErrServerClosed // a second Shutdown must not block
	s.log.Info("serve: credentials endpoint stopped", "url", s.base)
	return err
}

// Handler is the endpoint's handler, for tests and benchmarks. It checks the
// Host header against the bound port, so use it after Start.
func (s *Server) Handler() http.Handler { return s }
