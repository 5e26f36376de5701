// Package clock gives the rest of Storekeep its notion of "now", so that tests
// can fix time instead of sleeping.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// System is the real wall clock, in UTC.
type System struct{}

// Now returns the current time in UTC.
func (System) Now() time.Time { return time.Now().UTC() }

// Waiter is a clock that can also wait: After returns a channel that
// receives the clock's reading once d has passed on it. Code that waits
// (heartbeats, leases) takes its timers from the clock, so a test that
// moves a Fixed clock fires them without sleeping.
type Waiter interface {
	After(d time.Duration) <-chan time.Time
}

// After waits on c if it is a Waiter, otherwise on the wall clock.
func After(c Clock, d time.Duration) <-chan time.Time {
	if w, ok := c.(Waiter); ok {
		return w.After(d)
	}
	return time.After(d)
}

// After waits d on the wall clock.
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Fixed is a clock for tests: it stands still until moved.
type Fixed struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

// NewFixed returns a clock that reads t until Set or Advance is called.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t.UTC()} }

// Now returns the clock's current reading.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t, firing the After channels whose time has
// come.
func (f *Fixed) Set(t time.Time) {
	f.mu.Lock()
	f.t = t.UTC()
	f.fire()
	f.mu.Unlock()
}

// Advance moves the clock forward by d, firing the After channels whose
// time has come.
func (f *Fixed) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.fire()
	f.mu.Unlock()
}

// After returns a channel that receives the clock's reading when Set or
// Advance moves it d or more past the current reading (at once when d <=
// 0). The channel has room for the value, so an abandoned wait leaks
// nothing but the entry, which is dropped when it fires.
func (f *Fixed) After(d time.Duration) <-chan time.Time {
	c := make(chan time.Time, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if d <= 0 {
		c <- f.t
		return c
	}
	f.waiters = append(f.waiters, waiter{at: f.t.Add(d), c: c})
	return c
}

func (f *Fixed) fire() {
	kept := f.waiters[:0]
	for _, w := range f.waiters {
		if w.at.After(f.t) {
			kept = append(kept, w)
			continue
		}
		w.c <- f.t
	}
	clear(f.waiters[len(kept):])
	f.waiters = kept
}
