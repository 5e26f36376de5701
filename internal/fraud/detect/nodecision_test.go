package detect_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

const whsec = "whsec_test_fraud_signals"

// state is every row of the tables whose state a decision would change:
// customers, orders, licenses (with their keys: the package repositories'
// credential), machines, and the holds CORE's decisions write.
func state(t *testing.T, d *db.DB, skipOrderColumns ...string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"customers", "orders", "licenses", "license_machines", "refunds"} {
		rows, err := d.QueryContext(context.Background(), `SELECT * FROM `+table+` ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, c := range cols {
				if table == "orders" && contains(skipOrderColumns, c) {
					continue
				}
				fmt.Fprintf(&b, "%s=%v;", c, vals[i])
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func same(t *testing.T, what string, before, after map[string][]string) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		for table := range after {
			if !reflect.DeepEqual(before[table], after[table]) {
				t.Errorf("%s changed %s on its own:\nbefore %v\nafter  %v", what, table, before[table], after[table])
			}
		}
	}
}

// TestNoSignalDecidesAlone walks every signal kind through its real path
// (Stripe events signed as Stripe signs them, through payments.Stripe and orders.Shop.Apply, the
// checkout's checks in the order's transaction, real activations, check-ins
// and downloads through the observer and the periodic evaluation) into the
// real case store (fraud.Raise), and shows that no customer's, order's,
// license's or credential's state changed on its own: the only changes are
// the processor's bookkeeping of a dispute on the order (its status, and a
// lost dispute's refund record), which happen with or without the fraud
// review. Forged and duplicate events change nothing and raise nothing.
func TestNoSignalDecidesAlone(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		w := newWorld(t, d)
		stripe, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: whsec,
			// Webhooks are verified by stripe-go's own webhook package;
			// nothing here calls the API (as in internal/payments' tests).
			Backend: "http://127.0.0.1:1"})
		if err != nil {
			t.Fatal(err)
		}
		shop := orders.NewShop(d, "Shop", "", "https://shop.example", []payments.Provider{stripe}, "", licensing.ForOrders(w.keys))
		shop.Signals = detect.Processor{Raise: detect.Cases}
		deliver := func(event []byte, secret string) (orders.Outcome, error) {
			t.Helper()
			payload, header := testutil.SignedStripeEvent(t, secret, event)
			ev, err := stripe.ParseWebhook(payload, header)
			if err != nil {
				return "", err
			}
			return shop.Apply(ctx, ev, t0)
		}
		raised := func() int {
			var n int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM fraud_signals`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		// A paid order with its license.
		c := w.customer(t)
		o := w.order(t, c.ID, c.Email, "DE", t0)
		sess := testutil.StripeSession{PaymentIntent: "pi_fraud1", OrderNumber: o.Number, AmountTotal: o.TotalMinor, Currency: o.Currency}
		if out, err := deliver(testutil.StripeCheckoutCompleted("evt_paid", sess), whsec); err != nil || out != orders.Applied {
			t.Fatalf("paying: %v %v", out, err)
		}

		processor := []struct {
			name  string
			event []byte
			kind  fraud.Kind
			// orderMoves: the event is a dispute's bookkeeping, which moves
			// the order's status whether or not a fraud review is there.
			orderMoves bool
		}{
			{"risk outcome", testutil.StripeChargeSucceeded("evt_risk", "pi_fraud1", o.Number, o.TotalMinor, "eur",
				testutil.StripeRisk{Level: "highest", Score: 91, Rule: "rule_block_if_high", Outcome: "manual_review"}), fraud.ProcessorRisk, false},
			{"review opened", testutil.StripeReview("evt_review", "review.opened", "pi_fraud1", "rule"), fraud.ProcessorReview, false},
			{"early fraud warning", testutil.StripeEarlyFraudWarning("evt_efw", "radar.early_fraud_warning.created", "pi_fraud1", "made_with_stolen_card", true), fraud.EarlyWarning, false},
			{"dispute opened", testutil.StripeDispute("evt_dispute", "charge.dispute.created", "pi_fraud1", o.TotalMinor, "eur", "needs_response"), fraud.Dispute, true},
			{"dispute lost", testutil.StripeDispute("evt_lost", "charge.dispute.closed", "pi_fraud1", o.TotalMinor, "eur", "lost"), fraud.Dispute, true},
		}
		for _, p := range processor {
			var skip []string
			if p.orderMoves {
				skip = []string{"status", "updated_at"}
			}
			before, n := state(t, d, skip...), raised()
			if p.orderMoves {
				before["refunds"] = nil // a lost dispute's refund record is bookkeeping
			}
			out, err := deliver(p.event, whsec)
			if err != nil || out != orders.Applied {
				t.Fatalf("%s: %v %v", p.name, out, err)
			}
			after := state(t, d, skip...)
			if p.orderMoves {
				after["refunds"] = nil
			}
			same(t, p.name, before, after)
			if raised() != n+1 {
				t.Fatalf("%s raised %d signals, want 1", p.name, raised()-n)
			}
			// The same delivery again: a clear result, nothing twice.
			before = state(t, d)
			if out, err := deliver(p.event, whsec); err != nil || out != orders.Duplicate {
				t.Fatalf("%s again: %v %v, want duplicate", p.name, out, err)
			}
			same(t, p.name+" again", before, state(t, d))
			if raised() != n+1 {
				t.Fatalf("%s again raised another signal", p.name)
			}
		}
		var st string
		if err := d.QueryRowContext(ctx, `SELECT status FROM licenses WHERE order_id = $1`, o.ID).Scan(&st); err != nil || st != "active" {
			t.Fatalf("the license after a lost dispute: %q %v, want active until a person decides", st, err)
		}

		// A forged event (another secret) is refused before anything.
		before, n := state(t, d), raised()
		if _, err := deliver(testutil.StripeDispute("evt_forged", "charge.dispute.created", "pi_fraud1", o.TotalMinor, "eur", "needs_response"), "whsec_not_ours"); !errors.Is(err, payments.ErrBadSignature) {
			t.Fatalf("forged event: %v", err)
		}
		same(t, "a forged event", before, state(t, d))
		if raised() != n {
			t.Fatal("a forged event raised a signal")
		}

		// The checkout's checks, in the order's transaction.
		list, err := detect.NewDisposable("", nil)
		if err != nil {
			t.Fatal(err)
		}
		checks := &detect.Checks{Raise: detect.Cases, Disposable: list, Geo: countries{ipUS: "US"}, Observer: w.obs}
		buyer := w.customer(t)
		placed := w.order(t, buyer.ID, "someone@mailinator.com", "FR", t0)
		before, n = state(t, d), raised()
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return checks.Order(ctx, tx, d.Dialect, placed, ipUS, t0) }); err != nil {
			t.Fatal(err)
		}
		same(t, "the checkout's checks", before, state(t, d))
		if raised() != n+2 {
			t.Fatalf("the checkout raised %d signals, want 2 (disposable, country)", raised()-n)
		}

		// The patterns: real activations, check-ins, downloads,
		// repository requests and checkouts, observed as the areas do.
		l := w.license(t, 2)
		for i := range 6 {
			fp := fmt.Sprintf("machine-%d-fingerprint", i)
			res, err := licensing.Activate(ctx, d, w.keys, l.Key, licensing.MachineInfo{Fingerprint: fp, Hostname: "h"}, t0.Add(-2*time.Hour))
			if err != nil || res.Machine == nil {
				t.Fatalf("activate %d: %+v %v", i, res, err)
			}
			w.obs.Activation(t0.Add(-2*time.Hour), addr(i, false), l.ID, l.CustomerID, res.Machine.Fingerprint, true)
			ci, err := licensing.CheckIn(ctx, d, w.keys, l.Key, fp, "1.0.0", t0.Add(-time.Hour))
			if err != nil || ci.Machine == nil {
				t.Fatalf("check in %d: %+v %v", i, ci, err)
			}
			w.obs.CheckIn(t0.Add(-time.Hour), addr(i, false), l.ID, l.CustomerID, ci.Machine.Fingerprint)
			if _, err := licensing.Deactivate(ctx, d, w.keys, l.Key, fp, t0.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			w.obs.Repository(t0.Add(-time.Hour), addr6(i, false), l.ID, l.CustomerID)
		}
		for i := range 31 { // a 2-machine license explains 20 + 2 x 5
			w.download(t, l, 0, t0.Add(-fmtMinutes(i)))
		}
		for i := range 6 {
			b := w.customer(t)
			ord := w.order(t, b.ID, "burst@example.com", "DE", t0.Add(-fmtMinutes(i)))
			if err := d.Tx(ctx, func(tx *sql.Tx) error {
				return (&detect.Checks{Observer: w.obs}).Order(ctx, tx, d.Dialect, ord, addr(i, true), t0.Add(-fmtMinutes(i)))
			}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.obs.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		before = state(t, d)
		if _, err := detect.Evaluate(ctx, d, detect.Cases, detect.Thresholds{}, t0); err != nil {
			t.Fatal(err)
		}
		same(t, "the periodic evaluation", before, state(t, d))

		kinds := map[string]bool{}
		rows, err := d.QueryContext(ctx, `SELECT DISTINCT kind FROM fraud_signals`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			kinds[k] = true
		}
		rows.Close()
		for _, k := range fraud.Kinds {
			if !kinds[string(k)] {
				t.Errorf("no %s signal reached the case store through its real path", k)
			}
		}
	})
}

func fmtMinutes(i int) time.Duration { return time.Duration(i) * time.Minute }
