// Package sigv4 verifies AWS Signature Version 4 requests the way AWS
// services do: it rebuilds the canonical request from the client's own
// SignedHeaders (so it accepts whatever a real client chose to sign),
// checks the credential's key, session token and expiry against a
// KeyStore, and for S3 makes the request body deliver the verified,
// decoded payload (plain, hashed, or aws-chunked with chunk signatures or
// trailing checksums).
package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Secret is what the key store knows about one access key.
type Secret struct {
	SecretAccessKey string
	SessionToken    string    // "" for long-term keys: then a request must not carry a token
	Expires         time.Time // zero: never
}

// KeyStore looks up access keys; the emulator's credential registry
// implements it.
type KeyStore interface {
	LookupKey(accessKeyID string) (Secret, bool)
}

// Verifier checks SigV4 signatures against Keys.
type Verifier struct {
	Keys    KeyStore
	Now     func() time.Time // nil: time.Now
	MaxSkew time.Duration    // 0: 15 min
}

// Result describes an authenticated request.
type Result struct {
	AccessKeyID, Region, Service string
	Presigned                    bool
	Secret                       Secret
	// PayloadHash is the payload line the client signed: a hex SHA-256,
	// UNSIGNED-PAYLOAD or one of the STREAMING-* modes (never secret).
	PayloadHash string
	// SignedHeaders are the header names the client signed, lower case.
	SignedHeaders []string
}

// Payload hash values S3 accepts in x-amz-content-sha256 besides a hex hash.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	algorithm      = "AWS4-HMAC-SHA256"
	emptySHA256    = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	amzDateLayout  = "20060102T150405Z"
	scopeDayLayout = "20060102"
	maxPresign     = 7 * 24 * time.Hour
	// maxHashedBody bounds the bodies Verify reads itself to hash them
	// (form-encoded STS calls are a few hundred bytes).
	maxHashedBody = 8 << 20
)

// auth is what the Authorization header or the presigned query says.
type auth struct {
	presigned        bool
	accessKeyID      string
	day              string // scope date, yyyymmdd
	region, service  string
	signedHeadersRaw string
	signedHeaders    []string
	signature        []byte // decoded
	amzDate          string
	date             time.Time
	expires          time.Duration // presigned only
	token            string
	hasToken         bool
	contentSHA256    string // presigned: X-Amz-Content-Sha256 from the query
}

func (a *auth) scope() string {
	return a.day + "/" + a.region + "/" + a.service + "/aws4_request"
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return 15 * time.Minute
}

// Verify authenticates r. For S3 it also makes r.Body deliver the decoded
// payload:
//   - a hex x-amz-content-sha256 is checked against the body as it is read;
//     on a mismatch the final Read returns an *Error instead of io.EOF, so a
//     handler that acts only after reading to EOF never acts on bad data;
//   - aws-chunked bodies are decoded; each signed chunk is verified before
//     any of its bytes are returned, a trailing checksum is verified before
//     EOF, and the verified trailers are put in r.Trailer;
//   - r.ContentLength, Content-Length, Content-Encoding and
//     x-amz-decoded-content-length are fixed so a store sees a plain body
//     (x-amz-content-sha256 becomes UNSIGNED-PAYLOAD; Result.PayloadHash
//     keeps what the client sent).
//
// Body reads fail with an *Error (IncompleteBody, XAmzContentSHA256Mismatch,
// SignatureDoesNotMatch, BadDigest, ...) that a handler should return as is.
func (v *Verifier) Verify(r *http.Request) (*Result, error) {
	a, err := parseAuth(r)
	if err != nil {
		return nil, err
	}
	if v.Keys == nil {
		return nil, newError(CodeInvalidAccessKeyID, http.StatusForbidden,
			"The AWS Access Key Id you provided does not exist in our records.")
	}
	secret, ok := v.Keys.LookupKey(a.accessKeyID)
	if !ok {
		return nil, newError(CodeInvalidAccessKeyID, http.StatusForbidden,
			"The AWS Access Key Id you provided does not exist in our records.")
	}
	if err := checkToken(a, secret); err != nil {
		return nil, err
	}
	now := v.now()
	if !secret.Expires.IsZero() && !now.Before(secret.Expires) {
		return nil, newError(CodeExpiredToken, http.StatusBadRequest, "The provided token has expired.")
	}
	if err := v.checkTime(a, now); err != nil {
		return nil, err
	}

	payloadHash, err := payloadHashFor(r, a)
	if err != nil {
		return nil, err
	}
	key := signingKey(secret.SecretAccessKey, a.day, a.region, a.service)
	creq := canonicalRequest(r, a, payloadHash)
	sts := stringToSign(algorithm, a.amzDate, a.scope(), sha256Hex([]byte(creq)))
	if !hmac.Equal(hmacSHA256(key, sts), a.signature) {
		return nil, errSignature()
	}

	if err := prepareBody(r, a, payloadHash, key); err != nil {
		return nil, err
	}
	return &Result{
		AccessKeyID:   a.accessKeyID,
		Region:        a.region,
		Service:       a.service,
		Presigned:     a.presigned,
		Secret:        secret,
		PayloadHash:   payloadHash,
		SignedHeaders: a.signedHeaders,
	}, nil
}

