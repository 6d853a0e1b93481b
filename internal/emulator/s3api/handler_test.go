package s3api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ssokeep/ssokeep/internal/sigv4"
	"github.com/ssokeep/ssokeep/internal/sigv4/checksum"
)

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// signed builds a request to the env's server signed by the SDK signer
// with the given payload hash (which may lie about the body).
func (e *env) signed(t *testing.T, method, path string, body []byte, payloadHash string, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds := aws.Credentials{AccessKeyID: e.cred.id, SecretAccessKey: e.cred.secret, SessionToken: e.cred.token}
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func (e *env) do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *env) exists(t *testing.T, bucket, key string) bool {
	t.Helper()
	_, err := e.client(e.cred).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return err == nil
}

// TestBadBodiesAreNeverStored: whatever way an upload's bytes fail their
// integrity check, the client gets S3's error and nothing is stored.
func TestBadBodiesAreNeverStored(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	must[*s3.CreateBucketOutput](t)(e.client(e.cred).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("integrity")}))
	body := bytes.Repeat([]byte("payload "), 4096)
	crc, _ := checksum.Sum("CRC32", body)
	otherCRC, _ := checksum.Sum("CRC32", append(body, '!'))

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"x-amz-content-sha256 of other bytes", func() *http.Request {
			return e.signed(t, "PUT", "/integrity/k1", body, sha256Hex([]byte("something else")), nil)
		}, 400, "XAmzContentSHA256Mismatch"},
		{"wrong x-amz-checksum-crc32 header", func() *http.Request {
			return e.signed(t, "PUT", "/integrity/k2", body, sha256Hex(body), map[string]string{"X-Amz-Checksum-Crc32": otherCRC, "X-Amz-Sdk-Checksum-Algorithm": "CRC32"})
		}, 400, "BadDigest"},
		{"wrong Content-MD5", func() *http.Request {
			return e.signed(t, "PUT", "/integrity/k3", body, sha256Hex(body), map[string]string{"Content-Md5": "1B2M2Y8AsgTpgAmY7PhCfg=="})
		}, 400, "BadDigest"},
		{"signed aws-chunked with a changed byte", func() *http.Request {
			return e.chunkedPut(t, "/integrity/k4", body, 8192, true)
		}, 403, "SignatureDoesNotMatch"},
		{"unsigned trailer with the wrong checksum", func() *http.Request {
			return e.trailerPut(t, "/integrity/k5", body, otherCRC)
		}, 400, "BadDigest"},
		{"multipart part with the wrong checksum", func() *http.Request {
			cr := must[*s3.CreateMultipartUploadOutput](t)(e.client(e.cred).CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String("integrity"), Key: aws.String("k6"), ChecksumAlgorithm: "CRC32"}))
			return e.signed(t, "PUT", "/integrity/k6?partNumber=1&uploadId="+url.QueryEscape(aws.ToString(cr.UploadId)), body, sha256Hex(body),
				map[string]string{"X-Amz-Checksum-Crc32": otherCRC})
		}, 400, "BadDigest"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.do(t, c.req())
			assertXMLError(t, resp, c.status, c.code)
			if e.exists(t, "integrity", fmt.Sprintf("k%d", i+1)) {
				t.Fatal("the rejected body was stored")
			}
		})
	}
	// The same paths with honest bodies store the object (so the cases
	// above fail for the reason they name).
	crc64, _ := checksum.Sum("CRC64NVME", body)
	for _, c := range []struct {
		req      *http.Request
		checksum func(*s3.GetObjectOutput) *string
		want     string
	}{
		{e.signed(t, "PUT", "/integrity/ok1", body, sha256Hex(body), map[string]string{"X-Amz-Checksum-Crc32": crc}),
			func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32 }, crc},
		// No checksum sent: S3's default full-object CRC64NVME.
		{e.chunkedPut(t, "/integrity/ok2", body, 8192, false),
			func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC64NVME }, crc64},
		{e.trailerPut(t, "/integrity/ok3", body, crc),
			func(o *s3.GetObjectOutput) *string { return o.ChecksumCRC32 }, crc},
	} {
		req := c.req
		resp := e.do(t, req)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", req.URL.Path, resp.StatusCode)
		}
		key := strings.TrimPrefix(req.URL.Path, "/integrity/")
		got := must[*s3.GetObjectOutput](t)(e.client(e.cred).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("integrity"), Key: aws.String(key)}))
		if b := must[[]byte](t)(io.ReadAll(got.Body)); !bytes.Equal(b, body) || aws.ToString(c.checksum(got)) != c.want {
			t.Fatalf("%s: stored %d bytes, checksum %q want %q", key, len(b), aws.ToString(c.checksum(got)), c.want)
		}
	}
	if !strings.Contains(strings.Join(e.logs.modesFor("PutObject"), " "), sigv4.StreamingPayload) {
		t.Fatalf("PutObject modes %v: the signed-chunk path was not exercised", e.logs.modesFor("PutObject"))
	}
}

