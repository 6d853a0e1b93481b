package survival

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CredProxy sits between a job and ssokeep's credentials endpoint and
// registers every credential set that passes through it, so the S3 server
// knows exactly what the job was given, and nothing else.
//
// The job reaches it as http://PROXY/<host:port>/<path>: the first path
// segment names the upstream endpoint, which must be on a loopback address.
// Requests (with their Authorization header) and answers pass unchanged.
type CredProxy struct {
	reg *Registry
	rp  *httputil.ReverseProxy

	mu       sync.Mutex
	answers  map[string]int // "200", "503", "refused target", "unparsable", ...
	lastFail string         // the last non-200 answer's description (never a body)
}

// NewCredProxy returns a proxy that registers into reg.
func NewCredProxy(reg *Registry) *CredProxy {
	p := &CredProxy{reg: reg, answers: map[string]int{}}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			host, rest, _ := strings.Cut(strings.TrimPrefix(pr.In.URL.Path, "/"), "/")
			pr.Out.URL = &url.URL{Scheme: "http", Host: host, Path: "/" + rest, RawQuery: pr.In.URL.RawQuery}
			pr.Out.Host = host
		},
		ModifyResponse: p.record,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			p.count("upstream unreachable", err.Error())
			http.Error(w, "credentials endpoint unreachable", http.StatusBadGateway)
		},
	}
	return p
}

func (p *CredProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	h, _, err := net.SplitHostPort(host)
	if ip := net.ParseIP(h); err != nil || ip == nil || !ip.IsLoopback() {
		p.count("refused target", "not a loopback endpoint: "+host)
		http.Error(w, "the first path segment must be a loopback host:port", http.StatusBadRequest)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// endpointAnswer is the container-credentials JSON every SDK reads.
type endpointAnswer struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

// ParseCreds reads a container-credentials answer. Errors never quote it.
func ParseCreds(body []byte) (Creds, error) {
	var a endpointAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return Creds{}, fmt.Errorf("not JSON (%d bytes)", len(body))
	}
	for name, v := range map[string]string{"AccessKeyId": a.AccessKeyID, "SecretAccessKey": a.SecretAccessKey,
		"Token": a.Token, "Expiration": a.Expiration} {
		if v == "" {
			return Creds{}, fmt.Errorf("no %s", name)
		}
	}
	exp, err := time.Parse(time.RFC3339, a.Expiration)
	if err != nil {
		return Creds{}, fmt.Errorf("Expiration %q is not RFC 3339", a.Expiration)
	}
	return Creds{AccessKeyID: a.AccessKeyID, SecretAccessKey: a.SecretAccessKey, SessionToken: a.Token, Expires: exp}, nil
}

// record registers a 200 answer's credentials and counts every answer.
func (p *CredProxy) record(resp *http.Response) error {
	if resp.StatusCode != http.StatusOK {
		p.count(fmt.Sprint(resp.StatusCode), resp.Status)
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c, err := ParseCreds(body)
	if err != nil {
		p.count("unparsable", err.Error())
		return nil
	}
	p.reg.Add(c)
	p.count("200", "")
	return nil
}

func (p *CredProxy) count(kind, desc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answers[kind]++
	if kind != "200" {
		p.lastFail = kind + ": " + desc
	}
}

// Answers counts the answers passed on, by status ("200", "503"...) or by
// what went wrong ("refused target", "unparsable", "upstream unreachable"),
// and describes the last one that was not a 200.
func (p *CredProxy) Answers() (map[string]int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.answers))
	for k, v := range p.answers {
		out[k] = v
	}
	return out, p.lastFail
}
