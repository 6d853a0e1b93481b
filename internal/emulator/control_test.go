package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

func TestListAccountsAndRolesPaginate(t *testing.T) {
	accts := []Account{
		{ID: "111111111111", Name: "a", PermissionSets: []PermissionSet{{Name: "R1"}, {Name: "R2"}, {Name: "R3"}}},
		{ID: "222222222222", Name: "b", PermissionSets: []PermissionSet{{Name: "R1"}}},
		{ID: "333333333333", Name: "c"},
	}
	h := newHarness(t, Options{Accounts: accts})
	tok := h.deviceLogin(h.register("sso:account:access"))
	ctx := context.Background()
	var ids []string
	p := sso.NewListAccountsPaginator(h.portal, &sso.ListAccountsInput{AccessToken: tok.AccessToken, MaxResults: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.AccountList {
			ids = append(ids, *a.AccountId)
		}
	}
	if pages != 2 || strings.Join(ids, ",") != "111111111111,222222222222,333333333333" {
		t.Errorf("ListAccounts: %d pages %v; want 2 pages with all three accounts", pages, ids)
	}
	var roles []string
	rp := sso.NewListAccountRolesPaginator(h.portal, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken,
		AccountId: aws.String("111111111111"), MaxResults: aws.Int32(2)})
	for rp.HasMorePages() {
		out, err := rp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.RoleList {
			roles = append(roles, *r.RoleName+"@"+*r.AccountId)
		}
	}
	if strings.Join(roles, ",") != "R1@111111111111,R2@111111111111,R3@111111111111" {
		t.Errorf("ListAccountRoles = %v", roles)
	}
	_, err := h.portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken,
		AccountId: aws.String("333333333333"), RoleName: aws.String("R1")})
	wantCode(t, err, "ForbiddenException", 403)
	_, err = h.portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String("not-a-token")})
	wantCode(t, err, "UnauthorizedException", 401)
}

func TestPermissionSetSessionDuration(t *testing.T) {
	h := newHarness(t, Options{Accounts: []Account{{ID: "111111111111", Name: "a",
		PermissionSets: []PermissionSet{{Name: DefaultPermissionSet, SessionDuration: Duration(12 * time.Hour)}}}}})
	tok := h.deviceLogin(h.register("sso:account:access"))
	out, err := h.portal.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken,
		AccountId: aws.String("111111111111"), RoleName: aws.String(DefaultPermissionSet)})
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*out.RoleCredentials.SecretAccessKey, *out.RoleCredentials.SessionToken)
	if want := h.clock.Now().Add(12 * time.Hour).UnixMilli(); out.RoleCredentials.Expiration != want {
		t.Errorf("expiration %d, want %d (the permission set's 12 h)", out.RoleCredentials.Expiration, want)
	}
}

func controlCall(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, url, b)
	}
	return resp.StatusCode, out
}

