package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const xmlTime = "2006-01-02T15:04:05.000Z"

func (c *call) listBuckets() error {
	c.h.st.mu.RLock()
	var out listAllMyBucketsResult
	for _, b := range c.h.st.buckets {
		out.Buckets = append(out.Buckets, bucketInfo{Name: b.name, CreationDate: b.created.UTC().Format(xmlTime), BucketRegion: regionOf(b)})
	}
	c.h.st.mu.RUnlock()
	slices.SortFunc(out.Buckets, func(a, b bucketInfo) int { return strings.Compare(a.Name, b.Name) })
	out.Xmlns, out.Owner = s3NS, emulatorOwner
	return c.writeXML(http.StatusOK, out)
}

func regionOf(b *bucket) string {
	if b.region == "" {
		return "us-east-1"
	}
	return b.region
}

func (c *call) createBucket() error {
	if !validBucketName(c.bucket) {
		e := newErr(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid: names are 3-63 lower-case letters, digits, dots and hyphens.")
		e.bucket = c.bucket
		return e
	}
	var cfg createBucketConfiguration
	body, err := io.ReadAll(c.r.Body)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := xml.Unmarshal(body, &cfg); err != nil {
			return errMalformedXML()
		}
	}
	region := cfg.LocationConstraint
	if region == "us-east-1" {
		region = ""
	}
	st := c.h.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.buckets[c.bucket]; ok {
		e := newErr(http.StatusConflict, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.")
		e.bucket = c.bucket
		return e
	}
	st.buckets[c.bucket] = &bucket{name: c.bucket, region: region, created: c.h.now(), objects: map[string]*object{}}
	c.w.Header().Set("Location", "/"+c.bucket)
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (c *call) headBucket() error {
	b, ok := c.h.st.bucket(c.bucket)
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	c.w.Header().Set("x-amz-bucket-region", regionOf(b))
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (c *call) deleteBucket() error {
	st := c.h.st
	st.mu.Lock()
	defer st.mu.Unlock()
	b, ok := st.buckets[c.bucket]
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	if len(b.objects) > 0 {
		e := newErr(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
		e.bucket = c.bucket
		return e
	}
	delete(st.buckets, c.bucket)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *call) getBucketLocation() error {
	b, ok := c.h.st.bucket(c.bucket)
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	return c.writeXML(http.StatusOK, locationConstraint{Xmlns: s3NS, Value: b.region})
}

func (c *call) getBucketVersioning() error {
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	return c.writeXML(http.StatusOK, versioningConfiguration{Xmlns: s3NS})
}

// listing is one page of keys and common prefixes.
type listing struct {
	contents  []objectEntry
	prefixes  []commonPrefix
	truncated bool
	last      string // last key or common prefix returned: where the next page starts
}

// list walks the bucket's keys in order after marker, grouping by
// delimiter, up to maxKeys entries (keys and common prefixes both count).
func (c *call) list(b *bucket, prefix, delimiter, marker string, maxKeys int, withOwner bool) listing {
	var out listing
	c.h.st.mu.RLock()
	objects := maps.Clone(b.objects)
	c.h.st.mu.RUnlock()
	keys := slices.Sorted(maps.Keys(objects))
	start, _ := slices.BinarySearch(keys, marker)
	lastPrefix := ""
	for _, k := range keys[start:] {
		if k <= marker || !strings.HasPrefix(k, prefix) {
			continue
		}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				cp := k[:len(prefix)+i+len(delimiter)]
				// A page may end on a common prefix; the next one resumes
				// after every key under it.
				if cp == lastPrefix || cp == marker {
					continue
				}
				if len(out.contents)+len(out.prefixes) >= maxKeys {
					out.truncated = true
					break
				}
				out.prefixes = append(out.prefixes, commonPrefix{Prefix: cp})
				lastPrefix, out.last = cp, cp
				continue
			}
		}
		if len(out.contents)+len(out.prefixes) >= maxKeys {
			out.truncated = true
			break
		}
		o := objects[k]
		e := objectEntry{Key: k, LastModified: o.lastModified.UTC().Format(xmlTime), ETag: o.etag,
			Size: int64(len(o.data)), StorageClass: "STANDARD"}
		if o.checksum.alg != "" {
			e.ChecksumAlgorithm, e.ChecksumType = []string{o.checksum.alg}, o.checksum.typ
		}
		if withOwner {
			own := emulatorOwner
			e.Owner = &own
		}
		out.contents = append(out.contents, e)
		out.last = k
	}
	return out
}

func maxKeysParam(q url.Values) (int, error) {
	v := q.Get("max-keys")
	if v == "" {
		return 1000, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errInvalidArgument("max-keys must be an integer between 0 and 2147483647, got %q.", truncate(v))
	}
	return min(n, 1000), nil
}

// urlEncoder applies encoding-type=url: S3 then percent-encodes keys and
// prefixes in the listing (botocore always asks for it and decodes).
func urlEncoder(q url.Values) (func(string) string, string, error) {
	switch q.Get("encoding-type") {
	case "":
		return func(s string) string { return s }, "", nil
	case "url":
		return url.QueryEscape, "url", nil
	}
	return nil, "", errInvalidArgument("Invalid Encoding Method specified in Request: encoding-type must be url.")
}

func (c *call) listObjectsV2() error {
	b, ok := c.h.st.bucket(c.bucket)
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	maxKeys, err := maxKeysParam(c.q)
	if err != nil {
		return err
	}
	enc, encType, err := urlEncoder(c.q)
	if err != nil {
		return err
	}
	prefix, delim, startAfter := c.q.Get("prefix"), c.q.Get("delimiter"), c.q.Get("start-after")
	marker := startAfter
	token := c.q.Get("continuation-token")
	if _, ok := c.q["continuation-token"]; ok {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || !strings.HasPrefix(string(raw), "v1:") {
			return errInvalidArgument("The continuation token provided is incorrect.")
		}
		if m := string(raw[3:]); m > marker {
			marker = m
		}
	}
	_, fetchOwner := c.q["fetch-owner"]
	page := c.list(b, prefix, delim, marker, maxKeys, fetchOwner && c.q.Get("fetch-owner") != "false")
	out := listBucketResultV2{Xmlns: s3NS, Name: b.name, Prefix: enc(prefix), Delimiter: enc(delim), MaxKeys: maxKeys,
		KeyCount: len(page.contents) + len(page.prefixes), IsTruncated: page.truncated, EncodingType: encType,
		ContinuationToken: token, StartAfter: enc(startAfter)}
	if page.truncated {
		out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte("v1:" + page.last))
	}
	for _, e := range page.contents {
		e.Key = enc(e.Key)
		out.Contents = append(out.Contents, e)
	}
	for _, p := range page.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: enc(p.Prefix)})
	}
	c.w.Header().Set("x-amz-bucket-region", regionOf(b))
	return c.writeXML(http.StatusOK, out)
}

