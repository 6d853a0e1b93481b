// Package clock is the time source ssokeep's packages take instead of calling
// time.Now, so tests move time instead of sleeping through it.
package clock

import (
	"sync"
	"time"
)

// Fake is a clock that stands still until a test moves it. Safe for
// concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t} }

// Now returns the clock's time; pass the method value (c.Now) as a func() time.Time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Fake) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}
