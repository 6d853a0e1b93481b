package s3api

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssokeep/ssokeep/internal/sigv4/checksum"
)

// minPartSize is S3's lower bound for every part but the last; a client
// whose part size is misconfigured fails here as it would on AWS.
const minPartSize = 5 << 20

func (c *call) createMultipartUpload() error {
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	alg := strings.ToUpper(c.r.Header.Get("X-Amz-Checksum-Algorithm"))
	if alg != "" && !checksum.Known(alg) {
		return errInvalidRequest("Checksum algorithm %q is not supported by this emulator; use one of %s.", truncate(alg), strings.Join(checksum.Algorithms, ", "))
	}
	typ := strings.ToUpper(c.r.Header.Get("X-Amz-Checksum-Type"))
	switch {
	case typ == "" && alg != "":
		typ = "COMPOSITE"
		if alg == "CRC64NVME" {
			typ = "FULL_OBJECT" // S3 only does full-object CRC64NVME
		}
	case typ == "FULL_OBJECT" && !checksum.FullObjectCapable(alg):
		return errInvalidRequest("The FULL_OBJECT checksum type cannot be used with the %s checksum algorithm.", alg)
	case typ == "COMPOSITE" && alg == "CRC64NVME":
		return errInvalidRequest("The COMPOSITE checksum type cannot be used with the CRC64NVME checksum algorithm.")
	case typ != "" && typ != "COMPOSITE" && typ != "FULL_OBJECT":
		return errInvalidRequest("Value for x-amz-checksum-type header is invalid; use COMPOSITE or FULL_OBJECT.")
	case typ != "" && alg == "":
		return errInvalidRequest("x-amz-checksum-type needs x-amz-checksum-algorithm.")
	}
	u := &upload{id: newUploadID(), bucket: c.bucket, key: c.key, initiated: c.h.now().UTC(),
		header: metadataFrom(c.r.Header), checksumAlg: alg, checksumType: typ, parts: map[int]*part{}}
	c.h.st.mu.Lock()
	c.h.st.uploads[u.id] = u
	c.h.st.mu.Unlock()
	if alg != "" {
		c.w.Header().Set("x-amz-checksum-algorithm", alg)
		c.w.Header().Set("x-amz-checksum-type", typ)
	}
	return c.writeXML(http.StatusOK, initiateMultipartUploadResult{Xmlns: s3NS, Bucket: c.bucket, Key: c.key, UploadID: u.id})
}

// upload finds the upload named by ?uploadId for this bucket and key.
func (c *call) upload() (*upload, error) {
	id := c.q.Get("uploadId")
	c.h.st.mu.RLock()
	u, ok := c.h.st.uploads[id]
	_, bucketOK := c.h.st.buckets[c.bucket]
	c.h.st.mu.RUnlock()
	if !bucketOK {
		return nil, errNoSuchBucket(c.bucket)
	}
	if !ok || u.bucket != c.bucket || u.key != c.key {
		return nil, errNoSuchUpload(id)
	}
	return u, nil
}

