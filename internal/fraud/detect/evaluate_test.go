package detect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestWindowSignals: each pattern over a window fires on the pattern and
// never on control data built to look close to it (one fewer, the same
// count spread beyond the window, addresses of one network, re-activations
// of the same machines, resumed downloads, an unlimited license).
func TestWindowSignals(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name  string
		setup func(t *testing.T, w *world)
		want  fraud.Kind // "" for none
	}{
		{"key sharing: 6 networks in 24 hours", func(t *testing.T, w *world) {
			l := w.license(t, 3)
			for i := range 6 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*h), addr(i, false), l.ID, l.CustomerID, "fp1")
			}
		}, fraud.KeySharing},
		{"control: 5 networks in 24 hours", func(t *testing.T, w *world) {
			l := w.license(t, 3)
			for i := range 5 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*h), addr(i, false), l.ID, l.CustomerID, "fp1")
			}
		}, ""},
		{"control: 6 networks over 48 hours", func(t *testing.T, w *world) {
			l := w.license(t, 3)
			for i := range 6 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*9*h), addr(i, false), l.ID, l.CustomerID, "fp1")
			}
		}, ""},
		{"control: 12 addresses of one network", func(t *testing.T, w *world) {
			l := w.license(t, 3)
			for i := range 12 {
				w.obs.Activation(t0.Add(-time.Duration(i)*time.Minute), addr(i, true), l.ID, l.CustomerID, "fp1", false)
			}
		}, ""},
		{"key sharing: 5 machines on a 2-machine license in a day", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 5 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i))
			}
		}, fraud.KeySharing},
		{"control: 4 machines on a 2-machine license (the slack)", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 4 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i))
			}
		}, ""},
		{"control: 10 machines on an unlimited license", func(t *testing.T, w *world) {
			l := w.license(t, 0)
			for i := range 10 {
				w.obs.CheckIn(t0.Add(-time.Duration(i)*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i))
			}
		}, ""},
		{"replacements: 6 new machines on a 2-machine license in 30 days", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 6 {
				w.obs.Activation(t0.Add(-time.Duration(i)*4*24*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i), true)
			}
		}, fraud.ManyReplacements},
		{"control: 5 new machines in 30 days", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 5 {
				w.obs.Activation(t0.Add(-time.Duration(i)*5*24*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i), true)
			}
		}, ""},
		{"control: 6 new machines over 60 days", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 6 {
				w.obs.Activation(t0.Add(-time.Duration(i)*10*24*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i), true)
			}
		}, ""},
		{"control: 20 re-activations of the same 2 machines", func(t *testing.T, w *world) {
			l := w.license(t, 2)
			for i := range 20 {
				w.obs.Activation(t0.Add(-time.Duration(i)*24*h), addr(0, true), l.ID, l.CustomerID, fmt.Sprintf("fp%d", i%2), false)
			}
		}, ""},
		{"repository credential from 6 networks", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 6 {
				w.obs.Repository(t0.Add(-time.Duration(i)*h), addr6(i, false), l.ID, l.CustomerID)
			}
		}, fraud.RepoCredentialWide},
		{"control: repository from 5 networks", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 5 {
				w.obs.Repository(t0.Add(-time.Duration(i)*h), addr6(i, false), l.ID, l.CustomerID)
			}
		}, ""},
		{"control: repository from 30 addresses of one /48", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 30 {
				w.obs.Repository(t0.Add(-time.Duration(i)*time.Minute), addr6(i, true), l.ID, l.CustomerID)
			}
		}, ""},
		{"download volume: 26 files on a 1-machine license in a day", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 26 {
				w.download(t, l, 0, t0.Add(-time.Duration(i)*time.Minute))
			}
		}, fraud.DownloadVolume},
		{"control: 25 files (20 + 5 per machine)", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 25 {
				w.download(t, l, 0, t0.Add(-time.Duration(i)*time.Minute))
			}
		}, ""},
		{"control: 60 files on a 10-machine license", func(t *testing.T, w *world) {
			l := w.license(t, 10)
			for i := range 60 {
				w.download(t, l, 0, t0.Add(-time.Duration(i)*time.Minute))
			}
		}, ""},
		{"control: 10 whole files and 40 resumed", func(t *testing.T, w *world) {
			l := w.license(t, 1)
			for i := range 50 {
				first := int64(0)
				if i >= 10 {
					first = 4096
				}
				w.download(t, l, first, t0.Add(-time.Duration(i)*time.Minute))
			}
		}, ""},
		{"checkouts: 6 from one network in an hour", func(t *testing.T, w *world) {
			for i := range 6 {
				c := w.customer(t)
				w.obs.Checkout(t0.Add(-time.Duration(i)*5*time.Minute), addr(i, true), c.ID, 0)
			}
		}, fraud.CheckoutBurstNetwork},
		{"control: 5 checkouts from one network", func(t *testing.T, w *world) {
			for i := range 5 {
				c := w.customer(t)
				w.obs.Checkout(t0.Add(-time.Duration(i)*5*time.Minute), addr(i, true), c.ID, 0)
			}
		}, ""},
		{"control: 6 checkouts from one network over 3 hours", func(t *testing.T, w *world) {
			for i := range 6 {
				c := w.customer(t)
				w.obs.Checkout(t0.Add(-time.Duration(i)*35*time.Minute), addr(i, true), c.ID, 0)
			}
		}, ""},
		{"control: 6 checkouts from 6 networks", func(t *testing.T, w *world) {
			for i := range 6 {
				c := w.customer(t)
				w.obs.Checkout(t0.Add(-time.Duration(i)*5*time.Minute), addr(i, false), c.ID, 0)
			}
		}, ""},
		{"checkouts: 4 orders for one address in an hour", func(t *testing.T, w *world) {
			c := w.customer(t)
			for i := range 4 {
				w.order(t, c.ID, "same@example.com", "DE", t0.Add(-time.Duration(i)*10*time.Minute))
			}
		}, fraud.CheckoutBurstEmail},
		{"control: 3 orders for one address", func(t *testing.T, w *world) {
			c := w.customer(t)
			for i := range 3 {
				w.order(t, c.ID, "same@example.com", "DE", t0.Add(-time.Duration(i)*10*time.Minute))
			}
		}, ""},
		{"control: 4 orders for four addresses", func(t *testing.T, w *world) {
			c := w.customer(t)
			for i := range 4 {
				w.order(t, c.ID, fmt.Sprintf("a%d@example.com", i), "DE", t0.Add(-time.Duration(i)*10*time.Minute))
			}
		}, ""},
		{"control: 4 orders for one address over 2 hours", func(t *testing.T, w *world) {
			c := w.customer(t)
			for i := range 4 {
				w.order(t, c.ID, "same@example.com", "DE", t0.Add(-time.Duration(i)*25*time.Minute))
			}
		}, ""},
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := d.ExecContext(context.Background(), `DELETE FROM fraud_observations`); err != nil {
					t.Fatal(err)
				}
				if _, err := d.ExecContext(context.Background(), `DELETE FROM downloads`); err != nil {
					t.Fatal(err)
				}
				if _, err := d.ExecContext(context.Background(), `UPDATE orders SET billing_email = 'old-' || id || '@example.com', created_at = $1`, t0.AddDate(0, -1, 0)); err != nil {
					t.Fatal(err)
				}
				tt.setup(t, w)
				if err := w.obs.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
				var rec recorder
				n, err := detect.Evaluate(context.Background(), d, rec.raise, detect.Thresholds{}, t0)
				if err != nil {
					t.Fatal(err)
				}
				got := rec.kinds()
				if tt.want == "" {
					if n != 0 || len(got) != 0 {
						t.Fatalf("control data raised %v", rec.signals)
					}
					return
				}
				if got[tt.want] == 0 || len(got) != 1 {
					t.Fatalf("raised %v, want %s only", got, tt.want)
				}
				for _, s := range rec.signals {
					if s.Summary == "" || len(s.Facts) == 0 || s.At.IsZero() {
						t.Errorf("signal without summary, facts or time: %+v", s)
					}
				}
				// Again, on the same day: the same sources, so the case
				// store adds nothing.
				again := recorder{seen: rec.seen}
				if _, err := detect.Evaluate(context.Background(), d, again.raise, detect.Thresholds{}, t0.Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				if len(again.signals) != 0 {
					t.Fatalf("a second run raised new sources: %v", again.signals)
				}
			})
		}
	})
}