func (c *call) listObjectsV1() error {
	b, ok := c.h.st.bucket(c.bucket)
	if !ok {
		return errNoSuchBucket(c.bucket)
	}
	maxKeys, err := maxKeysParam(c.q)
	if err != nil {
		return err
	}
	enc, encType, err := urlEncoder(c.q)
	if err != nil {
		return err
	}
	prefix, delim, marker := c.q.Get("prefix"), c.q.Get("delimiter"), c.q.Get("marker")
	page := c.list(b, prefix, delim, marker, maxKeys, true)
	out := listBucketResult{Xmlns: s3NS, Name: b.name, Prefix: enc(prefix), Marker: enc(marker), MaxKeys: maxKeys,
		Delimiter: enc(delim), IsTruncated: page.truncated, EncodingType: encType}
	// S3 returns NextMarker only with a delimiter; without one clients
	// continue from the last key.
	if page.truncated && delim != "" {
		out.NextMarker = enc(page.last)
	}
	for _, e := range page.contents {
		e.Key = enc(e.Key)
		out.Contents = append(out.Contents, e)
	}
	for _, p := range page.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: enc(p.Prefix)})
	}
	c.w.Header().Set("x-amz-bucket-region", regionOf(b))
	return c.writeXML(http.StatusOK, out)
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
