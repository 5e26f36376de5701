package detect_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestThresholdsInForce: the thresholds an owner saves are the ones the
// signals use, on the next evaluation and the next processor event; a
// settings row out of bounds is an error, never silently the defaults.
func TestThresholdsInForce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		th, err := detect.LoadThresholds(ctx, d)
		if err != nil || th != detect.Defaults {
			t.Fatalf("nothing saved: %+v, %v; want the defaults", th, err)
		}
		w := newWorld(t, d)
		// Four networks in a day: no signal under the default (more than 5).
		l := w.license(t, 3)
		for i := range 4 {
			w.obs.CheckIn(t0.Add(-time.Duration(i)*time.Hour), addr(i, false), l.ID, l.CustomerID, "fp1")
		}
		if err := w.obs.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		evaluate := func(at time.Time) map[fraud.Kind]int {
			t.Helper()
			th, err := detect.LoadThresholds(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			var rec recorder
			if _, err := detect.Evaluate(ctx, d, rec.raise, th, at); err != nil {
				t.Fatal(err)
			}
			return rec.kinds()
		}
		if got := evaluate(t0); len(got) != 0 {
			t.Fatalf("defaults raised %v", got)
		}

		stricter := detect.Defaults
		stricter.KeySharingNetworks, stricter.RiskScore = 3, 40
		save := func(th detect.Thresholds) error {
			return d.Tx(ctx, func(tx *sql.Tx) error { return detect.SaveThresholds(ctx, tx, th, t0) })
		}
		if err := save(stricter); err != nil {
			t.Fatal(err)
		}
		if got := evaluate(t0.Add(time.Minute)); got[fraud.KeySharing] != 1 || len(got) != 1 {
			t.Fatalf("with 3 networks allowed: %v, want key sharing", got)
		}

		// The processor's risk score: 50 is normal under the default 75,
		// a signal under the saved 40.
		risk := func(eventID string) bool {
			t.Helper()
			var rec recorder
			p := detect.Processor{Raise: rec.raise}
			ev := payments.Event{ID: eventID, Provider: "stripe", Type: payments.PaymentRisk, Risk: payments.Risk{Level: "normal", Score: 50, Outcome: "authorized"}}
			var raised bool
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				var err error
				raised, err = p.ProcessorEvent(ctx, tx, d.Dialect, orders.Order{ID: 1, Number: "SK-1"}, ev, t0)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return raised
		}
		if !risk("evt_strict") {
			t.Error("a score of 50 raised nothing under a saved threshold of 40")
		}
		if err := save(detect.Defaults); err != nil {
			t.Fatal(err)
		}
		if risk("evt_default") {
			t.Error("a score of 50 raised a signal under the default 75")
		}

		// Out of bounds: refused on save, and an error on load when a
		// row was edited by hand.
		bad := detect.Defaults
		bad.CheckoutsPerEmail = 1 << 30
		if err := save(bad); err == nil {
			t.Error("a figure out of bounds was saved")
		}
		for _, raw := range []string{`{"checkouts_per_email": 0}`, `{"risk_score": 500}`, `not json`, `{"repo_window": -1}`} {
			if _, err := d.ExecContext(ctx, `UPDATE settings SET value = $1 WHERE key = 'fraud.thresholds'`, raw); err != nil {
				t.Fatal(err)
			}
			if _, err := detect.LoadThresholds(ctx, d); err == nil {
				t.Errorf("stored %s loaded without an error", raw)
			}
		}
	})
}

// TestParseThresholds: a form is all or nothing, and its refusal names
// the field and its bounds.
func TestParseThresholds(t *testing.T) {
	form := map[string]string{}
	for _, f := range detect.Defaults.Fields() {
		form[f.Key] = strconv.FormatInt(f.Value, 10)
	}
	th, err := detect.ParseThresholds(func(k string) string { return form[k] })
	if err != nil || th != detect.Defaults {
		t.Fatalf("the defaults as a form: %+v, %v", th, err)
	}
	form["key_sharing_window"] = "48"
	th, err = detect.ParseThresholds(func(k string) string { return form[k] })
	if err != nil || th.KeySharingWindow != 48*time.Hour {
		t.Fatalf("48 hours: %v, %v", th.KeySharingWindow, err)
	}
	if got := detect.Changes(detect.Defaults, th); len(got) != 1 || got[0] != "Key sharing window 24 → 48 hours" {
		t.Errorf("changes = %q", got)
	}
	form["key_sharing_window"] = "0"
	if _, err := detect.ParseThresholds(func(k string) string { return form[k] }); err == nil || !strings.Contains(err.Error(), "from 1 to 2160 hours") {
		t.Errorf("0 hours: %v", err)
	}
}
