package s3api

import (
	"fmt"
	"net/http"
)

// s3Error is an S3 error response: code, status and the fields S3 adds.
type s3Error struct {
	status     int
	code, msg  string
	bucket     string
	key        string
	uploadID   string
	extraHeads http.Header
}

func (e *s3Error) Error() string { return e.code + ": " + e.msg }

func newErr(status int, code, msg string) *s3Error {
	return &s3Error{status: status, code: code, msg: msg}
}

func errNoSuchBucket(b string) *s3Error {
	e := newErr(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	e.bucket = b
	return e
}

func errNoSuchKey(b, k string) *s3Error {
	e := newErr(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	e.bucket, e.key = b, k
	return e
}

func errNoSuchUpload(id string) *s3Error {
	e := newErr(http.StatusNotFound, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	e.uploadID = id
	return e
}

func errInvalidArgument(format string, a ...any) *s3Error {
	return newErr(http.StatusBadRequest, "InvalidArgument", fmt.Sprintf(format, a...))
}

func errInvalidRequest(format string, a ...any) *s3Error {
	return newErr(http.StatusBadRequest, "InvalidRequest", fmt.Sprintf(format, a...))
}

func errMalformedXML() *s3Error {
	return newErr(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.")
}

func errBadDigest(what string) *s3Error {
	return newErr(http.StatusBadRequest, "BadDigest", "The "+what+" you specified did not match the calculated checksum.")
}

func errNotImplemented(what string) *s3Error {
	return newErr(http.StatusNotImplemented, "NotImplemented", "The ssokeep S3 emulator does not implement "+what+".")
}

func errPreconditionFailed() *s3Error {
	return newErr(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
}

func errNotModified() *s3Error {
	return newErr(http.StatusNotModified, "NotModified", "Not Modified")
}
