package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The property tests use aws-sdk-go-v2's signer as the oracle: random
// requests it signs must all verify, and any single change to what it
// signed must be rejected with the code S3 would use.

const (
	propKeyID  = "ASIAPROPERTYTEST0001"
	propSecret = "prop/secret+KEY/0123456789abcdefghijklmnop"
	propToken  = "FwoGZXIvYXdzEJr//////////wEaDProperty+Token/With=Odd/Chars"
)

// pathChars mixes what breaks naive canonicalisation: spaces, '+', '%',
// reserved characters and multi-byte UTF-8.
var pathChars = []string{"a", "Z", "0", "-", "_", ".", "~", " ", "+", "%", "=", "&", "$", "!", "'", "(", ")", "*", ",", ":", "@", ";", "é", "日本", "ключ", "#", "?"}

func randString(rng *rand.Rand, alphabet []string, min, max int) string {
	n := min + rng.IntN(max-min+1)
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[rng.IntN(len(alphabet))])
	}
	return b.String()
}

// propCase is one random request and how it was signed.
type propCase struct {
	service, method string
	path            string // unescaped
	strictPath      bool   // path encoded the SDK's strict way rather than Go's default
	query           [][2]string
	strictQuery     bool // %20 instead of '+'
	headers         [][2]string
	body            []byte
	unsignedPayload bool
	sendHashHeader  bool
	token           string
	presign         bool
	signTime        time.Time
	hashOverride    string // payload hash to sign instead of the computed one
}

func randomCase(rng *rand.Rand, at time.Time) *propCase {
	c := &propCase{service: "s3", signTime: at}
	if rng.IntN(3) == 0 {
		c.service = "sts"
	}
	c.method = []string{"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"}[rng.IntN(6)]
	segs := 1 + rng.IntN(3)
	for range segs {
		c.path += "/" + randString(rng, pathChars, 0, 8)
	}
	if rng.IntN(5) == 0 {
		c.path += "/"
	}
	c.strictPath = rng.IntN(2) == 0
	for range rng.IntN(5) {
		k := randString(rng, pathChars, 1, 6)
		v := randString(rng, pathChars, 0, 6)
		c.query = append(c.query, [2]string{k, v})
		if rng.IntN(4) == 0 { // repeated key, values must sort
			c.query = append(c.query, [2]string{k, randString(rng, pathChars, 0, 4)})
		}
	}
	c.strictQuery = rng.IntN(2) == 0
	for i := range rng.IntN(4) {
		name := fmt.Sprintf("X-Amz-Meta-P%d", i)
		if rng.IntN(2) == 0 {
			name = fmt.Sprintf("X-Custom-%d", i)
		}
		// leading/trailing and doubled inner spaces must canonicalise.
		val := strings.Repeat(" ", rng.IntN(3)) + "v" + strings.Repeat(" ", rng.IntN(4)) + "w " + strconv.Itoa(rng.IntN(100)) + strings.Repeat(" ", rng.IntN(2))
		c.headers = append(c.headers, [2]string{name, val})
		if rng.IntN(3) == 0 {
			c.headers = append(c.headers, [2]string{name, "second  value"})
		}
	}
	if rng.IntN(2) == 0 {
		c.headers = append(c.headers, [2]string{"Content-Type", "application/octet-stream"})
	}
	c.presign = rng.IntN(4) == 0
	if c.method != "GET" && c.method != "HEAD" && !c.presign {
		c.body = make([]byte, rng.IntN(3000))
		for i := range c.body {
			c.body[i] = byte(rng.IntN(256))
		}
	}
	if c.service == "sts" && !c.presign {
		c.method = "POST"
		c.path = "/" + randString(rng, pathChars, 0, 5)
		c.body = []byte("Action=GetCallerIdentity&Version=2011-06-15&Nonce=" + url.QueryEscape(randString(rng, pathChars, 0, 10)))
		c.headers = append(c.headers, [2]string{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"})
	}
	if c.service == "s3" && !c.presign {
		c.unsignedPayload = rng.IntN(3) == 0
		c.sendHashHeader = true
	}
	if rng.IntN(4) != 0 {
		c.token = propToken
	}
	return c
}

func (c *propCase) url() *url.URL {
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: c.path}
	if c.strictPath {
		u.RawPath = uriEncode(c.path, false)
	}
	if len(c.query) > 0 {
		var parts []string
		if c.strictQuery {
			for _, kv := range c.query {
				parts = append(parts, uriEncode(kv[0], true)+"="+uriEncode(kv[1], true))
			}
			u.RawQuery = strings.Join(parts, "&")
		} else {
			vals := url.Values{}
			for _, kv := range c.query {
				vals.Add(kv[0], kv[1])
			}
			u.RawQuery = vals.Encode()
		}
	}
	return u
}

func (c *propCase) payloadHash() string {
	switch {
	case c.hashOverride != "":
		return c.hashOverride
	case c.service == "s3" && (c.presign || c.unsignedPayload):
		return UnsignedPayload
	}
	s := sha256.Sum256(c.body)
	return hex.EncodeToString(s[:])
}

// wire signs the case with the SDK and returns the bytes a client would
// send.
func (c *propCase) wire(t testing.TB) []byte {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: propKeyID, SecretAccessKey: propSecret, SessionToken: c.token}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = c.service == "s3" })
	req, err := http.NewRequest(c.method, "http://placeholder/", bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.URL = c.url()
	req.Host = req.URL.Host
	if len(c.body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for _, h := range c.headers {
		req.Header.Add(h[0], h[1])
	}
	if c.sendHashHeader {
		req.Header.Set("X-Amz-Content-Sha256", c.payloadHash())
	}
	ctx := context.Background()
	if c.presign {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "900")
		req.URL.RawQuery = q.Encode()
		if c.strictQuery {
			req.URL.RawQuery = strings.ReplaceAll(req.URL.RawQuery, "+", "%20")
		}
		signed, hdr, err := signer.PresignHTTP(ctx, creds, req, c.payloadHash(), c.service, "us-east-1", c.signTime)
		if err != nil {
			t.Fatal(err)
		}
		out, err := http.NewRequest(c.method, signed, http.NoBody)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			if k != "Host" {
				out.Header[k] = v
			}
		}
		req = out
	} else if err := signer.SignHTTP(ctx, creds, req, c.payloadHash(), c.service, "us-east-1", c.signTime); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func propVerifier(secret Secret, at time.Time) *Verifier {
	return &Verifier{Keys: mapKeys{propKeyID: secret}, Now: func() time.Time { return at }}
}

func propSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SIGV4_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("SIGV4_SEED=%d", seed)
	return seed
}

// verifyAndRead verifies and drains the body, as a handler would.
func verifyAndRead(v *Verifier, r *http.Request) ([]byte, *Result, error) {
	res, err := v.Verify(r)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(r.Body)
	return b, res, err
}

func TestPropertySDKSignedRequestsVerify(t *testing.T) {
	rng := rand.New(rand.NewPCG(propSeed(t), 7))
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	n := 1000
	if testing.Short() {
		n = 200
	}
	counts := map[string]int{}
	for i := range n {
		c := randomCase(rng, at.Add(-time.Duration(rng.IntN(600))*time.Second))
		wire := c.wire(t)
		secret := Secret{SecretAccessKey: propSecret, SessionToken: c.token, Expires: at.Add(time.Hour)}
		v := propVerifier(secret, at)
		fresh := func() *http.Request { return wireRequest(t, string(wire)) }

		body, res, err := verifyAndRead(v, fresh())
		if err != nil {
			t.Fatalf("case %d: SDK-signed request rejected: %v\n%s", i, err, clip(wire))
		}
		if !bytes.Equal(body, c.body) {
			t.Fatalf("case %d: body changed", i)
		}
		if res.Service != c.service || res.Presigned != c.presign || res.AccessKeyID != propKeyID {
			t.Fatalf("case %d: result %+v", i, res)
		}
		counts[fmt.Sprintf("%s presign=%v payload=%s", c.service, c.presign, payloadKind(res.PayloadHash))]++

		expect := func(what, code string, tamper func(r *http.Request), v *Verifier) {
			t.Helper()
			r := fresh()
			tamper(r)
			_, _, err := verifyAndRead(v, r)
			if err == nil {
				t.Fatalf("case %d: %s accepted\n%s", i, what, clip(wire))
			}
			var e *Error
			if !asError(err, &e) || e.Code != code {
				t.Fatalf("case %d: %s: got %v, want %s\n%s", i, what, err, code, clip(wire))
			}
			checkNoSecret(t, e)
		}
		expect("method changed", CodeSignatureDoesNotMatch, func(r *http.Request) {
			r.Method = map[string]string{"GET": "PUT", "PUT": "POST", "POST": "GET", "DELETE": "GET", "HEAD": "GET", "PATCH": "PUT"}[r.Method]
		}, v)
		expect("path changed", CodeSignatureDoesNotMatch, func(r *http.Request) {
			r.RequestURI = "/x" + r.RequestURI
		}, v)
		expect("path escaping changed", CodeSignatureDoesNotMatch, func(r *http.Request) {
			p, q, _ := strings.Cut(r.RequestURI, "?")
			if strings.Contains(p, "%") {
				p = strings.Replace(p, "%", "%25", 1) // one more level of encoding
			} else {
				p += "%41"
			}
			r.RequestURI = p + "?" + q
		}, v)
		expect("query added", CodeSignatureDoesNotMatch, func(r *http.Request) {
			if strings.Contains(r.RequestURI, "?") {
				r.RequestURI += "&tampered=1"
			} else {
				r.RequestURI += "?tampered=1"
			}
		}, v)
		if len(c.query) > 0 {
			expect("query value changed", CodeSignatureDoesNotMatch, func(r *http.Request) {
				p, q, _ := strings.Cut(r.RequestURI, "?")
				pairs := strings.Split(q, "&")
				for j, pair := range pairs {
					if !strings.HasPrefix(pair, "X-Amz-") {
						pairs[j] = pair + "Q"
						break
					}
				}
				r.RequestURI = p + "?" + strings.Join(pairs, "&")
			}, v)
		}
		if name := tamperableHeader(c); name != "" {
			expect("signed header "+name+" changed", CodeSignatureDoesNotMatch, func(r *http.Request) {
				vals := r.Header.Values(name)
				vals[0] += "x"
				r.Header[http.CanonicalHeaderKey(name)] = vals
			}, v)
		}
		expect("host changed", CodeSignatureDoesNotMatch, func(r *http.Request) { r.Host = "127.0.0.1:9001" }, v)
		if len(c.body) > 0 && c.payloadHash() != UnsignedPayload {
			code := CodeContentSHA256Mismatch // S3: the signed header hash no longer matches the body
			if c.service != "s3" {
				code = CodeSignatureDoesNotMatch // the verifier hashes the body into the signature
			}
			expect("body byte changed", code, func(r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				b[rng.IntN(len(b))] ^= 0x20
				r.Body = io.NopCloser(bytes.NewReader(b))
			}, v)
		}
		wrong := secret
		wrong.SecretAccessKey = propSecret[:len(propSecret)-1] + "Q"
		expect("wrong secret", CodeSignatureDoesNotMatch, func(*http.Request) {}, propVerifier(wrong, at))
		other := secret
		if c.token == "" {
			other.SessionToken = propToken // a session key used without its token
		} else {
			other.SessionToken = propToken + "x" // the request carries another token
		}
		expect("token mismatch", CodeInvalidToken, func(*http.Request) {}, propVerifier(other, at))
		if c.token != "" {
			long := secret
			long.SessionToken = "" // a long-term key must not come with a token
			expect("token on a long-term key", CodeInvalidToken, func(*http.Request) {}, propVerifier(long, at))
			expect("request token changed", CodeInvalidToken, func(r *http.Request) {
				if c.presign {
					r.RequestURI = strings.Replace(r.RequestURI, "X-Amz-Security-Token=", "X-Amz-Security-Token=A", 1)
				} else {
					r.Header.Set("X-Amz-Security-Token", "A"+r.Header.Get("X-Amz-Security-Token"))
				}
			}, v)
		}
		expired := secret
		expired.Expires = at
		expect("expired credentials", CodeExpiredToken, func(*http.Request) {}, propVerifier(expired, at))
		expect("unknown key", CodeInvalidAccessKeyID, func(*http.Request) {}, &Verifier{Keys: mapKeys{}, Now: v.Now})
		if !c.presign {
			expect("clock skew", CodeRequestTimeTooSkewed, func(*http.Request) {}, propVerifier(secret, c.signTime.Add(16*time.Minute)))
		} else {
			expect("presign expired", CodeAccessDenied, func(*http.Request) {}, propVerifier(secret, c.signTime.Add(901*time.Second)))
		}
	}
	t.Logf("verified %d SDK-signed requests and their tampered copies: %v", n, counts)
}

// tamperableHeader picks a signed header whose change must break only the
// signature (not the framing, the token or the date checks).
func tamperableHeader(c *propCase) string {
	for _, h := range c.headers {
		return h[0]
	}
	return ""
}

func payloadKind(h string) string {
	if len(h) == 64 {
		return "sha256"
	}
	return h
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

// checkNoSecret fails if an error could leak key material.
func checkNoSecret(t testing.TB, e *Error) {
	t.Helper()
	for _, s := range []string{propSecret, propToken, exampleSecret, "prop/secret"} {
		if strings.Contains(e.Message, s) || strings.Contains(e.Error(), s) {
			t.Fatalf("error leaks a secret: %v", e)
		}
	}
}

func clip(b []byte) string {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
