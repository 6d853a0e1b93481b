package ssocache

import (
	"encoding/json"
	"errors"
	"time"
)

// Registration is one client-registration file (the CLI's cached RegisterClient result).
type Registration struct {
	ClientID, ClientSecret string
	ExpiresAt              time.Time // expiresAt
	Scopes                 []string  // omitted when nil
	GrantTypes             []string  // omitted when nil (the CLI writes it for PKCE registrations)

	extra object // the file's other fields, verbatim
}

var registrationFields = map[string]bool{
	"clientId": true, "clientSecret": true, "expiresAt": true, "scopes": true, "grantTypes": true,
}

// Expired reports whether the registration has expired at now; an expired one cannot refresh tokens.
func (r *Registration) Expired(now time.Time) bool { return !r.ExpiresAt.After(now) }

// Extra returns the raw JSON of a field this package does not know, as it is in the file.
func (r *Registration) Extra(name string) (json.RawMessage, bool) {
	raw, ok := r.extra.get(name)
	return append(json.RawMessage(nil), raw...), ok
}

// SetExtra sets a field this package does not know (raw must be one JSON value).
func (r *Registration) SetExtra(name string, raw json.RawMessage) error {
	return setExtra(&r.extra, registrationFields, name, raw)
}

func parseRegistration(data []byte) (*Registration, error) {
	o, err := parseObject(data)
	if err != nil {
		return nil, err
	}
	return registrationFrom(o)
}

func registrationFrom(o object) (*Registration, error) {
	r := &Registration{extra: o.unknown(registrationFields)}
	var errs []error
	var err error
	if _, ok := o.get("accessToken"); ok {
		// The CLI keeps a copy of the registration in every token file; that does not make it a registration.
		errs = append(errs, errors.New("it holds an accessToken: it is a token, not a registration"))
	}
	r.ClientID, _, err = o.str("clientId")
	errs = append(errs, err)
	r.ClientSecret, _, err = o.str("clientSecret")
	errs = append(errs, err)
	var present bool
	r.ExpiresAt, present, err = o.time("expiresAt")
	errs = append(errs, err)
	if err == nil && !present {
		errs = append(errs, errors.New("expiresAt is missing"))
	}
	r.Scopes, err = o.strs("scopes")
	errs = append(errs, err)
	r.GrantTypes, err = o.strs("grantTypes")
	errs = append(errs, err)
	if r.ClientID == "" || r.ClientSecret == "" {
		errs = append(errs, errors.New("clientId or clientSecret is missing or empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Registration) marshal(base object) ([]byte, error) {
	if r.ClientID == "" || r.ClientSecret == "" || r.ExpiresAt.IsZero() {
		return nil, errors.New("a registration needs a client id, a client secret and an expiry")
	}
	if err := checkWritable("expiresAt", r.ExpiresAt); err != nil {
		return nil, err
	}
	var w objWriter
	w.str("clientId", r.ClientID)
	w.str("clientSecret", r.ClientSecret)
	w.str("expiresAt", formatTime(r.ExpiresAt))
	if r.Scopes != nil {
		w.strs("scopes", r.Scopes)
	}
	if r.GrantTypes != nil {
		w.strs("grantTypes", r.GrantTypes)
	}
	w.members(overlay(base.unknown(registrationFields), r.extra))
	return w.bytes(), nil
}
