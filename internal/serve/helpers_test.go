package serve

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/syncbuf"
)

// fakeSource is a keeper stand-in: whatever the test put there, from memory.
type fakeSource struct {
	mu     sync.Mutex
	creds  aws.Credentials
	ok     bool
	status Status
}

func (f *fakeSource) Current() (aws.Credentials, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creds, f.ok
}

func (f *fakeSource) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status
}

func (f *fakeSource) set(c aws.Credentials, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds, f.ok = c, ok
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newCreds makes a set shaped like role credentials, with fresh random
// secrets so that a leak check cannot pass by accident.
func newCreds(t testing.TB, expires time.Time, account string) aws.Credentials {
	tok := make([]byte, 600)
	if _, err := rand.Read(tok); err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{
		AccessKeyID:     "ASIA" + strings.ToUpper(randHex(t, 8)),
		SecretAccessKey: base64.StdEncoding.EncodeToString([]byte(randHex(t, 15))),
		SessionToken:    "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(tok),
		Source:          "fake",
		CanExpire:       true,
		Expires:         expires,
		AccountID:       account,
	}
}

// testServer is a started Server with a fake source on /creds/dev, a fake
// clock and a debug-level log captured in memory.
type testServer struct {
	*Server
	src   *fakeSource
	clock *clock.Fake
	logs  *syncbuf.Buffer
}

var epoch = time.Date(2026, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func newTestServer(t testing.TB, extra map[string]Source) *testServer {
	t.Helper()
	clk := clock.NewFake(epoch)
	src := &fakeSource{status: Status{Profile: "dev"}}
	src.set(newCreds(t, epoch.Add(time.Hour), "123456789012"), true)
	routes := map[string]Source{"/creds/dev": src}
	for p, s := range extra {
		routes[p] = s
	}
	logs := &syncbuf.Buffer{}
	s, err := New(Options{
		Routes: routes,
		Now:    clk.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &testServer{Server: s, src: src, clock: clk, logs: logs}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends one request over loopback TCP; mod may change it (headers, Host).
func (ts *testServer) do(t testing.TB, method, path string, mod func(*http.Request)) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", ts.Token())
	if mod != nil {
		mod(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// secrets are every value that must never reach a log, error or output.
func (ts *testServer) secrets() []string {
	c, _ := ts.src.Current()
	return []string{ts.Token(), c.SecretAccessKey, c.SessionToken}
}