// chunkedPut signs an aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
// CRC32 trailer-free) with the SDK's signer and stream signer.
func (e *env) chunkedPut(t *testing.T, path string, data []byte, chunk int, corrupt bool) *http.Request {
	t.Helper()
	var sizes []int
	for off := 0; off < len(data); off += chunk {
		sizes = append(sizes, min(chunk, len(data)-off))
	}
	n := 0
	for _, s := range append(sizes, 0) {
		n += len(strconv.FormatInt(int64(s), 16)) + len(";chunk-signature=") + 64 + 4 + s
	}
	req, _ := http.NewRequest("PUT", e.srv.URL+path, nil)
	req.ContentLength = int64(n)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", sigv4.StreamingPayload)
	creds := aws.Credentials{AccessKeyID: e.cred.id, SecretAccessKey: e.cred.secret, SessionToken: e.cred.token}
	at := time.Now()
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		SignHTTP(context.Background(), creds, req, sigv4.StreamingPayload, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	seed, _ := v4.GetSignedRequestSignature(req)
	ss := v4.NewStreamSigner(creds, "s3", "us-east-1", seed)
	var b bytes.Buffer
	off := 0
	for _, s := range append(sizes, 0) {
		sig, _ := ss.GetSignature(context.Background(), nil, data[off:off+s], at)
		fmt.Fprintf(&b, "%x;chunk-signature=%x\r\n", s, sig)
		b.Write(data[off : off+s])
		b.WriteString("\r\n")
		off += s
	}
	raw := b.Bytes()
	if corrupt {
		i := bytes.LastIndex(raw, []byte("payload"))
		raw[i] = 'P'
	}
	req.Body = io.NopCloser(bytes.NewReader(raw))
	return req
}

// trailerPut frames an upload the way SDKs do over TLS:
// STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer.
func (e *env) trailerPut(t *testing.T, path string, data []byte, crc string) *http.Request {
	t.Helper()
	var b bytes.Buffer
	for off := 0; off < len(data); off += 10000 {
		n := min(10000, len(data)-off)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(data[off : off+n])
		b.WriteString("\r\n")
	}
	b.WriteString("0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n")
	return e.signed(t, "PUT", path, b.Bytes(), sigv4.StreamingUnsignedPayloadTrailer, map[string]string{
		"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": strconv.Itoa(len(data)),
		"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Sdk-Checksum-Algorithm": "CRC32"})
}

// TestMalformedAuthorizationGetsXML: broken or forged Authorization headers
// get a 400/403 S3 XML error from the handler, never a panic or a 2xx.
func TestMalformedAuthorizationGetsXML(t *testing.T) {
	e := newEnv(t, false)
	date := time.Now().UTC().Format("20060102T150405Z")
	cred := "Credential=" + e.cred.id + "/" + date[:8] + "/us-east-1/s3/aws4_request"
	for _, h := range []string{
		"", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 " + cred,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=zz",
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
		"AWS4-HMAC-SHA256 Credential=" + e.cred.id + "/" + date[:8] + "/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("0", 64),
		"AWS AKID:c2ln", "Bearer x", "AWS4-HMAC-SHA256 ,,,,", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=" + strings.Repeat("a", 64),
	} {
		req := httptest.NewRequest("GET", "/bucket/key", nil)
		req.Header.Set("X-Amz-Date", date)
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex(nil))
		req.Header.Set("X-Amz-Security-Token", e.cred.token)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		rec := httptest.NewRecorder()
		e.srv.Config.Handler.ServeHTTP(rec, req)
		checkXMLErrorRecorder(t, h, rec)
	}
}

func checkXMLErrorRecorder(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != 400 && rec.Code != 403 {
		t.Fatalf("%q: status %d, want 400/403", what, rec.Code)
	}
	var body errorBody
	if err := xml.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code == "" || body.RequestID == "" || body.Resource == "" {
		t.Fatalf("%q: not an S3 XML error: %q", what, rec.Body.String())
	}
}

func FuzzHandlerAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature="+strings.Repeat("0", 64), "list-type=2")
	f.Add("AWS AK:sig", "uploads")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20260101%2Fus-east-1%2Fs3%2Faws4_request")
	keys := &keyStore{m: map[string]sigv4.Secret{"AK": {SecretAccessKey: "s"}}}
	h := New(&sigv4.Verifier{Keys: keys}, Options{})
	f.Fuzz(func(t *testing.T, authz, query string) {
		req := httptest.NewRequest("PUT", "/bucket/key", strings.NewReader("body"))
		req.URL.RawQuery = query
		req.RequestURI = "/bucket/key?" + query
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		req.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("body")))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkXMLErrorRecorder(t, authz, rec)
	})
}

