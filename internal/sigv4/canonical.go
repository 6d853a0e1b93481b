package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// rawPath is the request path exactly as the client sent it (still
// percent-encoded): S3 signs that, not Go's decoded URL.Path.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" || p == "*" {
		p = r.URL.EscapedPath()
	} else {
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		// Absolute form ("http://host/path"), as a proxy-style client sends.
		if !strings.HasPrefix(p, "/") {
			if i := strings.Index(p, "://"); i >= 0 {
				rest := p[i+3:]
				if j := strings.IndexByte(rest, '/'); j >= 0 {
					p = rest[j:]
				} else {
					p = ""
				}
			}
		}
	}
	if p == "" {
		return "/"
	}
	return p
}

// rawQuery is the query as sent, for the same reason as rawPath.
func rawQuery(r *http.Request) string {
	if r.RequestURI != "" {
		if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 {
			return r.RequestURI[i+1:]
		}
		return ""
	}
	return r.URL.RawQuery
}

// canonicalURI: S3 signs the path as sent; every other service encodes each
// segment once more (so "%20" is signed as "%2520").
func canonicalURI(r *http.Request, service string) string {
	p := rawPath(r)
	if service == "s3" {
		return p
	}
	return uriEncode(p, false)
}

type queryParam struct{ key, value string }

// canonicalQuery decodes every pair, re-encodes it the SigV4 way (RFC 3986
// unreserved set, %20 for space) and sorts by encoded key, then value.
// With skipSignature the X-Amz-Signature pair of a presigned URL is left
// out, as the signer never saw it.
func canonicalQuery(raw string, skipSignature bool) string {
	if raw == "" {
		return ""
	}
	params := make([]queryParam, 0, strings.Count(raw, "&")+1)
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if skipSignature && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, queryParam{uriEncode(k, true), uriEncode(v, true)})
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].key != params[j].key {
			return params[i].key < params[j].key
		}
		return params[i].value < params[j].value
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// queryUnescape decodes like a form ("+" is a space, as Go's and the SDKs'
// encoders produce); an invalid escape is kept literally so the signature
// simply fails to match instead of the request being dropped silently.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

const upperHex = "0123456789ABCDEF"

// uriEncode percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ (and "/"
// unless encodeSlash), upper-case hex, as the SigV4 spec's UriEncode.
func uriEncode(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], encodeSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, encodeSlash) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte, encodeSlash bool) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '_', c == '.', c == '~':
		return true
	case c == '/':
		return !encodeSlash
	}
	return false
}

// headerValues returns what the client had in a signed header. Go's server
// moves Host and Transfer-Encoding out of r.Header, so those come back from
// the request fields.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		return []string{r.URL.Host}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}
		}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v
		}
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	}
	if v, ok := r.Header[name]; ok { // a non-canonical key a client sent verbatim
		return v
	}
	return r.Header.Values(name)
}

// canonicalHeaders writes "name:value\n" for each signed header in the
// order given: values trimmed, runs of spaces collapsed, repeated headers
// joined with ",".
func canonicalHeaders(b *strings.Builder, r *http.Request, signed []string) {
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeTrimmed(b, v)
		}
		b.WriteByte('\n')
	}
}

func writeTrimmed(b *strings.Builder, v string) {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(c)
	}
}

func canonicalRequest(r *http.Request, a *auth, payloadHash string) string {
	var b strings.Builder
	b.Grow(512)
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, a.service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(rawQuery(r), a.presigned))
	b.WriteByte('\n')
	canonicalHeaders(&b, r, a.signedHeaders)
	b.WriteByte('\n')
	b.WriteString(a.signedHeadersRaw)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// signingKey derives HMAC("AWS4"+secret, date) -> region -> service -> "aws4_request".
func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

func stringToSign(prefix, amzDate, scope string, lines ...string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('\n')
	b.WriteString(amzDate)
	b.WriteByte('\n')
	b.WriteString(scope)
	for _, l := range lines {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	return b.String()
}
