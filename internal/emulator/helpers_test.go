package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/smithy-go"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/syncbuf"
)

// newClock is the injected clock of Go-only tests: time moves only when a
// test says so.
func newClock() *clock.Fake { return clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) }

// harness is an emulator on the fake clock, with SDK clients aimed at it,
// every event and log line recorded, and every secret it saw remembered so
// tests can assert none leaked.
type harness struct {
	t      testing.TB
	s      *Server
	clock  *clock.Fake
	oidc   *ssooidc.Client
	portal *sso.Client
	logs   *syncbuf.Buffer

	mu      sync.Mutex
	events  []Event
	secrets []string
}

func newHarness(t testing.TB, o Options) *harness {
	t.Helper()
	return newHarnessWithClock(t, o, newClock())
}

func newHarnessWithClock(t testing.TB, o Options, clock *clock.Fake) *harness {
	t.Helper()
	h := &harness{t: t, clock: clock, logs: &syncbuf.Buffer{}}
	if o.Now == nil {
		o.Now = h.clock.Now
	}
	o.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.OnEvent = func(e Event) {
		h.mu.Lock()
		h.events = append(h.events, e)
		h.mu.Unlock()
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		h.assertNoSecretsLeaked()
	})
	h.s = s
	cfg := h.awsConfig()
	h.oidc = ssooidc.NewFromConfig(cfg, func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(s.URL()) })
	h.portal = sso.NewFromConfig(cfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(s.URL()) })
	return h
}

// awsConfig has no credentials (OIDC and the portal are unsigned) and no
// retries, so every error reaches the test as the server sent it.
func (h *harness) awsConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Retryer: func() aws.Retryer { return aws.NopRetryer{} }}
}

// remember records a secret the test received, to check it never appears
// in logs or events.
func (h *harness) remember(secrets ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range secrets {
		if s != "" {
			h.secrets = append(h.secrets, s)
		}
	}
}

// allSecrets is every secret the emulator holds or handed out: the ones
// the test remembered plus client secrets, codes, tokens and keys from the
// server's own state (some were issued to other processes).
func (h *harness) allSecrets() []string {
	h.mu.Lock()
	out := append([]string(nil), h.secrets...)
	h.mu.Unlock()
	s := h.s
	s.mu.Lock()
	for _, c := range s.clients {
		out = append(out, c.secret)
	}
	for k := range s.devices {
		out = append(out, k)
	}
	for k := range s.codes {
		out = append(out, k)
	}
	for k := range s.access {
		out = append(out, k)
	}
	for k := range s.refresh {
		out = append(out, k)
	}
	s.mu.Unlock()
	s.reg.mu.RLock()
	for _, c := range s.reg.keys {
		out = append(out, c.secret, c.sessionToken)
	}
	s.reg.mu.RUnlock()
	var nonEmpty []string
	for _, v := range out {
		if v != "" {
			nonEmpty = append(nonEmpty, v)
		}
	}
	return nonEmpty
}

func (h *harness) assertNoSecretsLeaked() {
	secrets := h.allSecrets()
	h.mu.Lock()
	defer h.mu.Unlock()
	logs := h.logs.String()
	evs := fmt.Sprintf("%+v", h.events)
	for _, sec := range secrets {
		if strings.Contains(logs, sec) {
			h.t.Errorf("a secret (%d chars) appears in the log", len(sec))
		}
		if strings.Contains(evs, sec) {
			h.t.Errorf("a secret (%d chars) appears in an event", len(sec))
		}
	}
}

func (h *harness) eventsOf(kind EventKind) []Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Event
	for _, e := range h.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

type registration struct{ id, secret string }

func (h *harness) register(scopes ...string) registration {
	h.t.Helper()
	out, err := h.oidc.RegisterClient(context.Background(), &ssooidc.RegisterClientInput{
		ClientName: aws.String("test-client"), ClientType: aws.String("public"), Scopes: scopes})
	if err != nil {
		h.t.Fatalf("RegisterClient: %v", err)
	}
	h.remember(*out.ClientSecret)
	return registration{*out.ClientId, *out.ClientSecret}
}

// deviceLogin runs the device flow through approval and returns the tokens.
func (h *harness) deviceLogin(reg registration) *ssooidc.CreateTokenOutput {
	h.t.Helper()
	ctx := context.Background()
	da, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
	if err != nil {
		h.t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	h.remember(*da.DeviceCode)
	if err := h.s.Approve(*da.UserCode); err != nil {
		h.t.Fatalf("Approve: %v", err)
	}
	tok, err := h.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
		GrantType: aws.String(grantDeviceCode), DeviceCode: da.DeviceCode})
	if err != nil {
		h.t.Fatalf("CreateToken: %v", err)
	}
	h.remember(aws.ToString(tok.AccessToken), aws.ToString(tok.RefreshToken))
	return tok
}

func (h *harness) refresh(reg registration, refreshToken string) (*ssooidc.CreateTokenOutput, error) {
	out, err := h.oidc.CreateToken(context.Background(), &ssooidc.CreateTokenInput{ClientId: &reg.id,
		ClientSecret: &reg.secret, GrantType: aws.String("refresh_token"), RefreshToken: &refreshToken})
	if err == nil {
		h.remember(aws.ToString(out.AccessToken), aws.ToString(out.RefreshToken))
	}
	return out, err
}

func (h *harness) roleCredentials(accessToken string) (*sso.GetRoleCredentialsOutput, error) {
	out, err := h.portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{
		AccessToken: &accessToken, AccountId: aws.String(DefaultAccountID), RoleName: aws.String(DefaultPermissionSet)})
	if err == nil {
		h.remember(*out.RoleCredentials.SecretAccessKey, *out.RoleCredentials.SessionToken)
	}
	return out, err
}

// errCode is the AWS error code of err, or "" when it has none.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s (%d), got success", code, status)
	}
	if got := errCode(err); got != code {
		t.Fatalf("want error code %s, got %q (%v)", code, got, err)
	}
	if status != 0 {
		if got := httpStatus(err); got != status {
			t.Fatalf("%s: want HTTP %d, got %d", code, status, got)
		}
	}
}

// noRedirect is an HTTP client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// farSkew turns the clock-skew check off for tests whose injected clock is
// far from the wall clock the SDKs sign with.
const farSkew = 100 * 365 * 24 * time.Hour