func TestOperationName(t *testing.T) {
	for _, c := range []struct{ method, target, copySrc, want string }{
		{"GET", "/", "", "ListBuckets"},
		{"PUT", "/b", "", "CreateBucket"},
		{"HEAD", "/b", "", "HeadBucket"},
		{"DELETE", "/b", "", "DeleteBucket"},
		{"GET", "/b?location", "", "GetBucketLocation"},
		{"GET", "/b?versioning", "", "GetBucketVersioning"},
		{"GET", "/b?list-type=2&prefix=a", "", "ListObjectsV2"},
		{"GET", "/b?prefix=a&marker=x", "", "ListObjects"},
		{"GET", "/b", "", "ListObjects"},
		{"GET", "/b?uploads", "", "ListMultipartUploads"},
		{"POST", "/b?delete", "", "DeleteObjects"},
		{"PUT", "/b/k", "", "PutObject"},
		{"PUT", "/b/k/with/slashes?x-id=PutObject", "", "PutObject"},
		{"PUT", "/b/k", "/b/src", "CopyObject"},
		{"GET", "/b/k", "", "GetObject"},
		{"GET", "/b/k?partNumber=2", "", "GetObject"},
		{"HEAD", "/b/k", "", "HeadObject"},
		{"DELETE", "/b/k", "", "DeleteObject"},
		{"POST", "/b/k?uploads", "", "CreateMultipartUpload"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "/b/src", "UploadPartCopy"},
		{"POST", "/b/k?uploadId=u", "", "CompleteMultipartUpload"},
		{"DELETE", "/b/k?uploadId=u", "", "AbortMultipartUpload"},
		{"GET", "/b/k?uploadId=u", "", "ListParts"},
		{"GET", "/b/k?tagging", "", "Unknown"},
		{"PUT", "/b?acl", "", "Unknown"},
		{"POST", "/", "", "Unknown"},
		{"GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", "", "GetObject"},
	} {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.copySrc != "" {
			r.Header.Set("X-Amz-Copy-Source", c.copySrc)
		}
		if got := OperationName(r); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.method, c.target, got, c.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		h               string
		size            int64
		start, end      int64
		ok, satisfiable bool
	}{
		{"bytes=0-0", 10, 0, 0, true, true},
		{"bytes=2-5", 10, 2, 5, true, true},
		{"bytes=8-", 10, 8, 9, true, true},
		{"bytes=-3", 10, 7, 9, true, true},
		{"bytes=-30", 10, 0, 9, true, true},
		{"bytes=5-100", 10, 5, 9, true, true},
		{"bytes=10-", 10, 0, 0, true, false},
		{"bytes=-0", 10, 0, 0, true, false},
		{"bytes=0-", 0, 0, 0, true, false},
		{"bytes=5-2", 10, 0, 0, false, false},
		{"bytes=0-1,3-4", 10, 0, 0, false, false},
		{"items=0-1", 10, 0, 0, false, false},
		{"bytes=x-", 10, 0, 0, false, false},
	} {
		s, e, ok, sat := parseRange(c.h, c.size)
		if ok != c.ok || sat != c.satisfiable || (ok && sat && (s != c.start || e != c.end)) {
			t.Errorf("parseRange(%q, %d) = %d %d %v %v", c.h, c.size, s, e, ok, sat)
		}
	}
}

// TestListingEdges: encoding-type=url, max-keys=0 and a forged
// continuation token, answered the way S3 does.
func TestListingEdges(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	c := e.client(e.cred)
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("edges")}))
	for _, k := range []string{"a b/1", "a b/2", "x+y", "z%"} {
		must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("edges"), Key: aws.String(k), Body: strings.NewReader(k)}))
	}
	out := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("edges"), EncodingType: "url", Delimiter: aws.String("/")}))
	var got []string
	for _, o := range out.Contents {
		got = append(got, aws.ToString(o.Key))
	}
	for _, p := range out.CommonPrefixes {
		got = append(got, aws.ToString(p.Prefix))
	}
	if want := "x%2By z%25 a+b%2F"; strings.Join(got, " ") != want {
		t.Fatalf("url-encoded listing %q, want %q", strings.Join(got, " "), want)
	}
	zero := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("edges"), MaxKeys: aws.Int32(0)}))
	if len(zero.Contents) != 0 || aws.ToInt32(zero.KeyCount) != 0 {
		t.Fatalf("max-keys=0 returned %d", len(zero.Contents))
	}
	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("edges"), ContinuationToken: aws.String("forged")})
	mustCode(t, err, "InvalidArgument")
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("edges"), Key: aws.String("x+y"), PartNumber: aws.Int32(2)})
	mustCode(t, err, "InvalidPartNumber")
	pn := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("edges"), Key: aws.String("x+y"), PartNumber: aws.Int32(1)}))
	if b := must[[]byte](t)(io.ReadAll(pn.Body)); string(b) != "x+y" {
		t.Fatalf("partNumber=1 of a single-part object: %q", b)
	}
	// An unsupported sub-resource is a clear 501, not a wrong answer.
	req := e.signed(t, "GET", "/edges/x+y?tagging", nil, sha256Hex(nil), nil)
	assertXMLError(t, e.do(t, req), 501, "NotImplemented")
}
