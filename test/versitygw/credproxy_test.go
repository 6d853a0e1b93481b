package survival

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// The SDK's own container-credentials client, pointed at the proxy, gets
// the upstream's answer unchanged, and the registry learns the set.
func TestCredProxyPassesAnswersOnAndRegistersThem(t *testing.T) {
	const body = `{"AccessKeyId":"ASIAPROXYTEST0000001","SecretAccessKey":"proxy-secret","Token":"proxy-token","Expiration":"2030-01-02T03:04:05Z","AccountId":"111122223333"}`
	status := http.StatusOK
	var gotAuth, gotPath string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.RequestURI()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		if status == http.StatusOK {
			io.WriteString(w, body)
		} else {
			io.WriteString(w, `{"code":"Unavailable","message":"no credentials"}`)
		}
	}))
	defer up.Close()
	r := NewRegistry(time.Now)
	p := NewCredProxy(r)
	ps := httptest.NewServer(p)
	defer ps.Close()

	uri := ps.URL + "/" + strings.TrimPrefix(up.URL, "http://") + "/creds/abc?x=1"
	prov := endpointcreds.New(uri, func(o *endpointcreds.Options) { o.AuthorizationToken = "job-token" })
	c, err := prov.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "ASIAPROXYTEST0000001" || c.SecretAccessKey != "proxy-secret" || c.SessionToken != "proxy-token" ||
		!c.Expires.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("the SDK got %+v", c)
	}
	if gotAuth != "job-token" || gotPath != "/creds/abc?x=1" {
		t.Errorf("upstream saw Authorization %q, path %q", gotAuth, gotPath)
	}
	if s := r.Stats(); s.Keys != 1 || s.Served != 1 {
		t.Errorf("registry %+v", s)
	}
	if _, _, err := r.DeriveSigningKey("ASIAPROXYTEST0000001", "proxy-token", "20300101", "us-east-1", "s3"); err != nil {
		t.Errorf("the served set is not usable: %v", err)
	}

	// A failing upstream is passed on and counted, and registers nothing.
	status = http.StatusServiceUnavailable
	if _, err := endpointcreds.New(uri).Retrieve(context.Background()); err == nil {
		t.Error("a 503 reached the SDK as credentials")
	}
	answers, last := p.Answers()
	if answers["200"] != 1 || answers["503"] == 0 || !strings.Contains(last, "503") {
		t.Errorf("answers %v, last %q", answers, last)
	}
	if r.Stats().Keys != 1 {
		t.Error("a failed answer was registered")
	}
}

func TestCredProxyRefusesNonLoopbackTargets(t *testing.T) {
	p := NewCredProxy(NewRegistry(time.Now))
	for _, path := range []string{"/169.254.170.2:80/v2/credentials", "/example.com:80/creds", "/no-port/creds", "/"} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, rec.Code)
		}
	}
	if answers, _ := p.Answers(); answers["refused target"] != 4 {
		t.Errorf("answers %v", answers)
	}
}

func TestParseCredsErrorsNeverQuoteTheAnswer(t *testing.T) {
	for _, body := range []string{
		`not json secret-value`,
		`{"AccessKeyId":"ASIAX","SecretAccessKey":"secret-value","Token":"t"}`,
		`{"AccessKeyId":"ASIAX","SecretAccessKey":"secret-value","Token":"t","Expiration":"tomorrow"}`,
	} {
		_, err := ParseCreds([]byte(body))
		if err == nil || strings.Contains(err.Error(), "secret-value") {
			t.Errorf("%q: %v", body, err)
		}
	}
}
