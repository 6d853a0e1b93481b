package emulator

import (
	"net/http"

	"github.com/ssokeep/ssokeep/internal/emulator/s3api"
)

// S3 is internal/emulator/s3api: it verifies each request with the same
// verifier (so the registry's keys and expiries apply) and stores objects
// in memory.

func s3OperationName(r *http.Request) string { return s3api.OperationName(r) }

func (s *Server) newS3Handler() http.Handler {
	return s3api.New(s.verifier(), s3api.Options{Now: s.opts.Now, Logger: s.log})
}
