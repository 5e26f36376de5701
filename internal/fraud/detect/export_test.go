package detect

import "time"

// SetNow sets the clock a Disposable list reloads by (tests).
func SetNow(l *Disposable, now func() time.Time) {
	l.mu.Lock()
	l.now = now
	l.mu.Unlock()
}
