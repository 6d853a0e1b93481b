package awserr

import (
	"errors"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func wrap(err error, status int) error {
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: status}}
	return &smithy.OperationError{ServiceID: "SSO OIDC", OperationName: "CreateToken",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: resp, Err: err}}}
}

func TestExplainCodeTransient(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		explained string
		code      string
		transient bool
	}{
		{"service error", wrap(&smithy.GenericAPIError{Code: "InvalidGrantException", Message: "the grant\n is invalid"}, 400),
			"InvalidGrantException: the grant is invalid", "InvalidGrantException", false},
		{"throttled", wrap(&smithy.GenericAPIError{Code: "TooManyRequestsException"}, 429), "TooManyRequestsException", "TooManyRequestsException", true},
		{"server error without a code", wrap(errors.New("boom"), 503), "HTTP 503", "", true},
		{"network", &smithy.OperationError{ServiceID: "SSO", OperationName: "GetRoleCredentials", Err: errors.New("dial tcp: connection refused")},
			"dial tcp: connection refused", "", true},
		{"plain", errors.New("no such file"), "no such file", "", false},
	} {
		if got := Explain(tc.err).Error(); got != tc.explained {
			t.Errorf("%s: Explain = %q, want %q", tc.name, got, tc.explained)
		}
		if got := Code(tc.err); got != tc.code {
			t.Errorf("%s: Code = %q, want %q", tc.name, got, tc.code)
		}
		if got := Transient(tc.err); got != tc.transient {
			t.Errorf("%s: Transient = %v", tc.name, got)
		}
	}
}
