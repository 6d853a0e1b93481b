package emulator

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pquerna/otp/totp"
)

const (
	aliceKey    = "AKIAEXAMPLEALICE0001"
	aliceSecret = "alice/secret/key/EXAMPLE/0123456789abcdef"
	aliceMFA    = "JBSWY3DPEHPK3PXP"
)

// stsOptions declares an account with IAM roles and an IAM user with a
// virtual MFA device. The SDK signs with the wall clock while the test
// moves the emulator's, so clock skew is not checked here (sigv4's own
// tests and TestSTSClockSkew cover it).
func stsOptions() Options {
	return Options{
		MaxClockSkew: farSkew,
		Accounts: []Account{{ID: DefaultAccountID, Name: "emulator", PermissionSets: []PermissionSet{{Name: DefaultPermissionSet}},
			Roles: []Role{
				{Name: "Deployer", MaxSessionDuration: Duration(2 * time.Hour)},
				{Name: "Partner", ExternalID: "ext-42"},
				{Name: "BreakGlass", RequireMFA: true},
			}}},
		Users: []User{{Name: "alice", AccessKeyID: aliceKey, SecretAccessKey: aliceSecret, MFA: &MFADevice{Secret: aliceMFA}}},
	}
}

func (h *harness) sts(ak, sk, token string) *sts.Client {
	cfg := h.awsConfig()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(ak, sk, token)
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(h.s.URL()) })
}

