package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SSO OIDC (REST-JSON): RegisterClient, StartDeviceAuthorization, CreateToken.

// decodeJSON reads a JSON request body; on failure it answers
// InvalidRequestException and returns false.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil && len(b) > 0 {
		err = json.Unmarshal(b, v)
	}
	if err != nil || len(b) == 0 {
		writeOIDCError(w, 400, "InvalidRequestException", "the request body must be a JSON object")
		return false
	}
	return true
}

func (s *Server) handleRegisterClient(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientName   string   `json:"clientName"`
		ClientType   string   `json:"clientType"`
		Scopes       []string `json:"scopes"`
		RedirectURIs []string `json:"redirectUris"`
		GrantTypes   []string `json:"grantTypes"`
		IssuerURL    string   `json:"issuerUrl"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	switch {
	case in.ClientName == "":
		writeOIDCError(w, 400, "InvalidRequestException", "clientName is required")
		return
	case in.ClientType != "public":
		writeOIDCError(w, 400, "InvalidClientMetadataException", "clientType must be public")
		return
	}
	for _, g := range in.GrantTypes {
		if g != grantAuthCode && g != grantRefresh && g != grantDeviceCode && g != "device_code" {
			writeOIDCError(w, 400, "UnsupportedGrantTypeException", "unsupported grant type: "+g)
			return
		}
	}
	for _, u := range in.RedirectURIs {
		if _, err := loopbackURI(u); err != nil {
			writeOIDCError(w, 400, "InvalidRedirectUriException", "redirect URI "+u+": "+err.Error())
			return
		}
	}
	if slices.Contains(in.GrantTypes, grantAuthCode) && len(in.RedirectURIs) == 0 {
		writeOIDCError(w, 400, "InvalidRequestException", "the authorization_code grant needs redirectUris")
		return
	}
	now := s.opts.Now()
	c := &client{
		id: randToken("", 24), secret: randToken("", 180), name: in.ClientName,
		scopes: in.Scopes, grantTypes: in.GrantTypes, redirectURIs: in.RedirectURIs, issuerURL: in.IssuerURL,
		issued: now, expires: now.Add(s.opts.RegistrationLifetime),
	}
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	s.emit([]Event{{Kind: ClientRegistered, Time: now, ClientID: c.id, StartURL: c.issuerURL, Expires: c.expires}})
	writeJSON(w, 200, map[string]any{
		"clientId":              c.id,
		"clientSecret":          c.secret,
		"clientIdIssuedAt":      now.Unix(),
		"clientSecretExpiresAt": c.expires.Unix(),
	})
}

// authClient checks a client's credentials. Callers hold s.mu. On failure
// it returns the error code and description to send.
func (s *Server) authClient(id, secret string, now time.Time) (*client, string, string) {
	c := s.clients[id]
	if c == nil || subtle.ConstantTimeCompare([]byte(c.secret), []byte(secret)) != 1 {
		return nil, "InvalidClientException", "Invalid client: unknown clientId or wrong clientSecret"
	}
	if !now.Before(c.expires) {
		return nil, "InvalidClientException", "Invalid client: the client registration has expired; register again"
	}
	return c, "", ""
}

func (s *Server) handleStartDeviceAuthorization(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		StartURL     string `json:"startUrl"`
	}
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.StartURL == "" {
		writeOIDCError(w, 400, "InvalidRequestException", "startUrl is required")
		return
	}
	if u, err := url.Parse(in.StartURL); err != nil || u.Scheme != "https" || u.Host == "" {
		writeOIDCError(w, 400, "InvalidRequestException", "startUrl must be an https URL such as "+s.opts.StartURL)
		return
	}
	now := s.opts.Now()
	s.mu.Lock()
	c, code, desc := s.authClient(in.ClientID, in.ClientSecret, now)
	if c == nil {
		s.mu.Unlock()
		writeOIDCError(w, 401, code, desc)
		return
	}
	d := &deviceAuth{deviceCode: randToken("", 48), client: c, startURL: in.StartURL, issued: now,
		expires: now.Add(s.opts.DeviceCodeLifetime)}
	for d.userCode == "" || s.userCodes[d.userCode] != nil {
		d.userCode = newUserCode()
	}
	s.devices[d.deviceCode] = d
	s.userCodes[d.userCode] = d
	var ev []Event
	ev = append(ev, Event{Kind: DeviceAuthorizationStarted, Time: now, StartURL: d.startURL, ClientID: c.id,
		UserCode: d.userCode, Expires: d.expires})
	if s.approve.auto && s.approve.after == 0 {
		s.approveDevice(d, now, &ev)
	}
	s.mu.Unlock()
	s.emit(ev)
	verify := s.URL() + "/device"
	writeJSON(w, 200, map[string]any{
		"deviceCode":              d.deviceCode,
		"userCode":                d.userCode,
		"verificationUri":         verify,
		"verificationUriComplete": verify + "?user_code=" + url.QueryEscape(d.userCode),
		"expiresIn":               expiresIn(d.expires, now),
		"interval":                int64(deviceInterval / time.Second),
	})
}

type createTokenInput struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	GrantType    string   `json:"grantType"`
	DeviceCode   string   `json:"deviceCode"`
	Code         string   `json:"code"`
	RefreshToken string   `json:"refreshToken"`
	RedirectURI  string   `json:"redirectUri"`
	CodeVerifier string   `json:"codeVerifier"`
	Scope        []string `json:"scope"`
}

// oidcFailure is an OIDC error to send.
type oidcFailure struct {
	status     int
	code, desc string
}

func (s *Server) handleCreateToken(w http.ResponseWriter, r *http.Request) {
	var in createTokenInput
	if !decodeJSON(w, r, &in) {
		return
	}
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	out, fail := s.createToken(&in, now, &ev)
	s.mu.Unlock()
	s.emit(ev)
	if fail != nil {
		writeOIDCError(w, fail.status, fail.code, fail.desc)
		return
	}
	writeJSON(w, 200, out)
}

// createToken runs one CreateToken. Callers hold s.mu.
func (s *Server) createToken(in *createTokenInput, now time.Time, ev *[]Event) (map[string]any, *oidcFailure) {
	grant := in.GrantType
	if grant == "device_code" {
		grant = grantDeviceCode
	}
	if grant != grantDeviceCode && grant != grantRefresh && grant != grantAuthCode {
		return nil, &oidcFailure{400, "UnsupportedGrantTypeException", "unsupported grantType " + in.GrantType}
	}
	c, code, desc := s.authClient(in.ClientID, in.ClientSecret, now)
	if c == nil {
		return nil, &oidcFailure{401, code, desc}
	}
	if !c.allows(grant) {
		return nil, &oidcFailure{400, "UnauthorizedClientException", "this client registration may not use the " + in.GrantType + " grant"}
	}
	var ss *session
	short := grant // the name used in events
	switch grant {
	case grantDeviceCode:
		short = "device_code"
		d := s.devices[in.DeviceCode]
		if in.DeviceCode == "" || d == nil || d.client != c {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: unknown device code"}
		}
		if d.state == deviceRedeemed {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: the device code was already used"}
		}
		if d.state == deviceDenied {
			return nil, &oidcFailure{400, "AccessDeniedException", "the user denied the authorization request"}
		}
		if d.state != deviceRedeemed && !now.Before(d.expires) {
			return nil, &oidcFailure{400, "ExpiredTokenException", "the device code has expired; start a new device authorization"}
		}
		if d.state == devicePending && s.approve.auto && !now.Before(d.issued.Add(s.approve.after)) {
			s.approveDevice(d, now, ev)
		}
		if d.state == devicePending {
			// A tenth of slack: clients sleep the interval, then send.
			tooSoon := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < deviceInterval*9/10
			d.lastPoll = now
			if tooSoon {
				return nil, &oidcFailure{400, "SlowDownException", "polling faster than the interval; slow down"}
			}
			return nil, &oidcFailure{400, "AuthorizationPendingException", "the user has not yet approved the request"}
		}
		d.state = deviceRedeemed
		ss = d.session
	case grantAuthCode:
		ac := s.codes[in.Code]
		if in.Code == "" || ac == nil || ac.client != c {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: unknown authorization code"}
		}
		if ac.used || !now.Before(ac.expires) {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: the authorization code was used or has expired"}
		}
		ac.used = true // one try: a wrong verifier burns the code, as OAuth servers do
		if in.RedirectURI != ac.redirectURI {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: redirectUri differs from the one in the authorization request"}
		}
		if !pkceMatches(in.CodeVerifier, ac.challenge) {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: codeVerifier does not match the code challenge"}
		}
		ss = ac.session
	case grantRefresh:
		rt := s.refresh[in.RefreshToken]
		if in.RefreshToken == "" || rt == nil || rt.client != c {
			return nil, &oidcFailure{400, "InvalidGrantException", "Invalid grant provided: unknown refresh token"}
		}
		deny := func(reason, desc string) (map[string]any, *oidcFailure) {
			*ev = append(*ev, Event{Kind: RefreshDenied, Time: now, StartURL: rt.session.startURL, User: rt.session.user,
				SessionID: rt.session.id, ClientID: c.id, Grant: short, Reason: reason, SessionEnd: rt.session.finalEnd()})
			return nil, &oidcFailure{400, "InvalidGrantException", desc}
		}
		if rt.used {
			return deny("refresh token already used", "Invalid grant provided: the refresh token was already used")
		}
		if !rt.session.alive(now) {
			s.noteEnded(rt.session, now, ev)
			return deny("session ended", "Invalid grant provided: the sign-in session has ended; sign in again")
		}
		if s.opts.RotateRefreshTokens {
			rt.used = true
		}
		ss = rt.session
	}
	access, refresh, expires := s.issueTokens(c, ss, now)
	kind := TokenIssued
	if grant == grantRefresh {
		kind = TokenRefreshed
	}
	*ev = append(*ev, Event{Kind: kind, Time: now, StartURL: ss.startURL, User: ss.user, SessionID: ss.id, ClientID: c.id,
		Grant: short, Expires: expires, SessionEnd: ss.finalEnd()})
	out := map[string]any{"accessToken": access, "tokenType": "Bearer", "expiresIn": expiresIn(expires, now)}
	if refresh != "" {
		out["refreshToken"] = refresh
	}
	return out, nil
}

// pkceMatches checks an RFC 7636 S256 code verifier against its challenge.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || challenge == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(strings.TrimRight(challenge, "="))) == 1
}

// loopbackURI parses a redirect URI and insists on http to a loopback host:
// the only redirect URIs a native client such as the CLI uses.
func loopbackURI(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, errorString("the emulator accepts only http://127.0.0.1[:PORT]/... or http://localhost[:PORT]/... redirect URIs")
	}
	switch u.Hostname() {
	case "127.0.0.1", "localhost", "::1":
		return u, nil
	}
	return nil, errorString("the emulator accepts only http://127.0.0.1[:PORT]/... or http://localhost[:PORT]/... redirect URIs")
}

type errorString string

func (e errorString) Error() string { return string(e) }

// redirectAllowed matches a requested redirect URI against the registered
// ones as RFC 8252 §7.3 says: for loopback hosts any port is allowed, the
// rest must be equal.
func redirectAllowed(c *client, requested string) bool {
	ru, err := loopbackURI(requested)
	if err != nil {
		return false
	}
	for _, reg := range c.redirectURIs {
		gu, err := loopbackURI(reg)
		if err != nil {
			continue
		}
		if gu.Hostname() == ru.Hostname() && gu.EscapedPath() == ru.EscapedPath() && gu.RawQuery == ru.RawQuery {
			return true
		}
	}
	return false
}
