package serve

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// discardWriter is the cheapest ResponseWriter, so the in-process numbers
// measure the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (d *discardWriter) Header() http.Header  { return d.h }
func (d *discardWriter) WriteHeader(code int) { d.status = code }
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.status == 0 { // as net/http: the first Write implies 200
		d.status = 200
	}
	return len(p), nil
}

// BenchmarkServe: in-process, parallel: the handler as net/http calls it,
// and the full loopback round trip with keep-alive connections.
func BenchmarkServe(b *testing.B) {
	ts := newTestServer(b, nil)
	// Production logs at info: refusals are not logged per request.
	ts.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	host := strings.TrimPrefix(ts.URL(""), "http://")
	b.Run("handler", func(b *testing.B) {
		h := ts.Handler()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest("GET", "http://"+host+"/creds/dev", nil)
			req.Header.Set("Authorization", ts.Token())
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	})
	b.Run("handler-wrong-token", func(b *testing.B) {
		h := ts.Handler()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest("GET", "http://"+host+"/creds/dev", nil)
			req.Header.Set("Authorization", strings.Repeat("0", 64))
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				clear(w.h)
				w.status = 0
				h.ServeHTTP(w, req)
				if w.status != 403 {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	})
	b.Run("loopback", func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
		defer client.CloseIdleConnections()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest("GET", ts.URL("/creds/dev"), nil)
			req.Header.Set("Authorization", ts.Token())
			for pb.Next() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	})
}
