// Command child is the job the survival test runs under `ssokeep exec`: it
// takes its credentials the way any Go SDK program does (the default chain,
// which ssokeep's environment points at its container-credentials
// endpoint), and puts, gets, lists and deletes objects on one bucket with
// several workers until its time is up. It prints one JSON summary line on
// stdout and never prints a secret.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Summary is the child's report, the test's input.
type Summary struct {
	Seconds  float64        `json:"seconds"`
	Calls    map[string]int `json:"calls"`    // successful S3 calls by operation
	Failures map[string]int `json:"failures"` // failed S3 calls by error code
	Samples  []string       `json:"samples"`  // the first few failures, described
	Mismatch int            `json:"mismatch"` // GetObject bodies that differ from what was put
	Keys     int            `json:"keys"`     // distinct access key IDs the SDK signed with
	Sources  map[string]int `json:"sources"`  // credential sources the SDK used
}

func main() {
	endpoint := flag.String("endpoint", "", "S3 base URL")
	bucket := flag.String("bucket", "", "bucket to work in (must exist)")
	workers := flag.Int("workers", 8, "concurrent workers")
	duration := flag.Duration("duration", 280*time.Second, "how long to run")
	flag.Parse()
	if *endpoint == "" || *bucket == "" {
		fmt.Fprintln(os.Stderr, "child: -endpoint and -bucket are required")
		os.Exit(2)
	}
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child: loading the SDK config:", err)
		os.Exit(1)
	}
	rec := &recorder{inner: cfg.Credentials, keys: map[string]bool{}, sources: map[string]int{}}
	cfg.Credentials = rec
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = endpoint
		o.UsePathStyle = true
		// No retries: every rejection is a failed call, none hidden.
		o.RetryMaxAttempts = 1
	})

	t := &tally{calls: map[string]int{}, failures: map[string]int{}}
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() { work(ctx, client, *bucket, w, deadline, t) })
	}
	wg.Wait()

	rec.mu.Lock()
	s := Summary{Seconds: time.Since(start).Seconds(), Calls: t.calls, Failures: t.failures, Samples: t.samples,
		Mismatch: t.mismatch, Keys: len(rec.keys), Sources: rec.sources}
	rec.mu.Unlock()
	json.NewEncoder(os.Stdout).Encode(s)
}

// work loops over a few keys per worker, so the backend stays small while
// every operation keeps running: put, get (checked), and now and then list
// and delete.
func work(ctx context.Context, c *s3.Client, bucket string, w int, deadline time.Time, t *tally) {
	rnd := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
	for n := 0; time.Now().Before(deadline); n++ {
		key := fmt.Sprintf("w%d/k%02d", w, n%16)
		body := make([]byte, 1+rnd.IntN(16<<10))
		for i := range body {
			body[i] = byte(rnd.Uint32())
		}
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
		if !t.done("PutObject", err) {
			continue
		}
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if t.done("GetObject", err) {
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.mu.Lock()
				t.mismatch++
				t.mu.Unlock()
			}
		}
		if n%8 == 7 {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(fmt.Sprintf("w%d/", w))})
			t.done("ListObjectsV2", err)
		}
		if n%16 == 15 {
			_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key})
			t.done("DeleteObject", err)
		}
	}
}

type tally struct {
	mu       sync.Mutex
	calls    map[string]int
	failures map[string]int
	samples  []string
	mismatch int
}

// done counts one call and reports whether it succeeded.
func (t *tally) done(op string, err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.calls[op]++
		return true
	}
	code := "other"
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	t.failures[op+": "+code]++
	if len(t.samples) < 5 {
		msg := fmt.Sprintf("%s %s: %v", time.Now().UTC().Format("15:04:05.000"), op, err)
		if len(msg) > 400 {
			msg = msg[:400]
		}
		t.samples = append(t.samples, msg)
	}
	return false
}

// recorder notes which keys and credential sources the SDK signs with.
type recorder struct {
	inner   aws.CredentialsProvider
	mu      sync.Mutex
	keys    map[string]bool
	sources map[string]int
}

func (r *recorder) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := r.inner.Retrieve(ctx)
	if err == nil {
		r.mu.Lock()
		r.keys[c.AccessKeyID] = true
		r.sources[c.Source]++
		r.mu.Unlock()
	}
	return c, err
}
