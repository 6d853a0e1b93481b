package sigv4

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The examples AWS publishes in the S3 API reference ("Signature
// Calculations for the Authorization Header", "... Transferring Payload in
// Multiple Chunks", "... Including Trailing Headers", "Query String
// Authentication"). Their signatures were computed by AWS, so accepting
// them shows the verifier agrees with the service, not only with itself.
const (
	exampleKeyID  = "AKIAIOSFODNN7EXAMPLE"
	exampleSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	exampleScope  = exampleKeyID + "/20130524/us-east-1/s3/aws4_request"
)

var exampleTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

type mapKeys map[string]Secret

func (m mapKeys) LookupKey(id string) (Secret, bool) { s, ok := m[id]; return s, ok }

func exampleVerifier(at time.Time) *Verifier {
	return &Verifier{
		Keys: mapKeys{exampleKeyID: {SecretAccessKey: exampleSecret}},
		Now:  func() time.Time { return at },
	}
}

// wireRequest parses raw HTTP/1.1 bytes the way net/http's server does, so
// the verifier sees exactly what it sees in production (RequestURI as sent,
// Host moved out of the header map, Content-Length kept).
func wireRequest(t testing.TB, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("parse request: %v", err)
	}
	return r
}

func headerAuth(signed, sig string) string {
	return "AWS4-HMAC-SHA256 Credential=" + exampleScope + ",SignedHeaders=" + signed + ",Signature=" + sig
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%s), want %s", e.Code, e.Message, code)
	}
}

