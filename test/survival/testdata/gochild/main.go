// Command gochild is a long-running aws-sdk-go-v2 job shaped like Metaflow's
// S3 fan-out: -workers goroutines (Metaflow starts 64), each with its own
// client from config.LoadDefaultConfig, putting, getting and listing objects
// for -duration, and now and then loading its configuration again (a new
// s3op worker), which resolves the credential chain anew. Under
// `ssokeep exec` that chain must end at the container provider.
//
// Retries are off, so every failure shows. It prints one JSON report on
// stdout (access key IDs only) and writes the secrets it held (those it
// signed with, the endpoint's authorization token) to -secrets, for the
// test's no-leak check.
//
// With -once it does one put and get and reports, for a process that outlives
// its parent.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type report struct {
	Client              string         `json:"client"`
	Seconds             float64        `json:"seconds"`
	Workers             int            `json:"workers"`
	Calls               int            `json:"calls"`
	Failures            int            `json:"failures"`
	ByOperation         map[string]int `json:"byOperation"`
	FailuresByOperation map[string]int `json:"failuresByOperation"`
	Errors              []string       `json:"errors"`
	AccessKeys          []string       `json:"accessKeys"`
	CredentialSources   []string       `json:"credentialSources"`
	ClientsBuilt        int            `json:"clientsBuilt"`
	SecretsSeen         int            `json:"secretsSeen"`
	FirstFailure        float64        `json:"firstFailureSeconds,omitempty"` // from the start
	// LongestPause is the longest stretch without a successful call: the
	// job's continuity, whatever the machine's speed.
	LongestPause float64 `json:"longestPauseSeconds"`
}

// tally is shared by the workers.
type tally struct {
	start    time.Time
	mu       sync.Mutex
	calls    map[string]int
	failures map[string]int
	errors   []string
	keys     map[string]bool
	known    map[string]bool // key IDs whose secret is recorded
	secrets  map[string]bool
	sources  map[string]bool
	clients  int
	firstErr time.Duration
	lastOK   time.Time
	longest  time.Duration
}

func (t *tally) count(op string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls[op]++
	if err == nil {
		now := time.Now()
		t.longest = max(t.longest, now.Sub(t.lastOK))
		t.lastOK = now
	} else {
		if t.firstErr == 0 {
			t.firstErr = time.Since(t.start)
		}
		t.failures[op]++
		if len(t.errors) < 10 {
			msg := err.Error()
			if len(msg) > 300 {
				msg = msg[:300]
			}
			t.errors = append(t.errors, op+": "+msg)
		}
	}
}

// seen records the key ID and session token a request was signed with, and
// says whether the key's secret is still unknown.
func (t *tally) seen(akid, token string) (unknown bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if token != "" {
		t.secrets[token] = true
	}
	if akid == "" {
		return false
	}
	t.keys[akid] = true
	return !t.known[akid]
}

func (t *tally) credentials(c aws.Credentials) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.keys[c.AccessKeyID] = true
	t.known[c.AccessKeyID] = true
	t.secrets[c.SecretAccessKey] = true
	t.secrets[c.SessionToken] = true
	t.sources[c.Source] = true
}

// recordSigned runs after signing and reads what the request carries.
func recordSigned(t *tally, fresh *bool) middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("survivalRecordSigned", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			auth := req.Header.Get("Authorization")
			akid := ""
			if _, rest, ok := strings.Cut(auth, "Credential="); ok {
				akid, _, _ = strings.Cut(rest, "/")
			}
			if t.seen(akid, req.Header.Get("X-Amz-Security-Token")) {
				*fresh = true
			}
		}
		return next.HandleFinalize(ctx, in)
	})
}

// worker is one s3op-like worker: its own configuration and client.
type worker struct {
	n      int
	t      *tally
	bucket string
	cfg    aws.Config
	client *s3.Client
	fresh  bool // a key ID whose secret is unknown went out
}

func (w *worker) connect(ctx context.Context) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	if err != nil {
		return err
	}
	w.cfg = cfg
	w.client = s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(recordSigned(w.t, &w.fresh), middleware.After)
		})
	})
	w.t.mu.Lock()
	w.t.clients++
	w.t.mu.Unlock()
	return nil
}

