package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
)

// oidcErrorValue is the OAuth "error" member AWS sends with each exception
// (aws-protocols.md §1).
var oidcErrorValue = map[string]string{
	"AuthorizationPendingException":  "authorization_pending",
	"SlowDownException":              "slow_down",
	"ExpiredTokenException":          "expired_token",
	"InvalidGrantException":          "invalid_grant",
	"InvalidClientException":         "invalid_client",
	"UnauthorizedClientException":    "unauthorized_client",
	"AccessDeniedException":          "access_denied",
	"UnsupportedGrantTypeException":  "unsupported_grant_type",
	"InvalidScopeException":          "invalid_scope",
	"InvalidRequestException":        "invalid_request",
	"InvalidClientMetadataException": "invalid_client_metadata",
	"InvalidRedirectUriException":    "invalid_redirect_uri",
	"InternalServerException":        "server_error",
}

func requestID() string {
	b := randBytes(16)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: cannot encode response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-RequestId", requestID())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeOIDCError sends an SSO OIDC error: clients take the code from the
// x-amzn-ErrorType header; the body has the OAuth error and description.
func writeOIDCError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("x-amzn-ErrorType", code)
	body := map[string]string{"error": oidcErrorValue[code], "error_description": desc}
	if body["error"] == "" {
		body["error"] = "server_error"
	}
	writeJSON(w, status, body)
}

// writePortalError sends an SSO portal error, whose body member is "message".
func writePortalError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("x-amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"message": msg})
}

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type stsErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	var e stsErrorResponse
	e.Xmlns = stsNamespace
	e.Error.Type = "Sender"
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message = code, msg
	e.RequestID = requestID()
	writeXML(w, status, "text/xml", e)
}

type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	id := requestID()
	w.Header().Set("x-amz-request-id", id)
	writeXML(w, status, "application/xml", s3Error{Code: code, Message: msg, RequestID: id, HostID: "emulator"})
}

func writeXML(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "emulator: cannot encode response", http.StatusInternalServerError)
		return
	}
	b = append([]byte(xml.Header), b...)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("emulator: crypto/rand failed: " + err.Error())
	}
	return b
}

// randToken returns prefix + n random bytes in URL-safe base64.
func randToken(prefix string, n int) string {
	return prefix + base64.RawURLEncoding.EncodeToString(randBytes(n))
}

// randFrom returns n characters drawn uniformly from alphabet.
func randFrom(alphabet string, n int) string {
	out := make([]byte, n)
	b := randBytes(n)
	for i := range out {
		// len(alphabet) divides 256 for the alphabets used here, or the
		// slight bias does not matter for an emulator.
		out[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(out)
}

const (
	upperDigits  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // 32: no bias
	secretChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	userCodeChar = "BCDFGHJKLMNPQRSTVWXZ" // no vowels: no words, no 0/O confusion
)

// newAccessKeyID returns an AWS-shaped key ID: ASIA for temporary keys.
func newAccessKeyID(prefix string) string { return prefix + randFrom(upperDigits, 16) }

func newSecretAccessKey() string { return randFrom(secretChars, 40) }

// newSessionToken is long and base64 like AWS's, so clients that size
// buffers or headers see realistic values.
func newSessionToken() string {
	return "IQoJb3JpZ2luX2Vj" + base64.StdEncoding.EncodeToString(randBytes(240))
}

func newUserCode() string { c := randFrom(userCodeChar, 8); return c[:4] + "-" + c[4:] }
