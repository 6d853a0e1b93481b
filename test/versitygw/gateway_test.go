package survival

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// s3Client is a Go SDK S3 client on the gateway with fixed credentials and
// no retries, so each rejection is one error.
func s3Client(c Creds) *s3.Client {
	return s3.New(s3.Options{
		Region: gw.Region, BaseEndpoint: aws.String(gw.URL), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
	})
}

func rootClient() *s3.Client {
	return s3Client(Creds{AccessKeyID: gw.RootAccess, SecretAccessKey: gw.RootSecret})
}

func createBucket(t *testing.T, name string) {
	t.Helper()
	if _, err := rootClient().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s as the gateway's root: %v", name, err)
	}
}

func errorCodeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err == nil {
		return ""
	}
	return "not an API error: " + err.Error()
}

// The controls that make the survival test meaningful: versitygw, fed by
// the registry, accepts a served set and rejects what AWS would reject, so
// "versitygw rejected nothing" can fail.
func TestVersityGWRejectsWhatAWSWould(t *testing.T) {
	ctx := context.Background()
	const bucket = "controls"
	createBucket(t, bucket)
	now := time.Now()
	good := Creds{AccessKeyID: "ASIACONTROLGOOD00001", SecretAccessKey: randomHex(20), SessionToken: randomHex(64), Expires: now.Add(10 * time.Minute)}
	old := Creds{AccessKeyID: "ASIACONTROLOLD000001", SecretAccessKey: randomHex(20), SessionToken: randomHex(64), Expires: now.Add(-time.Second)}
	reg.Add(good)
	reg.Add(old)
	before := reg.Stats()

	put := func(c Creds, key string) error {
		_, err := s3Client(c).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("payload " + key)})
		return err
	}
	if err := put(good, "ok"); err != nil {
		t.Fatalf("a served, unexpired set was rejected: %v", err)
	}
	out, err := s3Client(good).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("ok")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "payload ok" {
		t.Errorf("GetObject body %q", body)
	}

	bad := func(mut func(*Creds)) Creds { c := good; mut(&c); return c }
	cases := []struct {
		name string
		c    Creds
		want string
	}{
		{"wrong secret", bad(func(c *Creds) { c.SecretAccessKey = randomHex(20) }), "SignatureDoesNotMatch"},
		{"wrong token", bad(func(c *Creds) { c.SessionToken = randomHex(64) }), "InvalidToken"},
		{"no token", bad(func(c *Creds) { c.SessionToken = "" }), "InvalidToken"},
		{"unknown key", bad(func(c *Creds) { c.AccessKeyID = "ASIACONTROLNONE00001" }), "InvalidAccessKeyId"},
		{"expired", old, "ExpiredToken"},
	}
	for _, tc := range cases {
		if got := errorCodeOf(put(tc.c, "no")); got != tc.want {
			t.Errorf("%s: %q, want %s", tc.name, got, tc.want)
		}
	}

	// A body other than the one signed for: versitygw checks the payload hash.
	signed := []byte("signed body")
	sum := sha256.Sum256(signed)
	req, _ := http.NewRequest(http.MethodPut, gw.URL+"/"+bucket+"/tampered", bytes.NewReader([]byte("other body!")))
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
	err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(ctx,
		aws.Credentials{AccessKeyID: good.AccessKeyID, SecretAccessKey: good.SecretAccessKey, SessionToken: good.SessionToken},
		req, hex.EncodeToString(sum[:]), "s3", gw.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	respBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode < 400 || !strings.Contains(string(respBody), "<Code>XAmzContentSHA256Mismatch</Code>") {
		t.Errorf("tampered body: %d %s", resp.StatusCode, respBody)
	}

	// The gateway counted each rejection on this bucket, and the registry
	// refused the ones that are its to refuse.
	counts := gw.Counts(bucket)
	for _, code := range []string{"SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken", "XAmzContentSHA256Mismatch"} {
		if counts.Rejected[code] != 1 {
			t.Errorf("gateway counted %d %s, want 1 (all: %v)", counts.Rejected[code], code, counts.Rejected)
		}
	}
	if counts.Rejected["InvalidToken"] != 2 || counts.OK < 3 {
		t.Errorf("gateway counts %+v", counts)
	}
	after := reg.Stats()
	if d := after.Refused["wrong token"] - before.Refused["wrong token"]; d != 2 {
		t.Errorf("registry refused %d wrong tokens, want 2", d)
	}
	if d := after.Refused["expired"] - before.Refused["expired"]; d != 1 {
		t.Errorf("registry refused %d expired keys, want 1", d)
	}
	if d := after.Refused["unknown key"] - before.Refused["unknown key"]; d != 1 {
		t.Errorf("registry refused %d unknown keys, want 1", d)
	}
}
