package sigv4

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestBotocoreSignedRequests uses botocore's signers (both the pip 1.43 and
// Debian's 1.29 where present) as a second oracle. It covers what the Go
// SDK's signer never produces: a signed "content-length: 0" (the pitfall
// that makes re-signing verifiers reject botocore), trimall of header
// values, and botocore's own path and query encoding.
func TestBotocoreSignedRequests(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	base := map[string]any{"key": propKeyID, "secret": propSecret, "region": "us-east-1"}
	with := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	cases := []map[string]any{
		with(map[string]any{"kind": "s3", "method": "PUT", "url": "http://127.0.0.1:9000/bucket/empty", "token": propToken,
			"headers": map[string]string{"Content-Length": "0"}}),
		with(map[string]any{"kind": "s3", "method": "PUT", "url": "http://127.0.0.1:9000/bucket/a%20b%2Bc/%E6%97%A5%25", "token": propToken,
			"body": b64("hello"), "headers": map[string]string{"x-amz-meta-note": "  two   spaces  here ", "Content-Length": "5"}}),
		with(map[string]any{"kind": "s3", "method": "GET", "url": "http://127.0.0.1:9000/bucket?list-type=2&prefix=a%20b%2B&delimiter=%2F&encoding-type=url"}),
		with(map[string]any{"kind": "s3", "method": "POST", "url": "http://127.0.0.1:9000/bucket?delete", "token": propToken,
			"body": b64("<Delete><Object><Key>k</Key></Object></Delete>"), "headers": map[string]string{"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="}}),
		with(map[string]any{"kind": "s3-presign", "method": "GET", "url": "http://127.0.0.1:9000/bucket/key%20x", "token": propToken, "expires": 300}),
		with(map[string]any{"kind": "sts", "method": "POST", "url": "http://127.0.0.1:9000/", "token": propToken,
			"body": b64("Action=GetCallerIdentity&Version=2011-06-15"), "headers": map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}),
	}
	input, _ := json.Marshal(cases)
	ran := 0
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if _, err := exec.LookPath(py); err != nil {
			continue
		}
		if exec.Command(py, "-c", "import botocore.auth").Run() != nil {
			t.Logf("%s has no botocore; skipping it", py)
			continue
		}
		cmd := exec.Command(py, "testdata/botocore_sign.py")
		cmd.Stdin = bytes.NewReader(input)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s testdata/botocore_sign.py: %v", py, err)
		}
		var res struct {
			Botocore string
			Requests []struct {
				Method, Target string
				Headers        [][2]string
				Body           string
			}
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatal(err)
		}
		ran++
		for i, sr := range res.Requests {
			body, _ := base64.StdEncoding.DecodeString(sr.Body)
			var raw strings.Builder
			raw.WriteString(sr.Method + " " + sr.Target + " HTTP/1.1\r\n")
			hasLen := false
			for _, h := range sr.Headers {
				raw.WriteString(h[0] + ": " + h[1] + "\r\n")
				hasLen = hasLen || strings.EqualFold(h[0], "Content-Length")
			}
			if !hasLen && len(body) > 0 {
				t.Fatalf("botocore %s case %d: no Content-Length", res.Botocore, i)
			}
			raw.WriteString("\r\n")
			raw.Write(body)
			v := &Verifier{Keys: mapKeys{propKeyID: {SecretAccessKey: propSecret, SessionToken: tokenOf(cases[i])}}}
			r := wireRequest(t, raw.String())
			got, result, err := verifyAndRead(v, r)
			if err != nil {
				t.Fatalf("botocore %s case %d (%s %s) rejected: %v", res.Botocore, i, sr.Method, sr.Target, err)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("botocore %s case %d: body changed", res.Botocore, i)
			}
			if i == 0 && !contains(result.SignedHeaders, "content-length") {
				t.Fatalf("botocore %s did not sign content-length: 0 (%v); the case proves nothing", res.Botocore, result.SignedHeaders)
			}
			// And a wrong secret still fails for each of them.
			wrong := &Verifier{Keys: mapKeys{propKeyID: {SecretAccessKey: "x" + propSecret, SessionToken: tokenOf(cases[i])}}}
			_, _, err = verifyAndRead(wrong, wireRequest(t, raw.String()))
			wantCode(t, err, CodeSignatureDoesNotMatch)
		}
		t.Logf("botocore %s (%s): %d signed requests verified", res.Botocore, py, len(res.Requests))
	}
	if ran == 0 {
		t.Skip("no python3 with botocore on this machine; botocore oracle not run")
	}
}

