package emulator

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The SSO portal (REST-JSON, bearer token in x-amz-sso_bearer_token):
// GetRoleCredentials, ListAccounts, ListAccountRoles, Logout.

const bearerHeader = "x-amz-sso_bearer_token"

// portalAuth checks the bearer token; on failure it has answered
// UnauthorizedException (401), which botocore turns into
// UnauthorizedSSOTokenError.
func (s *Server) portalAuth(w http.ResponseWriter, r *http.Request, now time.Time) (*accessToken, bool) {
	var ev []Event
	s.mu.Lock()
	t, err := s.checkAccess(r.Header.Get(bearerHeader), now, &ev)
	s.mu.Unlock()
	s.emit(ev)
	if err != nil {
		writePortalError(w, 401, "UnauthorizedException", err.Error())
		return nil, false
	}
	return t, true
}

func (s *Server) handleGetRoleCredentials(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	roleName, accountID := q.Get("role_name"), q.Get("account_id")
	if roleName == "" || accountID == "" {
		writePortalError(w, 400, "InvalidRequestException", "role_name and account_id are required")
		return
	}
	now := s.opts.Now()
	t, ok := s.portalAuth(w, r, now)
	if !ok {
		return
	}
	acct := s.account(accountID)
	var ps *PermissionSet
	if acct != nil {
		ps = acct.permissionSet(roleName)
	}
	if ps == nil {
		// What AWS answers for a role the user is not assigned to.
		writePortalError(w, 403, "ForbiddenException", "No access")
		return
	}
	d := s.opts.RoleDuration
	if ps.SessionDuration > 0 {
		d = time.Duration(ps.SessionDuration)
	}
	suffix := s.reservedSuffix(accountID, roleName)
	roleID := "AROA" + strings.ToUpper(suffix) // stable per role, like IAM's role IDs
	p := Principal{
		Account:     accountID,
		ARN:         "arn:aws:sts::" + accountID + ":assumed-role/AWSReservedSSO_" + roleName + "_" + suffix + "/" + t.session.user,
		UserID:      roleID + ":" + t.session.user,
		RoleSession: true,
	}
	expires := now.Add(d)
	id, c := s.reg.issue(p, now, expires)
	s.emit([]Event{{Kind: RoleCredentialsIssued, Time: now, StartURL: t.session.startURL, User: t.session.user,
		SessionID: t.session.id, AccountID: accountID, RoleName: roleName, Expires: expires, SessionEnd: t.session.finalEnd()}})
	writeJSON(w, 200, map[string]any{"roleCredentials": map[string]any{
		"accessKeyId":     id,
		"secretAccessKey": c.secret,
		"sessionToken":    c.sessionToken,
		"expiration":      expires.UnixMilli(), // milliseconds, unlike OIDC's seconds
	}})
}

// reservedSuffix is the stable random suffix of AWSReservedSSO_{set}_{suffix},
// as IAM Identity Center gives each provisioned permission set one.
func (s *Server) reservedSuffix(accountID, set string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := accountID + "/" + set
	if v, ok := s.roleSuffix[k]; ok {
		return v
	}
	v := randFrom("0123456789abcdef", 16)
	s.roleSuffix[k] = v
	return v
}

// page reads next_token/max_result and returns the slice bounds, or
// answers InvalidRequestException.
func pageBounds(w http.ResponseWriter, r *http.Request, n int) (from, to int, next string, ok bool) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("max_result"); v != "" {
		l, err := strconv.Atoi(v)
		if err != nil || l < 1 || l > 100 {
			writePortalError(w, 400, "InvalidRequestException", "max_result must be between 1 and 100")
			return 0, 0, "", false
		}
		limit = l
	}
	if v := q.Get("next_token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		f, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || f < 0 || f > n {
			writePortalError(w, 400, "InvalidRequestException", "next_token is not one this service returned")
			return 0, 0, "", false
		}
		from = f
	}
	to = min(from+limit, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	return from, to, next, true
}

func (s *Server) handleListAccounts(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.portalAuth(w, r, s.opts.Now()); !ok {
		return
	}
	accts := s.opts.Accounts
	from, to, next, ok := pageBounds(w, r, len(accts))
	if !ok {
		return
	}
	list := []map[string]string{}
	for _, a := range accts[from:to] {
		list = append(list, map[string]string{"accountId": a.ID, "accountName": a.Name, "emailAddress": a.Email})
	}
	out := map[string]any{"accountList": list}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, 200, out)
}

func (s *Server) handleListAccountRoles(w http.ResponseWriter, r *http.Request) {
	accountID := r.URL.Query().Get("account_id")
	if accountID == "" {
		writePortalError(w, 400, "InvalidRequestException", "account_id is required")
		return
	}
	if _, ok := s.portalAuth(w, r, s.opts.Now()); !ok {
		return
	}
	var sets []PermissionSet
	if a := s.account(accountID); a != nil {
		sets = a.PermissionSets
	}
	from, to, next, ok := pageBounds(w, r, len(sets))
	if !ok {
		return
	}
	list := []map[string]string{}
	for _, p := range sets[from:to] {
		list = append(list, map[string]string{"roleName": p.Name, "accountId": accountID})
	}
	out := map[string]any{"roleList": list}
	if next != "" {
		out["nextToken"] = next
	}
	writeJSON(w, 200, out)
}

// handleLogout ends the token's sign-in session now. Tokens of that session
// stop working at once; role credentials run to their own expiry.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	now := s.opts.Now()
	var ev []Event
	s.mu.Lock()
	t := s.access[r.Header.Get(bearerHeader)]
	if t == nil || !now.Before(t.expires) {
		s.mu.Unlock()
		writePortalError(w, 401, "UnauthorizedException", "Session token not found or invalid")
		return
	}
	if s.endSession(t.session, now, "logout", &ev) {
		ev = append(ev, Event{Kind: LoggedOut, Time: now, StartURL: t.session.startURL, User: t.session.user,
			SessionID: t.session.id, ClientID: t.client.id, SessionEnd: now})
	}
	s.mu.Unlock()
	s.emit(ev)
	w.Header().Set("x-amzn-RequestId", requestID())
	w.WriteHeader(200)
}
