package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/sigv4/checksum"
)

// defaultChecksum is what S3 computes for uploads that name no checksum
// (since 2024 every new object gets a full-object CRC64NVME).
const defaultChecksum = "CRC64NVME"

// readBody reads the verified request body; a *sigv4.Error from the
// verifier's reader (bad hash, bad chunk signature, truncation) is returned
// as is, before anything is stored.
func (c *call) readBody() ([]byte, error) {
	if c.r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(c.r.Body)
}

// checkContentMD5 verifies Content-MD5 when the client sent one.
func checkContentMD5(h http.Header, data []byte) error {
	v, ok := h["Content-Md5"]
	if !ok {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.Join(v, ""))
	if err != nil || len(want) != md5.Size {
		return newErr(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified is not valid.")
	}
	got := md5.Sum(data)
	if !bytes.Equal(got[:], want) {
		return newErr(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	return nil
}

// uploadChecksum finds the flexible checksum the client sent, in a header
// or a trailer (already verified by sigv4, checked again here so a plain
// header gets the same treatment), and checks it against data. With none
// sent, it computes the algorithm the client named, or fallback.
func uploadChecksum(r *http.Request, data []byte, fallback string) (checksumValue, error) {
	type sent struct{ alg, value string }
	var got []sent
	collect := func(h http.Header) {
		for k, v := range h {
			if alg := checksum.AlgorithmOf(k); alg != "" && len(v) > 0 {
				got = append(got, sent{alg, strings.TrimSpace(v[0])})
			}
		}
	}
	collect(r.Header)
	collect(r.Trailer)
	named := strings.ToUpper(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"))
	if named == "" {
		named = strings.ToUpper(r.Header.Get("X-Amz-Checksum-Algorithm"))
	}
	switch len(got) {
	case 0:
		alg := named
		if alg == "" {
			alg = fallback
		}
		if alg == "" {
			return checksumValue{}, nil
		}
		v, ok := checksum.Sum(alg, data)
		if !ok {
			return checksumValue{}, errInvalidRequest("Checksum algorithm %q is not supported by this emulator; use one of %s.", truncate(alg), strings.Join(checksum.Algorithms, ", "))
		}
		return checksumValue{alg: alg, value: v, typ: "FULL_OBJECT"}, nil
	case 1:
	default:
		return checksumValue{}, errInvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
	}
	s := got[0]
	if named != "" && named != s.alg {
		return checksumValue{}, errInvalidRequest("Value for x-amz-sdk-checksum-algorithm header is invalid: it names %s but x-amz-checksum-%s was sent.", named, strings.ToLower(s.alg))
	}
	v, ok := checksum.Sum(s.alg, data)
	if !ok {
		return checksumValue{}, errInvalidRequest("Checksum algorithm %q is not supported by this emulator; use one of %s.", truncate(s.alg), strings.Join(checksum.Algorithms, ", "))
	}
	if v != s.value {
		if raw, err := base64.StdEncoding.DecodeString(s.value); err != nil || len(raw) != len(mustDecode(v)) {
			return checksumValue{}, errInvalidRequest("Value for x-amz-checksum-%s header is invalid.", strings.ToLower(s.alg))
		}
		return checksumValue{}, errBadDigest(s.alg)
	}
	return checksumValue{alg: s.alg, value: v, typ: "FULL_OBJECT"}, nil
}

func mustDecode(s string) []byte {
	b, _ := base64.StdEncoding.DecodeString(s)
	return b
}

func setChecksumHeaders(h http.Header, cv checksumValue) {
	if cv.alg == "" {
		return
	}
	h.Set(checksum.HeaderName(cv.alg), cv.value)
	h.Set("x-amz-checksum-type", cv.typ)
}

// checkPutConditions implements If-None-Match: * and If-Match on writes.
func checkPutConditions(h http.Header, existing *object) error {
	if v := h.Get("If-None-Match"); v != "" {
		if v == "*" && existing != nil {
			return errPreconditionFailed()
		}
	}
	if v := h.Get("If-Match"); v != "" {
		if existing == nil {
			return errNoSuchKey("", "")
		}
		if !etagMatches(v, existing.etag) {
			return errPreconditionFailed()
		}
	}
	return nil
}

func etagMatches(header, etag string) bool {
	for cand := range strings.SplitSeq(header, ",") {
		cand = strings.TrimSpace(cand)
		if cand == "*" || cand == etag || `"`+cand+`"` == etag {
			return true
		}
	}
	return false
}

func (c *call) putObject() error {
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	data, err := c.readBody()
	if err != nil {
		return err
	}
	if err := checkContentMD5(c.r.Header, data); err != nil {
		return err
	}
	cv, err := uploadChecksum(c.r, data, defaultChecksum)
	if err != nil {
		return err
	}
	etag, _ := quotedMD5(data)
	o := &object{key: c.key, data: data, etag: etag, lastModified: c.h.now().UTC().Truncate(time.Millisecond),
		header: metadataFrom(c.r.Header), checksum: cv}
	if err := c.h.st.put(c.bucket, o, c.r.Header); err != nil {
		return err
	}
	h := c.w.Header()
	h.Set("ETag", etag)
	setChecksumHeaders(h, cv)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// put stores o, checking write preconditions against what is there.
func (s *store) put(bucketName string, o *object, reqHeader http.Header) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return errNoSuchBucket(bucketName)
	}
	if err := checkPutConditions(reqHeader, b.objects[o.key]); err != nil {
		if se, ok := err.(*s3Error); ok && se.code == "NoSuchKey" {
			se.bucket, se.key = bucketName, o.key
		}
		return err
	}
	b.objects[o.key] = o
	return nil
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=...]",
// percent-encoded.
func copySource(v string) (bucket, key string, err error) {
	v, _, _ = strings.Cut(v, "?")
	dec, uerr := url.PathUnescape(v)
	if uerr != nil {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey, URL-encoded.")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if bucket == "" || key == "" {
		return "", "", errInvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey, URL-encoded.")
	}
	return bucket, key, nil
}

func (c *call) copyObject() error {
	sb, sk, err := copySource(c.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	src, serr := c.h.st.object(sb, sk)
	if serr != nil {
		return serr
	}
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	if v := c.r.Header.Get("X-Amz-Copy-Source-If-Match"); v != "" && !etagMatches(v, src.etag) {
		return errPreconditionFailed()
	}
	if v := c.r.Header.Get("X-Amz-Copy-Source-If-None-Match"); v != "" && etagMatches(v, src.etag) {
		return errPreconditionFailed()
	}
	directive := strings.ToUpper(c.r.Header.Get("X-Amz-Metadata-Directive"))
	if directive == "" {
		directive = "COPY"
	}
	if directive != "COPY" && directive != "REPLACE" {
		return errInvalidArgument("Unknown metadata directive %q; use COPY or REPLACE.", truncate(directive))
	}
	if sb == c.bucket && sk == c.key && directive == "COPY" {
		return errInvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	header := src.header
	if directive == "REPLACE" {
		header = metadataFrom(c.r.Header)
	}
	// The copy is a new single-part object: plain MD5 ETag, and a
	// full-object checksum (the one asked for, else the source's algorithm
	// recomputed over the whole object, else S3's default).
	alg := strings.ToUpper(c.r.Header.Get("X-Amz-Checksum-Algorithm"))
	if alg == "" {
		alg = src.checksum.alg
	}
	if alg == "" {
		alg = defaultChecksum
	}
	sum, ok := checksum.Sum(alg, src.data)
	if !ok {
		return errInvalidRequest("Checksum algorithm %q is not supported by this emulator.", truncate(alg))
	}
	etag, _ := quotedMD5(src.data)
	o := &object{key: c.key, data: src.data, etag: etag, lastModified: c.h.now().UTC().Truncate(time.Millisecond),
		header: header, checksum: checksumValue{alg: alg, value: sum, typ: "FULL_OBJECT"}}
	if err := c.h.st.put(c.bucket, o, http.Header{}); err != nil {
		return err
	}
	out := copyObjectResult{Xmlns: s3NS, LastModified: o.lastModified.Format(xmlTime), ETag: etag, ChecksumType: "FULL_OBJECT"}
	out.set(alg, sum)
	return c.writeXML(http.StatusOK, out)
}

var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

// getObject serves GetObject and HeadObject, whole, by Range or by
// partNumber.
func (c *call) getObject() error {
	o, err := c.h.st.object(c.bucket, c.key)
	if err != nil {
		return err
	}
	if err := checkGetConditions(c.r.Header, o); err != nil {
		return err
	}
	size := int64(len(o.data))
	start, end := int64(0), size-1 // inclusive
	partial := false
	cv := o.checksum
	h := c.w.Header()
	rangeHdr := c.r.Header.Get("Range")
	if pn := c.q.Get("partNumber"); pn != "" {
		if rangeHdr != "" {
			return errInvalidRequest("Cannot specify both Range header and partNumber query parameter.")
		}
		n, perr := strconv.Atoi(pn)
		if perr != nil || n < 1 || n > 10000 {
			return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
		}
		switch {
		case len(o.parts) > 0 && n <= len(o.parts):
			p := o.parts[n-1]
			start, end, cv = p.offset, p.offset+p.size-1, p.checksum
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(o.parts)))
		case len(o.parts) == 0 && n == 1:
			// A single-part object is its own part 1.
		default:
			e := newErr(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
			return e
		}
		partial = size > 0
	} else if rangeHdr != "" {
		s, e, ok, satisfiable := parseRange(rangeHdr, size)
		if ok && !satisfiable {
			err := newErr(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
			err.extraHeads = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(size, 10)}}
			return err
		}
		if ok {
			start, end, partial = s, e, true
			cv = checksumValue{} // a checksum covers the whole object, never a range
		}
	}

	for k, v := range o.header {
		h[k] = v
	}
	for q, hk := range responseOverrides {
		if v := c.q.Get(q); v != "" {
			h.Set(hk, v)
		}
	}
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", o.lastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	if strings.EqualFold(c.r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		setChecksumHeaders(h, cv)
	}
	length := end - start + 1
	if size == 0 {
		length = 0
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
	}
	c.w.WriteHeader(status)
	if c.r.Method == http.MethodHead || length == 0 {
		return nil
	}
	_, werr := c.w.Write(o.data[start : end+1])
	if werr != nil {
		c.h.log.Debug("s3 response write failed", "request_id", c.reqID, "err", werr)
	}
	return nil
}

// parseRange handles one "bytes=a-b", "bytes=a-" or "bytes=-n" range. ok is
// false for a header S3 ignores (bad syntax, several ranges).
func parseRange(v string, size int64) (start, end int64, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	switch {
	case a == "" && b == "":
		return 0, 0, false, false
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, false
		}
		if n == 0 || size == 0 {
			return 0, 0, true, false
		}
		return max(size-n, 0), size - 1, true, true
	default:
		s, err := strconv.ParseInt(a, 10, 64)
		if err != nil || s < 0 {
			return 0, 0, false, false
		}
		e := size - 1
		if b != "" {
			if e, err = strconv.ParseInt(b, 10, 64); err != nil || e < s {
				return 0, 0, false, false
			}
		}
		if s >= size {
			return 0, 0, true, false
		}
		return s, min(e, size-1), true, true
	}
}

func checkGetConditions(h http.Header, o *object) error {
	lm := o.lastModified.Truncate(time.Second)
	if v := h.Get("If-Match"); v != "" && !etagMatches(v, o.etag) {
		return errPreconditionFailed()
	}
	if v := h.Get("If-Unmodified-Since"); v != "" && h.Get("If-Match") == "" {
		if t, err := http.ParseTime(v); err == nil && lm.After(t) {
			return errPreconditionFailed()
		}
	}
	if v := h.Get("If-None-Match"); v != "" {
		if etagMatches(v, o.etag) {
			return errNotModified()
		}
	} else if v := h.Get("If-Modified-Since"); v != "" {
		if t, err := http.ParseTime(v); err == nil && !lm.After(t) {
			return errNotModified()
		}
	}
	return nil
}

func (c *call) deleteObject() error {
	st := c.h.st
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.buckets[c.bucket]
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	delete(b.objects, c.key)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *call) deleteObjects() error {
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	body, err := c.readBody()
	if err != nil {
		return err
	}
	// S3 insists on an integrity check for batch deletes.
	hasChecksum := c.r.Header.Get("Content-Md5") != ""
	for k := range c.r.Header {
		hasChecksum = hasChecksum || checksum.AlgorithmOf(k) != ""
	}
	for k := range c.r.Trailer {
		hasChecksum = hasChecksum || checksum.AlgorithmOf(k) != ""
	}
	if !hasChecksum {
		return errInvalidRequest("Missing required header for this request: Content-MD5 or x-amz-checksum-*")
	}
	if err := checkContentMD5(c.r.Header, body); err != nil {
		return err
	}
	if _, err := uploadChecksum(c.r, body, ""); err != nil {
		return err
	}
	var req deleteRequest
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML()
	}
	out := deleteResult{Xmlns: s3NS}
	st := c.h.st
	st.mu.Lock()
	b, ok := st.buckets[c.bucket]
	for _, o := range req.Objects {
		if !ok {
			break
		}
		delete(b.objects, o.Key)
		if !req.Quiet {
			out.Deleted = append(out.Deleted, deletedEntry{Key: o.Key})
		}
	}
	st.mu.Unlock()
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	return c.writeXML(http.StatusOK, out)
}