func tokenOf(c map[string]any) string {
	s, _ := c["token"].(string)
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// signedWire signs one request with the SDK (see property_test.go) and
// returns it as the server would parse it.
func signedWire(t *testing.T, c *propCase) *http.Request {
	return wireRequest(t, string(c.wire(t)))
}

func TestVerifyEdgeCases(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	v := propVerifier(Secret{SecretAccessKey: propSecret}, at)
	get := func() *propCase {
		return &propCase{service: "s3", method: "GET", path: "/bucket/key", sendHashHeader: true, signTime: at}
	}

	t.Run("no auth at all", func(t *testing.T) {
		_, err := v.Verify(wireRequest(t, "GET /bucket/key HTTP/1.1\r\nHost: h\r\n\r\n"))
		wantCode(t, err, CodeAccessDenied)
	})
	t.Run("Signature Version 2 is refused with a hint", func(t *testing.T) {
		_, err := v.Verify(wireRequest(t, "GET /bucket/key?AWSAccessKeyId=AKID&Expires=1893456000&Signature=abc%3D HTTP/1.1\r\nHost: h\r\n\r\n"))
		wantCode(t, err, CodeInvalidRequest)
		if !strings.Contains(err.Error(), "s3v4") {
			t.Fatalf("no hint: %v", err)
		}
		_, err = v.Verify(wireRequest(t, "GET /bucket/key HTTP/1.1\r\nHost: h\r\nAuthorization: AWS AKID:c2ln\r\n\r\n"))
		wantCode(t, err, CodeInvalidRequest)
	})
	t.Run("header and query auth together", func(t *testing.T) {
		r := signedWire(t, get())
		r.RequestURI += "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		_, err := v.Verify(r)
		wantCode(t, err, CodeInvalidArgument)
	})
	t.Run("S3 without x-amz-content-sha256", func(t *testing.T) {
		c := get()
		c.sendHashHeader = false
		_, err := v.Verify(signedWire(t, c))
		wantCode(t, err, CodeInvalidRequest)
	})
	t.Run("x-amz-content-sha256 not a hash", func(t *testing.T) {
		c := get()
		c.hashOverride = "not-a-hash"
		r := signedWire(t, c)
		_, err := v.Verify(r)
		wantCode(t, err, CodeInvalidArgument)
	})
	t.Run("GET claiming a non-empty body hash", func(t *testing.T) {
		c := get()
		c.hashOverride = strings.Repeat("ab", 32)
		_, err := v.Verify(signedWire(t, c))
		wantCode(t, err, CodeContentSHA256Mismatch) // before any handler runs
	})
	t.Run("scope date differs from X-Amz-Date", func(t *testing.T) {
		r := signedWire(t, get())
		r.Header.Set("X-Amz-Date", at.Add(24*time.Hour).Format(amzDateLayout))
		_, err := propVerifier(Secret{SecretAccessKey: propSecret}, at.Add(24*time.Hour)).Verify(r)
		wantCode(t, err, CodeAuthorizationHeaderMalformed)
	})
	t.Run("missing X-Amz-Date", func(t *testing.T) {
		r := signedWire(t, get())
		r.Header.Del("X-Amz-Date")
		_, err := v.Verify(r)
		wantCode(t, err, CodeAccessDenied)
	})
	t.Run("skew inside the window is fine, both directions", func(t *testing.T) {
		for _, d := range []time.Duration{-14 * time.Minute, 14 * time.Minute} {
			if _, err := propVerifier(Secret{SecretAccessKey: propSecret}, at.Add(d)).Verify(signedWire(t, get())); err != nil {
				t.Fatalf("skew %v: %v", d, err)
			}
		}
		_, err := propVerifier(Secret{SecretAccessKey: propSecret}, at.Add(-16*time.Minute)).Verify(signedWire(t, get()))
		wantCode(t, err, CodeRequestTimeTooSkewed)
		custom := &Verifier{Keys: v.Keys, Now: func() time.Time { return at.Add(3 * time.Minute) }, MaxSkew: 2 * time.Minute}
		_, err = custom.Verify(signedWire(t, get()))
		wantCode(t, err, CodeRequestTimeTooSkewed)
	})
	t.Run("credentials valid until their expiry", func(t *testing.T) {
		s := Secret{SecretAccessKey: propSecret, Expires: at.Add(time.Second)}
		if _, err := propVerifier(s, at).Verify(signedWire(t, get())); err != nil {
			t.Fatal(err)
		}
		_, err := propVerifier(s, at.Add(time.Second)).Verify(signedWire(t, get()))
		wantCode(t, err, CodeExpiredToken)
	})
	t.Run("presign expiry bounds", func(t *testing.T) {
		c := get()
		c.presign, c.sendHashHeader = true, false
		r := signedWire(t, c)
		r.RequestURI = strings.Replace(r.RequestURI, "X-Amz-Expires=900", "X-Amz-Expires=604801", 1)
		_, err := v.Verify(r)
		wantCode(t, err, CodeAuthorizationQueryError)
		r = signedWire(t, c)
		r.RequestURI = strings.Replace(r.RequestURI, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", 1)
		_, err = v.Verify(r)
		wantCode(t, err, CodeAuthorizationQueryError)
		r = signedWire(t, c)
		r.RequestURI = strings.Replace(r.RequestURI, "X-Amz-SignedHeaders=", "X-Amz-Dropped=", 1)
		_, err = v.Verify(r)
		wantCode(t, err, CodeAuthorizationQueryError)
	})
	t.Run("presigned URL cannot stream aws-chunked", func(t *testing.T) {
		c := get()
		c.method, c.presign, c.hashOverride = "PUT", true, StreamingPayload
		c.headers = [][2]string{{"X-Amz-Content-Sha256", StreamingPayload}}
		r := signedWire(t, c)
		_, err := v.Verify(r)
		wantCode(t, err, CodeInvalidRequest)
	})
	t.Run("STS body is hashed and restored", func(t *testing.T) {
		c := &propCase{service: "sts", method: "POST", path: "/", signTime: at,
			body:    []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			headers: [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}}
		r := signedWire(t, c)
		if _, err := v.Verify(r); err != nil {
			t.Fatal(err)
		}
		if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "GetCallerIdentity" {
			t.Fatalf("form not readable after Verify: %v %v", err, r.PostForm)
		}
	})
	t.Run("body truncated in flight", func(t *testing.T) {
		c := get()
		c.method, c.body = "PUT", bytes.Repeat([]byte("z"), 1000)
		r := signedWire(t, c)
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(c.body[:500]), errReader{io.ErrUnexpectedEOF}))
		_, _, err := verifyAndRead(v, r)
		wantCode(t, err, CodeIncompleteBody)
	})
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestScopeService(t *testing.T) {
	at := time.Now()
	for _, c := range []*propCase{
		{service: "s3", method: "GET", path: "/b/k", sendHashHeader: true, signTime: at},
		{service: "sts", method: "POST", path: "/", body: []byte("Action=GetCallerIdentity"), signTime: at},
		{service: "s3", method: "GET", path: "/b/k", presign: true, signTime: at},
		{service: "sts", method: "GET", path: "/", presign: true, signTime: at},
	} {
		if got := ScopeService(signedWire(t, c)); got != c.service {
			t.Errorf("ScopeService(%s presign=%v) = %q", c.service, c.presign, got)
		}
	}
	for _, raw := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AK/20260101/us-east-1\r\n\r\n",
		"GET /?X-Amz-Credential=%ZZ HTTP/1.1\r\nHost: h\r\n\r\n",
	} {
		if got := ScopeService(wireRequest(t, raw)); got != "" {
			t.Errorf("ScopeService(%q) = %q, want empty", raw, got)
		}
	}
}

