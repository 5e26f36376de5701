package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DefaultClockTolerance is how far the clock may move backwards between two observations
// before LastSeen reports CLOCK_SKEW (NTP steps are seconds; a clock set back is days).
const DefaultClockTolerance = time.Hour

// LastSeen detects a clock set back: it remembers the latest time the product has seen and
// refuses a time that lies before it by more than Tolerance. The zero value is ready (with
// DefaultClockTolerance); persist At (or use LastSeenFile) so that it survives restarts.
//
// It is a tripwire, not a lock: whoever owns the machine can delete the state.
type LastSeen struct {
	At        time.Time     // the latest time observed; zero before the first observation
	Tolerance time.Duration // 0: DefaultClockTolerance
}

// Observe checks now against the latest time seen and, if it is not set back, advances At.
func (l *LastSeen) Observe(now time.Time) error {
	tol := l.Tolerance
	if tol <= 0 {
		tol = DefaultClockTolerance
	}
	if !l.At.IsZero() && now.Before(l.At.Add(-tol)) {
		return newError(CodeClockSkew, fmt.Sprintf("the clock (%s) is before a time already seen (%s): was it set back?",
			now.UTC().Format(time.RFC3339), l.At.UTC().Format(time.RFC3339)))
	}
	if now.After(l.At) {
		l.At = now
	}
	return nil
}

// LastSeenFile is a LastSeen kept in a small JSON file ({"v":1,"last_seen":<unix seconds>}),
// written atomically with mode 0600. It is safe for concurrent use within one process.
type LastSeenFile struct {
	Path      string
	Tolerance time.Duration

	mu sync.Mutex
}

type lastSeenDoc struct {
	V        int   `json:"v"`
	LastSeen int64 `json:"last_seen"`
}

// Load returns the time stored, zero when there is no file yet.
func (f *LastSeenFile) Load() (time.Time, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	var d lastSeenDoc
	if len(b) > 4096 || json.Unmarshal(b, &d) != nil || d.V != 1 || d.LastSeen < 0 {
		return time.Time{}, fmt.Errorf("license: %s is not a last-seen file", f.Path)
	}
	if d.LastSeen == 0 {
		return time.Time{}, nil
	}
	return time.Unix(d.LastSeen, 0).UTC(), nil
}

// Observe loads the stored time, checks now against it (CLOCK_SKEW when set back) and stores
// the later of the two.
func (f *LastSeenFile) Observe(now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, err := f.Load()
	if err != nil {
		return err
	}
	l := LastSeen{At: at, Tolerance: f.Tolerance}
	if err := l.Observe(now); err != nil {
		return err
	}
	if l.At.Unix() == at.Unix() && !at.IsZero() {
		return nil
	}
	b, _ := json.Marshal(lastSeenDoc{V: 1, LastSeen: l.At.Unix()})
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".last-seen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}
