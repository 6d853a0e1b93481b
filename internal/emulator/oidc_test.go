package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

func TestDeviceFlowPollsThenIssuesRefreshableToken(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	reg := h.register("sso:account:access")
	da, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
	if err != nil {
		t.Fatal(err)
	}
	if da.ExpiresIn != 600 || da.Interval != 1 {
		t.Errorf("expiresIn/interval = %d/%d, want 600/1", da.ExpiresIn, da.Interval)
	}
	if want := h.s.URL() + "/device?user_code=" + url.QueryEscape(*da.UserCode); *da.VerificationUriComplete != want {
		t.Errorf("verificationUriComplete = %s, want %s", *da.VerificationUriComplete, want)
	}
	poll := func() (*ssooidc.CreateTokenOutput, error) {
		return h.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
			GrantType: aws.String(grantDeviceCode), DeviceCode: da.DeviceCode})
	}
	_, err = poll()
	wantCode(t, err, "AuthorizationPendingException", 400)
	_, err = poll() // no time has passed: faster than the interval
	wantCode(t, err, "SlowDownException", 400)
	h.clock.Advance(time.Second)
	_, err = poll()
	wantCode(t, err, "AuthorizationPendingException", 400)

	if err := h.s.Approve(*da.UserCode); err != nil {
		t.Fatal(err)
	}
	tok, err := poll()
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*tok.AccessToken, *tok.RefreshToken)
	if tok.ExpiresIn != 3600 || *tok.TokenType != "Bearer" || aws.ToString(tok.RefreshToken) == "" {
		t.Errorf("token: expiresIn %d type %s refresh? %v; want 3600 Bearer with a refresh token",
			tok.ExpiresIn, *tok.TokenType, tok.RefreshToken != nil)
	}
	_, err = poll()
	wantCode(t, err, "InvalidGrantException", 400) // a device code is redeemed once

	rc, err := h.roleCredentials(*tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if want := h.clock.Now().Add(time.Hour).UnixMilli(); rc.RoleCredentials.Expiration != want {
		t.Errorf("expiration = %d, want %d (epoch milliseconds, 1 h)", rc.RoleCredentials.Expiration, want)
	}
	if !strings.HasPrefix(*rc.RoleCredentials.AccessKeyId, "ASIA") || len(*rc.RoleCredentials.SecretAccessKey) != 40 {
		t.Errorf("role credentials do not look like AWS's: %s", *rc.RoleCredentials.AccessKeyId)
	}
	if len(h.eventsOf(SessionStarted)) != 1 || len(h.eventsOf(RoleCredentialsIssued)) != 1 {
		t.Errorf("events: %d SessionStarted, %d RoleCredentialsIssued; want 1 and 1",
			len(h.eventsOf(SessionStarted)), len(h.eventsOf(RoleCredentialsIssued)))
	}
}

