package license_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
)

func TestLastSeen(t *testing.T) {
	var l license.LastSeen
	if err := l.Observe(t0); err != nil || !l.At.Equal(t0) {
		t.Fatal(err)
	}
	if err := l.Observe(t0.Add(24 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	// Small steps back (NTP) are tolerated and do not move At back.
	if err := l.Observe(t0.Add(24*time.Hour - 59*time.Minute)); err != nil || !l.At.Equal(t0.Add(24*time.Hour)) {
		t.Fatal(err, l.At)
	}
	// A clock set back a day is caught.
	if err := l.Observe(t0); license.CodeOf(err) != license.CodeClockSkew {
		t.Fatal(err)
	}
	strict := license.LastSeen{At: t0, Tolerance: time.Second}
	if err := strict.Observe(t0.Add(-2 * time.Second)); license.CodeOf(err) != license.CodeClockSkew {
		t.Fatal(err)
	}
}

func TestLastSeenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "last-seen.json")
	f := &license.LastSeenFile{Path: path}
	if at, err := f.Load(); err != nil || !at.IsZero() {
		t.Fatal(at, err)
	}
	if err := f.Observe(t0.Add(48 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatal(st, err)
	}
	// A restart (a new LastSeenFile on the same path) still remembers.
	g := &license.LastSeenFile{Path: path}
	if err := g.Observe(t0); license.CodeOf(err) != license.CodeClockSkew {
		t.Fatal(err)
	}
	if at, _ := g.Load(); !at.Equal(t0.Add(48 * time.Hour)) {
		t.Fatal(at)
	}
	if err := g.Observe(t0.Add(72 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	if at, _ := g.Load(); !at.Equal(t0.Add(72 * time.Hour)) {
		t.Fatal(at)
	}
	os.WriteFile(path, []byte("garbage"), 0o600)
	if err := g.Observe(t0); err == nil {
		t.Fatal("a corrupt state was accepted")
	}
}
