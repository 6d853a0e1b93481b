package sigv4

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/ssokeep/ssokeep/internal/sigv4/checksum"
)

// chunkedUpload signs an aws-chunked PUT with the SDK: SignHTTP makes the
// seed signature, v4.NewStreamSigner the chunk signatures (S3's chunk
// string-to-sign is the event-stream one with empty headers).
func chunkedUpload(t testing.TB, data []byte, chunk int, at time.Time, token string) (wire []byte, chunkStarts []int) {
	t.Helper()
	var sizes []int
	for off := 0; off < len(data); off += chunk {
		sizes = append(sizes, min(chunk, len(data)-off))
	}
	encodedLen := 0
	for _, n := range append(sizes, 0) {
		encodedLen += len(strconv.FormatInt(int64(n), 16)) + len(";chunk-signature=") + 64 + 2 + n + 2
	}
	req, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/chunked%20key", nil)
	req.ContentLength = int64(encodedLen)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	creds := aws.Credentials{AccessKeyID: propKeyID, SecretAccessKey: propSecret, SessionToken: token}
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		SignHTTP(context.Background(), creds, req, StreamingPayload, "s3", "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	seed, err := v4.GetSignedRequestSignature(req)
	if err != nil {
		t.Fatal(err)
	}
	ss := v4.NewStreamSigner(creds, "s3", "eu-west-1", seed)
	var body bytes.Buffer
	off := 0
	for _, n := range append(sizes, 0) {
		sig, err := ss.GetSignature(context.Background(), nil, data[off:off+n], at)
		if err != nil {
			t.Fatal(err)
		}
		chunkStarts = append(chunkStarts, off)
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", n, hex.EncodeToString(sig))
		body.Write(data[off : off+n])
		body.WriteString("\r\n")
		off += n
	}
	if body.Len() != encodedLen {
		t.Fatalf("encoded %d bytes, announced %d", body.Len(), encodedLen)
	}
	req.Body = io.NopCloser(&body)
	var out bytes.Buffer
	if err := req.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), chunkStarts
}

func TestPropertyChunkSignaturesAgainstStreamSigner(t *testing.T) {
	rng := rand.New(rand.NewPCG(propSeed(t), 11))
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	v := propVerifier(Secret{SecretAccessKey: propSecret, SessionToken: propToken}, at)
	for i := range 40 {
		data := make([]byte, rng.IntN(200_000))
		for j := range data {
			data[j] = byte(rng.IntN(256))
		}
		chunk := []int{8192, 65536, 1 << 20, 1 + rng.IntN(20000)}[rng.IntN(4)]
		wire, starts := chunkedUpload(t, data, chunk, at, propToken)

		r := wireRequest(t, string(wire))
		got, res, err := verifyAndRead(v, r)
		if err != nil {
			t.Fatalf("case %d (%d bytes, chunk %d): %v", i, len(data), chunk, err)
		}
		if !bytes.Equal(got, data) || res.PayloadHash != StreamingPayload || r.ContentLength != int64(len(data)) {
			t.Fatalf("case %d: decoded %d of %d bytes, payload %q", i, len(got), len(data), res.PayloadHash)
		}
		if len(data) == 0 {
			continue
		}
		// Flip one data byte: reading fails with SignatureDoesNotMatch and
		// nothing of that chunk (or later) was handed out.
		pos := rng.IntN(len(data))
		hdrEnd := bytes.Index(wire, []byte("\r\n\r\n")) + 4
		bad := append([]byte(nil), wire...)
		bad[hdrEnd+encodedOffset(data, chunk, pos)] ^= 0x01
		r = wireRequest(t, string(bad))
		got, _, err = verifyAndRead(v, r)
		wantCode(t, err, CodeSignatureDoesNotMatch)
		chunkStart := 0
		for _, s := range starts {
			if s <= pos {
				chunkStart = s
			}
		}
		if len(got) != chunkStart || !bytes.Equal(got, data[:chunkStart]) {
			t.Fatalf("case %d: delivered %d bytes, the tampered chunk starts at %d", i, len(got), chunkStart)
		}
	}
}