func TestControlAPI(t *testing.T) {
	h := newHarness(t, Options{})
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
	u := h.s.URL() + "/_emulator/"
	a, b, c := start(), start(), start()
	if code, out := controlCall(t, "POST", u+"approve", `{"userCode":"`+*a.UserCode+`"}`); code != 200 || out["approved"] != 1.0 {
		t.Errorf("approve one: %d %v", code, out)
	}
	if code, _ := controlCall(t, "POST", u+"approve", `{"userCode":"`+*a.UserCode+`"}`); code != 404 {
		t.Errorf("approving a code twice: %d, want 404", code)
	}
	st := h.s.Stats()
	if len(st.PendingDeviceCodes) != 2 {
		t.Errorf("pending codes = %v, want b and c", st.PendingDeviceCodes)
	}
	if code, out := controlCall(t, "POST", u+"approve", ""); code != 200 || out["approved"] != 2.0 {
		t.Errorf("approve all: %d %v, want 2 (%s, %s)", code, out, *b.UserCode, *c.UserCode)
	}
	tok, err := h.oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: &reg.id, ClientSecret: &reg.secret,
		GrantType: aws.String(grantDeviceCode), DeviceCode: c.DeviceCode})
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*tok.AccessToken, *tok.RefreshToken)

	code, stats := controlCall(t, "GET", u+"stats", "")
	ops, _ := stats["operations"].(map[string]any)
	ct, _ := ops["CreateToken"].(map[string]any)
	sessions, _ := stats["sessions"].([]any)
	if code != 200 || ct["requests"] != 1.0 || len(sessions) != 1 {
		t.Errorf("stats: %d %v", code, stats)
	}
	if code, out := controlCall(t, "POST", u+"end-sessions", ""); code != 200 || out["ended"] != 1.0 {
		t.Errorf("end-sessions: %d %v", code, out)
	}
	_, err = h.refresh(reg, *tok.RefreshToken)
	wantCode(t, err, "InvalidGrantException", 400)
	if ends := h.eventsOf(SessionEnded); len(ends) != 1 || ends[0].Reason != "end-sessions" {
		t.Errorf("SessionEnded events: %+v", ends)
	}

	if code, out := controlCall(t, "PUT", u+"faults", `{"ListAccounts":{"error":"TooManyRequestsException","latency":"1ms"}}`); code != 200 || out["ListAccounts"] == nil {
		t.Errorf("PUT faults: %d %v", code, out)
	}
	if code, out := controlCall(t, "PUT", u+"faults", `{"CreateToken":{"error":"TooManyRequestsException"}}`); code != 400 ||
		!strings.Contains(out["error"].(string), "not an error code of SSO OIDC") {
		t.Errorf("PUT faults with a code OIDC does not have: %d %v, want 400 saying so", code, out)
	}
	if code, _ := controlCall(t, "GET", u+"nope", ""); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
}