func checkToken(a *auth, s Secret) error {
	invalid := newError(CodeInvalidToken, http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	if s.SessionToken == "" {
		if a.hasToken && a.token != "" {
			return invalid
		}
		return nil
	}
	if !a.hasToken || subtle.ConstantTimeCompare([]byte(a.token), []byte(s.SessionToken)) != 1 {
		return invalid
	}
	return nil
}

func (v *Verifier) checkTime(a *auth, now time.Time) error {
	if a.date.Format(scopeDayLayout) != a.day {
		return errMalformed(a.presigned, "Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	skew := v.maxSkew()
	if a.presigned {
		if now.After(a.date.Add(a.expires)) {
			return newError(CodeAccessDenied, http.StatusForbidden, "Request has expired")
		}
		if a.date.Sub(now) > skew {
			return newError(CodeAccessDenied, http.StatusForbidden, "Request is not valid yet")
		}
		return nil
	}
	if d := now.Sub(a.date); d > skew || d < -skew {
		return newError(CodeRequestTimeTooSkewed, http.StatusForbidden,
			"The difference between the request time and the current time is too large.")
	}
	return nil
}

func parseAuth(r *http.Request) (*auth, error) {
	header := r.Header.Get("Authorization")
	keys := queryKeys(rawQuery(r))
	queryAuth := keys["X-Amz-Algorithm"] || keys["X-Amz-Signature"] || keys["X-Amz-Credential"]
	switch {
	case header != "" && queryAuth:
		return nil, newError(CodeInvalidArgument, http.StatusBadRequest, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case header != "":
		return parseHeaderAuth(r, header)
	case queryAuth:
		return parseQueryAuth(r)
	case keys["AWSAccessKeyId"] && keys["Signature"]:
		// botocore presigns with SigV2 against a custom endpoint unless
		// the client is configured with signature_version="s3v4".
		return nil, errSigV2("a Signature Version 2 presigned URL (AWSAccessKeyId, Signature, Expires)")
	}
	return nil, newError(CodeAccessDenied, http.StatusForbidden, "Access Denied: the request is not signed (no Authorization header or X-Amz-Signature query).")
}

// queryKeys is the set of decoded query parameter names.
func queryKeys(raw string) map[string]bool {
	keys := map[string]bool{}
	for pair := range strings.SplitSeq(raw, "&") {
		if k, _, _ := strings.Cut(pair, "="); k != "" {
			keys[queryUnescape(k)] = true
		}
	}
	return keys
}

func parseHeaderAuth(r *http.Request, header string) (*auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	if alg == "AWS" {
		return nil, errSigV2("a Signature Version 2 Authorization header")
	}
	if alg != algorithm {
		return nil, errMalformed(false, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	}
	a := &auth{}
	parts := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, errMalformed(false, "The authorization header is malformed; each component must be name=value.")
		}
		switch k {
		case "Credential", "SignedHeaders", "Signature":
		default:
			return nil, errMalformed(false, "The authorization header is malformed; unexpected component "+strconv.Quote(trunc(k))+".")
		}
		if _, dup := parts[k]; dup {
			return nil, errMalformed(false, "The authorization header is malformed; "+k+" is repeated.")
		}
		parts[k] = val
	}
	if len(parts) != 3 {
		return nil, errMalformed(false, "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.")
	}
	if err := a.setCredential(parts["Credential"]); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(parts["SignedHeaders"]); err != nil {
		return nil, err
	}
	if err := a.setSignature(parts["Signature"]); err != nil {
		return nil, err
	}
	d := r.Header.Get("X-Amz-Date")
	if d == "" {
		return nil, newError(CodeAccessDenied, http.StatusForbidden, "AWS authentication requires a valid Date or x-amz-date header")
	}
	t, err := time.Parse(amzDateLayout, d)
	if err != nil {
		return nil, newError(CodeAccessDenied, http.StatusForbidden, "AWS authentication requires a valid Date or x-amz-date header")
	}
	a.amzDate, a.date = d, t
	if v, ok := r.Header["X-Amz-Security-Token"]; ok {
		a.token, a.hasToken = strings.Join(v, ","), true
	}
	return a, nil
}

func parseQueryAuth(r *http.Request) (*auth, error) {
	a := &auth{presigned: true}
	vals := map[string]string{}
	for pair := range strings.SplitSeq(rawQuery(r), "&") {
		k, v, _ := strings.Cut(pair, "=")
		k = queryUnescape(k)
		if !strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		if _, dup := vals[k]; dup {
			return nil, errMalformed(true, "Query-string authentication parameter "+trunc(k)+" is repeated.")
		}
		vals[k] = queryUnescape(v)
	}
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if _, ok := vals[k]; !ok {
			return nil, errMalformed(true, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
		}
	}
	if vals["X-Amz-Algorithm"] != algorithm {
		return nil, errMalformed(true, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
	}
	if err := a.setCredential(vals["X-Amz-Credential"]); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(vals["X-Amz-SignedHeaders"]); err != nil {
		return nil, err
	}
	if err := a.setSignature(vals["X-Amz-Signature"]); err != nil {
		return nil, err
	}
	t, err := time.Parse(amzDateLayout, vals["X-Amz-Date"])
	if err != nil {
		return nil, errMalformed(true, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	a.amzDate, a.date = vals["X-Amz-Date"], t
	secs, err := strconv.ParseInt(vals["X-Amz-Expires"], 10, 64)
	if err != nil || secs < 0 {
		return nil, errMalformed(true, "X-Amz-Expires should be a number")
	}
	if secs < 1 || time.Duration(secs)*time.Second > maxPresign {
		return nil, errMalformed(true, "X-Amz-Expires must be between 1 and 604800 seconds")
	}
	a.expires = time.Duration(secs) * time.Second
	a.token, a.hasToken = vals["X-Amz-Security-Token"]
	a.contentSHA256 = vals["X-Amz-Content-Sha256"]
	return a, nil
}

func (a *auth) setCredential(cred string) error {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return errMalformed(a.presigned, "The credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	if parts[4] != "aws4_request" {
		return errMalformed(a.presigned, "The credential is malformed; incorrect terminal \"aws4_request\".")
	}
	if _, err := time.Parse(scopeDayLayout, parts[1]); err != nil || len(parts[1]) != 8 {
		return errMalformed(a.presigned, "The credential is malformed; the scope date must be YYYYMMDD.")
	}
	a.accessKeyID, a.day, a.region, a.service = parts[0], parts[1], parts[2], parts[3]
	return nil
}

func (a *auth) setSignedHeaders(s string) error {
	if s == "" {
		return errMalformed(a.presigned, "SignedHeaders is empty; at least host must be signed.")
	}
	names := strings.Split(s, ";")
	host := false
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) {
			return errMalformed(a.presigned, "SignedHeaders must be lower-case header names separated by ';'.")
		}
		if n == "host" {
			host = true
		}
	}
	if !host {
		return errMalformed(a.presigned, "SignedHeaders must include host.")
	}
	a.signedHeadersRaw, a.signedHeaders = s, names
	return nil
}

func (a *auth) setSignature(s string) error {
	sig, err := hex.DecodeString(s)
	if err != nil || len(sig) != 32 {
		return errMalformed(a.presigned, "Signature must be 64 hexadecimal characters.")
	}
	a.signature = sig
	return nil
}

// payloadHashFor is the last line of the canonical request. S3 clients
// state it in x-amz-content-sha256 (S3 requires that header on header
// auth); other services sign the body's hash, so Verify reads the body,
// hashes it and puts it back.
func payloadHashFor(r *http.Request, a *auth) (string, error) {
	if a.presigned {
		if a.contentSHA256 != "" {
			return a.contentSHA256, nil
		}
		if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" && a.signs("x-amz-content-sha256") {
			return v, nil
		}
		if a.service == "s3" {
			return UnsignedPayload, nil
		}
		return hashBody(r)
	}
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		return v, nil
	}
	if a.service == "s3" {
		return "", newError(CodeInvalidRequest, http.StatusBadRequest, "Missing required header for this request: x-amz-content-sha256")
	}
	return hashBody(r)
}

func (a *auth) signs(name string) bool {
	for _, n := range a.signedHeaders {
		if n == name {
			return true
		}
	}
	return false
}

func hashBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxHashedBody+1))
	if err != nil {
		return "", errIncomplete("The request body could not be read: " + err.Error())
	}
	if len(b) > maxHashedBody {
		return "", newError(CodeMaxMessageLengthError, http.StatusBadRequest, "The request body is larger than the 8 MiB this service reads to verify its hash; send x-amz-content-sha256.")
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return sha256Hex(b), nil
}

// trunc keeps client-supplied text short in error messages.
func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
