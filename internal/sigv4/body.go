package sigv4

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/ssokeep/ssokeep/internal/sigv4/checksum"
)

const (
	// maxSignedChunk bounds the memory one signed chunk may take: its bytes
	// are held until the chunk signature is checked. Clients use 8 KiB to
	// 1 MiB.
	maxSignedChunk = 64 << 20
	maxChunkLine   = 4096
)

// prepareBody arranges for r.Body to deliver the payload the client signed,
// verified. See Verify.
func prepareBody(r *http.Request, a *auth, payloadHash string, key []byte) error {
	switch payloadHash {
	case UnsignedPayload:
		return nil
	case StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer:
		if a.presigned {
			return newError(CodeInvalidRequest, http.StatusBadRequest, "A presigned request cannot use a streaming (aws-chunked) payload.")
		}
		return prepareChunked(r, a, payloadHash, key)
	}
	want, err := hex.DecodeString(payloadHash)
	if err != nil || len(want) != sha256.Size {
		if a.service == "s3" {
			return newError(CodeInvalidArgument, http.StatusBadRequest,
				"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.")
		}
		return nil // another service signed something we do not interpret; the signature held
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		if !strings.EqualFold(payloadHash, emptySHA256) {
			return errHashMismatch()
		}
		return nil
	}
	r.Body = &hashReader{body: r.Body, h: sha256.New(), want: want}
	return nil
}

func errHashMismatch() *Error {
	return newError(CodeContentSHA256Mismatch, http.StatusBadRequest,
		"The provided 'x-amz-content-sha256' header does not match what was computed.")
}

// hashReader passes the body through and, at its end, compares its SHA-256
// with the signed one; on a mismatch the last Read returns the error
// instead of io.EOF.
type hashReader struct {
	body io.ReadCloser
	h    hash.Hash
	want []byte
	err  error
}

func (r *hashReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	r.h.Write(p[:n])
	switch {
	case err == io.EOF:
		if !bytes.Equal(r.h.Sum(nil), r.want) {
			err = errHashMismatch()
		}
		r.err = err
	case err != nil:
		err = readError(err)
		r.err = err
	}
	return n, err
}

func (r *hashReader) Close() error { return r.body.Close() }

// readError turns a truncated body into S3's IncompleteBody.
func readError(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errIncomplete("You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	return errIncomplete("The request body could not be read: " + err.Error())
}

func prepareChunked(r *http.Request, a *auth, mode string, key []byte) error {
	dl := r.Header.Get("X-Amz-Decoded-Content-Length")
	if dl == "" {
		return newError(CodeMissingContentLength, http.StatusLengthRequired,
			"An aws-chunked upload needs the x-amz-decoded-content-length header.")
	}
	decoded, err := strconv.ParseInt(dl, 10, 64)
	if err != nil || decoded < 0 {
		return newError(CodeInvalidArgument, http.StatusBadRequest, "x-amz-decoded-content-length must be a non-negative integer.")
	}
	c := &chunkReader{
		body:       r.Body,
		signed:     mode != StreamingUnsignedPayloadTrailer,
		trailer:    mode != StreamingPayload,
		key:        key,
		amzDate:    a.amzDate,
		scope:      a.scope(),
		prev:       hex.EncodeToString(a.signature),
		decodedLen: decoded,
		req:        r,
		sums:       map[string]hash.Hash{},
	}
	if r.Body == nil {
		c.body = http.NoBody
	}
	c.src = bufio.NewReaderSize(c.body, 64<<10)
	if c.trailer {
		for name := range strings.SplitSeq(r.Header.Get("X-Amz-Trailer"), ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			c.declared = append(c.declared, name)
			if alg := checksum.AlgorithmOf(name); alg != "" {
				h, ok := checksum.New(alg)
				if !ok {
					return newError(CodeInvalidRequest, http.StatusBadRequest, "The trailing checksum "+trunc(name)+" is not supported.")
				}
				c.sums[name] = h
			}
		}
	}
	r.Body = c
	r.ContentLength = decoded
	r.Header.Set("Content-Length", strconv.FormatInt(decoded, 10))
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	var enc []string
	for _, e := range r.Header.Values("Content-Encoding") {
		for tok := range strings.SplitSeq(e, ",") {
			if tok = strings.TrimSpace(tok); tok != "" && !strings.EqualFold(tok, "aws-chunked") {
				enc = append(enc, tok)
			}
		}
	}
	r.Header.Del("Content-Encoding")
	if len(enc) > 0 {
		r.Header.Set("Content-Encoding", strings.Join(enc, ","))
	}
	if len(c.declared) > 0 {
		r.Trailer = http.Header{}
		for _, n := range c.declared {
			r.Trailer[textproto.CanonicalMIMEHeaderKey(n)] = nil
		}
	}
	return nil
}

// chunkReader decodes an aws-chunked body:
//
//	<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//	[<trailer>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n]]\r\n
//
// Signed chunks are buffered and checked before their bytes are returned.
// Unsigned chunks stream through; their trailing checksum is checked before
// EOF is returned.
type chunkReader struct {
	body    io.ReadCloser
	src     *bufio.Reader
	signed  bool
	trailer bool

	key            []byte
	amzDate, scope string
	prev           string // previous signature, hex

	decodedLen, total int64
	declared          []string // x-amz-trailer names, lower case
	sums              map[string]hash.Hash
	req               *http.Request

	buf       []byte // verified bytes of the current signed chunk
	off       int
	remaining int64 // unread bytes of the current unsigned chunk
	done      bool
	err       error
}

func (c *chunkReader) Close() error { return c.body.Close() }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if c.err != nil {
			return 0, c.err
		}
		if c.off < len(c.buf) {
			n := copy(p, c.buf[c.off:])
			c.off += n
			return n, nil
		}
		if c.remaining > 0 {
			return c.readUnsigned(p)
		}
		if c.done {
			return 0, io.EOF
		}
		if err := c.nextChunk(); err != nil {
			c.err = err
			return 0, err
		}
	}
}

