package s3api

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// store is the in-memory S3: buckets, objects and multipart uploads.
// Objects are immutable once stored; a PUT replaces the pointer, so readers
// can serve an object after releasing the lock.
type store struct {
	mu      sync.RWMutex
	buckets map[string]*bucket
	uploads map[string]*upload // by upload ID
}

type bucket struct {
	name    string
	region  string // "" is us-east-1, as S3's LocationConstraint says
	created time.Time
	objects map[string]*object
}

// headers S3 stores with an object and returns on GET/HEAD.
var storedHeaders = []string{"Content-Type", "Content-Encoding", "Content-Disposition", "Content-Language", "Cache-Control", "Expires", "X-Amz-Website-Redirect-Location"}

type object struct {
	key          string
	data         []byte
	etag         string // quoted, as on the wire
	lastModified time.Time
	header       http.Header // storedHeaders and x-amz-meta-*
	checksum     checksumValue
	parts        []objectPart // set when the object came from a multipart upload
}

type objectPart struct {
	offset, size int64
	checksum     checksumValue
}

// checksumValue is an S3 flexible checksum: algorithm ("CRC32", ...),
// base64 value (with "-N" for composite ones) and type.
type checksumValue struct {
	alg, value, typ string
}

type upload struct {
	id, bucket, key string
	initiated       time.Time
	header          http.Header
	checksumAlg     string // "" when the client named none
	checksumType    string // COMPOSITE or FULL_OBJECT
	mu              sync.Mutex
	parts           map[int]*part
}

type part struct {
	number       int
	data         []byte
	md5          []byte
	etag         string
	lastModified time.Time
	checksum     checksumValue
}

func newStore() *store {
	return &store{buckets: map[string]*bucket{}, uploads: map[string]*upload{}}
}

func (s *store) bucket(name string) (*bucket, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[name]
	return b, ok
}

func (s *store) object(bucketName, key string) (*object, *s3Error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return nil, errNoSuchBucket(bucketName)
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, errNoSuchKey(bucketName, key)
	}
	return o, nil
}

func quotedMD5(data []byte) (string, []byte) {
	sum := md5.Sum(data)
	return `"` + hex.EncodeToString(sum[:]) + `"`, sum[:]
}

// multipartETag is S3's ETag for a multipart object: the MD5 of the
// concatenated binary part MD5s, then "-<parts>".
func multipartETag(partMD5s [][]byte) string {
	h := md5.New()
	for _, m := range partMD5s {
		h.Write(m)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partMD5s)) + `"`
}

func newUploadID() string {
	b := make([]byte, 48)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// metadataFrom picks what S3 stores from request headers.
func metadataFrom(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range storedHeaders {
		if v := h.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			// S3 stores and returns user metadata names in lower case;
			// botocore hands the name back as sent on the wire.
			out[strings.ToLower(k)] = slices.Clone(v)
		}
	}
	if out.Get("Content-Type") == "" {
		out.Set("Content-Type", "binary/octet-stream")
	}
	return out
}

// validBucketName follows S3's general-purpose bucket naming rules.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' || strings.Contains(name, "..") {
		return false
	}
	return true
}
