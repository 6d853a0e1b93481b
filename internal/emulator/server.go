package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Server is a running (or ready to run) emulator. Its methods are safe for
// concurrent use.
type Server struct {
	opts Options
	log  *slog.Logger
	reg  *registry
	s3   http.Handler // S3 (internal/emulator/s3api), behind the SigV4 check

	mu           sync.Mutex
	clients      map[string]*client
	devices      map[string]*deviceAuth // by device code
	userCodes    map[string]*deviceAuth
	authReqs     map[string]*authRequest
	codes        map[string]*authCode
	access       map[string]*accessToken
	refresh      map[string]*refreshToken
	sessions     map[string]*session // the latest session per start URL
	faults       Faults
	approve      ApprovePolicy
	ops          map[string]*OpStats
	roleSuffix   map[string]string // "account/permission set" -> AWSReservedSSO suffix
	issuedTokens int               // access tokens issued, to pace prune

	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// New checks the options, fills in defaults and prepares a Server. It does
// not listen: call Start.
func New(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(o.Addr); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	if o.StartURL == "" {
		o.StartURL = DefaultStartURL
	}
	for _, d := range []struct {
		v    *time.Duration
		def  time.Duration
		name string
	}{
		{&o.SessionDuration, DefaultSessionDuration, "SessionDuration"},
		{&o.TokenLifetime, DefaultTokenLifetime, "TokenLifetime"},
		{&o.RoleDuration, DefaultRoleDuration, "RoleDuration"},
		{&o.RegistrationLifetime, DefaultRegistrationLifetime, "RegistrationLifetime"},
		{&o.DeviceCodeLifetime, DefaultDeviceCodeLifetime, "DeviceCodeLifetime"},
	} {
		if *d.v < 0 {
			return nil, fmt.Errorf("emulator: %s %v must be positive", d.name, *d.v)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if o.STSMaxLifetime < 0 {
		return nil, fmt.Errorf("emulator: STSMaxLifetime %v must not be negative", o.STSMaxLifetime)
	}
	// Rotation is the default (see Options.RotateRefreshTokens).
	o.RotateRefreshTokens = !o.KeepRefreshTokens
	if len(o.Accounts) == 0 {
		o.Accounts = defaultAccounts()
	}
	if err := checkAccounts(o.Accounts, o.Users); err != nil {
		return nil, err
	}
	faults, err := o.Faults.normalized()
	if err != nil {
		return nil, fmt.Errorf("emulator: %w", err)
	}
	s := &Server{
		opts: o, log: o.Logger, reg: newRegistry(),
		clients: map[string]*client{}, devices: map[string]*deviceAuth{}, userCodes: map[string]*deviceAuth{},
		authReqs: map[string]*authRequest{}, codes: map[string]*authCode{}, access: map[string]*accessToken{},
		refresh: map[string]*refreshToken{}, sessions: map[string]*session{}, faults: faults, approve: o.Approve,
		ops: map[string]*OpStats{}, roleSuffix: map[string]string{},
	}
	s.opts.Users = slices.Clone(o.Users) // defaults are filled in below: not in the caller's slice
	for i := range s.opts.Users {
		u := &s.opts.Users[i]
		if u.MFA != nil {
			m := *u.MFA
			u.MFA = &m
		}
		if u.AccountID == "" {
			u.AccountID = o.Accounts[0].ID
		}
		if u.MFA != nil && u.MFA.SerialNumber == "" {
			u.MFA.SerialNumber = "arn:aws:iam::" + u.AccountID + ":mfa/" + u.Name
		}
		s.reg.add(u.AccessKeyID, credential{secret: u.SecretAccessKey, principal: Principal{
			Account: u.AccountID, ARN: "arn:aws:iam::" + u.AccountID + ":user/" + u.Name,
			UserID: "AIDA" + randFrom(upperDigits, 17), IAMUser: u.Name, LongTerm: true,
		}})
	}
	s.s3 = s.newS3Handler()
	return s, nil
}

// checkLoopback refuses to listen anywhere a stranger could reach: the
// emulator hands out credentials to whoever asks.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("emulator: address %q: %v (use 127.0.0.1:PORT)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("emulator: address %q is not a loopback address; the emulator hands credentials to anyone who asks, so it listens only on 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	if s.ln != nil {
		return errors.New("emulator: already started")
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("emulator: listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("emulator stopped serving", "err", err)
		}
	}()
	s.log.Info("emulator listening", "url", s.URL())
	return nil
}

// URL is the base URL of every service, e.g. http://127.0.0.1:41234. Empty
// before Start.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Close stops the listener, waits up to 5 s for requests in flight, then
// drops them.
func (s *Server) Close() error {
	if s.srv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = s.srv.Close()
	}
	<-s.done
	return err
}

