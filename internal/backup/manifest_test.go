package backup

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
)

func validHeader(t testing.TB) []byte {
	m := Manifest{Format: Format, Storekeep: "v1.2.3", Schema: 45, StartedAt: base, TakenAt: base.Add(time.Second), Dialect: "sqlite", Size: 4096, LedgerKeyID: "0123456789abcdef"}
	h, err := m.header()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// FuzzBackupHeader: whatever a file begins with, ReadHeader returns a
// checked manifest or an error, never panics or reads without bound, and
// a manifest it accepts writes back to a header it reads the same.
func FuzzBackupHeader(f *testing.F) {
	h := validHeader(f)
	f.Add(h)
	f.Add(append(bytes.Clone(h), []byte("SQLite format 3\x00")...))
	f.Add([]byte(Magic))
	f.Add([]byte(Magic + "{}\n"))
	f.Add([]byte(Magic + `{"format":1,"schema_version":1e400}` + "\n"))
	f.Add([]byte(Magic + strings.Repeat("x", 70000)))
	f.Add([]byte("SQLite format 3\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, head, err := ReadHeader(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if len(head) > len(Magic)+maxManifest || !bytes.HasPrefix(data, head) {
			t.Fatalf("header of %d bytes, not a prefix of the input", len(head))
		}
		if err := m.check(); err != nil {
			t.Fatalf("accepted a manifest that does not check: %v", err)
		}
		again, err := m.header()
		if err != nil {
			t.Fatal(err)
		}
		m2, _, err := ReadHeader(bufio.NewReader(bytes.NewReader(again)))
		if err != nil || m2 != m {
			t.Fatalf("round trip: %+v, %v; want %+v", m2, err, m)
		}
	})
}

// TestBackupHeaderRefusals: the parser's refusals, one by one.
func TestBackupHeaderRefusals(t *testing.T) {
	h := string(validHeader(t))
	for _, tc := range []struct{ name, in, says string }{
		{"empty", "", "does not start with"},
		{"other magic", strings.Replace(h, "BACKUP 1", "BACKUP 2", 1), "does not start with"},
		{"newer format", strings.Replace(h, `"format":1`, `"format":2`, 1), "format 2"},
		{"unknown field", strings.Replace(h, `"format":1`, `"format":1,"extra":true`, 1), "cannot be read"},
		{"two values", strings.Replace(h, "}\n", "}{}\n", 1), "more than one value"},
		{"postgres", strings.Replace(h, `"sqlite"`, `"postgres"`, 1), "only SQLite"},
		{"no size", strings.Replace(h, `"size":4096`, `"size":0`, 1), "damaged"},
		{"taken before started", strings.Replace(h, `"taken_at":"2026-11-02T09:00:01Z"`, `"taken_at":"2026-11-02T08:00:00Z"`, 1), "damaged"},
		{"endless", Magic + strings.Repeat("{", maxManifest+10), "longer than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadHeader(bufio.NewReader(strings.NewReader(tc.in)))
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v, want one saying %q", err, tc.says)
			}
		})
	}
}