func (h *harness) stsFromRole(rc *sts.AssumeRoleOutput) *sts.Client {
	c := rc.Credentials
	h.remember(*c.SecretAccessKey, *c.SessionToken)
	return h.sts(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func (h *harness) ssoSTS() (*sts.Client, string) {
	h.t.Helper()
	tok := h.deviceLogin(h.register("sso:account:access"))
	rc, err := h.roleCredentials(*tok.AccessToken)
	if err != nil {
		h.t.Fatal(err)
	}
	c := rc.RoleCredentials
	return h.sts(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken), *c.AccessKeyId
}

func TestSTSWithSSORoleCredentials(t *testing.T) {
	h := newHarness(t, stsOptions())
	ctx := context.Background()
	client, keyID := h.ssoSTS()

	id, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_[0-9a-f]{16}/emulator-user$`).MatchString(*id.Arn) ||
		*id.Account != DefaultAccountID || !regexp.MustCompile(`^AROA[0-9A-Z]+:emulator-user$`).MatchString(*id.UserId) {
		t.Errorf("caller identity: %s %s %s", *id.Arn, *id.Account, *id.UserId)
	}

	// Role chaining: SSO role credentials are a role session, capped at 1 h.
	deployer := "arn:aws:iam::111122223333:role/Deployer"
	_, err = client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &deployer, RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200)})
	wantCode(t, err, "ValidationError", 400)
	if !strings.Contains(err.Error(), "1 hour session limit for roles assumed by role chaining") {
		t.Errorf("chaining error: %v", err)
	}
	ar, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &deployer, RoleSessionName: aws.String("chain")})
	if err != nil {
		t.Fatal(err)
	}
	if *ar.AssumedRoleUser.Arn != "arn:aws:sts::111122223333:assumed-role/Deployer/chain" ||
		!ar.Credentials.Expiration.Equal(h.clock.Now().Add(time.Hour)) {
		t.Errorf("AssumeRole: %s expires %v", *ar.AssumedRoleUser.Arn, ar.Credentials.Expiration)
	}
	chained := h.stsFromRole(ar)
	if id, err := chained.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil || *id.Arn != *ar.AssumedRoleUser.Arn {
		t.Errorf("chained identity: %v %v", id, err)
	}

	_, err = client.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantCode(t, err, "AccessDenied", 403)

	// Wrong secret, unknown key, wrong session token.
	c, _ := h.s.reg.get(keyID)
	_, err = h.sts(keyID, c.secret+"x", c.sessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = h.sts("ASIAUNKNOWNKEY000000", c.secret, c.sessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)
	_, err = h.sts(keyID, c.secret, c.sessionToken+"x").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)

	// After the role duration the same credentials are expired.
	h.clock.Advance(time.Hour)
	_, err = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken", 400)
}

func TestSTSGetSessionTokenWithMFA(t *testing.T) {
	h := newHarness(t, stsOptions())
	ctx := context.Background()
	alice := h.sts(aliceKey, aliceSecret, "")
	h.remember(aliceSecret)
	serial := "arn:aws:iam::111122223333:mfa/alice"
	code := func() string {
		c, err := totp.GenerateCode(aliceMFA, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	id, err := alice.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != "arn:aws:iam::111122223333:user/alice" {
		t.Fatalf("alice: %v %v", id, err)
	}
	st, err := alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*st.Credentials.SecretAccessKey, *st.Credentials.SessionToken)
	if !st.Credentials.Expiration.Equal(h.clock.Now().Add(12 * time.Hour)) {
		t.Errorf("default GetSessionToken lifetime: %v, want 12 h", st.Credentials.Expiration)
	}
	for _, d := range []int32{899, 129601} {
		_, err = alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(d)})
		wantCode(t, err, "ValidationError", 400)
	}
	wrong := "000000"
	if code() == wrong {
		wrong = "111111"
	}
	_, err = alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: &serial, TokenCode: &wrong})
	wantCode(t, err, "AccessDenied", 403)
	_, err = alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::111122223333:mfa/bob"), TokenCode: aws.String(code())})
	wantCode(t, err, "AccessDenied", 403)

	// A session without MFA may not assume the MFA-only role; one with MFA may.
	breakGlass := "arn:aws:iam::111122223333:role/BreakGlass"
	plain := h.sts(*st.Credentials.AccessKeyId, *st.Credentials.SecretAccessKey, *st.Credentials.SessionToken)
	_, err = plain.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &breakGlass, RoleSessionName: aws.String("s1")})
	wantCode(t, err, "AccessDenied", 403)
	mfaST, err := alice.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: &serial, TokenCode: aws.String(code()), DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*mfaST.Credentials.SecretAccessKey, *mfaST.Credentials.SessionToken)
	withMFA := h.sts(*mfaST.Credentials.AccessKeyId, *mfaST.Credentials.SecretAccessKey, *mfaST.Credentials.SessionToken)
	if _, err := withMFA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &breakGlass, RoleSessionName: aws.String("s2")}); err != nil {
		t.Fatalf("AssumeRole with an MFA session: %v", err)
	}
	// Long-term keys plus a code in the call work too, 30 s steps later.
	h.clock.Advance(30 * time.Second)
	ar, err := alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &breakGlass, RoleSessionName: aws.String("s3"),
		SerialNumber: &serial, TokenCode: aws.String(code())})
	if err != nil {
		t.Fatalf("AssumeRole with SerialNumber/TokenCode: %v", err)
	}
	h.remember(*ar.Credentials.SecretAccessKey, *ar.Credentials.SessionToken)
	// A code from three steps ago is refused.
	old, _ := totp.GenerateCode(aliceMFA, h.clock.Now().Add(-90*time.Second))
	if old != code() {
		_, err = alice.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &breakGlass, RoleSessionName: aws.String("s4"),
			SerialNumber: &serial, TokenCode: &old})
		wantCode(t, err, "AccessDenied", 403)
	}
}

func TestSTSAssumeRoleRules(t *testing.T) {
	h := newHarness(t, stsOptions())
	ctx := context.Background()
	alice := h.sts(aliceKey, aliceSecret, "")
	h.remember(aliceSecret)
	role := func(n string) *string { return aws.String("arn:aws:iam::111122223333:role/" + n) }
	for _, tc := range []struct {
		name     string
		in       sts.AssumeRoleInput
		code     string
		status   int
		lifetime time.Duration
	}{
		{"not chained: up to the role max", sts.AssumeRoleInput{RoleArn: role("Deployer"), DurationSeconds: aws.Int32(7200)}, "", 0, 2 * time.Hour},
		{"over the role max", sts.AssumeRoleInput{RoleArn: role("Deployer"), DurationSeconds: aws.Int32(7201)}, "ValidationError", 400, 0},
		{"below 900 s", sts.AssumeRoleInput{RoleArn: role("Deployer"), DurationSeconds: aws.Int32(600)}, "ValidationError", 400, 0},
		{"unknown role", sts.AssumeRoleInput{RoleArn: role("Nope")}, "AccessDenied", 403, 0},
		{"malformed ARN", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:role/x")}, "ValidationError", 400, 0},
		{"external id missing", sts.AssumeRoleInput{RoleArn: role("Partner")}, "AccessDenied", 403, 0},
		{"external id wrong", sts.AssumeRoleInput{RoleArn: role("Partner"), ExternalId: aws.String("ext-41")}, "AccessDenied", 403, 0},
		{"external id right", sts.AssumeRoleInput{RoleArn: role("Partner"), ExternalId: aws.String("ext-42")}, "", 0, time.Hour},
		{"session name too short", sts.AssumeRoleInput{RoleArn: role("Deployer"), RoleSessionName: aws.String("x")}, "ValidationError", 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("test-session")
			}
			out, err := alice.AssumeRole(ctx, &in)
			if tc.code != "" {
				wantCode(t, err, tc.code, tc.status)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			h.remember(*out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
			if !out.Credentials.Expiration.Equal(h.clock.Now().Add(tc.lifetime)) {
				t.Errorf("expiration %v, want now+%v", out.Credentials.Expiration, tc.lifetime)
			}
		})
	}
}

func TestSTSMaxLifetimeCompressesCredentials(t *testing.T) {
	o := stsOptions()
	o.STSMaxLifetime = 20 * time.Second
	h := newHarness(t, o)
	alice := h.sts(aliceKey, aliceSecret, "")
	h.remember(aliceSecret)
	out, err := alice.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::111122223333:role/Deployer"), RoleSessionName: aws.String("fast")})
	if err != nil {
		t.Fatal(err)
	}
	h.remember(*out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	if !out.Credentials.Expiration.Equal(h.clock.Now().Add(20 * time.Second)) {
		t.Errorf("expiration %v, want now+20s", out.Credentials.Expiration)
	}
	h.clock.Advance(20 * time.Second)
	_, err = h.stsFromRole(out).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	wantCode(t, err, "ExpiredToken", 400)
}

// TestSTSClockSkew runs on the real clock: a request signed an hour ago is
// refused with STS's code for it.
func TestSTSClockSkew(t *testing.T) {
	o := stsOptions()
	o.MaxClockSkew = 0
	o.Now = time.Now
	h := newHarness(t, o)
	h.remember(aliceSecret)
	body := "Action=GetCallerIdentity&Version=2011-06-15"
	for _, tc := range []struct {
		at     time.Time
		status int
		code   string
	}{{time.Now(), 200, ""}, {time.Now().Add(-time.Hour), 403, "<Code>SignatureDoesNotMatch</Code>"}} {
		req, _ := http.NewRequest("POST", h.s.URL()+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: aliceKey, SecretAccessKey: aliceSecret},
			req, sha256hex(body), "sts", "us-east-1", tc.at)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.code) {
			t.Errorf("signed at %v: %d %s", tc.at, resp.StatusCode, b)
		}
	}
}

func TestUnsignedSTSCallGetsMissingAuthenticationToken(t *testing.T) {
	h := newHarness(t, Options{})
	resp, err := http.PostForm(h.s.URL()+"/", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>MissingAuthenticationToken</Code>") ||
		!strings.Contains(string(b), "<ErrorResponse") {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	// Any other unsigned request is an anonymous S3 request.
	resp, err = http.Get(h.s.URL() + "/some-bucket/key")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>AccessDenied</Code>") {
		t.Errorf("anonymous GET: %d %s", resp.StatusCode, b)
	}
}