func (c *call) uploadPart() error {
	n, err := strconv.Atoi(c.q.Get("partNumber"))
	if err != nil || n < 1 || n > 10000 {
		return errInvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
	}
	u, err := c.upload()
	if err != nil {
		return err
	}
	data, err := c.readBody()
	if err != nil {
		return err
	}
	if err := checkContentMD5(c.r.Header, data); err != nil {
		return err
	}
	cv, err := uploadChecksum(c.r, data, u.checksumAlg)
	if err != nil {
		return err
	}
	if u.checksumAlg != "" && cv.alg != u.checksumAlg {
		return errInvalidRequest("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s.",
			strings.ToLower(u.checksumAlg), strings.ToLower(cv.alg))
	}
	if u.checksumAlg == "" {
		cv = checksumValue{} // the upload has no checksum: parts carry none either
	}
	etag, sum := quotedMD5(data)
	p := &part{number: n, data: data, md5: sum, etag: etag, lastModified: c.h.now().UTC().Truncate(time.Millisecond), checksum: cv}
	u.mu.Lock()
	u.parts[n] = p
	u.mu.Unlock()
	h := c.w.Header()
	h.Set("ETag", etag)
	if cv.alg != "" {
		h.Set(checksum.HeaderName(cv.alg), cv.value)
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

func (c *call) completeMultipartUpload() error {
	u, err := c.upload()
	if err != nil {
		return err
	}
	body, err := c.readBody()
	if err != nil {
		return err
	}
	var req completeMultipartUpload
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		return errMalformedXML()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	var (
		data      []byte
		md5s      [][]byte
		sums      []string
		objParts  []objectPart
		prevPart  = 0
		totalSize int64
	)
	for _, rp := range req.Parts {
		if rp.PartNumber <= prevPart {
			return newErr(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.")
		}
		prevPart = rp.PartNumber
	}
	for i, rp := range req.Parts {
		p, ok := u.parts[rp.PartNumber]
		if !ok || strings.Trim(rp.ETag, `"`) != strings.Trim(p.etag, `"`) {
			return newErr(http.StatusBadRequest, "InvalidPart", "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		if u.checksumAlg != "" {
			if sent := rp.get(u.checksumAlg); sent != "" && sent != p.checksum.value {
				return newErr(http.StatusBadRequest, "InvalidPart", "The checksum of part "+strconv.Itoa(rp.PartNumber)+" does not match the one it was uploaded with.")
			}
		}
		if i < len(req.Parts)-1 && len(p.data) < minPartSize {
			return newErr(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size: every part but the last must be at least 5 MiB.")
		}
		totalSize += int64(len(p.data))
	}
	data = make([]byte, 0, totalSize)
	for _, rp := range req.Parts {
		p := u.parts[rp.PartNumber]
		objParts = append(objParts, objectPart{offset: int64(len(data)), size: int64(len(p.data)), checksum: p.checksum})
		data = append(data, p.data...)
		md5s = append(md5s, p.md5)
		sums = append(sums, p.checksum.value)
	}

	var cv checksumValue
	switch {
	case u.checksumAlg == "":
		v, _ := checksum.Sum(defaultChecksum, data)
		cv = checksumValue{alg: defaultChecksum, value: v, typ: "FULL_OBJECT"}
	case u.checksumType == "FULL_OBJECT":
		v, _ := checksum.Sum(u.checksumAlg, data)
		cv = checksumValue{alg: u.checksumAlg, value: v, typ: "FULL_OBJECT"}
	default:
		v, ok := checksum.Composite(u.checksumAlg, sums)
		if !ok {
			return errInvalidRequest("A part checksum is not valid base64.")
		}
		cv = checksumValue{alg: u.checksumAlg, value: v, typ: "COMPOSITE"}
	}
	// A full-object checksum sent with the completion must match the data.
	if sent := c.r.Header.Get(checksum.HeaderName(cv.alg)); sent != "" && cv.typ == "FULL_OBJECT" && sent != cv.value {
		return errBadDigest(cv.alg)
	}

	o := &object{key: u.key, data: data, etag: multipartETag(md5s), lastModified: c.h.now().UTC().Truncate(time.Millisecond),
		header: u.header, checksum: cv, parts: objParts}
	if err := c.h.st.put(u.bucket, o, c.r.Header); err != nil {
		return err
	}
	c.h.st.mu.Lock()
	delete(c.h.st.uploads, u.id)
	c.h.st.mu.Unlock()

	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	out := completeMultipartUploadResult{Xmlns: s3NS, Location: scheme + "://" + c.r.Host + "/" + u.bucket + "/" + u.key,
		Bucket: u.bucket, Key: u.key, ETag: o.etag, ChecksumType: cv.typ}
	if u.checksumAlg != "" {
		out.set(cv.alg, cv.value)
	}
	return c.writeXML(http.StatusOK, out)
}

func (c *call) abortMultipartUpload() error {
	u, err := c.upload()
	if err != nil {
		return err
	}
	c.h.st.mu.Lock()
	delete(c.h.st.uploads, u.id)
	c.h.st.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (c *call) listParts() error {
	u, err := c.upload()
	if err != nil {
		return err
	}
	maxParts := 1000
	if v := c.q.Get("max-parts"); v != "" {
		if maxParts, err = strconv.Atoi(v); err != nil || maxParts < 0 {
			return errInvalidArgument("max-parts must be a non-negative integer.")
		}
		maxParts = min(maxParts, 1000)
	}
	marker := 0
	if v := c.q.Get("part-number-marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return errInvalidArgument("part-number-marker must be a non-negative integer.")
		}
	}
	u.mu.Lock()
	var nums []int
	for n := range u.parts {
		if n > marker {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	out := listPartsResult{Xmlns: s3NS, Bucket: u.bucket, Key: u.key, UploadID: u.id, PartNumberMarker: marker,
		MaxParts: maxParts, Initiator: emulatorOwner, Owner: emulatorOwner, StorageClass: "STANDARD",
		ChecksumAlgorithm: u.checksumAlg, ChecksumType: u.checksumType}
	for i, n := range nums {
		if i == maxParts {
			out.IsTruncated = true
			break
		}
		p := u.parts[n]
		e := partEntry{PartNumber: n, LastModified: p.lastModified.Format(xmlTime), ETag: p.etag, Size: int64(len(p.data))}
		e.set(p.checksum.alg, p.checksum.value)
		out.Parts = append(out.Parts, e)
		out.NextPartNumberMarker = n
	}
	u.mu.Unlock()
	return c.writeXML(http.StatusOK, out)
}

func (c *call) listMultipartUploads() error {
	if _, ok := c.h.st.bucket(c.bucket); !ok {
		return errNoSuchBucket(c.bucket)
	}
	prefix := c.q.Get("prefix")
	out := listMultipartUploadsResult{Xmlns: s3NS, Bucket: c.bucket, KeyMarker: c.q.Get("key-marker"), MaxUploads: 1000}
	c.h.st.mu.RLock()
	for _, u := range c.h.st.uploads {
		if u.bucket == c.bucket && strings.HasPrefix(u.key, prefix) {
			out.Uploads = append(out.Uploads, uploadEntry{Key: u.key, UploadID: u.id, Initiator: emulatorOwner,
				Owner: emulatorOwner, StorageClass: "STANDARD", Initiated: u.initiated.Format(xmlTime)})
		}
	}
	c.h.st.mu.RUnlock()
	slices.SortFunc(out.Uploads, func(a, b uploadEntry) int {
		if a.Key != b.Key {
			return strings.Compare(a.Key, b.Key)
		}
		return strings.Compare(a.UploadID, b.UploadID)
	})
	if len(out.Uploads) > 1000 {
		out.Uploads, out.IsTruncated = out.Uploads[:1000], true
	}
	return c.writeXML(http.StatusOK, out)
}