func (c *chunkReader) readUnsigned(p []byte) (int, error) {
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.src.Read(p)
	c.remaining -= int64(n)
	c.hashData(p[:n])
	if c.remaining == 0 {
		if e := c.expectCRLF(); e != nil {
			c.err = e
			return n, e
		}
		return n, nil
	}
	if err != nil {
		c.err = readError(err)
		return n, c.err
	}
	return n, nil
}

func (c *chunkReader) hashData(b []byte) {
	for _, h := range c.sums {
		h.Write(b)
	}
}

func errChunk(msg string) *Error {
	return newError(CodeInvalidChunkSize, http.StatusBadRequest, msg)
}

// readLine returns one CRLF-terminated line without its terminator.
func (c *chunkReader) readLine() (string, error) {
	line, err := c.src.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) || len(line) > maxChunkLine {
		return "", errChunk("An aws-chunked line is longer than 4096 bytes.")
	}
	if err != nil {
		if err == io.EOF && len(line) == 0 {
			return "", io.EOF
		}
		return "", readError(err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r"), nil
}

func (c *chunkReader) expectCRLF() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.src, crlf[:]); err != nil {
		return readError(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errChunk("An aws-chunked chunk's data is not followed by CRLF; the chunk size is wrong.")
	}
	return nil
}

func (c *chunkReader) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return readError(err)
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 || len(sizeHex) > 16 {
		return errChunk("An aws-chunked chunk header has no valid hexadecimal size.")
	}
	if c.total+size > c.decodedLen {
		return errIncomplete("The aws-chunked body carries more data than x-amz-decoded-content-length says.")
	}
	var sig []byte
	if c.signed {
		name, val, _ := strings.Cut(strings.TrimSpace(ext), "=")
		if name != "chunk-signature" {
			return errChunk("A signed aws-chunked chunk has no chunk-signature.")
		}
		if sig, err = hex.DecodeString(val); err != nil || len(sig) != sha256.Size {
			return errChunk("A chunk-signature must be 64 hexadecimal characters.")
		}
		if size > maxSignedChunk {
			return errChunk("A signed aws-chunked chunk is larger than 64 MiB.")
		}
	}
	if size == 0 {
		return c.finish(sig)
	}
	if !c.signed {
		c.remaining = size
		c.total += size
		return nil
	}
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	c.buf, c.off = c.buf[:size], 0
	if _, err := io.ReadFull(c.src, c.buf); err != nil {
		c.buf = c.buf[:0]
		return readError(err)
	}
	if err := c.expectCRLF(); err != nil {
		c.buf = c.buf[:0]
		return err
	}
	if !c.checkChunk(sig, c.buf) {
		c.buf = c.buf[:0]
		return errSignature()
	}
	c.hashData(c.buf)
	c.total += size
	return nil
}

