// Package awserr turns aws-sdk-go-v2 errors into what a person or a retry
// loop needs: the service's code, one line without the SDK's operation stack
// and request ids, and whether trying again may help. Service messages name
// principals and resources, never a secret.
package awserr

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Code is the service's error code, "" for other errors.
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Explain shortens err to one line: "Code: message", "HTTP 503", or the
// transport failure.
func Explain(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) {
		msg := oneLine(api.ErrorMessage())
		if msg == "" {
			return errors.New(api.ErrorCode())
		}
		return fmt.Errorf("%s: %s", api.ErrorCode(), msg)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("HTTP %d", re.HTTPStatusCode())
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return errors.New(oneLine(oe.Unwrap().Error()))
	}
	return errors.New(oneLine(err.Error()))
}

// Transient reports whether a call may succeed if simply tried again: the
// service failed (5xx) or throttled, or the network did.
func Transient(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429) {
		return true
	}
	switch Code(err) {
	case "":
		var oe *smithy.OperationError
		return errors.As(err, &oe) // no API error inside: a transport failure
	case "InternalServerException", "ThrottlingException", "TooManyRequestsException", "ServiceUnavailableException":
		return true
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
