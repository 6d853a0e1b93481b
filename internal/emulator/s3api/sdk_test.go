package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func md5Hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// TestGoSDKOperations drives every served operation with aws-sdk-go-v2's
// S3 client, over plain HTTP and over TLS (where the SDK switches uploads
// to STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer).
func TestGoSDKOperations(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			e := newEnv(t, useTLS)
			runGoSDKOperations(t, e)
			put := e.logs.modesFor("PutObject")
			want := "sha256"
			if useTLS {
				want = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
			}
			if !slices.Contains(put, want) {
				t.Errorf("PutObject payload modes %v, want %s among them", put, want)
			}
			t.Logf("Go SDK payload modes (%s): %s", e.srv.URL[:5], e.logs.summary())
		})
	}
}

func runGoSDKOperations(t *testing.T, e *env) {
	ctx := context.Background()
	c := e.client(e.cred)
	bucket := "sdk-bucket"

	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	mustCode(t, err, "BucketAlreadyOwnedByYou")
	_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	mustCode(t, err, "InvalidBucketName")
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1}}))
	must[*s3.HeadBucketOutput](t)(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}))
	_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	if err == nil {
		t.Fatal("HeadBucket on a missing bucket succeeded")
	}
	lb := must[*s3.ListBucketsOutput](t)(c.ListBuckets(ctx, &s3.ListBucketsInput{}))
	if len(lb.Buckets) != 2 || aws.ToString(lb.Buckets[0].Name) != "eu-bucket" || aws.ToString(lb.Buckets[1].Name) != bucket {
		t.Fatalf("ListBuckets = %+v", lb.Buckets)
	}
	loc := must[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("eu-bucket")}))
	if loc.LocationConstraint != types.BucketLocationConstraintEuWest1 {
		t.Fatalf("GetBucketLocation = %q", loc.LocationConstraint)
	}
	loc = must[*s3.GetBucketLocationOutput](t)(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)}))
	if loc.LocationConstraint != "" {
		t.Fatalf("us-east-1 bucket location = %q, S3 says empty", loc.LocationConstraint)
	}

	// Keys that break naive path handling.
	keys := []string{"plain.txt", "dir/sub/a b+c%d.txt", "unicode/日本語/ключ.bin", "dir/z", "top"}
	bodies := map[string][]byte{}
	for i, k := range keys {
		body := bytes.Repeat([]byte(fmt.Sprintf("%s:%d|", k, i)), 50+i*37)
		bodies[k] = body
		out := must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k),
			Body: bytes.NewReader(body), ContentType: aws.String("text/plain"), Metadata: map[string]string{"origin": "go-sdk", "index": fmt.Sprint(i)}}))
		if aws.ToString(out.ETag) != `"`+md5Hex(body)+`"` {
			t.Fatalf("PutObject %q ETag %s, want MD5 %s", k, aws.ToString(out.ETag), md5Hex(body))
		}
	}
	for _, k := range keys {
		got := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}))
		b := must[[]byte](t)(io.ReadAll(got.Body))
		if !bytes.Equal(b, bodies[k]) || aws.ToString(got.ContentType) != "text/plain" || got.Metadata["origin"] != "go-sdk" {
			t.Fatalf("GetObject %q: %d bytes, type %q, meta %v", k, len(b), aws.ToString(got.ContentType), got.Metadata)
		}
		if aws.ToString(got.ChecksumCRC32) == "" {
			t.Fatalf("GetObject %q: no CRC32 checksum returned, the SDK validated nothing", k)
		}
	}

	// HeadObject: ETag, size, Last-Modified from the injected clock, metadata.
	before := e.clock.Now().Add(-2 * time.Second)
	head := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[1])}))
	if aws.ToInt64(head.ContentLength) != int64(len(bodies[keys[1]])) || aws.ToString(head.ETag) != `"`+md5Hex(bodies[keys[1]])+`"` ||
		head.LastModified == nil || head.LastModified.Before(before) || head.Metadata["index"] != "1" {
		t.Fatalf("HeadObject = len %d etag %s lm %v meta %v", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag), head.LastModified, head.Metadata)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("HeadObject on a missing key: %v", err)
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")})
	mustCode(t, err, "NoSuchKey")

	// Range GETs.
	src := bodies["plain.txt"]
	for _, rc := range []struct {
		rng        string
		start, end int
	}{{"bytes=2-5", 2, 5}, {"bytes=10-", 10, len(src) - 1}, {"bytes=-7", len(src) - 7, len(src) - 1}, {"bytes=5-999999", 5, len(src) - 1}} {
		got := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain.txt"), Range: aws.String(rc.rng)}))
		b := must[[]byte](t)(io.ReadAll(got.Body))
		wantRange := fmt.Sprintf("bytes %d-%d/%d", rc.start, rc.end, len(src))
		if !bytes.Equal(b, src[rc.start:rc.end+1]) || aws.ToString(got.ContentRange) != wantRange {
			t.Fatalf("Range %s: %q %s, want %q %s", rc.rng, b, aws.ToString(got.ContentRange), src[rc.start:rc.end+1], wantRange)
		}
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain.txt"), Range: aws.String(fmt.Sprintf("bytes=%d-", len(src)))})
	mustCode(t, err, "InvalidRange")

	// Conditional GET.
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("plain.txt"), IfMatch: aws.String(`"0000"`)})
	mustCode(t, err, "PreconditionFailed")

	// CopyObject: COPY keeps metadata, REPLACE takes the request's.
	cp := must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copies/one"),
		CopySource: aws.String(bucket + "/" + pathEscape(keys[1]))}))
	if aws.ToString(cp.CopyObjectResult.ETag) != `"`+md5Hex(bodies[keys[1]])+`"` {
		t.Fatalf("CopyObject ETag %s", aws.ToString(cp.CopyObjectResult.ETag))
	}
	got := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("copies/one")}))
	if b := must[[]byte](t)(io.ReadAll(got.Body)); !bytes.Equal(b, bodies[keys[1]]) || got.Metadata["index"] != "1" {
		t.Fatalf("copy content/metadata wrong: meta %v", got.Metadata)
	}
	must[*s3.CopyObjectOutput](t)(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("copies/two"),
		CopySource: aws.String("/" + bucket + "/plain.txt"), MetadataDirective: types.MetadataDirectiveReplace,
		Metadata: map[string]string{"fresh": "yes"}, ContentType: aws.String("application/x-test")}))
	h2 := must[*s3.HeadObjectOutput](t)(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("copies/two")}))
	if h2.Metadata["fresh"] != "yes" || h2.Metadata["origin"] != "" || aws.ToString(h2.ContentType) != "application/x-test" {
		t.Fatalf("REPLACE copy metadata %v type %s", h2.Metadata, aws.ToString(h2.ContentType))
	}
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String("x"), CopySource: aws.String(bucket + "/missing")})
	mustCode(t, err, "NoSuchKey")

	// Listing v2: prefix, delimiter, pagination with continuation tokens, start-after.
	all := []string{"copies/one", "copies/two", "dir/sub/a b+c%d.txt", "dir/z", "plain.txt", "top", "unicode/日本語/ключ.bin"}
	var listed []string
	var token *string
	pages := 0
	for {
		out := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(2), ContinuationToken: token}))
		pages++
		for _, o := range out.Contents {
			listed = append(listed, aws.ToString(o.Key))
			if aws.ToInt64(o.Size) == 0 || aws.ToString(o.ETag) == "" || o.LastModified == nil {
				t.Fatalf("listing entry incomplete: %+v", o)
			}
		}
		if aws.ToInt32(out.KeyCount) != int32(len(out.Contents)) {
			t.Fatalf("KeyCount %d for %d entries", aws.ToInt32(out.KeyCount), len(out.Contents))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		token = out.NextContinuationToken
	}
	if !slices.Equal(listed, all) || pages != 4 {
		t.Fatalf("paged listing %v in %d pages, want %v in 4", listed, pages, all)
	}
	// The SDK's own paginator agrees.
	var viaPaginator []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(3)})
	for p.HasMorePages() {
		out := must[*s3.ListObjectsV2Output](t)(p.NextPage(ctx))
		for _, o := range out.Contents {
			viaPaginator = append(viaPaginator, aws.ToString(o.Key))
		}
	}
	if !slices.Equal(viaPaginator, all) {
		t.Fatalf("paginator listed %v", viaPaginator)
	}
	del := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/")}))
	if got, want := keysOf(del.Contents), []string{"plain.txt", "top"}; !slices.Equal(got, want) {
		t.Fatalf("delimiter contents %v, want %v", got, want)
	}
	if got, want := prefixesOf(del.CommonPrefixes), []string{"copies/", "dir/", "unicode/"}; !slices.Equal(got, want) {
		t.Fatalf("common prefixes %v, want %v", got, want)
	}
	// Paging across common prefixes: one entry per page.
	var mixed []string
	token = nil
	for {
		out := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1), ContinuationToken: token}))
		mixed = append(mixed, append(keysOf(out.Contents), prefixesOf(out.CommonPrefixes)...)...)
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		token = out.NextContinuationToken
	}
	if want := []string{"copies/", "dir/", "plain.txt", "top", "unicode/"}; !slices.Equal(mixed, want) {
		t.Fatalf("delimiter paging %v, want %v", mixed, want)
	}
	sub := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dir/"), Delimiter: aws.String("/")}))
	if !slices.Equal(keysOf(sub.Contents), []string{"dir/z"}) || !slices.Equal(prefixesOf(sub.CommonPrefixes), []string{"dir/sub/"}) {
		t.Fatalf("prefix dir/: %v %v", keysOf(sub.Contents), prefixesOf(sub.CommonPrefixes))
	}
	sa := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), StartAfter: aws.String("plain.txt")}))
	if !slices.Equal(keysOf(sa.Contents), []string{"top", "unicode/日本語/ключ.bin"}) {
		t.Fatalf("start-after: %v", keysOf(sa.Contents))
	}

	// Listing v1 with markers.
	var v1 []string
	var marker *string
	for {
		out := must[*s3.ListObjectsOutput](t)(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(3), Marker: marker}))
		v1 = append(v1, keysOf(out.Contents)...)
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = out.Contents[len(out.Contents)-1].Key
	}
	if !slices.Equal(v1, all) {
		t.Fatalf("ListObjects v1 %v", v1)
	}

	// Deletes.
	_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	mustCode(t, err, "BucketNotEmpty")
	must[*s3.DeleteObjectOutput](t)(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("top")}))
	must[*s3.DeleteObjectOutput](t)(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("never-existed")}))
	var ids []types.ObjectIdentifier
	for _, k := range all {
		if k != "top" {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
	}
	dr := must[*s3.DeleteObjectsOutput](t)(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids}}))
	if len(dr.Deleted) != len(ids) || len(dr.Errors) != 0 {
		t.Fatalf("DeleteObjects deleted %d errors %d", len(dr.Deleted), len(dr.Errors))
	}
	empty := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}))
	if len(empty.Contents) != 0 {
		t.Fatalf("bucket not empty after deletes: %v", keysOf(empty.Contents))
	}
	must[*s3.DeleteBucketOutput](t)(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)}))
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	mustCode(t, err, "NoSuchBucket")

	runMultipart(t, e, c)
}