// checkChunk verifies a chunk signature: the previous signature chains the
// chunks, and the empty-string hash stands where event streams hash headers.
func (c *chunkReader) checkChunk(sig, data []byte) bool {
	want := hmacSHA256(c.key, stringToSign("AWS4-HMAC-SHA256-PAYLOAD", c.amzDate, c.scope,
		c.prev, emptySHA256, sha256Hex(data)))
	if !hmac.Equal(want, sig) {
		return false
	}
	c.prev = hex.EncodeToString(want)
	return true
}

// finish handles the zero-length chunk: its signature, the trailers and
// their signature, and the declared length and checksums.
func (c *chunkReader) finish(sig []byte) error {
	if c.signed && !c.checkChunk(sig, nil) {
		return errSignature()
	}
	if c.total != c.decodedLen {
		return errIncomplete("The aws-chunked body carries less data than x-amz-decoded-content-length says.")
	}
	var lines []string
	for {
		line, err := c.readLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if line == "" {
			// Some encoders put an empty line between the last chunk and
			// the trailers; only a blank line after trailers ends them.
			if len(lines) == 0 && len(c.declared) > 0 {
				continue
			}
			break
		}
		lines = append(lines, line)
	}
	if err := c.checkTrailers(lines); err != nil {
		return err
	}
	c.done = true
	return nil
}

func (c *chunkReader) checkTrailers(lines []string) error {
	got := map[string]string{}
	var canon strings.Builder
	var trailerSig string
	for _, l := range lines {
		name, val, ok := strings.Cut(l, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if !ok || name == "" {
			return newError(CodeMalformedTrailer, http.StatusBadRequest, "The request contained trailing data that was not well-formed.")
		}
		if name == "x-amz-trailer-signature" {
			trailerSig = val
			continue
		}
		if trailerSig != "" {
			return newError(CodeMalformedTrailer, http.StatusBadRequest, "x-amz-trailer-signature must be the last trailer.")
		}
		if !c.isDeclared(name) {
			return newError(CodeMalformedTrailer, http.StatusBadRequest, "The trailer "+strconv.Quote(trunc(name))+" was not declared in x-amz-trailer.")
		}
		got[name] = val
		canon.WriteString(name + ":" + val + "\n")
	}
	for _, n := range c.declared {
		if _, ok := got[n]; !ok {
			return newError(CodeMalformedTrailer, http.StatusBadRequest, "The trailer "+strconv.Quote(trunc(n))+" declared in x-amz-trailer was not sent.")
		}
	}
	if c.signed && c.trailer {
		sig, err := hex.DecodeString(trailerSig)
		if err != nil || len(sig) != sha256.Size {
			return newError(CodeMalformedTrailer, http.StatusBadRequest, "The signed trailers need an x-amz-trailer-signature of 64 hexadecimal characters.")
		}
		want := hmacSHA256(c.key, stringToSign("AWS4-HMAC-SHA256-TRAILER", c.amzDate, c.scope,
			c.prev, sha256Hex([]byte(canon.String()))))
		if !hmac.Equal(want, sig) {
			return errSignature()
		}
	} else if trailerSig != "" {
		return newError(CodeMalformedTrailer, http.StatusBadRequest, "x-amz-trailer-signature is only valid with STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.")
	}
	for name, h := range c.sums {
		if base64.StdEncoding.EncodeToString(h.Sum(nil)) != got[name] {
			return newError(CodeBadDigest, http.StatusBadRequest,
				"The "+checksum.AlgorithmOf(name)+" you specified did not match the calculated checksum.")
		}
	}
	for name, val := range got {
		c.req.Trailer[textproto.CanonicalMIMEHeaderKey(name)] = []string{val}
	}
	return nil
}

func (c *chunkReader) isDeclared(name string) bool {
	for _, n := range c.declared {
		if n == name {
			return true
		}
	}
	return false
}
