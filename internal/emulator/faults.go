package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Fault is what the emulator does to one operation: add Latency to every
// call, and fail a fraction Rate of them with Error.
type Fault struct {
	// Rate is the probability (0..1) that a call fails with Error. When Error
	// is set and Rate is 0, every call fails (Rate 1).
	Rate float64
	// Error is an HTTP status ("500", "503") or an error code valid for the
	// operation's service (ThrottlingException, TooManyRequestsException,
	// SlowDownException, InternalServerException, SlowDown, ...). It is sent
	// in that service's wire format.
	Error string
	// Latency is added before the call is answered (real time: it models the
	// network, not the emulated clock).
	Latency time.Duration
}

// Faults maps an operation name (CreateToken, GetRoleCredentials,
// AssumeRole, PutObject, ...) or "*" (every operation) to its Fault.
type Faults map[string]Fault

type faultJSON struct {
	Rate    float64 `json:"rate,omitempty"`
	Error   string  `json:"error,omitempty"`
	Latency string  `json:"latency,omitempty"`
}

func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Rate: f.Rate, Error: f.Error}
	if f.Latency > 0 {
		j.Latency = f.Latency.String()
	}
	return json.Marshal(j)
}

func (f *Fault) UnmarshalJSON(b []byte) error {
	var j struct {
		Rate    float64         `json:"rate"`
		Error   json.RawMessage `json:"error"`
		Latency json.RawMessage `json:"latency"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = Fault{Rate: j.Rate}
	if len(j.Error) > 0 && string(j.Error) != "null" {
		// Accept 500 as well as "500".
		var s string
		if json.Unmarshal(j.Error, &s) != nil {
			s = string(j.Error)
		}
		f.Error = s
	}
	if len(j.Latency) > 0 && string(j.Latency) != "null" {
		var d Duration
		if err := d.UnmarshalJSON(j.Latency); err != nil {
			return fmt.Errorf("latency: %w", err)
		}
		f.Latency = time.Duration(d)
	}
	return nil
}

// ParseFault reads the --fault flag form "OP:rate=0.2,error=TooManyRequestsException,latency=300ms".
func ParseFault(s string) (op string, f Fault, err error) {
	op, spec, ok := strings.Cut(s, ":")
	op = strings.TrimSpace(op)
	if !ok || op == "" || spec == "" {
		return "", Fault{}, fmt.Errorf("fault %q: use OP:rate=0.2,error=ThrottlingException,latency=300ms", s)
	}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return "", Fault{}, fmt.Errorf("fault %q: %q is not key=value (keys: rate, error, latency)", s, kv)
		}
		switch k {
		case "rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return "", Fault{}, fmt.Errorf("fault %q: rate %q is not a number between 0 and 1", s, v)
			}
			f.Rate = r
		case "error":
			f.Error = v
		case "latency":
			d, err := time.ParseDuration(v)
			if err != nil {
				return "", Fault{}, fmt.Errorf("fault %q: latency %q is not a duration such as 300ms", s, v)
			}
			f.Latency = d
		default:
			return "", Fault{}, fmt.Errorf("fault %q: unknown key %q (keys: rate, error, latency)", s, k)
		}
	}
	return op, f, nil
}

// service names the wire format an operation's errors use.
type service int

const (
	svcS3 service = iota
	svcOIDC
	svcPortal
	svcSTS
)

func (s service) String() string {
	return [...]string{"S3", "SSO OIDC", "SSO portal", "STS"}[s]
}

var opService = map[string]service{
	"RegisterClient": svcOIDC, "StartDeviceAuthorization": svcOIDC, "CreateToken": svcOIDC,
	"GetRoleCredentials": svcPortal, "ListAccounts": svcPortal, "ListAccountRoles": svcPortal, "Logout": svcPortal,
	"GetSessionToken": svcSTS, "AssumeRole": svcSTS, "GetCallerIdentity": svcSTS,
}

// serviceOf returns the service of a known operation; every other name is
// taken as an S3 operation (s3api names them).
func serviceOf(op string) service {
	if s, ok := opService[op]; ok {
		return s
	}
	return svcS3
}

// errorStatus lists, per service, the error codes a fault may use and the
// HTTP status each one is sent with.
var errorStatus = map[service]map[string]int{
	svcOIDC: {
		"AuthorizationPendingException": 400, "SlowDownException": 400, "ExpiredTokenException": 400,
		"InvalidGrantException": 400, "InvalidClientException": 401, "UnauthorizedClientException": 400,
		"AccessDeniedException": 400, "UnsupportedGrantTypeException": 400, "InvalidScopeException": 400,
		"InvalidRequestException": 400, "InvalidClientMetadataException": 400, "InvalidRedirectUriException": 400,
		"InternalServerException": 500,
	},
	svcPortal: {
		"InvalidRequestException": 400, "UnauthorizedException": 401, "TooManyRequestsException": 429,
		"ResourceNotFoundException": 404, "ForbiddenException": 403, "InternalServerException": 500,
	},
	svcSTS: {
		"Throttling": 400, "ThrottlingException": 400, "InternalFailure": 500, "ServiceUnavailable": 503,
		"AccessDenied": 403, "ExpiredToken": 400, "InvalidClientTokenId": 403, "SignatureDoesNotMatch": 403,
		"RegionDisabledException": 403, "ValidationError": 400, "IDPCommunicationError": 400,
		"MalformedPolicyDocument": 400, "PackedPolicyTooLarge": 400,
	},
	svcS3: {
		"SlowDown": 503, "InternalError": 500, "ServiceUnavailable": 503, "AccessDenied": 403,
		"ExpiredToken": 400, "InvalidAccessKeyId": 403, "SignatureDoesNotMatch": 403, "InvalidToken": 400,
		"RequestTimeTooSkewed": 403, "RequestTimeout": 400, "NoSuchBucket": 404, "NoSuchKey": 404,
		"InvalidRequest": 400,
	},
}

// codeForStatus picks the code a service sends with a bare HTTP status.
func codeForStatus(svc service, status int) string {
	switch svc {
	case svcOIDC:
		switch {
		case status >= 500:
			return "InternalServerException"
		case status == 401:
			return "InvalidClientException"
		case status == 429:
			return "SlowDownException"
		case status == 403:
			return "AccessDeniedException"
		}
		return "InvalidRequestException"
	case svcPortal:
		switch {
		case status >= 500:
			return "InternalServerException"
		case status == 401:
			return "UnauthorizedException"
		case status == 403:
			return "ForbiddenException"
		case status == 404:
			return "ResourceNotFoundException"
		case status == 429:
			return "TooManyRequestsException"
		}
		return "InvalidRequestException"
	case svcSTS:
		switch {
		case status == 503:
			return "ServiceUnavailable"
		case status >= 500:
			return "InternalFailure"
		case status == 403:
			return "AccessDenied"
		case status == 429:
			return "Throttling"
		}
		return "ValidationError"
	}
	switch {
	case status == 503:
		return "SlowDown"
	case status >= 500:
		return "InternalError"
	case status == 403:
		return "AccessDenied"
	case status == 404:
		return "NoSuchKey"
	}
	return "InvalidRequest"
}

// resolve turns a fault's Error into the status and code to send.
func (f Fault) resolve(op string) (status int, code string, err error) {
	svc := serviceOf(op)
	if n, convErr := strconv.Atoi(f.Error); convErr == nil {
		if n < 400 || n > 599 {
			return 0, "", fmt.Errorf("fault %s: error %d is not an HTTP error status (400-599)", op, n)
		}
		return n, codeForStatus(svc, n), nil
	}
	if op == "*" {
		return 0, "", fmt.Errorf("fault *: error %q must be an HTTP status such as 500, because error codes differ between services", f.Error)
	}
	st, ok := errorStatus[svc][f.Error]
	if !ok {
		codes := make([]string, 0, len(errorStatus[svc]))
		for c := range errorStatus[svc] {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		return 0, "", fmt.Errorf("fault %s: %q is not an error code of %s; use an HTTP status or one of %s",
			op, f.Error, svc, strings.Join(codes, ", "))
	}
	return st, f.Error, nil
}

// validate checks every fault and fills the implied Rate.
func (fs Faults) normalized() (Faults, error) {
	out := make(Faults, len(fs))
	for op, f := range fs {
		if op == "" {
			return nil, fmt.Errorf("fault with an empty operation name: name one such as CreateToken, GetRoleCredentials or PutObject, or * for all")
		}
		if f.Rate < 0 || f.Rate > 1 {
			return nil, fmt.Errorf("fault %s: rate %g must be between 0 and 1", op, f.Rate)
		}
		if f.Latency < 0 {
			return nil, fmt.Errorf("fault %s: latency %v must not be negative", op, f.Latency)
		}
		if f.Error != "" {
			if _, _, err := f.resolve(op); err != nil {
				return nil, err
			}
			if f.Rate == 0 {
				f.Rate = 1
			}
		} else if f.Rate > 0 {
			return nil, fmt.Errorf("fault %s: rate %g needs an error (an HTTP status or an error code)", op, f.Rate)
		}
		out[op] = f
	}
	return out, nil
}

// writeServiceError sends an error in the wire format of op's service.
func writeServiceError(w http.ResponseWriter, op string, status int, code, msg string) {
	switch serviceOf(op) {
	case svcOIDC:
		writeOIDCError(w, status, code, msg)
	case svcPortal:
		writePortalError(w, status, code, msg)
	case svcSTS:
		writeSTSError(w, status, code, msg)
	default:
		writeS3Error(w, status, code, msg)
	}
}