func pathEscape(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func keysOf(objs []types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

func prefixesOf(cps []types.CommonPrefix) []string {
	var out []string
	for _, p := range cps {
		out = append(out, aws.ToString(p.Prefix))
	}
	return out
}

// runMultipart drives the multipart calls one by one and checks S3's
// multipart ETag (MD5 of the part MD5s, "-N"), part GETs and ListParts.
func runMultipart(t *testing.T, e *env, c *s3.Client) {
	ctx := context.Background()
	bucket := "mpu"
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}))
	rng := rand.New(rand.NewPCG(1, 2))
	part1 := make([]byte, 5<<20)
	part2 := make([]byte, 1234)
	for i := range part1 {
		part1[i] = byte(rng.IntN(256))
	}
	copy(part2, "last part")

	for _, alg := range []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc32, types.ChecksumAlgorithmSha256, ""} {
		key := "big/" + strings.ToLower(string(alg)) + "-object"
		cr := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: alg, Metadata: map[string]string{"kind": "mpu"}}))
		up := func(n int32, b []byte) *s3.UploadPartOutput {
			return must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
				UploadId: cr.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(b), ChecksumAlgorithm: alg}))
		}
		p2 := up(2, part2) // out of order on purpose
		p1 := up(1, part1)
		lp := must[*s3.ListPartsOutput](t)(c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId}))
		if len(lp.Parts) != 2 || aws.ToInt32(lp.Parts[0].PartNumber) != 1 || aws.ToInt64(lp.Parts[0].Size) != int64(len(part1)) ||
			aws.ToString(lp.Parts[1].ETag) != aws.ToString(p2.ETag) {
			t.Fatalf("ListParts = %+v", lp.Parts)
		}
		completed := []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: p1.ETag, ChecksumCRC32: p1.ChecksumCRC32, ChecksumSHA256: p1.ChecksumSHA256},
			{PartNumber: aws.Int32(2), ETag: p2.ETag, ChecksumCRC32: p2.ChecksumCRC32, ChecksumSHA256: p2.ChecksumSHA256},
		}
		// Out-of-order parts are refused.
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: cr.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{completed[1], completed[0]}}})
		mustCode(t, err, "InvalidPartOrder")
		done := must[*s3.CompleteMultipartUploadOutput](t)(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket),
			Key: aws.String(key), UploadId: cr.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: completed}}))
		// S3's multipart ETag, computed here independently.
		m1, m2 := md5.Sum(part1), md5.Sum(part2)
		want := `"` + md5Hex(append(m1[:], m2[:]...)) + `-2"`
		if aws.ToString(done.ETag) != want {
			t.Fatalf("multipart ETag %s, want %s", aws.ToString(done.ETag), want)
		}
		whole := append(slices.Clone(part1), part2...)
		got := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))
		if b := must[[]byte](t)(io.ReadAll(got.Body)); !bytes.Equal(b, whole) || aws.ToString(got.ETag) != want || got.Metadata["kind"] != "mpu" {
			t.Fatalf("multipart object: %d bytes etag %s meta %v", len(b), aws.ToString(got.ETag), got.Metadata)
		}
		pg := must[*s3.GetObjectOutput](t)(c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), PartNumber: aws.Int32(2)}))
		if b := must[[]byte](t)(io.ReadAll(pg.Body)); !bytes.Equal(b, part2) || aws.ToInt32(pg.PartsCount) != 2 ||
			aws.ToString(pg.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", len(part1), len(whole)-1, len(whole)) {
			t.Fatalf("part 2 GET: %d bytes, parts %d, range %s", len(b), aws.ToInt32(pg.PartsCount), aws.ToString(pg.ContentRange))
		}
		lst := must[*s3.ListObjectsV2Output](t)(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(key)}))
		if len(lst.Contents) != 1 || aws.ToString(lst.Contents[0].ETag) != want {
			t.Fatalf("listing shows %v", lst.Contents)
		}
	}

	// Abort, then the upload is gone; small non-final parts are refused.
	cr := must[*s3.CreateMultipartUploadOutput](t)(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted")}))
	small := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("tiny"))}))
	last := must[*s3.UploadPartOutput](t)(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId, PartNumber: aws.Int32(2), Body: bytes.NewReader([]byte("end"))}))
	_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: small.ETag}, {PartNumber: aws.Int32(2), ETag: last.ETag}}}})
	mustCode(t, err, "EntityTooSmall")
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}}})
	mustCode(t, err, "InvalidPart")
	must[*s3.AbortMultipartUploadOutput](t)(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId}))
	_, err = c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String("aborted"), UploadId: cr.UploadId})
	mustCode(t, err, "NoSuchUpload")
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("aborted")})
	if err == nil {
		t.Fatal("an aborted upload left an object")
	}
}