func TestAccessTokenLifetimeRefreshAndSessionEnd(t *testing.T) {
	h := newHarness(t, Options{})
	reg := h.register("sso:account:access")
	tok := h.deviceLogin(reg)
	start := h.clock.Now()

	h.clock.Advance(time.Hour)
	_, err := h.roleCredentials(*tok.AccessToken)
	wantCode(t, err, "UnauthorizedException", 401) // the 1 h token has expired

	r1, err := h.refresh(reg, *tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if *r1.AccessToken == *tok.AccessToken || *r1.RefreshToken == *tok.RefreshToken {
		t.Error("a refresh must return a new access token and a new refresh token")
	}
	if _, err := h.roleCredentials(*r1.AccessToken); err != nil {
		t.Fatalf("GetRoleCredentials with the refreshed token: %v", err)
	}
	_, err = h.refresh(reg, *tok.RefreshToken)
	wantCode(t, err, "InvalidGrantException", 400) // rotated: the old refresh token is spent

	// Half an hour before the 8 h session ends, a refresh still works and
	// its token claims a full hour...
	h.clock.Advance(6*time.Hour + 30*time.Minute)
	r2, err := h.refresh(reg, *r1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if r2.ExpiresIn != 3600 {
		t.Errorf("expiresIn %d, want 3600 even near the session end", r2.ExpiresIn)
	}
	rc, err := h.roleCredentials(*r2.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	// ...but after the session end the portal refuses it, and refresh fails.
	h.clock.Advance(31 * time.Minute)
	_, err = h.roleCredentials(*r2.AccessToken)
	wantCode(t, err, "UnauthorizedException", 401)
	_, err = h.refresh(reg, *r2.RefreshToken)
	wantCode(t, err, "InvalidGrantException", 400)

	// Role credentials outlive the session: the registry still holds them
	// until their own expiry.
	c, ok := h.s.reg.get(*rc.RoleCredentials.AccessKeyId)
	if !ok || !c.expires.After(h.clock.Now()) {
		t.Error("role credentials issued before the session end must stay valid to their expiry")
	}
	ends := h.eventsOf(SessionEnded)
	if len(ends) != 1 || ends[0].Reason != "expired" || !ends[0].Time.Equal(start.Add(8*time.Hour)) {
		t.Errorf("SessionEnded events = %+v, want one, reason expired, at start+8h", ends)
	}
	if len(h.eventsOf(RefreshDenied)) != 2 {
		t.Errorf("want 2 RefreshDenied events (reuse, session end), got %d", len(h.eventsOf(RefreshDenied)))
	}
}

func TestKeepRefreshTokensLeavesOldOneValid(t *testing.T) {
	h := newHarness(t, Options{KeepRefreshTokens: true})
	reg := h.register("sso:account:access")
	tok := h.deviceLogin(reg)
	for i := 0; i < 2; i++ {
		if _, err := h.refresh(reg, *tok.RefreshToken); err != nil {
			t.Fatalf("refresh %d with the same token: %v", i, err)
		}
	}
}

func TestSecondLoginJoinsLiveSessionAndLogoutStartsFresh(t *testing.T) {
	h := newHarness(t, Options{})
	reg := h.register("sso:account:access")
	h.deviceLogin(reg)
	start := h.clock.Now()

	h.clock.Advance(3 * time.Hour) // day 2: "aws sso login" again
	tok2 := h.deviceLogin(reg)
	st := h.s.Stats()
	if len(st.Sessions) != 1 || !st.Sessions[0].End.Equal(start.Add(8*time.Hour)) {
		t.Fatalf("sessions = %+v, want one ending at the original end %v", st.Sessions, start.Add(8*time.Hour))
	}
	if n := len(h.eventsOf(SessionStarted)); n != 1 {
		t.Errorf("%d SessionStarted events, want 1: the second login must reuse the session", n)
	}
	// The new token dies with the old session.
	h.clock.Advance(5 * time.Hour)
	_, err := h.refresh(reg, *tok2.RefreshToken)
	wantCode(t, err, "InvalidGrantException", 400)

	// A login now starts a new session; half an hour into it, Logout, then a
	// login: a fresh, full-length session rather than the rest of the old one.
	tok3 := h.deviceLogin(reg)
	h.clock.Advance(30 * time.Minute)
	if _, err := h.portal.Logout(context.Background(), &sso.LogoutInput{AccessToken: tok3.AccessToken}); err != nil {
		t.Fatal(err)
	}
	_, err = h.roleCredentials(*tok3.AccessToken)
	wantCode(t, err, "UnauthorizedException", 401)
	_, err = h.refresh(reg, *tok3.RefreshToken)
	wantCode(t, err, "InvalidGrantException", 400)
	h.deviceLogin(reg)
	st = h.s.Stats()
	if len(st.Sessions) != 1 || !st.Sessions[0].End.Equal(h.clock.Now().Add(8*time.Hour)) {
		t.Fatalf("after logout + login: sessions = %+v, want one ending 8 h from now", st.Sessions)
	}
	if len(h.eventsOf(LoggedOut)) != 1 || len(h.eventsOf(SessionStarted)) != 3 {
		t.Errorf("want 1 LoggedOut and 3 SessionStarted events, got %d and %d",
			len(h.eventsOf(LoggedOut)), len(h.eventsOf(SessionStarted)))
	}
}

func TestLegacyRegistrationHasNoRefreshToken(t *testing.T) {
	h := newHarness(t, Options{SessionDuration: 2 * time.Hour})
	reg := h.register() // no scopes: the legacy profile flow
	tok := h.deviceLogin(reg)
	if tok.RefreshToken != nil || tok.ExpiresIn != 7200 {
		t.Fatalf("legacy token: refresh %v, expiresIn %d; want none and the session's 7200 s", tok.RefreshToken != nil, tok.ExpiresIn)
	}
	h.clock.Advance(90 * time.Minute)
	if _, err := h.roleCredentials(*tok.AccessToken); err != nil {
		t.Fatalf("a legacy token lives as long as the session: %v", err)
	}
	h.clock.Advance(30 * time.Minute)
	_, err := h.roleCredentials(*tok.AccessToken)
	wantCode(t, err, "UnauthorizedException", 401)
	_, err = h.refresh(reg, "anything")
	wantCode(t, err, "UnauthorizedClientException", 400)
}

func TestDeviceCodeExpiresOrIsDenied(t *testing.T) {
	h := newHarness(t, Options{DeviceCodeLifetime: time.Minute})
	reg := h.register("sso:account:access")
	ctx := context.Background()
	start := func() *ssooidc.StartDeviceAuthorizationOutput {
		da, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
			ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
		if err != nil {
			t.Fatal(err)
		}
		return da
	}
	poll := func(da *ssooidc.StartDeviceAuthorizationOutput) error {
		_, err := h.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
			GrantType: aws.String(grantDeviceCode), DeviceCode: da.DeviceCode})
		return err
	}
	da := start()
	h.clock.Advance(time.Minute)
	wantCode(t, poll(da), "ExpiredTokenException", 400)
	if err := h.s.Approve(*da.UserCode); err == nil {
		t.Error("approving an expired code must fail")
	}

	da = start()
	if err := h.s.Deny(*da.UserCode); err != nil {
		t.Fatal(err)
	}
	wantCode(t, poll(da), "AccessDeniedException", 400)
}

func TestAutoApprovePolicies(t *testing.T) {
	for _, tc := range []struct {
		policy  ApprovePolicy
		waitFor time.Duration
	}{{Auto, 0}, {AutoAfter(30 * time.Second), 30 * time.Second}} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			h := newHarness(t, Options{Approve: tc.policy})
			reg := h.register("sso:account:access")
			ctx := context.Background()
			da, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
				ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
			if err != nil {
				t.Fatal(err)
			}
			poll := func() error {
				_, err := h.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
					GrantType: aws.String(grantDeviceCode), DeviceCode: da.DeviceCode})
				return err
			}
			if tc.waitFor > 0 {
				wantCode(t, poll(), "AuthorizationPendingException", 400)
				h.clock.Advance(tc.waitFor)
			}
			if err := poll(); err != nil {
				t.Fatalf("after %v: %v", tc.waitFor, err)
			}
		})
	}
}

