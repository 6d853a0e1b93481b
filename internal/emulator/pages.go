package emulator

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The pages a person sees in a browser: the device verification page and
// the /authorize (PKCE) consent page. One button each, no sign-in form:
// the emulated user is always "emulator-user".

// pageTmpl is parsed on first use, not when any ssokeep command starts.
var pageTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("page").Parse(pageHTML))
})

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssokeep emulator – {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34em;margin:4em auto;line-height:1.5}
.code{font:2em monospace;letter-spacing:.1em}button{font-size:1.1em;padding:.4em 1.2em;margin-right:.6em}</style>
</head><body><h1>{{.Title}}</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .UserCode}}<p>Code shown by your terminal:</p><p class="code">{{.UserCode}}</p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .AskCode}}<p><label>Code: <input name="user_code" autofocus></label></p>{{end}}
<button type="submit" name="decision" value="approve">Approve</button>
{{if not .AskCode}}<button type="submit" name="decision" value="deny">Deny</button>{{end}}
</form>{{end}}
<p><small>ssokeep emulator: signs in as {{.User}}. Nothing here talks to AWS.</small></p>
</body></html>`

type page struct {
	Title, Message, UserCode, Action string
	Hidden                           map[string]string
	AskCode                          bool
	User                             string
}

func renderPage(w http.ResponseWriter, status int, p page) {
	p.User = UserName
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl().Execute(w, p)
}

// handleDevicePage is verificationUri: GET shows the code with Approve and
// Deny, POST decides.
func (s *Server) handleDevicePage(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		code := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("user_code")))
		if code == "" {
			renderPage(w, 200, page{Title: "Authorize request", Message: "Enter the code your terminal shows.",
				Action: "/device", AskCode: true})
			return
		}
		if !s.pending(code) {
			renderPage(w, 404, page{Title: "Unknown code", Message: "No pending request has this code: it may have expired or been used. Start the login again."})
			return
		}
		renderPage(w, 200, page{Title: "Authorize request", Message: "Allow this device to access your AWS accounts?",
			UserCode: code, Action: "/device", Hidden: map[string]string{"user_code": code}})
	case http.MethodPost:
		code := r.PostFormValue("user_code")
		approve := r.PostFormValue("decision") != "deny"
		if err := s.decide(code, approve); err != nil {
			renderPage(w, 404, page{Title: "Unknown code", Message: "No pending request has this code: it may have expired or been used. Start the login again."})
			return
		}
		if approve {
			renderPage(w, 200, page{Title: "Request approved", Message: "You can close this window and return to your terminal."})
		} else {
			renderPage(w, 200, page{Title: "Request denied", Message: "The terminal will be told the request was denied."})
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (s *Server) pending(userCode string) bool {
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.userCodes[userCode]
	return d != nil && d.state == devicePending && now.Before(d.expires)
}

// handleAuthorize is the OAuth authorization endpoint of the PKCE flow.
// GET /authorize checks the request and either redirects at once (Auto) or
// shows a consent page; POST /authorize/decide redirects back to the
// client's loopback redirect URI with code and state (or error=access_denied).
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/authorize/decide" && r.Method == http.MethodPost {
		s.decideAuthorize(w, r)
		return
	}
	if r.URL.Path != "/authorize" || r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	now := s.opts.Now()
	s.mu.Lock()
	c := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	redirect := q.Get("redirect_uri")
	// Until client and redirect URI are known good, errors go to the
	// browser, never to the redirect URI (RFC 6749 §4.1.2.1).
	if c == nil || !now.Before(c.expires) {
		renderPage(w, 400, page{Title: "Invalid request", Message: "Unknown or expired client_id. Register the client again."})
		return
	}
	if !redirectAllowed(c, redirect) {
		renderPage(w, 400, page{Title: "Invalid request", Message: "redirect_uri is not one of the client's registered loopback redirect URIs."})
		return
	}
	state := q.Get("state")
	fail := func(code string) { redirectTo(w, r, redirect, url.Values{"error": {code}, "state": {state}}) }
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type")
		return
	case !slices.Contains(c.grantTypes, grantAuthCode):
		fail("unauthorized_client")
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		fail("invalid_request")
		return
	}
	ar := &authRequest{id: randToken("", 24), client: c, redirectURI: redirect, state: state,
		challenge: q.Get("code_challenge"), startURL: c.issuerURL, expires: now.Add(authPageLifetime)}
	if ar.startURL == "" {
		ar.startURL = s.opts.StartURL
	}
	s.mu.Lock()
	auto := s.approve.auto
	if !auto {
		s.authReqs[ar.id] = ar
	}
	s.mu.Unlock()
	if auto {
		s.approveAuthorize(w, r, ar, now)
		return
	}
	renderPage(w, 200, page{Title: "Allow access?", Message: "Application " + c.name + " asks to access your AWS accounts.",
		Action: "/authorize/decide", Hidden: map[string]string{"request": ar.id}})
}

func (s *Server) decideAuthorize(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	id := r.PostFormValue("request")
	s.mu.Lock()
	ar := s.authReqs[id]
	delete(s.authReqs, id)
	s.mu.Unlock()
	if ar == nil || !now.Before(ar.expires) {
		renderPage(w, 404, page{Title: "Request expired", Message: "This sign-in request is unknown or has expired. Start the login again."})
		return
	}
	if r.PostFormValue("decision") == "deny" {
		s.emit([]Event{{Kind: Denied, Time: now, StartURL: ar.startURL, ClientID: ar.client.id}})
		redirectTo(w, r, ar.redirectURI, url.Values{"error": {"access_denied"}, "state": {ar.state}})
		return
	}
	s.approveAuthorize(w, r, ar, now)
}

// approveAuthorize signs in (reusing a live session), mints a code and
// sends the browser back to the client.
func (s *Server) approveAuthorize(w http.ResponseWriter, r *http.Request, ar *authRequest, now time.Time) {
	var ev []Event
	s.mu.Lock()
	ss := s.signIn(ar.startURL, now, &ev)
	code := randToken("", 32)
	s.codes[code] = &authCode{client: ar.client, redirectURI: ar.redirectURI, challenge: ar.challenge, session: ss,
		expires: now.Add(authCodeLifetime)}
	ev = append(ev, Event{Kind: Approved, Time: now, StartURL: ss.startURL, User: ss.user, SessionID: ss.id,
		ClientID: ar.client.id, SessionEnd: ss.end})
	s.mu.Unlock()
	s.emit(ev)
	redirectTo(w, r, ar.redirectURI, url.Values{"code": {code}, "state": {ar.state}})
}

func redirectTo(w http.ResponseWriter, r *http.Request, base string, params url.Values) {
	u, _ := url.Parse(base) // validated by redirectAllowed
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
