package ssocache

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Token is one token file. Times are UTC, to the second. Unknown JSON fields are kept on rewrite.
type Token struct {
	StartURL              string    // startUrl
	Region                string    // region
	AccessToken           string    // accessToken
	ExpiresAt             time.Time // expiresAt
	ClientID              string    // clientId
	ClientSecret          string    // clientSecret
	RegistrationExpiresAt time.Time // registrationExpiresAt (zero when absent)
	RefreshToken          string    // refreshToken (empty when absent)

	extra object // the file's other fields, verbatim
}

var tokenFields = map[string]bool{
	"startUrl": true, "region": true, "accessToken": true, "expiresAt": true,
	"clientId": true, "clientSecret": true, "registrationExpiresAt": true, "refreshToken": true,
}

// Refreshable reports whether the token can be refreshed without a human, as botocore decides it: it has a
// refresh token, a client id and secret, and a registration that has not expired at now.
func (t *Token) Refreshable(now time.Time) bool {
	return t.RefreshToken != "" && t.ClientID != "" && t.ClientSecret != "" &&
		!t.RegistrationExpiresAt.IsZero() && t.RegistrationExpiresAt.After(now)
}

// Remaining is the time left on the access token at now (negative once it has expired).
func (t *Token) Remaining(now time.Time) time.Duration { return t.ExpiresAt.Sub(now) }

// Extra returns the raw JSON of a field this package does not know, as it is in the file.
func (t *Token) Extra(name string) (json.RawMessage, bool) {
	raw, ok := t.extra.get(name)
	return append(json.RawMessage(nil), raw...), ok
}

// SetExtra sets a field this package does not know (raw must be one JSON value). On save it is written
// after the known fields; fields already in the file that t does not set are kept.
func (t *Token) SetExtra(name string, raw json.RawMessage) error {
	return setExtra(&t.extra, tokenFields, name, raw)
}

func setExtra(o *object, known map[string]bool, name string, raw json.RawMessage) error {
	if known[name] {
		return fmt.Errorf("SetExtra: %q is a known field; set it through the struct", name)
	}
	if !json.Valid(raw) {
		return fmt.Errorf("SetExtra: the value for %q is not valid JSON", name)
	}
	*o = o.with(name, raw)
	return nil
}

// parseToken reads a token file. It needs accessToken and expiresAt, as botocore's SSOTokenLoader does.
func parseToken(data []byte) (*Token, error) {
	o, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	t := &Token{extra: o.unknown(tokenFields)}
	var errs []error
	str := func(name string, dst *string) {
		v, _, err := o.str(name)
		errs = append(errs, err)
		*dst = v
	}
	str("startUrl", &t.StartURL)
	str("region", &t.Region)
	str("accessToken", &t.AccessToken)
	str("clientId", &t.ClientID)
	str("clientSecret", &t.ClientSecret)
	str("refreshToken", &t.RefreshToken)
	var present bool
	t.ExpiresAt, present, err = o.time("expiresAt")
	errs = append(errs, err)
	if err == nil && !present {
		errs = append(errs, errors.New("expiresAt is missing"))
	}
	t.RegistrationExpiresAt, _, err = o.time("registrationExpiresAt")
	errs = append(errs, err)
	if t.AccessToken == "" {
		errs = append(errs, errors.New("accessToken is missing or empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// marshal writes t in the CLI's field order and form, then the unknown fields: base's (from the file being
// replaced) with t's own over them.
func (t *Token) marshal(base object) ([]byte, error) {
	if t.AccessToken == "" || t.ExpiresAt.IsZero() {
		return nil, errors.New("a token needs an access token and an expiry")
	}
	if err := errors.Join(checkWritable("expiresAt", t.ExpiresAt),
		checkWritable("registrationExpiresAt", t.RegistrationExpiresAt)); err != nil {
		return nil, err
	}
	var w objWriter
	w.strOpt("startUrl", t.StartURL)
	w.strOpt("region", t.Region)
	w.str("accessToken", t.AccessToken)
	w.str("expiresAt", formatTime(t.ExpiresAt))
	w.strOpt("clientId", t.ClientID)
	w.strOpt("clientSecret", t.ClientSecret)
	if !t.RegistrationExpiresAt.IsZero() {
		w.str("registrationExpiresAt", formatTime(t.RegistrationExpiresAt))
	}
	w.strOpt("refreshToken", t.RefreshToken)
	w.members(overlay(base.unknown(tokenFields), t.extra))
	return w.bytes(), nil
}
