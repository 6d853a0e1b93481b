// Package s3api is the emulator's S3 endpoint: path-style S3 served from
// memory, every request authenticated by a sigv4.Verifier whose KeyStore is
// the emulator's credential registry, so expired or revoked session
// credentials fail exactly as they do against AWS (ExpiredToken,
// InvalidToken, SignatureDoesNotMatch, ...).
//
// It implements what the SDKs' object paths use (boto3 and its transfer
// manager, the Go SDK and its transfermanager, Metaflow): buckets, objects
// with Range and partNumber GETs, listings v1 and v2, copy, batch delete and
// multipart uploads, with S3's ETags (MD5; multipart md5-of-md5s-N) and
// flexible checksums (verified on upload, returned on GET only when they
// are right for the bytes returned).
package s3api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ssokeep/ssokeep/internal/sigv4"
)

// Options configures the handler.
type Options struct {
	Now    func() time.Time // nil: time.Now; also used for Last-Modified
	Logger *slog.Logger     // nil: discard; one line per request, never a secret
}

type handler struct {
	v        *sigv4.Verifier
	now      func() time.Time
	log      *slog.Logger
	st       *store
	seq      atomic.Uint64
	idPrefix string
}

// New returns the S3 handler: every request verified by v (the emulator
// passes its credentials registry as v.Keys), then served from an in-memory
// store, with S3's XML errors (Code, Message, RequestId, Resource).
func New(v *sigv4.Verifier, opts Options) http.Handler {
	h := &handler{v: v, now: opts.Now, log: opts.Logger, st: newStore()}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	var p [4]byte
	rand.Read(p[:])
	h.idPrefix = strings.ToUpper(hex.EncodeToString(p[:]))
	return h
}

// call is one request in flight.
type call struct {
	h           *handler
	w           *recorder
	r           *http.Request
	bucket, key string
	q           url.Values
	reqID       string
	auth        *sigv4.Result
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	c := &call{h: h, w: &recorder{ResponseWriter: w}, r: r, q: r.URL.Query()}
	c.bucket, c.key = splitPath(r.URL.Path)
	c.reqID = h.idPrefix + strings.ToUpper(hex.EncodeToString(uint64Bytes(h.seq.Add(1))))
	hdr := w.Header()
	hdr.Set("x-amz-request-id", c.reqID)
	hdr.Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(c.reqID+c.reqID)))
	hdr.Set("Server", "AmazonS3")

	op := OperationName(r)
	err := c.serve(op)
	if err != nil {
		c.writeError(err)
	}
	attrs := []any{"op", op, "method", r.Method, "bucket", c.bucket, "key", c.key,
		"status", c.w.status, "bytes", c.w.bytes, "request_id", c.reqID, "took", time.Since(start).Round(time.Microsecond)}
	if c.auth != nil {
		attrs = append(attrs, "access_key_id", c.auth.AccessKeyID, "payload", payloadMode(c.auth))
	}
	if err != nil {
		attrs = append(attrs, "code", errorCode(err))
	}
	h.log.Info("s3 request", attrs...)
}

// payloadMode names how the client sent the body, for logs and tests: a
// hex hash is "sha256", the rest are S3's literal modes.
func payloadMode(a *sigv4.Result) string {
	if len(a.PayloadHash) == 64 && !strings.Contains(a.PayloadHash, "-") {
		return "sha256"
	}
	if a.Presigned {
		return "presigned:" + a.PayloadHash
	}
	return a.PayloadHash
}

func uint64Bytes(n uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(n)
		n >>= 8
	}
	return b
}

func (c *call) serve(op string) error {
	auth, err := c.h.v.Verify(c.r)
	if err != nil {
		return err
	}
	c.auth = auth
	if auth.Service != "s3" {
		return newErr(http.StatusBadRequest, "AuthorizationHeaderMalformed",
			"The authorization header is malformed; the credential scope names service '"+auth.Service+"', expected 's3'.")
	}
	fn, ok := operations[op]
	if !ok {
		return errNotImplemented(c.r.Method + " " + describeSubresources(c.q))
	}
	return fn(c)
}

// operations maps OperationName's names to their implementation.
var operations = map[string]func(*call) error{
	"ListBuckets":             (*call).listBuckets,
	"CreateBucket":            (*call).createBucket,
	"HeadBucket":              (*call).headBucket,
	"DeleteBucket":            (*call).deleteBucket,
	"GetBucketLocation":       (*call).getBucketLocation,
	"GetBucketVersioning":     (*call).getBucketVersioning,
	"ListObjects":             (*call).listObjectsV1,
	"ListObjectsV2":           (*call).listObjectsV2,
	"PutObject":               (*call).putObject,
	"CopyObject":              (*call).copyObject,
	"GetObject":               (*call).getObject,
	"HeadObject":              (*call).getObject,
	"DeleteObject":            (*call).deleteObject,
	"DeleteObjects":           (*call).deleteObjects,
	"CreateMultipartUpload":   (*call).createMultipartUpload,
	"UploadPart":              (*call).uploadPart,
	"CompleteMultipartUpload": (*call).completeMultipartUpload,
	"AbortMultipartUpload":    (*call).abortMultipartUpload,
	"ListParts":               (*call).listParts,
	"ListMultipartUploads":    (*call).listMultipartUploads,
}

