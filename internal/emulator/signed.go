package emulator

import (
	"errors"
	"net/http"

	"github.com/ssokeep/ssokeep/internal/sigv4"
)

// The glue to internal/sigv4: routing by the credential scope's service,
// the registry as its KeyStore, and STS's names for its errors.

// signedService is "s3", "sts", another service, or "" for unsigned requests.
func signedService(r *http.Request) string { return sigv4.ScopeService(r) }

// LookupKey makes the registry a sigv4.KeyStore. Expired keys are found
// (with their expiry) so the verifier answers ExpiredToken.
func (r *registry) LookupKey(id string) (sigv4.Secret, bool) {
	c, ok := r.get(id)
	if !ok {
		return sigv4.Secret{}, false
	}
	return sigv4.Secret{SecretAccessKey: c.secret, SessionToken: c.sessionToken, Expires: c.expires}, true
}

func (s *Server) verifier() *sigv4.Verifier {
	return &sigv4.Verifier{Keys: s.reg, Now: s.opts.Now, MaxSkew: s.opts.MaxClockSkew}
}

// serveSTS verifies the signature, then runs the action for the caller.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	res, err := s.verifier().Verify(r)
	if err != nil {
		writeSTSAuthError(w, err)
		return
	}
	c, ok := s.reg.get(res.AccessKeyID)
	if !ok { // verified a moment ago: the registry never forgets keys
		writeSTSError(w, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
		return
	}
	s.serveSTSAction(w, r, c.principal)
}

// writeSTSAuthError renders a verifier error with the code and status STS
// uses (S3's names differ: InvalidAccessKeyId, InvalidToken, ...).
func writeSTSAuthError(w http.ResponseWriter, err error) {
	var ve *sigv4.Error
	if !errors.As(err, &ve) {
		writeSTSError(w, 400, "InvalidRequest", "the request could not be authenticated")
		return
	}
	switch ve.Code {
	case sigv4.CodeInvalidAccessKeyID, sigv4.CodeInvalidToken:
		writeSTSError(w, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
	case sigv4.CodeExpiredToken:
		writeSTSError(w, 400, "ExpiredToken", "The security token included in the request is expired")
	case sigv4.CodeSignatureDoesNotMatch:
		writeSTSError(w, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	case sigv4.CodeRequestTimeTooSkewed:
		writeSTSError(w, 403, "SignatureDoesNotMatch", "Signature expired: the request time is too far from the current time.")
	case sigv4.CodeAccessDenied:
		writeSTSError(w, 403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	case sigv4.CodeAuthorizationHeaderMalformed, sigv4.CodeAuthorizationQueryError:
		writeSTSError(w, 400, "IncompleteSignature", ve.Message)
	default:
		writeSTSError(w, ve.Status, ve.Code, ve.Message)
	}
}
