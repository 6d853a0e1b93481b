package emulator

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// STS (Query protocol, XML): GetSessionToken, AssumeRole, GetCallerIdentity.
// Requests arrive SigV4-verified; the caller's Principal decides the rules
// (GetSessionToken only with long-term keys, role chaining capped at 1 h).

// stsAction names the STS operation of a request without consuming its
// body (the verifier still has to hash it).
func stsAction(r *http.Request) string {
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if r.Body == nil || r.Method != http.MethodPost {
		return "UnknownSTSAction"
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
	q, _ := url.ParseQuery(string(b))
	if a := q.Get("Action"); a != "" {
		return a
	}
	return "UnknownSTSAction"
}

// isUnsignedSTS recognises an STS Query call that carries no signature, so
// it gets STS's MissingAuthenticationToken rather than S3's AccessDenied.
func isUnsignedSTS(r *http.Request) bool {
	if r.URL.Path != "/" {
		return false
	}
	if r.URL.Query().Has("Action") {
		return true
	}
	return r.Method == http.MethodPost &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type stsMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeSTSResult sends <{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata/>.
func writeSTSResult(w http.ResponseWriter, op string, result any) {
	type response struct {
		XMLName  xml.Name
		Xmlns    string `xml:"xmlns,attr"`
		Result   any
		Metadata stsMetadata `xml:"ResponseMetadata"`
	}
	v := response{XMLName: xml.Name{Local: op + "Response"}, Xmlns: stsNamespace, Result: result,
		Metadata: stsMetadata{RequestID: requestID()}}
	writeXML(w, http.StatusOK, "text/xml", v)
}

// serveSTSAction runs an authenticated STS call for the caller's principal.
func (s *Server) serveSTSAction(w http.ResponseWriter, r *http.Request, p Principal) {
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, 400, "MalformedQueryString", "the request body is not a valid form")
		return
	}
	f := r.Form
	now := s.opts.Now()
	switch action := f.Get("Action"); action {
	case "GetCallerIdentity":
		type result struct {
			XMLName xml.Name `xml:"GetCallerIdentityResult"`
			Arn     string   `xml:"Arn"`
			UserID  string   `xml:"UserId"`
			Account string   `xml:"Account"`
		}
		writeSTSResult(w, action, result{Arn: p.ARN, UserID: p.UserID, Account: p.Account})
	case "GetSessionToken":
		s.getSessionToken(w, f, p, now)
	case "AssumeRole":
		s.assumeRole(w, f, p, now)
	default:
		writeSTSError(w, 400, "InvalidAction", fmt.Sprintf("Could not find operation %s for version 2011-06-15", truncate(action, 64)))
	}
}

// durationParam reads DurationSeconds within [lo, hi], with AWS's
// validation message when it is out of range.
func durationParam(f url.Values, def, lo, hi int) (int, error) {
	v := f.Get("DurationSeconds")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", truncate(v, 32))
	}
	if n < lo {
		return 0, fmt.Errorf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", n, lo)
	}
	if n > hi {
		return 0, fmt.Errorf("1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, hi)
	}
	return n, nil
}

// stsExpiry applies STSMaxLifetime and rounds down to whole seconds, the
// precision of the XML Expiration, so clients and the emulator agree.
func (s *Server) stsExpiry(now time.Time, seconds int) time.Time {
	d := time.Duration(seconds) * time.Second
	if s.opts.STSMaxLifetime > 0 && s.opts.STSMaxLifetime < d {
		d = s.opts.STSMaxLifetime
	}
	return now.Add(d).Truncate(time.Second)
}

const mfaFailed = "MultiFactorAuthentication failed with invalid MFA one time pass code."

// checkMFA validates SerialNumber + TokenCode with TOTP (RFC 6238).
// It returns (false, nil) when neither is given.
func (s *Server) checkMFA(f url.Values, now time.Time) (bool, *stsFailure) {
	serial, code := f.Get("SerialNumber"), f.Get("TokenCode")
	if serial == "" && code == "" {
		return false, nil
	}
	if serial == "" || code == "" {
		return false, &stsFailure{400, "ValidationError", "SerialNumber and TokenCode must be given together"}
	}
	if len(serial) < 9 || len(serial) > 256 {
		return false, &stsFailure{400, "ValidationError", "1 validation error detected: Value at 'serialNumber' failed to satisfy constraint: Member must have length between 9 and 256"}
	}
	if !tokenCodeRe().MatchString(code) {
		return false, &stsFailure{400, "ValidationError", "1 validation error detected: Value at 'tokenCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\d]*, length 6"}
	}
	dev := s.mfaDevice(serial)
	if dev == nil {
		return false, &stsFailure{403, "AccessDenied", mfaFailed}
	}
	ok, err := totp.ValidateCustom(code, strings.ToUpper(dev.Secret), now, totp.ValidateOpts{
		Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil || !ok {
		return false, &stsFailure{403, "AccessDenied", mfaFailed}
	}
	return true, nil
}

type stsFailure struct {
	status    int
	code, msg string
}

func (s *Server) getSessionToken(w http.ResponseWriter, f url.Values, p Principal, now time.Time) {
	if !p.LongTerm {
		writeSTSError(w, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials")
		return
	}
	secs, err := durationParam(f, 43200, 900, 129600)
	if err != nil {
		writeSTSError(w, 400, "ValidationError", err.Error())
		return
	}
	mfa, fail := s.checkMFA(f, now)
	if fail != nil {
		writeSTSError(w, fail.status, fail.code, fail.msg)
		return
	}
	sp := Principal{Account: p.Account, ARN: p.ARN, UserID: p.UserID, IAMUser: p.IAMUser, MFA: mfa}
	expires := s.stsExpiry(now, secs)
	id, c := s.reg.issue(sp, now, expires)
	s.emit([]Event{{Kind: STSCredentialsIssued, Time: now, Operation: "GetSessionToken", AccountID: p.Account,
		User: p.IAMUser, Expires: expires}})
	type result struct {
		XMLName     xml.Name       `xml:"GetSessionTokenResult"`
		Credentials stsCredentials `xml:"Credentials"`
	}
	writeSTSResult(w, "GetSessionToken", result{Credentials: stsCreds(id, c)})
}

func stsCreds(id string, c credential) stsCredentials {
	return stsCredentials{AccessKeyID: id, SecretAccessKey: c.secret, SessionToken: c.sessionToken,
		Expiration: c.expires.UTC().Format("2006-01-02T15:04:05Z")}
}

var (
	roleArnRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)
	})
	sessionNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\w+=,.@-]{2,64}$`) })
	tokenCodeRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{6}$`) })
)