// TestGoSDKTransferManager uploads 20 MB through feature/s3/transfermanager
// (multipart, concurrent parts, CRC32 part checksums) and downloads it back
// both ways the manager can (by part number and by ranges).
func TestGoSDKTransferManager(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[useTLS], func(t *testing.T) {
			e := newEnv(t, useTLS)
			ctx := context.Background()
			c := e.client(e.cred)
			must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tm-bucket")}))
			data := make([]byte, 20<<20)
			rng := rand.New(rand.NewPCG(3, 4))
			for i := range data {
				data[i] = byte(rng.IntN(256))
			}
			want := sha256.Sum256(data)
			tm := transfermanager.New(c)
			up := must[*transfermanager.UploadObjectOutput](t)(tm.UploadObject(ctx, &transfermanager.UploadObjectInput{
				Bucket: aws.String("tm-bucket"), Key: aws.String("data/20mb.bin"), Body: bytes.NewReader(data)}))
			if !strings.HasSuffix(aws.ToString(up.ETag), `-3"`) {
				t.Fatalf("20 MB upload ETag %s: not a 3-part multipart upload", aws.ToString(up.ETag))
			}
			if n := len(e.logs.modesFor("UploadPart")); n == 0 {
				t.Fatal("no UploadPart seen: the transfer manager did not use multipart")
			}
			for _, typ := range []string{"parts", "ranges"} {
				opt := func(o *transfermanager.Options) {
					o.GetObjectType = map[string]tmtypes.GetObjectType{"parts": tmtypes.GetObjectParts, "ranges": tmtypes.GetObjectRanges}[typ]
				}
				f := must[*os.File](t)(os.Create(filepath.Join(t.TempDir(), "dl-"+typ)))
				must[*transfermanager.DownloadObjectOutput](t)(tm.DownloadObject(ctx, &transfermanager.DownloadObjectInput{
					Bucket: aws.String("tm-bucket"), Key: aws.String("data/20mb.bin"), WriterAt: f}, opt))
				f.Close()
				got := must[[]byte](t)(os.ReadFile(f.Name()))
				if sha256.Sum256(got) != want {
					t.Fatalf("download by %s: %d bytes, content differs", typ, len(got))
				}
				g := must[*transfermanager.GetObjectOutput](t)(tm.GetObject(ctx, &transfermanager.GetObjectInput{Bucket: aws.String("tm-bucket"), Key: aws.String("data/20mb.bin")}, opt))
				got = must[[]byte](t)(io.ReadAll(g.Body))
				if sha256.Sum256(got) != want {
					t.Fatalf("GetObject stream by %s: content differs", typ)
				}
			}
			t.Logf("transfer manager payload modes: %s", e.logs.summary())
		})
	}
}