func TestFaultsUseEachServicesWireFormat(t *testing.T) {
	h := newHarness(t, Options{Faults: Faults{
		"GetRoleCredentials":       {Error: "TooManyRequestsException"},
		"StartDeviceAuthorization": {Error: "500"},
	}})
	reg := h.register("sso:account:access")
	ctx := context.Background()
	_, err := h.oidc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
	wantCode(t, err, "InternalServerException", 500)
	_, err = h.roleCredentials("whatever")
	wantCode(t, err, "TooManyRequestsException", 429)
	st := h.s.Stats()
	if st.Operations["GetRoleCredentials"].Faults != 1 || st.Operations["StartDeviceAuthorization"].Errors != 1 {
		t.Errorf("stats: %+v", st.Operations)
	}
	if err := h.s.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	tok := h.deviceLogin(reg)
	if _, err := h.roleCredentials(*tok.AccessToken); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}

	// Latency is real time; prove it is applied without timing it: a call
	// whose context ends first fails, and the emulator does not hang.
	if err := h.s.SetFaults(Faults{"ListAccounts": {Latency: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err = h.portal.ListAccounts(cctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	if err == nil || cctx.Err() == nil {
		t.Fatalf("a call under an hour of latency returned before its deadline: %v", err)
	}
}

func TestParseFault(t *testing.T) {
	op, f, err := ParseFault("GetRoleCredentials:rate=0.2,error=TooManyRequestsException,latency=300ms")
	if err != nil || op != "GetRoleCredentials" || f.Rate != 0.2 || f.Error != "TooManyRequestsException" || f.Latency != 300*time.Millisecond {
		t.Errorf("got %s %+v %v", op, f, err)
	}
	for _, bad := range []string{"nocolon", "Op:rate", "Op:rate=x", "Op:latency=fast", "Op:color=red", ":rate=1"} {
		if _, _, err := ParseFault(bad); err == nil {
			t.Errorf("ParseFault(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		f  Faults
		ok bool
	}{
		{Faults{"PutObject": {Error: "SlowDown"}}, true},
		{Faults{"AssumeRole": {Error: "ThrottlingException", Rate: 0.5}}, true},
		{Faults{"*": {Error: "503"}}, true},
		{Faults{"*": {Error: "ThrottlingException"}}, false}, // codes differ by service
		{Faults{"CreateToken": {Error: "ThrottlingException"}}, false},
		{Faults{"CreateToken": {Error: "200"}}, false},
		{Faults{"CreateToken": {Rate: 0.5}}, false},
		{Faults{"CreateToken": {Error: "500", Rate: 2}}, false},
	} {
		if _, err := tc.f.normalized(); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.f, err, tc.ok)
		}
	}
	n, _ := Faults{"PutObject": {Error: "500"}}.normalized()
	if n["PutObject"].Rate != 1 {
		t.Errorf("an error without a rate must always fire, got rate %g", n["PutObject"].Rate)
	}
	var fs Faults
	if err := json.Unmarshal([]byte(`{"PutObject":{"rate":0.5,"error":500,"latency":"2s"}}`), &fs); err != nil ||
		fs["PutObject"] != (Fault{Rate: 0.5, Error: "500", Latency: 2 * time.Second}) {
		t.Errorf("JSON faults: %+v %v", fs, err)
	}
}

func TestApprovePolicyParse(t *testing.T) {
	for in, want := range map[string]string{"manual": "manual", "auto": "auto", "auto-after=45s": "auto-after=45s"} {
		p, err := ParseApprovePolicy(in)
		if err != nil || p.String() != want {
			t.Errorf("%s: %v %v", in, p, err)
		}
	}
	for _, bad := range []string{"sometimes", "auto-after=soon", "auto-after=-1s"} {
		if _, err := ParseApprovePolicy(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:80", "example.com:80"} {
		if _, err := New(Options{Addr: addr}); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("New(%s): %v, want a refusal naming loopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		if _, err := New(Options{Addr: addr}); err != nil {
			t.Errorf("New(%s): %v", addr, err)
		}
	}
}

func TestLoadAccountsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, "accounts.json")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	f, err := LoadAccountsFile(write(`{"accounts":[{"id":"123456789012","name":"dev",
		"permissionSets":[{"name":"Admin","sessionDuration":"2h"}],
		"roles":[{"name":"Deployer","maxSessionDuration":7200,"externalId":"xyz","requireMfa":true}]}],
		"users":[{"name":"alice","accessKeyId":"AKIAEXAMPLEALICE0001","secretAccessKey":"s","mfa":{"secret":"JBSWY3DPEHPK3PXP"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Accounts[0].PermissionSets[0].SessionDuration != Duration(2*time.Hour) || f.Accounts[0].Roles[0].MaxSessionDuration != Duration(2*time.Hour) {
		t.Errorf("durations: %+v", f.Accounts[0])
	}
	for body, want := range map[string]string{
		`{"accounts":[{"id":"12","name":"x"}]}`:           "12 digits",
		`{"accounts":[{"id":"123456789012","nmae":"x"}]}`: "unknown field",
		`{"accounts":[]}`: "at least one account",
		`{"accounts":[{"id":"123456789012","roles":[{"name":"R","maxSessionDuration":"13h"}]}]}`:                                                                 "between 1h and 12h",
		`{"accounts":[{"id":"123456789012"}],"users":[{"name":"bob","accessKeyId":"AKIAEXAMPLEBOB00001"}]}`:                                                      "secretAccessKey are required",
		`{"accounts":[{"id":"123456789012"}],"users":[{"name":"bob","accessKeyId":"AKIAEXAMPLEBOB00001","secretAccessKey":"s","mfa":{"secret":"not base32!"}}]}`: "base32",
	} {
		_, err := LoadAccountsFile(write(body))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "accounts.json") {
			t.Errorf("%s: %v, want an error naming the file and saying %q", body, err, want)
		}
	}
}

func TestDevicePageApprovesWithOneClick(t *testing.T) {
	h := newHarness(t, Options{})
	reg := h.register("sso:account:access")
	da, err := h.oidc.StartDeviceAuthorization(context.Background(), &ssooidc.StartDeviceAuthorizationInput{
		ClientId: &reg.id, ClientSecret: &reg.secret, StartUrl: aws.String(h.s.StartURL())})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(*da.VerificationUriComplete)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), *da.UserCode) || !strings.Contains(string(page), `<form method="post"`) {
		t.Fatalf("device page: %d, want 200 showing the code and a form", resp.StatusCode)
	}
	resp, err = http.PostForm(h.s.URL()+"/device", map[string][]string{"user_code": {*da.UserCode}, "decision": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("approve POST: %d", resp.StatusCode)
	}
	if len(h.s.Stats().Sessions) != 1 || len(h.eventsOf(Approved)) != 1 {
		t.Error("the page's Approve must start the session")
	}
}