// splitPath: path-style "/bucket/key..." (already percent-decoded by
// net/http, so "%2F" in a key is a "/" as S3 treats it).
func splitPath(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// unsupportedSubresources are query keys that select APIs this emulator
// does not serve; OperationName calls such requests "Unknown".
var unsupportedSubresources = []string{"acl", "tagging", "policy", "policyStatus", "cors", "lifecycle", "encryption",
	"website", "logging", "notification", "replication", "ownershipControls", "publicAccessBlock", "object-lock",
	"retention", "legal-hold", "torrent", "restore", "select", "attributes", "versions", "accelerate", "analytics",
	"inventory", "metrics", "intelligent-tiering", "requestPayment", "versionId", "renameObject", "session"}

func describeSubresources(q url.Values) string {
	var found []string
	for _, s := range unsupportedSubresources {
		if _, ok := q[s]; ok {
			found = append(found, "?"+s)
		}
	}
	if len(found) == 0 {
		return "this request"
	}
	return strings.Join(found, " ")
}

// OperationName classifies a request ("PutObject", "GetObject",
// "ListObjectsV2", "CreateMultipartUpload", ...) from its method, path and
// query alone, so the emulator can count requests and inject faults per
// operation without parsing S3 itself. Requests this endpoint does not
// serve are "Unknown".
func OperationName(r *http.Request) string {
	bucket, key := splitPath(r.URL.Path)
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	for _, s := range unsupportedSubresources {
		if has(s) {
			return "Unknown"
		}
	}
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
	case key == "":
		switch r.Method {
		case http.MethodGet:
			switch {
			case has("location"):
				return "GetBucketLocation"
			case has("versioning"):
				return "GetBucketVersioning"
			case has("uploads"):
				return "ListMultipartUploads"
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			default:
				return "ListObjects"
			}
		case http.MethodPut:
			if len(q) == 0 {
				return "CreateBucket"
			}
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodDelete:
			if len(q) == 0 {
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects"
			}
		}
	default:
		switch r.Method {
		case http.MethodGet:
			if has("uploadId") {
				return "ListParts"
			}
			return "GetObject"
		case http.MethodHead:
			return "HeadObject"
		case http.MethodPut:
			switch {
			case has("uploadId") && has("partNumber"):
				if copySource {
					return "UploadPartCopy"
				}
				return "UploadPart"
			case copySource:
				return "CopyObject"
			default:
				return "PutObject"
			}
		case http.MethodDelete:
			if has("uploadId") {
				return "AbortMultipartUpload"
			}
			return "DeleteObject"
		case http.MethodPost:
			switch {
			case has("uploads"):
				return "CreateMultipartUpload"
			case has("uploadId"):
				return "CompleteMultipartUpload"
			}
		}
	}
	return "Unknown"
}

func (c *call) writeXML(status int, v any) error {
	out, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("Content-Type", "application/xml")
	c.w.WriteHeader(status)
	if c.r.Method != http.MethodHead {
		io.WriteString(c.w, xml.Header)
		c.w.Write(out)
	}
	return nil
}

func errorCode(err error) string {
	var se *s3Error
	var ve *sigv4.Error
	switch {
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ve):
		return ve.Code
	}
	return "InternalError"
}

// writeError sends S3's XML error. Errors from reading a verified body
// (*sigv4.Error) keep their code: a bad chunk signature, a body that does
// not match x-amz-content-sha256, a truncated upload.
func (c *call) writeError(err error) {
	var se *s3Error
	var ve *sigv4.Error
	switch {
	case errors.As(err, &se):
	case errors.As(err, &ve):
		se = newErr(ve.Status, ve.Code, ve.Message)
	default:
		c.h.log.Error("s3 internal error", "request_id", c.reqID, "err", err)
		se = newErr(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	}
	h := c.w.Header()
	for k, v := range se.extraHeads {
		h[k] = v
	}
	// A failed request must not look like a success to a client reading
	// headers, so drop any entity headers an operation had set.
	for _, k := range []string{"ETag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		h.Del(k)
	}
	if c.r.Method == http.MethodHead || se.status == http.StatusNotModified {
		c.w.WriteHeader(se.status)
		return
	}
	resource := c.r.URL.Path
	body := errorBody{Code: se.code, Message: se.msg, BucketName: se.bucket, Key: se.key, UploadID: se.uploadID,
		Resource: resource, RequestID: c.reqID, HostID: base64.StdEncoding.EncodeToString([]byte(c.reqID))}
	out, _ := xml.Marshal(body)
	h.Set("Content-Type", "application/xml")
	h.Del("Content-Length")
	c.w.WriteHeader(se.status)
	io.WriteString(c.w, xml.Header)
	c.w.Write(out)
}