// TestPresignedGet: a URL from s3.NewPresignClient fetched with plain
// net/http, then refused once it has expired.
func TestPresignedGet(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	c := e.client(e.cred)
	must[*s3.CreateBucketOutput](t)(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pre")}))
	body := []byte("presigned content + spaces")
	must[*s3.PutObjectOutput](t)(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("a key+x"), Body: bytes.NewReader(body)}))
	ps := s3.NewPresignClient(c)
	req := must[*presignedReq](t)(presign(ps, ctx, "pre", "a key+x", 5*time.Minute))
	if !strings.Contains(req.URL, "X-Amz-Security-Token=") {
		t.Fatalf("presigned URL carries no session token: the test would prove less")
	}
	resp := must[*http.Response](t)(http.Get(req.URL))
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, got)
	}
	if !slices.Contains(e.logs.modesFor("GetObject"), "presigned:UNSIGNED-PAYLOAD") {
		t.Fatalf("GetObject modes %v", e.logs.modesFor("GetObject"))
	}
	// Tampering with the key fails the signature.
	resp = must[*http.Response](t)(http.Get(strings.Replace(req.URL, "a%20key", "b%20key", 1)))
	assertXMLError(t, resp, 403, "SignatureDoesNotMatch")
	e.clock.Advance(6 * time.Minute)
	resp = must[*http.Response](t)(http.Get(req.URL))
	assertXMLError(t, resp, 403, "AccessDenied")
}