// round puts an object, reads it back and sometimes lists it.
func (w *worker) round(ctx context.Context, i int) {
	key := fmt.Sprintf("w%d/obj%d", w.n, i%4)
	body := make([]byte, 512+(i*97)%4096)
	rand.Read(body)
	_, err := w.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &w.bucket, Key: &key, Body: bytes.NewReader(body)})
	w.t.count("PutObject", err)
	out, err := w.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &w.bucket, Key: &key})
	if err == nil {
		var got []byte
		got, err = io.ReadAll(out.Body)
		out.Body.Close()
		if err == nil && !bytes.Equal(got, body) {
			err = fmt.Errorf("GetObject %s returned %d bytes that differ from the %d put", key, len(got), len(body))
		}
	}
	w.t.count("GetObject", err)
	if i%5 == 0 {
		prefix := fmt.Sprintf("w%d/", w.n)
		l, err := w.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &w.bucket, Prefix: &prefix})
		if err == nil {
			found := false
			for _, o := range l.Contents {
				found = found || aws.ToString(o.Key) == key
			}
			if !found {
				err = fmt.Errorf("ListObjectsV2 does not list %s", key)
			}
		}
		w.t.count("ListObjectsV2", err)
	}
	w.recordSecret(ctx)
}

// recordSecret notes the secret of a set the worker signed with but whose
// secret is unknown, from the client's own credentials cache (which may
// hand out a newer set by then: that one is recorded too).
func (w *worker) recordSecret(ctx context.Context) {
	if !w.fresh {
		return
	}
	w.fresh = false
	if c, err := w.cfg.Credentials.Retrieve(ctx); err == nil {
		w.t.credentials(c)
	}
}

func main() {
	duration := flag.Duration("duration", time.Minute, "how long to run")
	workers := flag.Int("workers", 64, "concurrent workers, each with its own client")
	pause := flag.Duration("pause", 500*time.Millisecond, "pause between a worker's rounds")
	bucket := flag.String("bucket", "survival", "bucket to use (created here)")
	secrets := flag.String("secrets", "", "write the secrets signed with to this file")
	once := flag.Bool("once", false, "one put and get, then report")
	reconnectEvery := flag.Int("reconnect-every", 20, "load the configuration again every N rounds")
	flag.Parse()
	if *secrets == "" {
		fmt.Fprintln(os.Stderr, "gochild: -secrets FILE is required")
		os.Exit(2)
	}
	if *once {
		*workers, *duration = 1, 0
	}
	ctx := context.Background()
	start := time.Now()
	t := &tally{start: start, lastOK: start, calls: map[string]int{}, failures: map[string]int{}, keys: map[string]bool{}, known: map[string]bool{}, secrets: map[string]bool{}, sources: map[string]bool{}}

	first := &worker{t: t, bucket: *bucket}
	err := first.connect(ctx)
	if err == nil {
		_, err = first.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket})
		var owned interface{ ErrorCode() string }
		if errors.As(err, &owned) && owned.ErrorCode() == "BucketAlreadyOwnedByYou" {
			err = nil // -once in a job that already made it
		}
		first.recordSecret(ctx)
	}
	t.count("CreateBucket", err)

	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for n := range *workers {
		wg.Go(func() {
			w := &worker{n: n, t: t, bucket: *bucket}
			for i := 0; i == 0 || time.Now().Before(deadline); i++ {
				if w.client == nil || i%*reconnectEvery == 0 {
					if err := w.connect(ctx); err != nil {
						t.count("LoadDefaultConfig", err)
						time.Sleep(*pause)
						continue
					}
				}
				w.round(ctx, i)
				if *once {
					return
				}
				time.Sleep(*pause)
			}
		})
	}
	wg.Wait()

	t.mu.Lock()
	defer t.mu.Unlock()
	// The endpoint's authorization token is a secret too.
	if tok := os.Getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"); tok != "" {
		t.secrets[tok] = true
	}
	r := report{Client: "aws-sdk-go-v2", Seconds: time.Since(start).Round(100 * time.Millisecond).Seconds(), Workers: *workers,
		ByOperation: t.calls, FailuresByOperation: t.failures, Errors: t.errors, ClientsBuilt: t.clients, SecretsSeen: len(t.secrets),
		FirstFailure: t.firstErr.Seconds(), LongestPause: max(t.longest, time.Since(t.lastOK)).Round(10 * time.Millisecond).Seconds()}
	for _, c := range t.calls {
		r.Calls += c
	}
	for _, c := range t.failures {
		r.Failures += c
	}
	r.AccessKeys = sorted(t.keys)
	r.CredentialSources = sorted(t.sources)
	var sb strings.Builder
	for _, s := range sorted(t.secrets) {
		if s != "" {
			sb.WriteString(s + "\n")
		}
	}
	if err := os.WriteFile(*secrets, []byte(sb.String()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "gochild:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(r); err != nil {
		os.Exit(1)
	}
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