const chainingLimit = "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."

func (s *Server) assumeRole(w http.ResponseWriter, f url.Values, p Principal, now time.Time) {
	roleArn, sessionName := f.Get("RoleArn"), f.Get("RoleSessionName")
	if roleArn == "" || sessionName == "" {
		writeSTSError(w, 400, "ValidationError", "RoleArn and RoleSessionName are required")
		return
	}
	if !sessionNameRe().MatchString(sessionName) {
		writeSTSError(w, 400, "ValidationError", "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*")
		return
	}
	m := roleArnRe().FindStringSubmatch(roleArn)
	if m == nil {
		writeSTSError(w, 400, "ValidationError", fmt.Sprintf("%s is invalid: RoleArn must look like arn:aws:iam::123456789012:role/NAME", truncate(roleArn, 128)))
		return
	}
	notAuthorized := fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, roleArn)
	var role *Role
	if a := s.account(m[1]); a != nil {
		role = a.role(m[2])
	}
	if role == nil {
		writeSTSError(w, 403, "AccessDenied", notAuthorized)
		return
	}
	secs, err := durationParam(f, 3600, 900, 43200)
	if err != nil {
		writeSTSError(w, 400, "ValidationError", err.Error())
		return
	}
	maxDur := time.Duration(role.MaxSessionDuration)
	if maxDur == 0 {
		maxDur = time.Hour
	}
	if p.RoleSession && secs > 3600 {
		writeSTSError(w, 400, "ValidationError", chainingLimit)
		return
	}
	if time.Duration(secs)*time.Second > maxDur {
		writeSTSError(w, 400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		return
	}
	if role.ExternalID != "" && f.Get("ExternalId") != role.ExternalID {
		writeSTSError(w, 403, "AccessDenied", notAuthorized)
		return
	}
	mfa, fail := s.checkMFA(f, now)
	if fail != nil {
		writeSTSError(w, fail.status, fail.code, fail.msg)
		return
	}
	mfa = mfa || p.MFA
	if role.RequireMFA && !mfa {
		writeSTSError(w, 403, "AccessDenied", notAuthorized)
		return
	}
	roleID := "AROA" + strings.ToUpper(s.reservedSuffix(m[1], "iam-role/"+m[2]))
	ap := Principal{
		Account:     m[1],
		ARN:         "arn:aws:sts::" + m[1] + ":assumed-role/" + m[2] + "/" + sessionName,
		UserID:      roleID + ":" + sessionName,
		RoleSession: true,
		MFA:         mfa,
	}
	expires := s.stsExpiry(now, secs)
	id, c := s.reg.issue(ap, now, expires)
	s.emit([]Event{{Kind: STSCredentialsIssued, Time: now, Operation: "AssumeRole", AccountID: m[1], RoleName: m[2],
		Expires: expires}})
	type assumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string `xml:"Arn"`
	}
	type result struct {
		XMLName         xml.Name        `xml:"AssumeRoleResult"`
		Credentials     stsCredentials  `xml:"Credentials"`
		AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	}
	writeSTSResult(w, "AssumeRole", result{Credentials: stsCreds(id, c),
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: ap.UserID, Arn: ap.ARN}})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