type presignedReq struct{ URL string }

func presign(ps *s3.PresignClient, ctx context.Context, bucket, key string, d time.Duration) (*presignedReq, error) {
	r, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}, s3.WithPresignExpires(d))
	if err != nil {
		return nil, err
	}
	return &presignedReq{URL: r.URL}, nil
}

func assertXMLError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	var body errorBody
	raw, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(raw, &body); err != nil {
		t.Fatalf("status %d, body not S3 XML: %q", resp.StatusCode, raw)
	}
	if resp.StatusCode != status || body.Code != code || body.RequestID == "" || body.Resource == "" || body.Message == "" {
		t.Fatalf("got %d %+v, want %d %s with RequestId and Resource", resp.StatusCode, body, status, code)
	}
	if resp.Header.Get("x-amz-request-id") != body.RequestID {
		t.Fatalf("x-amz-request-id %q differs from RequestId %q", resp.Header.Get("x-amz-request-id"), body.RequestID)
	}
}

// TestGoSDKAuthFailures: the SDK surfaces the codes AWS uses for each way
// credentials go wrong, including expiry driven by the injected clock.
func TestGoSDKAuthFailures(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	good := e.client(e.cred)
	must[*s3.CreateBucketOutput](t)(good.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("auth")}))
	put := func(c *s3.Client) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("auth"), Key: aws.String("k"), Body: strings.NewReader("data")})
		return err
	}
	if err := put(good); err != nil {
		t.Fatal(err)
	}
	wrongSecret := e.cred
	wrongSecret.secret += "x"
	mustCode(t, put(e.client(wrongSecret)), "SignatureDoesNotMatch")
	unknown := e.cred
	unknown.id = "ASIAUNKNOWNKEY000000"
	mustCode(t, put(e.client(unknown)), "InvalidAccessKeyId")
	wrongToken := e.cred
	wrongToken.token += "x"
	mustCode(t, put(e.client(wrongToken)), "InvalidToken")
	noToken := e.cred
	noToken.token = ""
	mustCode(t, put(e.client(noToken)), "InvalidToken")
	_, err := good.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("auth"), Key: aws.String("k")})
	if err != nil {
		t.Fatalf("still valid credentials failed: %v", err)
	}

	// Expiry: the SDK signs with the real time, so the injected clock may
	// only move a little before RequestTimeTooSkewed would answer first;
	// the key is set to expire 30 s ahead and the clock moved past it.
	e.keys.mu.Lock()
	s := e.keys.m[e.cred.id]
	s.Expires = e.clock.Now().Add(30 * time.Second)
	e.keys.m[e.cred.id] = s
	e.keys.mu.Unlock()
	if err := put(good); err != nil {
		t.Fatalf("30 s before expiry: %v", err)
	}
	e.clock.Advance(31 * time.Second)
	mustCode(t, put(good), "ExpiredToken")
	_, err = good.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("auth")})
	mustCode(t, err, "ExpiredToken")
	// And a client whose clock is far off is told so.
	e.clock.Advance(-31*time.Second - 20*time.Minute)
	e.keys.mu.Lock()
	s.Expires = e.clock.Now().Add(time.Hour)
	e.keys.m[e.cred.id] = s
	e.keys.mu.Unlock()
	mustCode(t, put(good), "RequestTimeTooSkewed")
}