// encodedOffset maps a data offset to its offset in the aws-chunked body.
func encodedOffset(data []byte, chunk, pos int) int {
	enc := 0
	for off := 0; off < len(data); off += chunk {
		n := min(chunk, len(data)-off)
		head := len(strconv.FormatInt(int64(n), 16)) + len(";chunk-signature=") + 64 + 2
		if pos < off+n {
			return enc + head + pos - off
		}
		enc += head + n + 2
	}
	panic("offset outside data")
}

// unsignedTrailerUpload builds a STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT the
// way the Go SDK and botocore frame it over HTTPS.
func unsignedTrailerUpload(t testing.TB, data []byte, chunk int, alg, trailerValue string, at time.Time) []byte {
	t.Helper()
	name := checksum.HeaderName(alg)
	var body bytes.Buffer
	for off := 0; off < len(data); off += chunk {
		n := min(chunk, len(data)-off)
		fmt.Fprintf(&body, "%x\r\n", n)
		body.Write(data[off : off+n])
		body.WriteString("\r\n")
	}
	body.WriteString("0\r\n")
	if trailerValue != "" {
		body.WriteString(name + ":" + trailerValue + "\r\n")
	}
	body.WriteString("\r\n")
	req, _ := http.NewRequest("PUT", "http://127.0.0.1:9000/bucket/key", bytes.NewReader(body.Bytes()))
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Trailer", name)
	req.Header.Set("X-Amz-Sdk-Checksum-Algorithm", alg)
	req.Header.Set("X-Amz-Content-Sha256", StreamingUnsignedPayloadTrailer)
	creds := aws.Credentials{AccessKeyID: propKeyID, SecretAccessKey: propSecret, SessionToken: propToken}
	if err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).
		SignHTTP(context.Background(), creds, req, StreamingUnsignedPayloadTrailer, "s3", "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := req.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestUnsignedPayloadTrailer(t *testing.T) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	v := propVerifier(Secret{SecretAccessKey: propSecret, SessionToken: propToken}, at)
	data := bytes.Repeat([]byte("0123456789abcdef"), 9000)
	for _, alg := range checksum.Algorithms {
		t.Run(alg, func(t *testing.T) {
			sum, _ := checksum.Sum(alg, data)
			r := wireRequest(t, string(unsignedTrailerUpload(t, data, 65536, alg, sum, at)))
			got, res, err := verifyAndRead(v, r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes: %v", len(got), err)
			}
			if res.PayloadHash != StreamingUnsignedPayloadTrailer || r.Trailer.Get(checksum.HeaderName(alg)) != sum {
				t.Fatalf("payload %q trailer %v", res.PayloadHash, r.Trailer)
			}

			other, _ := checksum.Sum(alg, append([]byte("x"), data...))
			r = wireRequest(t, string(unsignedTrailerUpload(t, data, 65536, alg, other, at)))
			_, _, err = verifyAndRead(v, r)
			wantCode(t, err, CodeBadDigest)

			r = wireRequest(t, string(unsignedTrailerUpload(t, data, 65536, alg, "", at)))
			_, _, err = verifyAndRead(v, r)
			wantCode(t, err, CodeMalformedTrailer)
		})
	}
	t.Run("data changed in flight", func(t *testing.T) {
		sum, _ := checksum.Sum("CRC32", data)
		wire := unsignedTrailerUpload(t, data, 10000, "CRC32", sum, at)
		i := bytes.LastIndex(wire, []byte("0123456789"))
		wire[i] = 'X'
		_, _, err := verifyAndRead(v, wireRequest(t, string(wire)))
		wantCode(t, err, CodeBadDigest)
	})
	t.Run("chunk size lies", func(t *testing.T) {
		sum, _ := checksum.Sum("CRC32", data)
		wire := unsignedTrailerUpload(t, data, 10000, "CRC32", sum, at)
		wire = bytes.Replace(wire, []byte("\r\n2710\r\n"), []byte("\r\n2711\r\n"), 1)
		_, _, err := verifyAndRead(v, wireRequest(t, string(wire)))
		wantCode(t, err, CodeInvalidChunkSize)
	})
}
