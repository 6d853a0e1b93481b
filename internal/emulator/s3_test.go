package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (h *harness) s3(ak, sk, token string) *s3.Client {
	cfg := h.awsConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, token)
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(h.s.URL())
		o.UsePathStyle = true
	})
}

// ssoS3 logs in and returns an S3 client with fresh SSO role credentials.
func (h *harness) ssoS3() (*s3.Client, aws.Credentials) {
	h.t.Helper()
	tok := h.deviceLogin(h.register("sso:account:access"))
	rc, err := h.roleCredentials(*tok.AccessToken)
	if err != nil {
		h.t.Fatal(err)
	}
	c := rc.RoleCredentials
	return h.s3(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken),
		aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
}

func getBody(t *testing.T, c *s3.Client, in *s3.GetObjectInput) []byte {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", *in.Key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestS3OperationsWithGoSDK drives every S3 operation the emulator serves
// with aws-sdk-go-v2 (and its transfer manager), signed with SSO role
// credentials the emulator issued.
func TestS3OperationsWithGoSDK(t *testing.T) {
	t.Parallel()
	h := newHarness(t, Options{MaxClockSkew: farSkew})
	c, creds := h.ssoS3()
	ctx := context.Background()
	bucket := aws.String("data")

	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != "data" {
		t.Fatalf("ListBuckets: %+v %v", lb, err)
	}
	for _, k := range []string{"a/1.txt", "a/2.txt", "b/3.txt", "top.txt"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(k), Body: strings.NewReader("content of " + k)}); err != nil {
			t.Fatalf("PutObject %s: %v", k, err)
		}
	}
	if got := getBody(t, c, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("top.txt"), Range: aws.String("bytes=11-13")}); string(got) != "top" {
		t.Errorf("ranged GetObject = %q, want %q", got, "top")
	}
	ho, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: aws.String("a/1.txt")})
	if err != nil || aws.ToInt64(ho.ContentLength) != int64(len("content of a/1.txt")) {
		t.Fatalf("HeadObject: %v %v", ho, err)
	}
	lo, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range lo.CommonPrefixes {
		prefixes = append(prefixes, *p.Prefix)
	}
	if strings.Join(prefixes, ",") != "a/,b/" || len(lo.Contents) != 1 || *lo.Contents[0].Key != "top.txt" {
		t.Errorf("delimiter listing: prefixes %v, %d keys", prefixes, len(lo.Contents))
	}
	var keys []string
	pages := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("a/"), MaxKeys: aws.Int32(1)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
	}
	if pages != 2 || strings.Join(keys, ",") != "a/1.txt,a/2.txt" {
		t.Errorf("paginated prefix listing: %d pages %v", pages, keys)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bucket, Key: aws.String("copy.txt"), CopySource: aws.String("data/b/3.txt")}); err != nil {
		t.Fatal(err)
	}
	if got := getBody(t, c, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("copy.txt")}); string(got) != "content of b/3.txt" {
		t.Errorf("copy = %q", got)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String("copy.txt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: bucket, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("a/1.txt")}, {Key: aws.String("a/2.txt")}}}}); err != nil {
		t.Fatal(err)
	}
	lo, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	if err != nil || len(lo.Contents) != 2 {
		t.Errorf("after deletes: %d keys, want b/3.txt and top.txt (%v)", len(lo.Contents), err)
	}

	// 20 MiB through the transfer manager: a multipart upload.
	big := make([]byte, 20<<20)
	rand.Read(big)
	tm := transfermanager.New(c, func(o *transfermanager.Options) {
		o.PartSizeBytes = 8 << 20
		o.MultipartUploadThreshold = 8 << 20
	})
	if _, err := tm.UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: bucket, Key: aws.String("big.bin"), Body: bytes.NewReader(big)}); err != nil {
		t.Fatalf("transfer manager upload: %v", err)
	}
	dl, err := tm.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: bucket, Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(dl.Body)
	if err != nil || sha256.Sum256(got) != sha256.Sum256(big) {
		t.Fatalf("transfer manager download differs (%d bytes, %v)", len(got), err)
	}

	// A presigned GET works with a plain HTTP client.
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("top.txt")},
		s3.WithPresignExpires(15*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(ps.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "content of top.txt" {
		t.Errorf("presigned GET: %d %q", resp.StatusCode, body)
	}

	st := h.s.Stats()
	var multipart bool
	for op := range st.Operations {
		multipart = multipart || strings.Contains(op, "Multipart")
	}
	if st.Operations["PutObject"].Requests < 4 || !multipart {
		t.Errorf("stats do not count S3 operations by name: %v", slices.Sorted(func(yield func(string) bool) {
			for k := range st.Operations {
				if !yield(k) {
					return
				}
			}
		}))
	}

	// Wrong secret, unknown key; after the role duration: ExpiredToken.
	_, err = h.s3(creds.AccessKeyID, creds.SecretAccessKey+"x", creds.SessionToken).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = h.s3("ASIAUNKNOWNKEY000000", creds.SecretAccessKey, creds.SessionToken).ListBuckets(ctx, &s3.ListBucketsInput{})
	wantCode(t, err, "InvalidAccessKeyId", 403)
	h.clock.Advance(time.Hour)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket})
	wantCode(t, err, "ExpiredToken", 400)
}

func TestS3Faults(t *testing.T) {
	h := newHarness(t, Options{MaxClockSkew: farSkew})
	c, _ := h.ssoS3()
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("faults")}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetFaults(Faults{"PutObject": {Error: "SlowDown"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("faults"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, err, "SlowDown", 503)
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("faults")}); err != nil {
		t.Errorf("a fault on PutObject must leave HeadBucket alone: %v", err)
	}
	if h.s.Stats().Operations["PutObject"].Faults != 1 {
		t.Errorf("stats: %+v", h.s.Stats().Operations)
	}
}

// boto3 presigns S3 URLs with Signature Version 2 unless told s3v4; the
// emulator answers what S3 answers buckets without SigV2 support.
func TestSigV2IsRefusedLikeNewS3Buckets(t *testing.T) {
	h := newHarness(t, Options{})
	resp, err := http.Get(h.s.URL() + "/bucket/key?AWSAccessKeyId=AKIAEXAMPLE&Signature=abc&Expires=1999999999")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "<Code>InvalidRequest</Code>") || !strings.Contains(string(b), "AWS4-HMAC-SHA256") {
		t.Errorf("SigV2 presigned GET: %d %s", resp.StatusCode, b)
	}
}
