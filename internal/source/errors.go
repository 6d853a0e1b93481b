package source

import (
	"errors"
	"fmt"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ConfigError is a profile ssokeep cannot serve as configured. It names the file and the profile and says what
// to do.
type ConfigError struct {
	File, Profile, Msg string
}

func (e *ConfigError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("profile %s: %s", e.Profile, e.Msg)
	}
	return fmt.Sprintf("%s: profile %s: %s", e.File, e.Profile, e.Msg)
}

// apiCode is the service's error code, "" for other errors.
func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// explain shortens an SDK error to one line a person needs: the service's code and message, or the transport
// failure, without the SDK's operation stack and request ids. Service messages name principals and resources,
// never a secret.
func explain(err error) error {
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

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
