package emulator

import "net/http"

// Until internal/emulator/s3api lands, S3 requests are answered NotImplemented.

func s3OperationName(r *http.Request) string { return "S3" }

func (s *Server) newS3Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, http.StatusNotImplemented, "NotImplemented", "the emulator's S3 is not wired in yet")
	})
}
