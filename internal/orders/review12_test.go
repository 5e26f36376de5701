package orders_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestRefundsRacing: eight members of finance refunding the same line at
// once, and eight refunding everything, return the money once: one refund
// each, one credit note each, the sequence gapless, the others refused.
func TestRefundsRacing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}}}
		o := placeThreeLines(t, d, shop, catalogWithPrice(t, d), "manual", "")
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:7", now); err != nil {
			t.Fatal(err)
		}
		race := func(lines []orders.LineRefund) (ok int) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: lines, Reason: "race", By: audit.Staff(int64(i + 1))}, now)
					mu.Lock()
					defer mu.Unlock()
					var re *refuse.Error
					switch {
					case err == nil:
						ok++
					case errors.As(err, &re):
					default:
						t.Errorf("racing refund: %v", err)
					}
				}()
			}
			wg.Wait()
			return ok
		}
		if n := race([]orders.LineRefund{{LineID: o.Lines[0].ID}}); n != 1 {
			t.Fatalf("%d refunds of line A succeeded, want 1", n)
		}
		if n := race(nil); n != 1 {
			t.Fatalf("%d refunds of everything left succeeded, want 1", n)
		}
		unchanged(t, d, o, 2, 3, orders.Refunded)
		if n := count(t, d, `SELECT -sum(total_minor) FROM invoices WHERE order_id = $1 AND kind = 'credit_note'`, o.ID); n != threeLinesTotal {
			t.Fatalf("the credit notes return %d, the order cost %d", n, threeLinesTotal)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStripeEventsAroundOurRefund: Stripe's charge.refunded for our own
// refund arriving while Stripe is still being asked (before our record is
// complete) completes our reservation and records nothing more, and again
// afterwards changes nothing; a dispute lost
// after a partial refund takes back what is left, so that the credit
// notes return the order's total, net and tax exactly.
func TestStripeEventsAroundOurRefund(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := &reentrant{}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{p}}
		o := placeThreeLines(t, d, shop, catalogWithPrice(t, d), "stripe", "cs_ev")
		paid := completed("evt_ev", "cs_ev")
		paid.AmountMinor = threeLinesTotal
		if out, err := shop.Apply(ctx, paid, now); err != nil || out != orders.Applied {
			t.Fatalf("payment: %v, %v", out, err)
		}
		var during orders.Outcome
		p.during = func() error {
			var err error
			during, err = shop.Apply(ctx, signedStripeEvent(t, testutil.StripeChargeRefunded("evt_ev_early", "pi_cs_ev", threeLinesTotal, 1190, "eur")), now)
			return err
		}
		if _, err := shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: o.Lines[1].ID, Quantity: 1}},
			Reason: "one seat", By: audit.Staff(1)}, now); err != nil || p.seen != nil {
			t.Fatal(err, p.seen)
		}
		if during != orders.Applied {
			t.Fatalf("the event overtaking our refund did not complete the reservation: %v", during)
		}
		if out, err := shop.Apply(ctx, signedStripeEvent(t, testutil.StripeChargeRefunded("evt_ev_late", "pi_cs_ev", threeLinesTotal, 1190, "eur")), now); err != nil || out != orders.Ignored {
			t.Fatalf("the event after our refund: %v, %v", out, err)
		}
		unchanged(t, d, o, 1, 2, orders.Paid)

		for _, ev := range [][]byte{
			testutil.StripeDispute("evt_ev_dp", "charge.dispute.created", "pi_cs_ev", threeLinesTotal-1190, "eur", "needs_response"),
			testutil.StripeDispute("evt_ev_dl", "charge.dispute.closed", "pi_cs_ev", threeLinesTotal-1190, "eur", "lost"),
		} {
			if out, err := shop.Apply(ctx, signedStripeEvent(t, ev), now); err != nil || out != orders.Applied {
				t.Fatalf("dispute event: %v, %v", out, err)
			}
		}
		unchanged(t, d, o, 2, 3, orders.Refunded)
		rs, err := orders.RefundsOf(ctx, d, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var net, tax, gross int64
		for _, r := range rs {
			net, tax, gross = net+r.NetMinor, tax+r.TaxMinor, gross+r.GrossMinor
		}
		if net != 18000 || tax != 3420 || gross != threeLinesTotal {
			t.Fatalf("the refunds return %d + %d = %d, the order was 18000 + 3420", net, tax, gross)
		}
	})
}
