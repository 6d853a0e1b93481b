package serve

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestNewRefusesNonLoopbackAddresses(t *testing.T) {
	src := &fakeSource{}
	for _, addr := range []string{"0.0.0.0:0", ":8080", "10.1.2.3:9000", "[::1]:0", "127.0.0.2:0", "evil.example:80", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"} {
		_, err := New(Options{Addr: addr, Routes: map[string]Source{"/creds/dev": src}})
		if err == nil {
			t.Errorf("New(Addr=%q) accepted a non-loopback or malformed address", addr)
			continue
		}
		if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "127.0.0.1:PORT") {
			t.Errorf("New(Addr=%q) error should name the address and say what to use: %v", addr, err)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:0", "localhost:0"} {
		s, err := New(Options{Addr: addr, Routes: map[string]Source{"/creds/dev": src}})
		if err != nil {
			t.Errorf("New(Addr=%q): %v", addr, err)
			continue
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/creds/dev$`).MatchString(s.URL("/creds/dev")) {
			t.Errorf("Addr=%q: URL = %q, want http://127.0.0.1:PORT/creds/dev", addr, s.URL("/creds/dev"))
		}
		_ = s.Shutdown(t.Context())
	}
}

func TestNewChecksTokenAndRoutes(t *testing.T) {
	src := &fakeSource{}
	routes := map[string]Source{"/creds/dev": src}
	a, err := New(Options{Routes: routes})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := New(Options{Routes: routes})
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a.Token()) {
		t.Errorf("generated token %d chars, want 64 hex characters (256 bits)", len(a.Token()))
	}
	if a.Token() == b.Token() {
		t.Error("two servers got the same generated token")
	}
	given := strings.Repeat("k", MinTokenLength)
	if s, err := New(Options{Routes: routes, Token: given}); err != nil || s.Token() != given {
		t.Errorf("a given %d-char token should be used as is: %v", MinTokenLength, err)
	}
	for _, bad := range []string{"short", strings.Repeat("a", 40) + "\r\n", strings.Repeat("a", 40) + " b"} {
		if _, err := New(Options{Routes: routes, Token: bad}); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("token %q: want an error that does not echo the token, got %v", bad, err)
		}
	}
	for _, p := range []string{"", "/", "creds", HealthPath, MetricsPath, "/a b", "/x?y"} {
		if _, err := New(Options{Routes: map[string]Source{p: src}}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("route %q: want an error naming it, got %v", p, err)
		}
	}
	if _, err := New(Options{Routes: map[string]Source{"/creds/x": nil}}); err == nil {
		t.Error("a nil source was accepted")
	}
	if _, err := New(Options{}); err == nil {
		t.Error("no routes was accepted")
	}
}

func TestEnvPointsAtEndpoint(t *testing.T) {
	ts := newTestServer(t, nil)
	env := ts.Env("/creds/dev")
	want := []string{
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + ts.URL("/creds/dev"),
		"AWS_CONTAINER_AUTHORIZATION_TOKEN=" + ts.Token(),
	}
	if len(env) != 2 || env[0] != want[0] || env[1] != want[1] {
		t.Errorf("Env = %q, want %q", env, want)
	}
}

func TestCredentialsResponseShape(t *testing.T) {
	ts := newTestServer(t, nil)
	want, _ := ts.src.Current()
	r := ts.do(t, "GET", "/creds/dev", nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	wantFields := map[string]string{
		"AccessKeyId":     want.AccessKeyID,
		"SecretAccessKey": want.SecretAccessKey,
		"Token":           want.SessionToken,
		"Expiration":      "2026-03-14T10:26:53Z", // true expiry, UTC, never rounded up
		"AccountId":       "123456789012",
	}
	if len(got) != len(wantFields) {
		t.Errorf("response has fields %v, want exactly %v", keys(got), keys(wantFields))
	}
	for k, v := range wantFields {
		if s, ok := got[k].(string); !ok || s != v {
			t.Errorf("%s: got %v (a string? %v)", k, got[k] != nil, ok)
		}
	}

	// A set in another time zone is served in UTC; no AccountId when unknown.
	c := newCreds(t, time.Date(2026, 3, 14, 12, 0, 0, 0, time.FixedZone("CET", 3600)), "")
	ts.src.set(c, true)
	r = ts.do(t, "GET", "/creds/dev", nil)
	got = nil
	_ = json.Unmarshal([]byte(r.body), &got)
	if got["Expiration"] != "2026-03-14T11:00:00Z" {
		t.Errorf("Expiration %v, want 2026-03-14T11:00:00Z", got["Expiration"])
	}
	if _, has := got["AccountId"]; has {
		t.Error("AccountId present although the source does not know it")
	}
	if got["AccessKeyId"] != c.AccessKeyID {
		t.Error("the rotated set was not served: stale cache")
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRotationIsServedImmediately(t *testing.T) {
	ts := newTestServer(t, nil)
	first, _ := ts.src.Current()
	if r := ts.do(t, "GET", "/creds/dev", nil); !strings.Contains(r.body, first.AccessKeyID) {
		t.Fatal("first set not served")
	}
	// Same keys, later expiry (e.g. a re-fetch): the body must follow.
	later := first
	later.Expires = first.Expires.Add(30 * time.Minute)
	ts.src.set(later, true)
	if r := ts.do(t, "GET", "/creds/dev", nil); !strings.Contains(r.body, later.Expires.UTC().Format(time.RFC3339)) {
		t.Errorf("expiry change not served: %s", r.body[strings.Index(r.body, "Expiration"):])
	}
	next := newCreds(t, epoch.Add(2*time.Hour), "123456789012")
	ts.src.set(next, true)
	if r := ts.do(t, "GET", "/creds/dev", nil); !strings.Contains(r.body, next.AccessKeyID) || !strings.Contains(r.body, next.SessionToken) {
		t.Error("new set not served")
	}
}

func TestRefusals(t *testing.T) {
	ts := newTestServer(t, nil)
	port := strings.TrimPrefix(ts.URL(""), "http://127.0.0.1:")
	cases := []struct {
		name   string
		method string
		path   string
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"missing token", "GET", "/creds/dev", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "Unauthorized"},
		{"empty token", "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", "") }, 401, "Unauthorized"},
		{"wrong token", "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", randHex(t, 32)) }, 403, "AccessDenied"},
		{"token prefix", "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", ts.Token()[:63]) }, 403, "AccessDenied"},
		{"token plus suffix", "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", ts.Token()+"x") }, 403, "AccessDenied"},
		// SDKs send the token verbatim; a Bearer form is not what they send.
		{"bearer form on credentials", "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+ts.Token()) }, 403, "AccessDenied"},
		{"foreign host", "GET", "/creds/dev", func(r *http.Request) { r.Host = "evil.example:" + port }, 403, "AccessDenied"},
		{"foreign host on healthz", "GET", HealthPath, func(r *http.Request) { r.Host = "evil.example:" + port }, 403, "AccessDenied"},
		{"host without port", "GET", "/creds/dev", func(r *http.Request) { r.Host = "127.0.0.1" }, 403, "AccessDenied"},
		{"host with other port", "GET", "/creds/dev", func(r *http.Request) { r.Host = "127.0.0.1:1" + port }, 403, "AccessDenied"},
		{"POST", "POST", "/creds/dev", nil, 405, "MethodNotAllowed"},
		{"PUT", "PUT", "/creds/dev", nil, 405, "MethodNotAllowed"},
		{"HEAD", "HEAD", "/creds/dev", nil, 405, ""},
		{"unknown path", "GET", "/creds/prod", nil, 404, "NotFound"},
		{"unknown path without token", "GET", "/creds/prod", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "Unauthorized"},
		{"metrics without token", "GET", MetricsPath, func(r *http.Request) { r.Header.Del("Authorization") }, 401, "Unauthorized"},
		{"metrics wrong token", "GET", MetricsPath, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+randHex(t, 32)) }, 403, "AccessDenied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(t, c.method, c.path, c.mod)
			if r.status != c.status {
				t.Fatalf("status %d, want %d (%s)", r.status, c.status, r.body)
			}
			if c.status == 405 && r.header.Get("Allow") != "GET" {
				t.Errorf("405 without Allow: GET")
			}
			if c.method == "HEAD" {
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q: the Go SDK parses {code,message} only for exactly application/json", ct)
			}
			var e struct{ Code, Message string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Code != c.code || e.Message == "" {
				t.Errorf("body %q: want {\"code\":%q,\"message\":...}", r.body, c.code)
			}
			for _, s := range ts.secrets() {
				if strings.Contains(r.body, s) {
					t.Error("a refusal carries a secret")
				}
			}
		})
	}
	// Both spellings of this endpoint's own host are fine.
	if r := ts.do(t, "GET", "/creds/dev", func(r *http.Request) { r.Host = "localhost:" + port }); r.status != 200 {
		t.Errorf("Host localhost:PORT refused: %d", r.status)
	}
}

func TestUnavailableAnswers503(t *testing.T) {
	ts := newTestServer(t, nil)
	health := func() int {
		return ts.do(t, "GET", HealthPath, func(r *http.Request) { r.Header.Del("Authorization") }).status
	}
	creds := func() reply { return ts.do(t, "GET", "/creds/dev", nil) }
	if s := health(); s != 200 {
		t.Fatalf("healthz %d with a valid set", s)
	}

	ts.src.set(aws.Credentials{}, false)
	r := creds()
	if r.status != 503 || !strings.Contains(r.body, `"code":"CredentialsUnavailable"`) || !strings.Contains(r.body, "ssokeep status") {
		t.Errorf("no set: %d %s, want 503 CredentialsUnavailable saying what to run", r.status, r.body)
	}
	if s := health(); s != 503 {
		t.Errorf("healthz %d with no set, want 503", s)
	}

	// A set that the clock says has expired is never served, even if the
	// source still offers it.
	c := newCreds(t, epoch.Add(time.Hour), "")
	ts.src.set(c, true)
	if r := creds(); r.status != 200 {
		t.Fatalf("valid set: %d", r.status)
	}
	ts.clock.Set(c.Expires)
	if r := creds(); r.status != 503 || strings.Contains(r.body, c.AccessKeyID) {
		t.Errorf("expired set: %d, want 503 without the keys", r.status)
	}
	if s := health(); s != 503 {
		t.Errorf("healthz %d with only an expired set, want 503", s)
	}
	ts.clock.Set(c.Expires.Add(-time.Second))
	if r := creds(); r.status != 200 {
		t.Errorf("one second before expiry: %d, want 200", r.status)
	}

	// Credentials without an expiry cannot be served: every SDK needs it.
	c.CanExpire = false
	ts.src.set(c, true)
	if r := creds(); r.status != 503 {
		t.Errorf("set without expiry: %d, want 503", r.status)
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "answering 503") || !strings.Contains(logs, "serving credentials again") {
		t.Errorf("the 503 transitions were not logged:\n%s", logs)
	}
}

func TestHealthzNeedsEveryRoute(t *testing.T) {
	prod := &fakeSource{status: Status{Profile: "prod"}}
	ts := newTestServer(t, map[string]Source{"/creds/prod": prod})
	noAuth := func(r *http.Request) { r.Header.Del("Authorization") }
	if r := ts.do(t, "GET", HealthPath, noAuth); r.status != 503 || r.body != `{"status":"unavailable"}` {
		t.Errorf("one of two routes without a set: %d %s, want 503", r.status, r.body)
	}
	prod.set(newCreds(t, epoch.Add(time.Hour), ""), true)
	if r := ts.do(t, "GET", HealthPath, noAuth); r.status != 200 || r.body != `{"status":"ok"}` {
		t.Errorf("both routes with a set: %d %s, want 200", r.status, r.body)
	}
	if r := ts.do(t, "POST", HealthPath, noAuth); r.status != 405 {
		t.Errorf("POST /healthz: %d, want 405", r.status)
	}
}

func TestMetrics(t *testing.T) {
	prod := &fakeSource{status: Status{Profile: `prod"x`}}
	ts := newTestServer(t, map[string]Source{"/creds/prod": prod, "/creds/prod-again": prod})
	ts.src.mu.Lock()
	ts.src.status = Status{
		Profile: "dev", UpstreamCalls: 7, UpstreamFailures: 2,
		CredentialsExpire: epoch.Add(time.Hour), TokenExpires: epoch.Add(90 * time.Second),
		SessionEnd: epoch.Add(8 * time.Hour), LoginPending: true,
	}
	ts.src.mu.Unlock()
	for i := 0; i < 3; i++ {
		ts.do(t, "GET", "/creds/dev", nil)
	}
	ts.do(t, "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", "nope") })
	ts.do(t, "GET", "/creds/prod", nil) // no set: 503
	ts.do(t, "GET", "/nowhere", nil)

	r := ts.do(t, "GET", MetricsPath, func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+ts.Token()) })
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics with Bearer token: %d %q", r.status, r.header.Get("Content-Type"))
	}
	for _, line := range []string{
		`ssokeep_requests_total{route="/creds/dev",code="200"} 3`,
		`ssokeep_requests_total{route="/creds/dev",code="403"} 1`,
		`ssokeep_requests_total{route="/creds/prod",code="503"} 1`,
		`ssokeep_requests_total{route="unmatched",code="404"} 1`,
		`# TYPE ssokeep_requests_total counter`,
		`ssokeep_upstream_calls_total{profile="dev"} 7`,
		`ssokeep_upstream_failures_total{profile="dev"} 2`,
		`ssokeep_upstream_calls_total{profile="prod\"x"} 0`,
		`ssokeep_credentials_seconds_left{profile="dev"} 3600`,
		`ssokeep_token_seconds_left{profile="dev"} 90`,
		`ssokeep_session_seconds_left{profile="dev"} 28800`,
		`ssokeep_login_pending{profile="dev"} 1`,
		`ssokeep_login_pending{profile="prod\"x"} 0`,
		`# TYPE ssokeep_credentials_seconds_left gauge`,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(r.body, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	// Unknown times are absent, not 0 ("expired"); a profile on two routes
	// is one series.
	if strings.Contains(r.body, `ssokeep_token_seconds_left{profile="prod\"x"}`) {
		t.Error("an unknown token expiry was exported")
	}
	if n := strings.Count(r.body, `ssokeep_login_pending{profile="prod\"x"}`); n != 1 {
		t.Errorf("profile served on two routes exported %d times, want 1", n)
	}
	// The clock moves: seconds left follow it.
	ts.clock.Set(epoch.Add(30 * time.Minute))
	r = ts.do(t, "GET", MetricsPath, nil)
	if !strings.Contains(r.body, `ssokeep_credentials_seconds_left{profile="dev"} 1800`) {
		t.Error("seconds left do not follow the clock")
	}
	for _, s := range ts.secrets() {
		if strings.Contains(r.body, s) {
			t.Error("/metrics carries a secret")
		}
	}
}

func TestNoSecretInLogs(t *testing.T) {
	ts := newTestServer(t, nil)
	first := ts.secrets()
	wrong := randHex(t, 32)
	ts.do(t, "GET", "/creds/dev", nil)
	ts.do(t, "GET", "/creds/dev", func(r *http.Request) { r.Header.Set("Authorization", wrong) })
	ts.do(t, "GET", "/creds/dev", func(r *http.Request) { r.Header.Del("Authorization") })
	ts.do(t, "POST", "/creds/dev", nil)
	ts.do(t, "GET", "/creds/dev", func(r *http.Request) { r.Host = "evil.example" })
	ts.src.set(aws.Credentials{}, false)
	ts.do(t, "GET", "/creds/dev", nil)
	ts.src.set(newCreds(t, epoch.Add(time.Hour), ""), true)
	ts.do(t, "GET", "/creds/dev", nil)
	ts.do(t, "GET", MetricsPath, nil)
	_ = ts.Shutdown(t.Context())

	logs := ts.logs.String()
	// The log is real: refusals at debug, transitions, start and stop.
	for _, want := range []string{"listening", "refused request", "wrong token", "answering 503", "serving credentials again", "stopped"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q; captured:\n%s", want, logs)
		}
	}
	for _, s := range append(append(first, ts.secrets()...), wrong) {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%d chars) is in the log", len(s))
		}
	}
}
