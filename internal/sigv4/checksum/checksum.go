// Package checksum knows the flexible checksums S3 accepts on uploads
// (x-amz-checksum-<algorithm>, in a header or an aws-chunked trailer) and
// how S3 combines part checksums into a multipart object's checksum.
// The SigV4 verifier uses it for trailers and the S3 emulator for headers,
// so both agree on names and encodings.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"strconv"
	"strings"
	"sync"
)

// HeaderPrefix starts every checksum header and trailer name.
const HeaderPrefix = "x-amz-checksum-"

// crc64NVMEReversed is the bit-reversed CRC-64/NVME polynomial, the form
// hash/crc64 expects; S3 calls the algorithm CRC64NVME.
const crc64NVMEReversed = 0x9a6c9329ac4bc9b5

// The tables are built on first use: every ssokeep start pays for package
// initialisation, and only the emulator checksums anything.
var (
	castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })
	nvme       = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64NVMEReversed) })
)

// Algorithms lists the names S3 uses (x-amz-sdk-checksum-algorithm,
// x-amz-checksum-algorithm) that this package can compute.
var Algorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "MD5"}

// New returns a fresh hash for an S3 algorithm name (any case), or false
// when the algorithm is unknown.
func New(algorithm string) (hash.Hash, bool) {
	switch strings.ToUpper(algorithm) {
	case "CRC32":
		return crc32.NewIEEE(), true
	case "CRC32C":
		return crc32.New(castagnoli()), true
	case "CRC64NVME":
		return crc64.New(nvme()), true
	case "SHA1":
		return sha1.New(), true
	case "SHA256":
		return sha256.New(), true
	case "SHA512":
		return sha512.New(), true
	case "MD5":
		return md5.New(), true
	}
	return nil, false
}

// Known reports whether algorithm is one New can compute.
func Known(algorithm string) bool {
	_, ok := New(algorithm)
	return ok
}

// HeaderName is the lower-case header (or trailer) that carries a checksum
// of the given algorithm: "CRC32" -> "x-amz-checksum-crc32".
func HeaderName(algorithm string) string {
	return HeaderPrefix + strings.ToLower(algorithm)
}

// AlgorithmOf returns the upper-case algorithm named by a checksum header or
// trailer name ("X-Amz-Checksum-Crc32c" -> "CRC32C"), or "" when name is not
// a checksum header. x-amz-checksum-algorithm, -mode and -type are not
// checksums and give "".
func AlgorithmOf(name string) string {
	lower := strings.ToLower(strings.TrimSpace(name))
	if !strings.HasPrefix(lower, HeaderPrefix) {
		return ""
	}
	alg := strings.ToUpper(lower[len(HeaderPrefix):])
	switch alg {
	case "", "ALGORITHM", "MODE", "TYPE":
		return ""
	}
	return alg
}

// Sum returns the base64 checksum of data, the form S3 puts in headers.
func Sum(algorithm string, data []byte) (string, bool) {
	h, ok := New(algorithm)
	if !ok {
		return "", false
	}
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), true
}

// Composite combines part checksums the way S3 does for a COMPOSITE
// multipart checksum: the checksum of the concatenated raw part checksums,
// base64, then "-<number of parts>". It returns false when a part value is
// not valid base64 or the algorithm is unknown.
func Composite(algorithm string, parts []string) (string, bool) {
	h, ok := New(algorithm)
	if !ok {
		return "", false
	}
	for _, p := range parts {
		raw, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return "", false
		}
		h.Write(raw)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)), true
}

// FullObjectCapable reports whether S3 allows a FULL_OBJECT checksum type
// for a multipart upload with this algorithm (only the CRCs combine).
func FullObjectCapable(algorithm string) bool {
	switch strings.ToUpper(algorithm) {
	case "CRC32", "CRC32C", "CRC64NVME":
		return true
	}
	return false
}
