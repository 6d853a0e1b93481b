package sigv4

import (
	"net/http"
	"net/url"
	"strings"
)

// ScopeService returns the service of the request's credential scope ("s3",
// "sts", ...) from the Authorization header or the X-Amz-Credential query,
// or "" when the request is not SigV4-signed. It does not verify anything;
// the emulator routes every request on one port by it.
func ScopeService(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if !strings.HasPrefix(h, algorithm+" ") {
			return ""
		}
		_, cred, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		if i := strings.IndexAny(cred, ", "); i >= 0 {
			cred = cred[:i]
		}
		return serviceOf(cred)
	}
	q := r.URL.RawQuery
	for q != "" {
		var pair string
		pair, q, _ = strings.Cut(q, "&")
		if v, ok := strings.CutPrefix(pair, "X-Amz-Credential="); ok {
			if u, err := url.QueryUnescape(v); err == nil {
				return serviceOf(u)
			}
			return ""
		}
	}
	return ""
}

// serviceOf picks SERVICE out of AKID/DATE/REGION/SERVICE/aws4_request.
func serviceOf(cred string) string {
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return ""
	}
	return parts[3]
}
