// Package emutest starts an emulator for a test: on a fake clock, with the
// SDKs' endpoint variables pointing at it for the test's duration, so
// packages above the emulator test against it in a few lines.
package emutest

import (
	"strings"
	"testing"
	"time"

	"github.com/ssokeep/ssokeep/internal/clock"
	"github.com/ssokeep/ssokeep/internal/emulator"
)

// Start runs an emulator whose clock is a fake starting at t0 (o.Now is
// replaced), sets AWS_ENDPOINT_URL_* and the region for the test (t.Setenv),
// and closes the emulator when the test ends. A zero t0 keeps the real clock
// (for tests where Python or another process reads the time) and returns a
// nil clock.
func Start(t testing.TB, o emulator.Options, t0 time.Time) (*emulator.Server, *clock.Fake) {
	t.Helper()
	var c *clock.Fake
	if !t0.IsZero() {
		c = clock.NewFake(t0)
		o.Now = c.Now
	}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	for _, kv := range emu.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	return emu, c
}