// TestObserverKeepsRepeatsOut: the same check-in or repository request
// from the same network and machine within an hour is queued once; a new
// network, machine or hour is queued; checkouts always are.
func TestObserverKeepsRepeatsOut(t *testing.T) {
	d := testutil.SQLite(t)
	w := newWorld(t, d)
	l := w.license(t, 2)
	for i := range 10 {
		w.obs.CheckIn(t0.Add(time.Duration(i)*time.Minute), addr(0, false), l.ID, l.CustomerID, "fp")
		w.obs.Repository(t0.Add(time.Duration(i)*time.Minute), addr(0, false), l.ID, l.CustomerID)
		w.obs.Checkout(t0.Add(time.Duration(i)*time.Minute), addr(0, false), l.CustomerID, 0)
	}
	w.obs.CheckIn(t0, addr(1, false), l.ID, l.CustomerID, "fp")                     // another network
	w.obs.CheckIn(t0, addr(0, false), l.ID, l.CustomerID, "fp2")                    // another machine
	w.obs.CheckIn(t0.Add(61*time.Minute), addr(0, false), l.ID, l.CustomerID, "fp") // an hour on
	if err := w.obs.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	count := func(kind string) int {
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM fraud_observations WHERE kind = $1`, kind).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := count("check_in"); got != 4 {
		t.Errorf("%d check-ins queued, want 4", got)
	}
	if got := count("repository"); got != 1 {
		t.Errorf("%d repository requests queued, want 1", got)
	}
	if got := count("checkout"); got != 10 {
		t.Errorf("%d checkouts queued, want 10", got)
	}
}