// Region is the region the emulator answers for.
func (s *Server) Region() string { return s.opts.Region }

// StartURL is the start URL AWSConfig writes.
func (s *Server) StartURL() string { return s.opts.StartURL }

// Env is what points AWS clients at the emulator: every service endpoint
// is URL().
func (s *Server) Env() []string {
	u := s.URL()
	return []string{
		"AWS_ENDPOINT_URL_SSO_OIDC=" + u,
		"AWS_ENDPOINT_URL_SSO=" + u,
		"AWS_ENDPOINT_URL_STS=" + u,
		"AWS_ENDPOINT_URL_S3=" + u,
		"AWS_REGION=" + s.opts.Region,
		"AWS_DEFAULT_REGION=" + s.opts.Region,
	}
}

// ProfileName and SessionName are the section names AWSConfig writes.
const (
	ProfileName       = "emulator"
	LegacyProfileName = "emulator-legacy"
	SessionName       = "emulator"
)

// AWSConfig is an AWS shared config file for the emulator's first account
// and permission set: an sso-session with a profile on it (refreshable
// tokens), and a legacy profile (non-refreshable tokens, as old setups have).
func (s *Server) AWSConfig() string {
	acct := s.opts.Accounts[0]
	role := DefaultPermissionSet
	if len(acct.PermissionSets) > 0 {
		role = acct.PermissionSets[0].Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the ssokeep emulator at %s. Use it only with the emulator's\n", s.URL())
	fmt.Fprintf(&b, "# AWS_ENDPOINT_URL_* variables set, or clients will call real AWS.\n\n")
	fmt.Fprintf(&b, "[sso-session %s]\nsso_start_url = %s\nsso_region = %s\nsso_registration_scopes = sso:account:access\n\n",
		SessionName, s.opts.StartURL, s.opts.Region)
	fmt.Fprintf(&b, "[profile %s]\nsso_session = %s\nsso_account_id = %s\nsso_role_name = %s\nregion = %s\n\n",
		ProfileName, SessionName, acct.ID, role, s.opts.Region)
	fmt.Fprintf(&b, "[profile %s]\nsso_start_url = %s\nsso_region = %s\nsso_account_id = %s\nsso_role_name = %s\nregion = %s\n",
		LegacyProfileName, s.opts.StartURL, s.opts.Region, acct.ID, role, s.opts.Region)
	return b.String()
}

// ServeHTTP routes: SigV4-signed for s3 → S3; signed for sts → STS;
// unsigned → OIDC, portal, pages and control routes; anything else gets
// S3's AccessDenied, as an anonymous request to S3 would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// AWS's Date header: SDKs correct their signing clock from it.
	w.Header().Set("Date", s.opts.Now().UTC().Format(http.TimeFormat))
	op, h := s.route(r)
	if op == "" {
		h(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	faulted := s.injectFault(rec, r, op)
	if !faulted {
		h(rec, r)
	}
	s.count(op, rec.status, faulted)
	// The path is logged, never the query: presigned URLs carry keys.
	s.log.Debug("request", "op", op, "method", r.Method, "path", r.URL.Path, "status", rec.status)
}

// route picks the handler and the operation name for stats and faults (""
// for pages and control routes, which are neither counted nor faulted).
func (s *Server) route(r *http.Request) (string, http.HandlerFunc) {
	switch signedService(r) {
	case "s3":
		return s3OperationName(r), s.s3.ServeHTTP
	case "sts":
		return stsAction(r), s.serveSTS
	case "":
	default:
		return "Unsupported", func(w http.ResponseWriter, r *http.Request) {
			writeS3Error(w, http.StatusBadRequest, "InvalidRequest", "the emulator serves only the s3 and sts signing names")
		}
	}
	p := r.URL.Path
	switch {
	case r.Method == http.MethodPost && p == "/client/register":
		return "RegisterClient", s.handleRegisterClient
	case r.Method == http.MethodPost && p == "/device_authorization":
		return "StartDeviceAuthorization", s.handleStartDeviceAuthorization
	case r.Method == http.MethodPost && p == "/token":
		return "CreateToken", s.handleCreateToken
	case r.Method == http.MethodGet && p == "/federation/credentials":
		return "GetRoleCredentials", s.handleGetRoleCredentials
	case r.Method == http.MethodGet && p == "/assignment/accounts":
		return "ListAccounts", s.handleListAccounts
	case r.Method == http.MethodGet && p == "/assignment/roles":
		return "ListAccountRoles", s.handleListAccountRoles
	case r.Method == http.MethodPost && p == "/logout":
		return "Logout", s.handleLogout
	case p == "/authorize" || p == "/authorize/decide":
		return "", s.handleAuthorize
	case p == "/device":
		return "", s.handleDevicePage
	case strings.HasPrefix(p, "/_emulator/"):
		return "", s.handleControl
	case isSigV2(r):
		// What S3 answers buckets that do not take Signature Version 2.
		return "SigV2Request", func(w http.ResponseWriter, r *http.Request) {
			writeS3Error(w, http.StatusBadRequest, "InvalidRequest",
				"The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
		}
	case isUnsignedSTS(r):
		return stsAction(r), func(w http.ResponseWriter, r *http.Request) {
			writeSTSError(w, http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
		}
	}
	return "AnonymousRequest", func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	}
}

// isSigV2 recognises Signature Version 2 (header "AWS AK:sig" or a
// presigned AWSAccessKeyId/Signature query), which the emulator does not take.
func isSigV2(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS ") {
		return true
	}
	q := r.URL.Query()
	return q.Has("AWSAccessKeyId") && q.Has("Signature")
}

// recorder remembers the status a handler sent, for the stats.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// injectFault applies op's fault (or the "*" one): latency first, then
// maybe an error. It reports whether it answered the request.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, op string) bool {
	s.mu.Lock()
	f, ok := s.faults[op]
	if !ok {
		f, ok = s.faults["*"]
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f.Error == "" || rand.Float64() >= f.Rate {
		return false
	}
	status, code, err := f.resolve(op)
	if err != nil { // a "*" code that op's service lacks: validated, so unreachable
		status, code = 500, codeForStatus(serviceOf(op), 500)
	}
	writeServiceError(w, op, status, code, "injected fault: "+code)
	return true
}

// OpStats counts the calls of one operation.
type OpStats struct {
	Requests int `json:"requests"`
	Errors   int `json:"errors"` // answered with status >= 400, faults included
	Faults   int `json:"faults"` // errors injected by a Fault
}

// SessionInfo describes a live sign-in session.
type SessionInfo struct {
	ID       string    `json:"id"`
	StartURL string    `json:"startUrl"`
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
}

// Stats is a snapshot of what the emulator has done and holds.
type Stats struct {
	Now                time.Time          `json:"now"`
	Operations         map[string]OpStats `json:"operations"`
	Sessions           []SessionInfo      `json:"sessions"` // live ones
	IssuedCredentials  int                `json:"issuedCredentials"`
	LiveCredentials    int                `json:"liveCredentials"`
	PendingDeviceCodes []string           `json:"pendingDeviceCodes"` // user codes
	Registrations      int                `json:"registrations"`
}

func (s *Server) count(op string, status int, faulted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ops[op]
	if st == nil {
		st = &OpStats{}
		s.ops[op] = st
	}
	st.Requests++
	if status >= 400 {
		st.Errors++
	}
	if faulted {
		st.Faults++
	}
}

// Stats returns counters per operation, the live sessions and credential counts.
func (s *Server) Stats() Stats {
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	st := Stats{Now: now, Operations: map[string]OpStats{}, Sessions: []SessionInfo{}, PendingDeviceCodes: []string{},
		Registrations: len(s.clients)}
	for op, c := range s.ops {
		st.Operations[op] = *c
	}
	for url := range s.sessions {
		if ss := s.liveSession(url, now, &ev); ss != nil {
			st.Sessions = append(st.Sessions, SessionInfo{ID: ss.id, StartURL: ss.startURL, User: ss.user, Start: ss.start, End: ss.end})
		}
	}
	for _, d := range s.devices {
		if d.state == devicePending && now.Before(d.expires) {
			st.PendingDeviceCodes = append(st.PendingDeviceCodes, d.userCode)
		}
	}
	s.mu.Unlock()
	s.emit(ev)
	sort.Slice(st.Sessions, func(i, j int) bool { return st.Sessions[i].StartURL < st.Sessions[j].StartURL })
	slices.Sort(st.PendingDeviceCodes)
	st.IssuedCredentials, st.LiveCredentials = s.reg.counts(now)
	return st
}

// ErrUnknownUserCode is returned by Approve and Deny for a code that is not
// pending.
var ErrUnknownUserCode = errors.New("no pending device authorization has this user code")

// Approve approves the pending device authorization with this user code, as
// the person at the verification page would.
func (s *Server) Approve(userCode string) error { return s.decide(userCode, true) }

// Deny refuses it: the client's next CreateToken gets AccessDeniedException.
func (s *Server) Deny(userCode string) error { return s.decide(userCode, false) }

func (s *Server) decide(userCode string, approve bool) error {
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	d := s.userCodes[strings.ToUpper(strings.TrimSpace(userCode))]
	if d == nil || d.state != devicePending || !now.Before(d.expires) {
		s.mu.Unlock()
		return fmt.Errorf("user code %q: %w", userCode, ErrUnknownUserCode)
	}
	if approve {
		s.approveDevice(d, now, &ev)
	} else {
		d.state = deviceDenied
		ev = append(ev, Event{Kind: Denied, Time: now, StartURL: d.startURL, ClientID: d.client.id, UserCode: d.userCode})
	}
	s.mu.Unlock()
	s.emit(ev)
	return nil
}

// ApproveAll approves every pending device authorization and returns how
// many it approved.
func (s *Server) ApproveAll() int {
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	n := 0
	for _, d := range s.devices {
		if d.state == devicePending && now.Before(d.expires) {
			s.approveDevice(d, now, &ev)
			n++
		}
	}
	s.mu.Unlock()
	s.emit(ev)
	return n
}

// EndSessions ends every live session now, as an administrator would; it
// returns how many it ended. Role credentials already issued stay valid.
func (s *Server) EndSessions() int {
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	n := 0
	for _, ss := range s.sessions {
		if s.endSession(ss, now, "end-sessions", &ev) {
			n++
		}
	}
	s.mu.Unlock()
	s.emit(ev)
	return n
}

// SetFaults replaces every fault.
func (s *Server) SetFaults(f Faults) error {
	n, err := f.normalized()
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.faults = n
	s.mu.Unlock()
	return nil
}

// SetApprovePolicy changes who approves requests from now on.
func (s *Server) SetApprovePolicy(p ApprovePolicy) {
	s.mu.Lock()
	s.approve = p
	s.mu.Unlock()
}

// Faults returns the faults in force.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Faults, len(s.faults))
	for k, v := range s.faults {
		out[k] = v
	}
	return out
}
