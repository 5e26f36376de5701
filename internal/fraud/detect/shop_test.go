package detect_test

import (
	"context"
	"database/sql"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/testutil"
)

// countries is a GeoIP database in a map.
type countries map[netip.Addr]string

func (c countries) Country(ip netip.Addr) string { return c[ip] }

var (
	ipDE = netip.MustParseAddr("198.51.100.20")
	ipUS = netip.MustParseAddr("192.0.2.40")
	ipNo = netip.MustParseAddr("203.0.113.99") // not in the database
)

// TestCheckoutSignals: a checkout's disposable-mail domain and country
// mismatch fire on their pattern and never on control data close to it.
func TestCheckoutSignals(t *testing.T) {
	list, err := detect.NewDisposable("", nil)
	if err != nil {
		t.Fatal(err)
	}
	geo := countries{ipDE: "DE", ipUS: "US"}
	tests := []struct {
		name    string
		email   string
		country string
		ip      netip.Addr
		geo     detect.Countries
		want    []fraud.Kind
	}{
		{"disposable domain", "x@mailinator.com", "DE", ipDE, geo, []fraud.Kind{fraud.DisposableEmail}},
		{"disposable subdomain, upper case", "x@Inbox.MAILINATOR.com", "DE", ipDE, geo, []fraud.Kind{fraud.DisposableEmail}},
		{"control: a domain ending like one", "x@notmailinator.com", "DE", ipDE, geo, nil},
		{"control: a listed name as the local part", "mailinator.com@example.com", "DE", ipDE, geo, nil},
		{"control: a domain under a listed name's label", "x@mailinator.com.example.org", "DE", ipDE, geo, nil},
		{"country mismatch", "x@example.com", "FR", ipUS, geo, []fraud.Kind{fraud.CountryMismatch}},
		{"control: same country, other case", "x@example.com", "de", ipDE, geo, nil},
		{"control: network not in the database", "x@example.com", "FR", ipNo, geo, nil},
		{"control: no GeoIP database configured", "x@example.com", "FR", ipUS, nil, nil},
		{"both", "x@yopmail.fr", "FR", ipUS, geo, []fraud.Kind{fraud.DisposableEmail, fraud.CountryMismatch}},
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		c := w.customer(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var rec recorder
				checks := &detect.Checks{Raise: rec.raise, Disposable: list, Geo: tt.geo, Observer: w.obs}
				o := w.order(t, c.ID, tt.email, tt.country, t0)
				err := d.Tx(context.Background(), func(tx *sql.Tx) error {
					return checks.Order(context.Background(), tx, d.Dialect, o, tt.ip, t0)
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(rec.signals) != len(tt.want) {
					t.Fatalf("raised %v, want %v", rec.signals, tt.want)
				}
				for i, s := range rec.signals {
					if s.Kind != tt.want[i] || s.Subject.OrderID != o.ID || s.Subject.CustomerID != c.ID {
						t.Errorf("signal %d: %+v, want %s about order %d", i, s, tt.want[i], o.ID)
					}
					for _, f := range s.Facts {
						if strings.Contains(f.Value, "@") || strings.Contains(f.Value, tt.ip.String()) {
							t.Errorf("evidence holds personal data: %+v", f)
						}
					}
				}
			})
		}
		// A nil Checks (fraud review not configured) does nothing.
		var none *detect.Checks
		o := w.order(t, c.ID, "x@mailinator.com", "DE", t0)
		if err := d.Tx(context.Background(), func(tx *sql.Tx) error {
			return none.Order(context.Background(), tx, d.Dialect, o, ipDE, t0)
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDisposableFile: the operator's file adds to the built-in list, is
// read again when it changes, a broken file at start is a clear error, and
// one broken later keeps the list loaded before.
func TestDisposableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "disposable.txt")
	write := func(s string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("# ours\nthrowaway.example\n\n  Spam.Example.Net.  \n", t0)
	l, err := detect.NewDisposable(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string]string{
		"a@throwaway.example": "throwaway.example", "a@x.spam.example.net": "spam.example.net",
		"a@mailinator.com": "mailinator.com", "a@example.com": "", "no-at-sign": "",
	} {
		if got := l.Match(email); got != want {
			t.Errorf("Match(%q) = %q, want %q", email, got, want)
		}
	}
	now := time.Now()
	detect.SetNow(l, func() time.Time { return now })

	write("other.example\n", t0.Add(time.Hour))
	if got := l.Match("a@other.example"); got != "" {
		t.Fatalf("reloaded before the interval: %q", got)
	}
	now = now.Add(time.Minute)
	if got := l.Match("a@other.example"); got != "other.example" {
		t.Fatalf("the changed file was not read: %q", got)
	}
	if l.Match("a@throwaway.example") != "" {
		t.Fatal("a domain removed from the file still matches")
	}

	write("other.example\nnot a domain\n", t0.Add(2*time.Hour))
	now = now.Add(time.Minute)
	if got := l.Match("a@other.example"); got != "other.example" {
		t.Fatalf("a broken file replaced the list: %q", got)
	}

	_, err = detect.NewDisposable(path, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "not a domain") {
		t.Fatalf("broken file at start: %v", err)
	}
	if _, err := detect.NewDisposable(filepath.Join(t.TempDir(), "missing"), nil); err == nil {
		t.Fatal("a missing file was accepted")
	}
}

func FuzzParseDomains(f *testing.F) {
	for _, s := range []string{"mailinator.com\n", "# c\n\nA.B\n", "a..b\n", "-a.b\n", "a.b-\n", "x\n", "a.b\r\nc.d", strings.Repeat("a", 70) + ".b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := detect.ParseDomains(data)
		if err != nil {
			return
		}
		for d := range m {
			if d != strings.ToLower(d) || !strings.Contains(d, ".") || len(d) > 253 || strings.ContainsAny(d, " \t@/") {
				t.Fatalf("accepted %q", d)
			}
			// What was accepted reads back the same.
			again, err := detect.ParseDomains([]byte(d + "\n"))
			if err != nil || !again[d] {
				t.Fatalf("%q does not read back: %v", d, err)
			}
		}
	})
}
