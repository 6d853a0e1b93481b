package demo

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/smithy-go"

	"github.com/ssokeep/ssokeep/internal/emulator"
)

const (
	aliceKey    = "AKIAEXAMPLEALICE0001"
	aliceSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func startEmulator(t *testing.T, o emulator.Options) *emulator.Server {
	t.Helper()
	o.Users = []emulator.User{{Name: "alice", AccessKeyID: aliceKey, SecretAccessKey: aliceSecret}}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	return emu
}

// staticConfig is an SDK config for the emulator with fixed keys.
func staticConfig(emu *emulator.Server, secret string) func(context.Context) (aws.Config, error) {
	return func(context.Context) (aws.Config, error) {
		return aws.Config{Region: emu.Region(), BaseEndpoint: aws.String(emu.URL()),
			Credentials: credentials.NewStaticCredentialsProvider(aliceKey, secret, "")}, nil
	}
}

func s3Client(emu *emulator.Server, secret string) *s3.Client {
	cfg, _ := staticConfig(emu, secret)(context.Background())
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func reports(t *testing.T, out string) []Report {
	t.Helper()
	var rs []Report
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		r, ok := parseReport(l)
		if !ok {
			t.Fatalf("the job wrote a line that is not a report: %q", l)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestRunJobWritesListsAndReadsWhatItChecks(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	ctx := context.Background()
	if _, err := s3Client(emu, aliceSecret).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("job-test")}); err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	final, err := RunJob(ctx, JobOptions{Bucket: "job-test", Duration: 1500 * time.Millisecond, Workers: 3, Rate: 60,
		ReportEvery: 100 * time.Millisecond, Out: &out, Log: &log, Config: staticConfig(emu, aliceSecret)})
	if err != nil {
		t.Fatal(err)
	}
	if final.Failed != 0 || log.Len() != 0 {
		t.Fatalf("failures against a working S3: %+v\n%s", final, log.String())
	}
	if final.Calls == 0 || final.Calls != final.Puts+final.Lists+final.Gets || final.Keys == 0 || int64(final.Keys) > final.Puts {
		t.Errorf("inconsistent counts: %+v", final)
	}
	if final.Source != credentials.StaticCredentialsName || final.Workers != 3 || !final.Done {
		t.Errorf("final report %+v", final)
	}
	rs := reports(t, out.String())
	if last := rs[len(rs)-1]; last != final || len(rs) < 2 {
		t.Errorf("%d reports, last %+v, want progress then the final %+v", len(rs), last, final)
	}
	for i := 1; i < len(rs); i++ {
		if rs[i].Calls < rs[i-1].Calls {
			t.Errorf("calls went backwards: %d then %d", rs[i-1].Calls, rs[i].Calls)
		}
	}
	// Every counted call reached S3; a call cut short by the end may also
	// have arrived, uncounted.
	ops := emu.Stats().Operations
	for _, c := range []struct {
		op   string
		want int64
	}{{"PutObject", final.Puts}, {"ListObjectsV2", final.Lists}, {"GetObject", final.Gets}} {
		if got := int64(ops[c.op].Requests); got < c.want || got > c.want+3 {
			t.Errorf("S3 saw %d %s, the job counted %d", got, c.op, c.want)
		}
	}
}

func TestRunJobCountsFailuresAndNamesThemWithoutSecrets(t *testing.T) {
	emu := startEmulator(t, emulator.Options{})
	ctx := context.Background()
	if _, err := s3Client(emu, aliceSecret).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("job-test")}); err != nil {
		t.Fatal(err)
	}
	wrong := "WRONGsecretWRONGsecretWRONGsecretWRONGse"
	var out, log bytes.Buffer
	final, err := RunJob(ctx, JobOptions{Bucket: "job-test", Duration: 500 * time.Millisecond, Workers: 2, Rate: 40,
		Out: &out, Log: &log, Config: staticConfig(emu, wrong)})
	if err != nil {
		t.Fatal(err)
	}
	if final.Failed == 0 || final.Failed != final.Calls {
		t.Errorf("every call should fail with a wrong key: %+v", final)
	}
	if !strings.Contains(final.LastError, "put worker-") || !strings.Contains(final.LastError, "SignatureDoesNotMatch") {
		t.Errorf("last error %q does not say which call failed and why", final.LastError)
	}
	if n := strings.Count(log.String(), "\n"); int64(n) != final.Failed {
		t.Errorf("%d log lines for %d failures", n, final.Failed)
	}
	for _, text := range []string{out.String(), log.String()} {
		if strings.Contains(text, wrong) || strings.Contains(text, aliceSecret) {
			t.Errorf("a secret key in the job's output:\n%s", text)
		}
	}
}

func TestDemoJobRunsOnlyAgainstALoopbackS3(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "not set"},
		{"https://s3.amazonaws.com", "not a loopback"},
		{"http://10.0.0.1:9000", "not a loopback"},
		{"http://127.0.0.1:9000", ""},
		{"http://localhost:9000", ""},
		{"http://[::1]:9000", ""},
	} {
		t.Setenv("AWS_ENDPOINT_URL_S3", tc.url)
		err := loopbackS3()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("AWS_ENDPOINT_URL_S3=%q: err %v, want %q", tc.url, err, tc.want)
		}
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", "https://s3.amazonaws.com")
	if _, err := RunJob(context.Background(), JobOptions{Bucket: "job-test", Duration: time.Second, Workers: 1, Rate: 1,
		Out: &bytes.Buffer{}}); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("RunJob against real S3: err %v, want a refusal", err)
	}
}

func TestCallCounterCountsTheJobsCallsAndWhatWasRefused(t *testing.T) {
	c := &callCounter{}
	c.on.Store(true)
	emu := startEmulator(t, emulator.Options{Logger: slog.New(c)})
	ctx := context.Background()
	// ssokeep's own calls (OIDC here) are not the job's.
	oidc := ssooidc.New(ssooidc.Options{Region: emu.Region(), BaseEndpoint: aws.String(emu.URL())})
	if _, err := oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("t"), ClientType: aws.String("public")}); err != nil {
		t.Fatal(err)
	}
	good, bad := s3Client(emu, aliceSecret), s3Client(emu, "WRONGsecretWRONGsecretWRONGsecretWRONGse")
	if _, err := good.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("job-test")}); err != nil {
		t.Fatal(err)
	}
	_, err := good.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("job-test"), Key: aws.String("missing")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NoSuchKey" {
		t.Fatalf("get of a missing key: %v", err)
	}
	if _, err := bad.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("job-test"), Key: aws.String("k"), Body: strings.NewReader("x")}); err == nil {
		t.Fatal("a wrong secret was accepted")
	}
	if calls, refused := c.calls.Load(), c.refused.Load(); calls != 3 || refused != 1 {
		t.Errorf("counted %d calls, %d refused; want 3 (create, get, put) with 1 refused (the bad signature; a missing key is an answer)", calls, refused)
	}
}