// TestMalformedAuthorization: a table of broken headers all get a 400/403
// *Error, never a panic and never an accepted request.
func TestMalformedAuthorization(t *testing.T) {
	v := propVerifier(Secret{SecretAccessKey: propSecret}, time.Now())
	date := time.Now().UTC().Format(amzDateLayout)
	day := date[:8]
	cred := "Credential=" + propKeyID + "/" + day + "/us-east-1/s3/aws4_request"
	sig := "Signature=" + strings.Repeat("a", 64)
	for _, h := range []string{
		"AWS4-HMAC-SHA256",
		"AWS4-HMAC-SHA256 ",
		"AWS4-HMAC-SHA256 " + cred,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig + ", " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date, " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=zz",
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + strings.Repeat("a", 63),
		"AWS4-HMAC-SHA256 Credential=" + propKeyID + "/" + day + "/us-east-1/s3, SignedHeaders=host, " + sig,
		"AWS4-HMAC-SHA256 Credential=" + propKeyID + "/" + day + "/us-east-1/s3/aws5_request, SignedHeaders=host, " + sig,
		"AWS4-HMAC-SHA256 Credential=" + propKeyID + "/2026-1-1/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,
		"AWS4-HMAC-SHA256 Credential=/" + day + "/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,
		"AWS4-HMAC-SHA256 Credential=" + propKeyID + "/" + day + "//s3/aws4_request, SignedHeaders=host, " + sig,
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Foo=bar, " + sig,
		"AWS4-HMAC-SHA256 " + cred + " SignedHeaders=host " + sig,
		"AWS " + propKeyID + ":c2lnbmF0dXJl",
		"AWS4-ECDSA-P256-SHA256 Credential=" + propKeyID + "/" + day + "/s3/aws4_request, SignedHeaders=host, " + sig,
		"Bearer token",
		"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, " + sig, // well-formed but wrong signature
		"AWS4-HMAC-SHA256 Credential=UNKNOWNKEY/" + day + "/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig,
	} {
		raw := "GET /b/k HTTP/1.1\r\nHost: h\r\nX-Amz-Date: " + date + "\r\nX-Amz-Content-Sha256: " + emptySHA256 + "\r\nAuthorization: " + h + "\r\n\r\n"
		_, err := v.Verify(wireRequest(t, raw))
		var e *Error
		if !asError(err, &e) || (e.Status != 400 && e.Status != 403) || e.Code == "" {
			t.Errorf("Authorization %q: got %v, want a 400/403 *Error", h, err)
			continue
		}
		checkNoSecret(t, e)
	}
}

