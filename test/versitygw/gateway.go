package survival

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/embedgw"
	"github.com/versity/versitygw/s3api"
)

// Gateway is a running versitygw: S3 on a loopback port over a posix
// backend, authenticating requests against a Registry.
type Gateway struct {
	URL                    string
	Region                 string
	RootAccess, RootSecret string // the gateway's own admin key (never a served one)

	cancel context.CancelFunc
	done   chan error

	mu      sync.Mutex
	buckets map[string]*BucketCounts
}

// BucketCounts are the answers versitygw gave to requests on one bucket.
type BucketCounts struct {
	OK       int            // 2xx and 3xx answers
	Rejected map[string]int // 4xx and 5xx answers by S3 error code
}

// StartGateway runs versitygw with iam as its IAM service and dir as the
// posix backend's root (xattr metadata when dir supports it, else a sidecar
// directory beside it). Only one gateway can run per process (versitygw's
// rule), and the posix backend changes the process's working directory to
// dir: resolve relative paths before calling it.
func StartGateway(iam *Registry, dir, region string) (*Gateway, error) {
	var ms meta.MetadataStorer = meta.XattrMeta{}
	opts := posix.PosixOpts{}
	if err := (meta.XattrMeta{}).Test(dir); err != nil {
		side := filepath.Clean(dir) + ".meta"
		if err := os.MkdirAll(side, 0o700); err != nil {
			return nil, err
		}
		sc, err := meta.NewSideCar(side)
		if err != nil {
			return nil, fmt.Errorf("%s has no xattrs and a sidecar failed: %w", dir, err)
		}
		ms, opts.SideCarDir = sc, side
	}
	be, err := posix.New(dir, ms, opts)
	if err != nil {
		return nil, fmt.Errorf("posix backend in %s: %w", dir, err)
	}
	g := &Gateway{Region: region, RootAccess: "VGWROOT" + randomHex(8), RootSecret: randomHex(20),
		buckets: map[string]*BucketCounts{}}
	// versitygw binds the port itself and does not say which it got, so
	// pick a free one; retry if another process takes it meanwhile.
	for range 3 {
		if err = g.run(be, iam); err == nil {
			return g, nil
		}
	}
	return nil, err
}

func (g *Gateway) run(be backend.Backend, iam *Registry) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan struct{})
	cfg := &embedgw.Config{
		RootUserAccess: g.RootAccess, RootUserSecret: g.RootSecret, Region: g.Region,
		Ports:          []string{net.JoinHostPort("127.0.0.1", port)},
		MaxConnections: 1000, MaxRequests: 1000, MultipartMaxParts: 10000,
		IAMService: iam, Quiet: true, KeepAlive: true,
		S3Options: []s3api.Option{
			s3api.WithMiddleware("/", g.countAnswers),
			s3api.WithOnListen(func() { close(listening) }),
		},
	}
	done := make(chan error, 1)
	go func() { done <- embedgw.RunVersityGW(ctx, be, cfg) }()
	select {
	case <-listening:
		g.URL, g.cancel, g.done = "http://"+net.JoinHostPort("127.0.0.1", port), cancel, done
		return nil
	case err := <-done:
		cancel()
		if err == nil {
			err = errors.New("versitygw stopped before listening")
		}
		return err
	case <-time.After(30 * time.Second):
		cancel()
		return errors.New("versitygw did not listen within 30s")
	}
}

// Stop shuts the gateway down and waits for it.
func (g *Gateway) Stop() error {
	g.cancel()
	select {
	case err := <-g.done:
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-time.After(30 * time.Second):
		return errors.New("versitygw did not stop within 30s")
	}
}

// countAnswers runs around every S3 request and counts its answer by bucket
// (the first path segment: requests are path-style), so a test sees each
// rejection versitygw made, including ones a client retried.
func (g *Gateway) countAnswers(c fiber.Ctx) error {
	err := c.Next()
	bucket, _, _ := strings.Cut(strings.TrimPrefix(c.Path(), "/"), "/")
	status := c.Response().StatusCode()
	code := ""
	switch {
	case err != nil:
		code = "InternalError (unhandled)"
	case status >= 400:
		code = errorCode(c.Response().Body())
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[bucket]
	if b == nil {
		b = &BucketCounts{Rejected: map[string]int{}}
		g.buckets[bucket] = b
	}
	if code == "" {
		b.OK++
	} else {
		b.Rejected[code]++
	}
	return err
}

// errorCode is the <Code> of an S3 error body ("HTTP error" when none).
func errorCode(body []byte) string {
	_, rest, ok := bytes.Cut(body, []byte("<Code>"))
	if code, _, ok2 := bytes.Cut(rest, []byte("</Code>")); ok && ok2 && len(code) > 0 {
		return string(code)
	}
	return "HTTP error"
}

// Counts returns the answers given on bucket so far.
func (g *Gateway) Counts(bucket string) BucketCounts {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := BucketCounts{Rejected: map[string]int{}}
	if b := g.buckets[bucket]; b != nil {
		out.OK = b.OK
		for k, v := range b.Rejected {
			out.Rejected[k] = v
		}
	}
	return out
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToUpper(hex.EncodeToString(b))
}
