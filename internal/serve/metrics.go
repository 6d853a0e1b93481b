package serve

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// /metrics is Prometheus text from VictoriaMetrics/metrics: it added 0.35 MB
// to a stripped binary and 0.3 MB RSS under load, against 2.9 MB and 2.5 MB
// for prometheus/client_golang (see bench/serve/README.md).
//
// It sits behind the same token as the credentials: it holds no secret, but
// 127.0.0.1 is not a user boundary, and profile names, account activity and
// session deadlines are nobody else's business on a shared machine.

func init() {
	// TYPE lines let Prometheus tell counters from gauges. The setting is
	// global to the library; nothing else in ssokeep uses it.
	metrics.ExposeMetadata(true)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }

// registerSourceMetrics adds the per-profile series, computed from
// Source.Status at scrape time, and the process series (RSS, CPU, fds).
func (s *Server) registerSourceMetrics() {
	s.metrics.RegisterMetricsWriter(s.writeSourceMetrics)
	s.metrics.RegisterMetricsWriter(metrics.WriteProcessMetrics)
}

type profileSample struct {
	label string // `profile="dev"`
	st    Status
}

func (s *Server) writeSourceMetrics(w io.Writer) {
	now := s.now()
	// Several routes may serve one profile: one series per profile.
	var samples []profileSample
	seen := map[string]bool{}
	for _, r := range s.credRoute {
		st := r.src.Status()
		if seen[st.Profile] {
			continue
		}
		seen[st.Profile] = true
		samples = append(samples, profileSample{label: `profile="` + escapeLabel(st.Profile) + `"`, st: st})
	}
	counter := func(name string, v func(Status) uint64) {
		metrics.WriteMetadataIfNeeded(w, name, "counter")
		for _, p := range samples {
			fmt.Fprintf(w, "%s{%s} %d\n", name, p.label, v(p.st))
		}
	}
	// Unknown times are left out rather than written as 0, which would
	// read as "expired".
	secondsLeft := func(name string, t func(Status) time.Time) {
		metrics.WriteMetadataIfNeeded(w, name, "gauge")
		for _, p := range samples {
			if at := t(p.st); !at.IsZero() {
				fmt.Fprintf(w, "%s{%s} %g\n", name, p.label, at.Sub(now).Seconds())
			}
		}
	}
	counter("ssokeep_upstream_calls_total", func(st Status) uint64 { return st.UpstreamCalls })
	counter("ssokeep_upstream_failures_total", func(st Status) uint64 { return st.UpstreamFailures })
	secondsLeft("ssokeep_credentials_seconds_left", func(st Status) time.Time { return st.CredentialsExpire })
	secondsLeft("ssokeep_token_seconds_left", func(st Status) time.Time { return st.TokenExpires })
	secondsLeft("ssokeep_session_seconds_left", func(st Status) time.Time { return st.SessionEnd })
	metrics.WriteMetadataIfNeeded(w, "ssokeep_login_pending", "gauge")
	for _, p := range samples {
		v := 0
		if p.st.LoginPending {
			v = 1
		}
		fmt.Fprintf(w, "ssokeep_login_pending{%s} %d\n", p.label, v)
	}
}
