package logins

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func TestForecast(t *testing.T) {
	for _, tc := range []struct {
		name  string
		r     Record
		max   time.Duration
		state string
		at    time.Time
		exact bool
	}{
		{"nothing recorded", Record{}, 8 * time.Hour, "unknown", time.Time{}, false},
		{"no maximum configured", Record{LoggedInAt: t0}, 0, "unknown", time.Time{}, false},
		{"plain login: an upper bound", Record{LoggedInAt: t0}, 8 * time.Hour, "forecast", t0.Add(8 * time.Hour), false},
		{"fresh login: the real end", Record{LoggedInAt: t0, Fresh: true}, 8 * time.Hour, "forecast", t0.Add(8 * time.Hour), true},
		{"refused early", Record{LoggedInAt: t0, EndedBy: t0.Add(3 * time.Hour)}, 8 * time.Hour, "ended", t0.Add(3 * time.Hour), false},
		{"noticed after the forecast end", Record{LoggedInAt: t0, Fresh: true, EndedBy: t0.Add(9 * time.Hour)}, 8 * time.Hour, "ended", t0.Add(8 * time.Hour), true},
		{"ended, nothing else known", Record{EndedBy: t0}, 0, "ended", t0, false},
	} {
		f := tc.r.Forecast(tc.max)
		if f.State != tc.state || !f.At.Equal(tc.at) || f.Exact != tc.exact {
			t.Errorf("%s: got %+v, want %s %v exact=%v", tc.name, f, tc.state, tc.at, tc.exact)
		}
	}
}

func TestStoreKeepsRecordsPrivateAndSerializesUpdates(t *testing.T) {
	s := In(t.TempDir())
	if r, err := s.Get("k"); err != nil || !r.LoggedInAt.IsZero() {
		t.Fatalf("empty store: %+v %v", r, err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Update(context.Background(), "k", func(r *Record) { r.LoggedInAt = r.LoggedInAt.Add(time.Second) }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	r, err := s.Get("k")
	if err != nil || r.LoggedInAt != (time.Time{}).Add(20*time.Second) {
		t.Errorf("after 20 updates: %v, %v", r.LoggedInAt, err)
	}
	if st, _ := os.Stat(filepath.Join(s.Dir, "k.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

func TestUnparsableRecordIsReportedThenReplaced(t *testing.T) {
	s := In(t.TempDir())
	os.MkdirAll(s.Dir, 0o700)
	os.WriteFile(filepath.Join(s.Dir, "k.json"), []byte("{"), 0o600)
	if _, err := s.Get("k"); err == nil {
		t.Error("no error for an unparsable record")
	}
	if err := s.Update(context.Background(), "k", func(r *Record) { r.LoggedInAt = t0 }); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get("k"); err != nil || !r.LoggedInAt.Equal(t0) {
		t.Errorf("%+v %v", r, err)
	}
}
