package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// JobOptions shape the sample job (`ssokeep demo-job`).
type JobOptions struct {
	Bucket   string
	Duration time.Duration
	Workers  int
	Rate     float64 // S3 calls per second, all workers together
	// ExpiryWindow is how long before expiry the SDK's credentials cache
	// fetches a new set (the SDK's 5 minutes would be longer than the
	// demo's credentials live).
	ExpiryWindow time.Duration
	ReportEvery  time.Duration
	Out          io.Writer // JSON Report lines
	Log          io.Writer // one line per failed call
	// Config overrides how the SDK is configured (tests); by default the
	// SDK's own chain from the environment, as any program run by exec.
	Config func(ctx context.Context) (aws.Config, error)
}

// keysPerWorker bounds the objects each worker cycles through, so a long
// run keeps overwriting rather than growing the emulator's memory.
const keysPerWorker = 64

// RunJob is the demo's sample long job: workers that write an object, list
// their prefix and read the object back, checking what they read, for
// Duration or until ctx ends. It uses only what any AWS program has: the
// SDK's default configuration, which under ssokeep means the container
// credentials endpoint. It reports progress on Out and returns the final
// report.
func RunJob(ctx context.Context, o JobOptions) (Report, error) {
	if o.Workers <= 0 || o.Rate <= 0 || o.Duration <= 0 || o.Bucket == "" {
		return Report{}, errors.New("demo-job: --bucket, and positive --workers, --rate and --duration are required")
	}
	if o.ReportEvery <= 0 {
		o.ReportEvery = 250 * time.Millisecond
	}
	load := o.Config
	if load == nil {
		if err := loopbackS3(); err != nil {
			return Report{}, err
		}
		load = func(ctx context.Context) (aws.Config, error) {
			return config.LoadDefaultConfig(ctx, config.WithCredentialsCacheOptions(func(c *aws.CredentialsCacheOptions) {
				if o.ExpiryWindow > 0 {
					c.ExpiryWindow = o.ExpiryWindow
				}
			}))
		}
	}
	cfg, err := load(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("demo-job: loading the AWS SDK configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) { so.UsePathStyle = true })

	j := &job{o: o, client: client, start: time.Now(), keys: map[string]bool{}}
	j.report.Workers = o.Workers
	if c, err := cfg.Credentials.Retrieve(ctx); err == nil {
		j.report.Source = c.Source
	} else {
		j.calls.Add(1)
		j.fail(fmt.Errorf("getting credentials: %w", err))
	}

	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	tokens := make(chan struct{})
	go pace(runCtx, o.Rate, tokens)
	var wg sync.WaitGroup
	for w := range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j.worker(runCtx, w, tokens)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTicker(o.ReportEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			r := j.snapshot()
			r.Done = true
			j.emit(r)
			return r, nil
		case <-t.C:
			j.emit(j.snapshot())
		}
	}
}

// loopbackS3 refuses to run against anything but a local emulator: the
// sample job writes and reads objects it invents.
func loopbackS3() error {
	raw := os.Getenv("AWS_ENDPOINT_URL_S3")
	u, err := url.Parse(raw)
	if raw == "" || err != nil || u.Hostname() == "" {
		return errors.New("demo-job: AWS_ENDPOINT_URL_S3 is not set; this hidden command is the sample job of `ssokeep demo` and runs only against its emulator")
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("demo-job: AWS_ENDPOINT_URL_S3 %s is not a loopback address; the sample job runs only against the local emulator of `ssokeep demo`", u.Redacted())
	}
	return nil
}

// pace hands out rate tokens a second until ctx ends.
func pace(ctx context.Context, rate float64, tokens chan<- struct{}) {
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			select {
			case tokens <- struct{}{}:
			default: // every worker is busy: skip, never queue up a burst
			}
		}
	}
}