func TestAWSHeaderExamples(t *testing.T) {
	const empty = emptySHA256
	cases := []struct {
		name, raw string
		body      string
	}{
		{"GET object with Range", "GET /test.txt HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\nRange: bytes=0-9\r\n" +
			"x-amz-content-sha256: " + empty + "\r\nx-amz-date: 20130524T000000Z\r\nAuthorization: " +
			headerAuth("host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41") + "\r\n\r\n", ""},
		{"PUT object, $ in key, Date header", "PUT /test%24file.text HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\nDate: Fri, 24 May 2013 00:00:00 GMT\r\n" +
			"x-amz-date: 20130524T000000Z\r\nx-amz-storage-class: REDUCED_REDUNDANCY\r\n" +
			"x-amz-content-sha256: 44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\r\nContent-Length: 21\r\nAuthorization: " +
			headerAuth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class", "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") + "\r\n\r\nWelcome to Amazon S3.", "Welcome to Amazon S3."},
		{"GET bucket lifecycle (valueless query)", "GET /?lifecycle HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\n" +
			"x-amz-content-sha256: " + empty + "\r\nx-amz-date: 20130524T000000Z\r\nAuthorization: " +
			headerAuth("host;x-amz-content-sha256;x-amz-date", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543") + "\r\n\r\n", ""},
		{"list objects (query sorted)", "GET /?max-keys=2&prefix=J HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\n" +
			"x-amz-content-sha256: " + empty + "\r\nx-amz-date: 20130524T000000Z\r\nAuthorization: " +
			headerAuth("host;x-amz-content-sha256;x-amz-date", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") + "\r\n\r\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wireRequest(t, c.raw)
			res, err := exampleVerifier(exampleTime.Add(time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("AWS's own example rejected: %v", err)
			}
			if res.AccessKeyID != exampleKeyID || res.Region != "us-east-1" || res.Service != "s3" || res.Presigned {
				t.Fatalf("result %+v", res)
			}
			got, err := io.ReadAll(r.Body)
			if err != nil || string(got) != c.body {
				t.Fatalf("body %q, %v; want %q", got, err, c.body)
			}
		})
	}
}

func TestAWSPresignedExample(t *testing.T) {
	raw := "GET /test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404 HTTP/1.1\r\nHost: examplebucket.s3.amazonaws.com\r\n\r\n"
	// Valid for 86400 s from its X-Amz-Date, whatever the skew.
	res, err := exampleVerifier(exampleTime.Add(23 * time.Hour)).Verify(wireRequest(t, raw))
	if err != nil {
		t.Fatalf("AWS's presigned example rejected: %v", err)
	}
	if !res.Presigned || res.PayloadHash != UnsignedPayload {
		t.Fatalf("result %+v", res)
	}
	_, err = exampleVerifier(exampleTime.Add(24*time.Hour + time.Second)).Verify(wireRequest(t, raw))
	wantCode(t, err, CodeAccessDenied)
	_, err = exampleVerifier(exampleTime.Add(-time.Hour)).Verify(wireRequest(t, raw))
	wantCode(t, err, CodeAccessDenied)
}

// exampleChunked builds AWS's chunked-upload example: 66560 bytes of 'a' in
// a 65536-byte chunk, a 1024-byte chunk and the final empty chunk.
func exampleChunked(sigs [3]string, tail string) string {
	var b strings.Builder
	b.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n" + strings.Repeat("a", 65536) + "\r\n")
	b.WriteString("400;chunk-signature=" + sigs[1] + "\r\n" + strings.Repeat("a", 1024) + "\r\n")
	b.WriteString("0;chunk-signature=" + sigs[2] + "\r\n" + tail)
	return b.String()
}

var (
	exampleChunkSigs = [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	exampleTrailerChunkSigs = [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
)

func exampleChunkedRequest(t testing.TB, body string) *http.Request {
	return wireRequest(t, "PUT /examplebucket/chunkObject.txt HTTP/1.1\r\nHost: s3.amazonaws.com\r\n"+
		"x-amz-date: 20130524T000000Z\r\nx-amz-storage-class: REDUCED_REDUNDANCY\r\n"+
		"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD\r\nContent-Encoding: aws-chunked\r\n"+
		"x-amz-decoded-content-length: 66560\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nAuthorization: "+
		headerAuth("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
			"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")+"\r\n\r\n"+body)
}

func TestAWSChunkedExample(t *testing.T) {
	body := exampleChunked(exampleChunkSigs, "\r\n")
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, AWS says 66824", len(body))
	}
	r := exampleChunkedRequest(t, body)
	res, err := exampleVerifier(exampleTime).Verify(r)
	if err != nil {
		t.Fatalf("AWS's chunked example rejected: %v", err)
	}
	if res.PayloadHash != StreamingPayload {
		t.Fatalf("payload hash %q", res.PayloadHash)
	}
	// The store must see a plain body.
	if r.ContentLength != 66560 || r.Header.Get("Content-Length") != "66560" ||
		r.Header.Get("Content-Encoding") != "" || r.Header.Get("X-Amz-Decoded-Content-Length") != "" ||
		r.Header.Get("X-Amz-Content-Sha256") != UnsignedPayload {
		t.Fatalf("headers not fixed: len %d %v", r.ContentLength, r.Header)
	}
	got, err := io.ReadAll(iotestOneByte(r.Body))
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if string(got) != strings.Repeat("a", 66560) {
		t.Fatalf("decoded %d bytes", len(got))
	}

	t.Run("tampered data never reaches the handler", func(t *testing.T) {
		bad := []byte(body)
		bad[bytes.Index(bad, []byte("400;"))+100] = 'b' // a byte of the second chunk
		r := exampleChunkedRequest(t, string(bad))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatalf("seed signature is intact, Verify should pass: %v", err)
		}
		got, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeSignatureDoesNotMatch)
		// Only the first, verified chunk was delivered.
		if len(got) != 65536 {
			t.Fatalf("delivered %d bytes before the bad chunk, want 65536", len(got))
		}
	})
	t.Run("reordered chunks", func(t *testing.T) {
		sigs := exampleChunkSigs
		sigs[0], sigs[1] = sigs[1], sigs[0]
		r := exampleChunkedRequest(t, exampleChunked(sigs, "\r\n"))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("truncated", func(t *testing.T) {
		r := exampleChunkedRequest(t, body) // signed Content-Length says 66824
		r.Body = io.NopCloser(strings.NewReader(body[:40000]))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeIncompleteBody)
	})
	t.Run("final chunk signature wrong", func(t *testing.T) {
		sigs := exampleChunkSigs
		sigs[2] = strings.Repeat("0", 64)
		r := exampleChunkedRequest(t, exampleChunked(sigs, "\r\n"))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
}

func exampleTrailerRequest(t testing.TB, body string) *http.Request {
	return wireRequest(t, "PUT /examplebucket/chunkObject.txt HTTP/1.1\r\nHost: s3.amazonaws.com\r\n"+
		"x-amz-date: 20130524T000000Z\r\nx-amz-storage-class: REDUCED_REDUNDANCY\r\n"+
		"x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\r\nContent-Encoding: aws-chunked\r\n"+
		"x-amz-trailer: x-amz-checksum-crc32c\r\n"+
		"x-amz-decoded-content-length: 66560\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\nAuthorization: "+
		headerAuth("content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
			"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e")+"\r\n\r\n"+body)
}

func TestAWSSignedTrailerExample(t *testing.T) {
	const trailer = "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n"
	// AWS's page shows an empty line after the final chunk; other encoders
	// put the trailers right after it. Both must work.
	for _, sep := range []string{"", "\r\n"} {
		r := exampleTrailerRequest(t, exampleChunked(exampleTrailerChunkSigs, sep+trailer))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatalf("AWS's trailer example rejected: %v", err)
		}
		got, err := io.ReadAll(r.Body)
		if err != nil || len(got) != 66560 {
			t.Fatalf("read %d bytes: %v", len(got), err)
		}
		if v := r.Trailer.Get("X-Amz-Checksum-Crc32c"); v != "sOO8/Q==" {
			t.Fatalf("verified trailer not exposed: %q", v)
		}
	}
	t.Run("trailer value changed", func(t *testing.T) {
		bad := strings.Replace(trailer, "sOO8/Q==", "sOO8/A==", 1)
		r := exampleTrailerRequest(t, exampleChunked(exampleTrailerChunkSigs, bad))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeSignatureDoesNotMatch)
	})
	t.Run("trailer missing", func(t *testing.T) {
		r := exampleTrailerRequest(t, exampleChunked(exampleTrailerChunkSigs, "\r\n"))
		if _, err := exampleVerifier(exampleTime).Verify(r); err != nil {
			t.Fatal(err)
		}
		_, err := io.ReadAll(r.Body)
		wantCode(t, err, CodeMalformedTrailer)
	})
}

// iotestOneByte reads one byte at a time, to exercise chunk boundaries.
func iotestOneByte(r io.Reader) io.Reader { return oneByte{r} }

type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}
