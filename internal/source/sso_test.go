package source

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/login"
	"github.com/ssokeep/ssokeep/internal/ssocache"
)

func (w *world) roleKey() string {
	s := w.session()
	return ssocache.RoleKey(acct, "Developer", s.Name, s.StartURL)
}

// callerARN asks the emulator's STS who the credentials belong to: they must really work.
func callerARN(t *testing.T, c aws.Credentials) string {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })))
	if err != nil {
		t.Fatal(err)
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("the credentials do not work: %v", err)
	}
	return aws.ToString(out.Arn)
}

func TestSSORoleFetchesOnceAndSharesTheCLICache(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	p := w.provider("sso", w.config())
	c := w.retrieve(p)
	if !c.Expires.Equal(t0.Add(time.Hour)) || c.AccountID != acct {
		t.Errorf("expiry %v account %q, want the true expiry %v and %s", c.Expires, c.AccountID, t0.Add(time.Hour), acct)
	}
	if arn := callerARN(t, c); !strings.Contains(arn, "AWSReservedSSO_Developer_") {
		t.Errorf("caller %s", arn)
	}
	// Written through to the CLI's role cache, in its format, 0600, with the fetch time as its mtime.
	rc, err := w.m.Roles.Load(w.roleKey())
	if err != nil || rc.AccessKeyID != c.AccessKeyID || !rc.Expiration.Equal(c.Expires) || rc.AccountID != acct {
		t.Fatalf("CLI role cache entry: %v", err)
	}
	fi, err := os.Stat(w.m.Roles.FilePath(w.roleKey()))
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(t0) {
		t.Errorf("cache file mode %v mtime %v (err %v), want 0600 and the fetch time", fi.Mode().Perm(), fi.ModTime(), err)
	}
	// Reused until 15 minutes are left (new processes: new providers, same files).
	w.clock.Advance(44 * time.Minute)
	if again := w.retrieve(w.provider("sso", w.config())); again.AccessKeyID != c.AccessKeyID {
		t.Error("a set with 16 minutes left was not reused")
	}
	if n := w.ops("GetRoleCredentials"); n != 1 {
		t.Errorf("%d GetRoleCredentials, want 1", n)
	}
	w.clock.Advance(time.Minute + time.Second)
	next := w.retrieve(p)
	if next.AccessKeyID == c.AccessKeyID || !next.Expires.Equal(w.clock.Now().Add(time.Hour)) {
		t.Error("a set with less than 15 minutes left was served again")
	}
	if n := w.ops("GetRoleCredentials"); n != 2 {
		t.Errorf("%d GetRoleCredentials, want 2", n)
	}
}

func TestSSORoleReadsASetTheCLIWrote(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	// The CLI fetched a set 10 minutes ago (no token is even cached: nothing upstream can be asked).
	cli := &ssocache.RoleCredentials{AccessKeyID: "ASIACLIWROTETHIS0001", SecretAccessKey: "cli-secret", SessionToken: "cli-token",
		Expiration: t0.Add(50 * time.Minute), AccountID: acct}
	if err := w.m.Roles.Save(w.roleKey(), cli); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(w.m.Roles.FilePath(w.roleKey()), t0.Add(-10*time.Minute), t0.Add(-10*time.Minute))
	c := w.retrieve(w.provider("sso", w.config()))
	if c.AccessKeyID != cli.AccessKeyID || !c.Expires.Equal(cli.Expiration) || c.AccountID != acct {
		t.Errorf("got %s expiring %v, want the CLI's set", c.AccessKeyID, c.Expires)
	}
	if n := w.ops("GetRoleCredentials"); n != 0 {
		t.Errorf("%d GetRoleCredentials for a cached set", n)
	}
}

func TestSSORoleShortLifetimesAreReusedForHalfTheirLife(t *testing.T) {
	w := newWorld(t, emulator.Options{RoleDuration: 30 * time.Second})
	w.login()
	p := w.provider("sso", w.config())
	first := w.retrieve(p)
	w.clock.Advance(14 * time.Second) // 16 s of 30 left: reused
	if c := w.retrieve(p); c.AccessKeyID != first.AccessKeyID {
		t.Error("a 30 s set with 16 s left was not reused")
	}
	w.clock.Advance(2 * time.Second) // 14 s left: fetch
	if c := w.retrieve(p); c.AccessKeyID == first.AccessKeyID {
		t.Error("a 30 s set with 14 s left was served")
	}
	if n := w.ops("GetRoleCredentials"); n != 2 {
		t.Errorf("%d GetRoleCredentials, want 2", n)
	}
}

func TestSSORoleConcurrentRetrievesFetchOnce(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	var wg sync.WaitGroup
	keys := make([]string, 16)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := Build(w.profile("sso"), w.config()) // one provider per "process"
			if err != nil {
				t.Error(err)
				return
			}
			c, err := p.Retrieve(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = c.AccessKeyID
		}()
	}
	wg.Wait()
	for _, k := range keys {
		if k != keys[0] {
			t.Fatal("concurrent retrieves got different sets")
		}
	}
	if n := w.ops("GetRoleCredentials"); n != 1 {
		t.Errorf("%d GetRoleCredentials for 16 concurrent retrieves, want 1", n)
	}
}

func TestSSORoleNeedsLogin(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	_, err := w.provider("sso", w.config()).Retrieve(context.Background())
	var ln *login.LoginNeededError
	if !errors.As(err, &ln) || ln.Reason != login.NoToken {
		t.Fatalf("no token: got %v, want a LoginNeededError", err)
	}
	if !strings.Contains(err.Error(), "ssokeep login -p sso") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message %q: want one line naming the login command", err)
	}
	// A token that looks valid but whose session was ended (sign-out elsewhere, an administrator).
	w.login()
	w.emu.EndSessions()
	_, err = w.provider("sso", w.config()).Retrieve(context.Background())
	if !errors.As(err, &ln) || ln.Reason != login.SessionEnded {
		t.Fatalf("ended session: got %v, want a LoginNeededError", err)
	}
	if s := w.secretsIn(err.Error()); len(s) > 0 {
		t.Errorf("error %q shows secrets %v", err, s)
	}
}

func TestSSORoleKeepsServingAValidSetWhenUpstreamFails(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	p := w.provider("sso", w.config())
	first := w.retrieve(p)
	w.emu.EndSessions()
	w.clock.Advance(50 * time.Minute) // 10 minutes left: due for a new set, but the session is over
	if c := w.retrieve(p); c.AccessKeyID != first.AccessKeyID {
		t.Error("did not fall back to the still-valid set")
	}
	w.clock.Advance(9*time.Minute + 30*time.Second) // 30 s left: too little to hand out
	if _, err := p.Retrieve(context.Background()); !login.IsLoginNeeded(err) {
		t.Errorf("got %v, want a LoginNeededError", err)
	}
}

func TestSSORoleForbiddenNamesTheProfile(t *testing.T) {
	w := newWorld(t, emulator.Options{})
	w.login()
	p := w.profile("sso")
	p.SSO.RoleName = "NotAssigned"
	prov, err := Build(p, w.config())
	if err != nil {
		t.Fatal(err)
	}
	_, err = prov.Retrieve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "profile sso") || !strings.Contains(err.Error(), "sso_role_name") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v", err)
	}
}