type job struct {
	o      JobOptions
	client *s3.Client
	start  time.Time

	calls, failed, puts, lists, gets atomic.Int64

	mu     sync.Mutex
	keys   map[string]bool
	report Report // Workers, Source, LastError
	outMu  sync.Mutex
}

func (j *job) snapshot() Report {
	j.mu.Lock()
	r := j.report
	r.Keys = len(j.keys)
	j.mu.Unlock()
	r.Elapsed = time.Since(j.start).Seconds()
	r.Calls, r.Failed = j.calls.Load(), j.failed.Load()
	r.Puts, r.Lists, r.Gets = j.puts.Load(), j.lists.Load(), j.gets.Load()
	return r
}

func (j *job) emit(r Report) {
	b, _ := json.Marshal(r)
	j.outMu.Lock()
	defer j.outMu.Unlock()
	fmt.Fprintf(j.o.Out, "%s\n", b)
}

// fail counts a failed call and keeps its error for the report. SDK errors
// name the operation, status and error code, never a credential.
func (j *job) fail(err error) {
	j.failed.Add(1)
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	j.mu.Lock()
	j.report.LastError = msg
	j.mu.Unlock()
	if j.o.Log != nil {
		j.outMu.Lock()
		fmt.Fprintf(j.o.Log, "demo-job: %s\n", msg)
		j.outMu.Unlock()
	}
}

// worker writes, lists and reads its own objects, so every answer can be
// checked: the listing must hold the key just written, the read must return
// the bytes just written. A call cut short by the end of the run is not
// counted.
func (j *job) worker(ctx context.Context, w int, tokens <-chan struct{}) {
	prefix := fmt.Sprintf("worker-%d/", w)
	// call waits for its turn, runs op and counts it; false ends the worker.
	call := func(n *atomic.Int64, op func() error) (ok, more bool) {
		select {
		case <-ctx.Done():
			return false, false
		case <-tokens:
		}
		err := op()
		if err != nil && ctx.Err() != nil {
			return false, false
		}
		j.calls.Add(1)
		n.Add(1)
		if err != nil {
			j.fail(err)
			return false, true
		}
		return true, true
	}
	for n := 0; ; n++ {
		key := fmt.Sprintf("%sobject-%03d", prefix, n%keysPerWorker)
		body := fmt.Sprintf("worker %d, write %d, at %s\n", w, n, time.Now().UTC().Format(time.RFC3339Nano))
		ok, more := call(&j.puts, func() error {
			_, err := j.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(j.o.Bucket), Key: aws.String(key),
				Body: strings.NewReader(body)})
			if err != nil {
				return fmt.Errorf("put %s: %w", key, err)
			}
			return nil
		})
		if !more {
			return
		}
		if !ok {
			continue
		}
		j.mu.Lock()
		j.keys[key] = true
		j.mu.Unlock()
		if _, more = call(&j.lists, func() error {
			out, err := j.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(j.o.Bucket), Prefix: aws.String(prefix)})
			switch {
			case err != nil:
				return fmt.Errorf("list %s: %w", prefix, err)
			case !listed(out, key):
				return fmt.Errorf("list %s: %s is missing from the listing", prefix, key)
			}
			return nil
		}); !more {
			return
		}
		if _, more = call(&j.gets, func() error {
			got, err := j.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(j.o.Bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("get %s: %w", key, err)
			}
			defer got.Body.Close()
			b, err := io.ReadAll(got.Body)
			switch {
			case err != nil:
				return fmt.Errorf("get %s: reading the body: %w", key, err)
			case !bytes.Equal(b, []byte(body)):
				return fmt.Errorf("get %s: read %d bytes that differ from the %d written", key, len(b), len(body))
			}
			return nil
		}); !more {
			return
		}
	}
}

func listed(out *s3.ListObjectsV2Output, key string) bool {
	for _, o := range out.Contents {
		if aws.ToString(o.Key) == key {
			return true
		}
	}
	return false
}
