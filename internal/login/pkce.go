package login

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/ssokeep/ssokeep/internal/awserr"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

// redirectURIWithoutPort is what the AWS CLI registers: loopback redirect URIs
// match on any port (RFC 8252 §7.3), so one registration serves every login.
const redirectURIWithoutPort = "http://127.0.0.1/oauth/callback"

// PKCETimeout is how long a browser login may take, as the AWS CLI allows.
const PKCETimeout = 10 * time.Minute

// ErrBrowser wraps a failure to open the browser: the caller may fall back to
// the device-code flow.
var ErrBrowser = errors.New("cannot open a browser")

// PKCELogin runs the authorization-code flow with PKCE: it listens on
// 127.0.0.1 (a random port), has open show the authorize page in a browser,
// waits for the redirect (checking state), and exchanges the code for a token.
// open gets the URL; if it fails the error wraps ErrBrowser and nothing was
// changed but the registration.
func (m *Manager) PKCELogin(ctx context.Context, s Session, o Options, open func(url string) error) (*ssocache.Token, error) {
	c, err := m.clients(ctx, s)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the browser's redirect on 127.0.0.1: %w", err)
	}
	defer ln.Close()
	redirect := fmt.Sprintf("http://127.0.0.1:%d/oauth/callback", ln.Addr().(*net.TCPAddr).Port)
	if o.Fresh {
		if err := m.Logout(ctx, s, o.RoleKeys); err != nil {
			return nil, err
		}
	}
	reg, err := m.registration(ctx, c, s, true, false)
	if err != nil {
		return nil, err
	}
	verifier, state := randomString(64), hex.EncodeToString(randomBytes(16))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect},
		"state": {state}, "code_challenge_method": {"S256"}, "scopes": {strings.Join(reg.Scopes, " ")},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}}
	authorize := strings.TrimRight(c.AuthorizeURL, "/") + "/authorize?" + strings.ReplaceAll(q.Encode(), "+", "%20")

	type result struct {
		code string
		err  error
	}
	got := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/callback" {
			http.NotFound(w, r)
			return
		}
		v := r.URL.Query()
		res := result{code: v.Get("code")}
		switch {
		case v.Get("error") != "":
			res.err = fmt.Errorf("IAM Identity Center refused the login: %s %s", v.Get("error"), v.Get("error_description"))
		case v.Get("state") != state:
			res.err = errors.New("the browser's redirect carried the wrong state; the login was stopped (run it again)")
		case res.code == "":
			res.err = errors.New("the browser's redirect carried no authorization code")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		msg := "Login approved. You can close this window and return to the terminal."
		if res.err != nil {
			w.WriteHeader(http.StatusBadRequest)
			msg = "Login failed: " + res.err.Error()
		}
		fmt.Fprintf(w, "<!doctype html><title>ssokeep</title><p>%s</p>", html.EscapeString(msg))
		select {
		case got <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer srv.Close()

	if err := open(authorize); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBrowser, err)
	}
	wctx, cancel := context.WithTimeout(ctx, PKCETimeout)
	defer cancel()
	var res result
	select {
	case res = <-got:
	case <-wctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("gave up waiting for the browser login of %s after %s; run it again, or use --device-code", s.Label(), PKCETimeout)
	}
	if res.err != nil {
		return nil, res.err
	}
	out, err := c.OIDC.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: aws.String(reg.ClientID),
		ClientSecret: aws.String(reg.ClientSecret), GrantType: aws.String("authorization_code"),
		Code: aws.String(res.code), RedirectUri: aws.String(redirect), CodeVerifier: aws.String(verifier)})
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code for %s: %w", s.Label(), awserr.Explain(err))
	}
	return m.saveToken(ctx, s, reg, out, o.Fresh)
}

// randomString is n characters from RFC 7636's unreserved set.
func randomString(n int) string {
	const set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	b := randomBytes(n)
	for i := range b {
		b[i] = set[int(b[i])%len(set)] // the modulo bias leaves > 6 bits of entropy per character
	}
	return string(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return b
}