// FuzzVerify: whatever the Authorization header and query, Verify returns a
// 400/403 *Error or (never, without the secret) success; it must not panic.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=ASIAPROPERTYTEST0001/20261129/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature="+strings.Repeat("0", 64), "a=b")
	f.Add("AWS4-HMAC-SHA256 Credential=ASIAPROPERTYTEST0001/20261129/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=", "X-Amz-Algorithm=AWS4-HMAC-SHA256")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAPROPERTYTEST0001%2F20261129%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261129T120000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("AWS4-HMAC-SHA256 Credential=,,,", "%zz&&=")
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	v := propVerifier(Secret{SecretAccessKey: propSecret, SessionToken: propToken}, at)
	f.Fuzz(func(t *testing.T, authz, query string) {
		r, err := http.NewRequest("GET", "http://127.0.0.1/b/k", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.RawQuery = query
		r.RequestURI = "/b/k?" + query
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", "20261129T120000Z")
		r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
		res, err := v.Verify(r)
		if err == nil {
			t.Fatalf("forged request accepted: %+v", res)
		}
		e, ok := err.(*Error)
		if !ok || (e.Status != 400 && e.Status != 403) {
			t.Fatalf("got %v", err)
		}
		_ = ScopeService(r)
	})
}

func BenchmarkVerify(b *testing.B) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	c := &propCase{service: "s3", method: "PUT", path: "/bucket/some/key.txt", sendHashHeader: true, token: propToken,
		body: bytes.Repeat([]byte("x"), 1024), signTime: at,
		headers: [][2]string{{"Content-Type", "text/plain"}, {"X-Amz-Meta-A", "1"}}}
	raw := c.wire(b)
	v := propVerifier(Secret{SecretAccessKey: propSecret, SessionToken: propToken}, at)
	r := wireRequest(b, string(raw))
	body := c.body
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := v.Verify(r); err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			b.Fatal(err)
		}
	}
}
