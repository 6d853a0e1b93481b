package s3api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ssokeep/ssokeep/internal/sigv4"
)

// keyStore is the tests' stand-in for the emulator's credential registry:
// session credentials with a token and an expiry.
type keyStore struct {
	mu sync.Mutex
	m  map[string]sigv4.Secret
}

func (k *keyStore) LookupKey(id string) (sigv4.Secret, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s, ok := k.m[id]
	return s, ok
}

// clock starts at the real time (the SDKs sign with time.Now) and moves
// only when a test advances it.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// logSink collects the handler's log records (text) so tests can check
// which payload modes clients used and that no secret was logged.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
	// modes[op] = payload modes seen
	modes map[string][]string
}

func (l *logSink) handler() slog.Handler {
	return &sinkHandler{sink: l, inner: slog.NewTextHandler(&lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelDebug})}
}

type lockedWriter struct{ l *logSink }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

type sinkHandler struct {
	sink  *logSink
	inner slog.Handler
}

func (h *sinkHandler) Enabled(ctx context.Context, l slog.Level) bool { return true }
func (h *sinkHandler) WithAttrs(a []slog.Attr) slog.Handler           { return h }
func (h *sinkHandler) WithGroup(string) slog.Handler                  { return h }
func (h *sinkHandler) Handle(ctx context.Context, r slog.Record) error {
	var op, mode string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "op":
			op = a.Value.String()
		case "payload":
			mode = a.Value.String()
		}
		return true
	})
	if op != "" && mode != "" {
		h.sink.mu.Lock()
		if h.sink.modes == nil {
			h.sink.modes = map[string][]string{}
		}
		if !slices.Contains(h.sink.modes[op], mode) {
			h.sink.modes[op] = append(h.sink.modes[op], mode)
		}
		h.sink.mu.Unlock()
	}
	return h.inner.Handle(ctx, r)
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logSink) modesFor(op string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.modes[op])
}

func (l *logSink) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ops []string
	for op, m := range l.modes {
		ops = append(ops, op+"="+strings.Join(m, "|"))
	}
	slices.Sort(ops)
	return strings.Join(ops, " ")
}

type creds struct{ id, secret, token string }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// env is one emulated S3 endpoint on 127.0.0.1 with one session key.
type env struct {
	srv   *httptest.Server
	keys  *keyStore
	clock *clock
	logs  *logSink
	cred  creds
}

func newEnv(t *testing.T, useTLS bool) *env {
	t.Helper()
	e := &env{keys: &keyStore{m: map[string]sigv4.Secret{}}, clock: &clock{}, logs: &logSink{}}
	e.cred = creds{id: "ASIA" + strings.ToUpper(randomHex(8)), secret: "s3cret/" + randomHex(16), token: "tok+" + randomHex(40) + "/="}
	e.keys.m[e.cred.id] = sigv4.Secret{SecretAccessKey: e.cred.secret, SessionToken: e.cred.token, Expires: e.clock.Now().Add(time.Hour)}
	v := &sigv4.Verifier{Keys: e.keys, Now: e.clock.Now}
	h := New(v, Options{Now: e.clock.Now, Logger: slog.New(e.logs.handler())})
	if useTLS {
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		e.srv.Close()
		e.assertNoSecretsLogged(t)
	})
	return e
}

func (e *env) assertNoSecretsLogged(t *testing.T) {
	t.Helper()
	logs := e.logs.text()
	if logs == "" {
		t.Error("the handler logged nothing; the secret check proves nothing")
	}
	for _, s := range []string{e.cred.secret, e.cred.token, strings.TrimSuffix(e.cred.token, "/=")} {
		if strings.Contains(logs, s) {
			t.Errorf("a secret appears in the handler's log")
		}
	}
}

func (e *env) client(c creds) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.srv.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(c.id, c.secret, c.token),
		HTTPClient:       e.srv.Client(),
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig sets (s3.New alone leaves them
		// unset and then sends and validates no checksums at all).
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("succeeded, want %s", code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("got %v (code %q), want %s", err, got, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