func TestClientAuthenticationAndRegistrationExpiry(t *testing.T) {
	h := newHarness(t, Options{RegistrationLifetime: 24 * time.Hour})
	reg := h.register("sso:account:access")
	ctx := context.Background()
	startDA := func(secret string) error {
		_, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
			ClientId: &reg.id, ClientSecret: &secret, StartUrl: aws.String(h.s.StartURL())})
		return err
	}
	wantCode(t, startDA(reg.secret+"x"), "InvalidClientException", 401)
	if err := startDA(reg.secret); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(24 * time.Hour)
	wantCode(t, startDA(reg.secret), "InvalidClientException", 401)

	_, err := h.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("x"), ClientType: aws.String("confidential")})
	wantCode(t, err, "InvalidClientMetadataException", 400)
	_, err = h.oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("x"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code"}, RedirectUris: []string{"https://example.com/cb"}})
	wantCode(t, err, "InvalidRedirectUriException", 400)
}

// TestOIDCErrorWireFormat checks the bytes: the x-amzn-ErrorType header
// and the OAuth error / error_description members clients rely on.
func TestOIDCErrorWireFormat(t *testing.T) {
	h := newHarness(t, Options{})
	reg := h.register("sso:account:access")
	body := `{"clientId":"` + reg.id + `","clientSecret":"` + reg.secret + `","grantType":"refresh_token","refreshToken":"nope"}`
	resp, err := http.Post(h.s.URL()+"/token", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "InvalidGrantException" ||
		out["error"] != "invalid_grant" || out["error_description"] == "" {
		t.Errorf("got %d %q %v; want 400, x-amzn-ErrorType InvalidGrantException, error invalid_grant with a description",
			resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), out)
	}
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("abcdefghij-._~", 5)[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// registerPKCE registers the way CLI 2.22+ does for the authorization code flow.
func (h *harness) registerPKCE() registration {
	h.t.Helper()
	out, err := h.oidc.RegisterClient(context.Background(), &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-emulator"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl: aws.String(h.s.StartURL()), Scopes: []string{"sso:account:access"}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.remember(*out.ClientSecret)
	return registration{*out.ClientId, *out.ClientSecret}
}

func authorizeURL(base string, reg registration, redirect, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {reg.id}, "redirect_uri": {redirect},
		"state": {"state-123"}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"},
		"code_challenge": {challenge}}
	return base + "/authorize?" + q.Encode()
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	h := newHarness(t, Options{})
	reg := h.registerPKCE()
	verifier, challenge := pkcePair()
	redirect := "http://127.0.0.1:54321/oauth/callback" // a port the registration did not name

	// Manual: the consent page, then its form POST redirects with code and state.
	resp, err := noRedirect.Get(authorizeURL(h.s.URL(), reg, redirect, challenge))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `value="approve"`) {
		t.Fatalf("authorize page: %d, want 200 with an Approve button", resp.StatusCode)
	}
	reqID := between(string(page), `name="request" value="`, `"`)
	resp, err = noRedirect.PostForm(h.s.URL()+"/authorize/decide", url.Values{"request": {reqID}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther || loc.Port() != "54321" || loc.Path != "/oauth/callback" ||
		loc.Query().Get("state") != "state-123" || loc.Query().Get("code") == "" {
		t.Fatalf("approve: %d Location %q; want 303 to the redirect URI with code and state", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")
	h.remember(code)

	create := func(code, verifier, redirect string) (*ssooidc.CreateTokenOutput, error) {
		return h.oidc.CreateToken(context.Background(), &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
			GrantType: aws.String("authorization_code"), Code: &code, CodeVerifier: &verifier, RedirectUri: &redirect})
	}
	tok, err := create(code, verifier, redirect)
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*tok.AccessToken, *tok.RefreshToken)
	if _, err := h.roleCredentials(*tok.AccessToken); err != nil {
		t.Fatal(err)
	}
	_, err = create(code, verifier, redirect)
	wantCode(t, err, "InvalidGrantException", 400) // codes are single-use

	// A wrong verifier and a different redirect URI are refused.
	for _, tc := range []struct{ name, verifier, redirect string }{
		{"wrong verifier", strings.Repeat("x", 64), redirect},
		{"other redirect", verifier, "http://127.0.0.1:54322/oauth/callback"},
	} {
		h.s.SetApprovePolicy(Auto) // consent at once, as with a live browser session
		resp, err := noRedirect.Get(authorizeURL(h.s.URL(), reg, redirect, challenge))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		_, err = create(loc.Query().Get("code"), tc.verifier, tc.redirect)
		if errCode(err) != "InvalidGrantException" {
			t.Errorf("%s: got %v, want InvalidGrantException", tc.name, err)
		}
	}
	// One sign-in session for all of it.
	if n := len(h.eventsOf(SessionStarted)); n != 1 {
		t.Errorf("%d sessions started, want 1", n)
	}
}

func TestAuthorizeRejectsUnregisteredRedirects(t *testing.T) {
	h := newHarness(t, Options{Approve: Auto})
	reg := h.registerPKCE()
	_, challenge := pkcePair()
	for _, redirect := range []string{
		"http://127.0.0.1:5000/other/path",
		"http://localhost:5000/oauth/callback", // registered host is 127.0.0.1
		"https://evil.example/oauth/callback",
	} {
		resp, err := noRedirect.Get(authorizeURL(h.s.URL(), reg, redirect, challenge))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d Location %q; want 400 and no redirect", redirect, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A device-flow registration may not use /authorize: the error goes to the client.
	dev := h.register("sso:account:access")
	resp, err := noRedirect.Get(authorizeURL(h.s.URL(), dev, "http://127.0.0.1:5000/oauth/callback", challenge))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("device-flow client at /authorize: %d, want 400 (it has no redirect URIs)", resp.StatusCode)
	}
}

func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestLongRunsDoNotGrowWithoutBound refreshes a token thousands of times
// (a compressed-time rehearsal does) and checks that dead tokens, codes and
// keys are swept while live ones keep working.
func TestLongRunsDoNotGrowWithoutBound(t *testing.T) {
	h := newHarness(t, Options{SessionDuration: 90 * 24 * time.Hour, TokenLifetime: time.Minute})
	reg := h.register("sso:account:access")
	tok := h.deviceLogin(reg)
	refresh := *tok.RefreshToken
	in := createTokenInput{ClientID: reg.id, ClientSecret: reg.secret, GrantType: grantRefresh}
	for i := 0; i < 3*pruneEvery; i++ {
		h.clock.Advance(time.Minute)
		in.RefreshToken = refresh
		var ev []Event
		h.s.mu.Lock()
		out, fail := h.s.createToken(&in, h.clock.Now(), &ev)
		h.s.mu.Unlock()
		if fail != nil {
			t.Fatalf("refresh %d: %s", i, fail.code)
		}
		refresh = out["refreshToken"].(string)
	}
	h.s.mu.Lock()
	nAccess, nRefresh := len(h.s.access), len(h.s.refresh)
	h.s.mu.Unlock()
	if nAccess > pruneEvery || nRefresh > pruneEvery {
		t.Errorf("after %d refreshes: %d access and %d refresh tokens kept", 3*pruneEvery, nAccess, nRefresh)
	}
	if _, err := h.refresh(reg, refresh); err != nil {
		t.Fatalf("the live refresh token was swept: %v", err)
	}

	now := h.clock.Now()
	for i := 0; i < pruneEvery; i++ {
		h.s.reg.issue(Principal{Account: DefaultAccountID}, now, now.Add(-keepExpired-time.Second))
	}
	live, _ := h.s.reg.issue(Principal{Account: DefaultAccountID}, now, now.Add(time.Hour))
	if n := len(h.s.reg.keys); n > 2 {
		t.Errorf("%d keys kept after a sweep; want only the live ones", n)
	}
	if _, ok := h.s.reg.LookupKey(live); !ok {
		t.Error("a live key was swept")
	}
}
