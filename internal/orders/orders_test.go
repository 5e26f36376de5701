package orders_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

var buyer = orders.Billing{Email: "buyer@example.com", Name: "Bea Buyer", Address: "1 Main St\nTown", Country: "DE"}

// catalogWithPrice creates a product and returns the id of its EUR 490.00
// one-time price.
func catalogWithPrice(t *testing.T, d *db.DB) int64 {
	t.Helper()
	ctx := context.Background()
	var priceID int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "milter", Name: "Milter", Editions: []catalog.NewEdition{
			{Slug: "pro", Name: "Pro", Prices: []catalog.Price{{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime}}},
		}}, now)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM prices`).Scan(&priceID)
	})
	if err != nil {
		t.Fatal(err)
	}
	return priceID
}

func place(t *testing.T, d *db.DB, priceID int64, provider, session string) orders.Order {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		if o, err = orders.Create(ctx, tx, orders.NewOrder{PriceID: priceID, Provider: provider, Billing: buyer}, now); err != nil {
			return err
		}
		if session != "" {
			return orders.SetSession(ctx, tx, o.ID, session, now)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func completed(id, session string) payments.Event {
	return payments.Event{ID: id, Provider: "stripe", Type: payments.CheckoutCompleted, SessionRef: session,
		PaymentRef: "pi_" + session, CustomerRef: "cus_1", AmountMinor: 49000, Currency: "eur"}
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCheckoutCompletedPaysOnceAndMailsOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "Milterworks", BaseURL: "https://shop.example.com"}
		o := place(t, d, catalogWithPrice(t, d), "stripe", "cs_1")
		if o.Status != orders.Pending || o.Total() != "€490.00" || o.Lines[0].Description != "Milter Pro" {
			t.Fatalf("new order = %+v", o)
		}
		out, err := shop.Apply(ctx, completed("evt_1", "cs_1"), now)
		if err != nil || out != orders.Applied {
			t.Fatalf("Apply = %v, %v", out, err)
		}
		// The same event again, and the same session in a second event.
		if out, _ := shop.Apply(ctx, completed("evt_1", "cs_1"), now); out != orders.Duplicate {
			t.Fatalf("redelivery = %v, want duplicate", out)
		}
		if out, _ := shop.Apply(ctx, completed("evt_2", "cs_1"), now); out != orders.Ignored {
			t.Fatalf("second completion of one session = %v, want ignored", out)
		}
		got, err := orders.ByNumber(ctx, d, o.Number)
		if err != nil || got.Status != orders.Paid || got.ProcessorPayment != "pi_cs_1" || got.PaidAt.IsZero() {
			t.Fatalf("order after payment = %+v, %v", got, err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 1 {
			t.Fatalf("%d confirmation emails queued, want 1", n)
		}
		invs, _ := orders.Invoices(ctx, d, o.ID)
		if len(invs) != 1 || invs[0].Number != "2026-000001" {
			t.Fatalf("invoices = %+v", invs)
		}
		evs, _ := orders.Events(ctx, d, o.ID)
		if len(evs) != 2 || evs[1].To != orders.Paid || evs[1].Cause != "stripe:evt_1" {
			t.Fatalf("history = %+v", evs)
		}
	})
}

func TestConcurrentDuplicateDeliveries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		price := catalogWithPrice(t, d)
		const n = 8
		for i := range n {
			place(t, d, price, "stripe", fmt.Sprintf("cs_%d", i))
		}
		var wg sync.WaitGroup
		errs := make(chan error, n*4)
		for i := range n * 4 { // every event four times, at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := fmt.Sprintf("cs_%d", i%n)
				_, err := shop.Apply(ctx, completed("evt_"+s, s), now)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if p := count(t, d, `SELECT count(*) FROM orders WHERE status = 'paid'`); p != n {
			t.Fatalf("%d orders paid, want %d", p, n)
		}
		if m := count(t, d, `SELECT count(*) FROM outbox`); m != n {
			t.Fatalf("%d emails, want %d", m, n)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

func TestOutOfOrderAndUnusualEvents(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		price := catalogWithPrice(t, d)

		// A refund that overtakes the payment it refunds waits for it.
		o := place(t, d, price, "stripe", "cs_a")
		refund := payments.Event{ID: "evt_r", Provider: "stripe", Type: payments.PaymentRefunded, OrderNumber: o.Number}
		if out, _ := shop.Apply(ctx, refund, now); out != orders.Deferred {
			t.Fatalf("early refund = %v, want deferred", out)
		}
		if out, _ := shop.Apply(ctx, completed("evt_c", "cs_a"), now); out != orders.Applied {
			t.Fatalf("completion = %v", out)
		}
		got, _ := orders.ByNumber(ctx, d, o.Number)
		if got.Status != orders.Refunded {
			t.Fatalf("order after late payment of a refunded checkout = %s, want refunded", got.Status)
		}
		if invs, _ := orders.Invoices(ctx, d, o.ID); len(invs) != 2 || invs[1].Kind != orders.KindCreditNote || invs[1].TotalMinor != -49000 {
			t.Fatalf("invoices after refund = %+v", invs)
		}

		// A different amount than the catalog's is left for a person.
		m := place(t, d, price, "stripe", "cs_m")
		bad := completed("evt_m", "cs_m")
		bad.AmountMinor = 100
		if out, _ := shop.Apply(ctx, bad, now); out != orders.Mismatch {
			t.Fatalf("tampered amount = %v, want mismatch", out)
		}
		if got, _ := orders.ByNumber(ctx, d, m.Number); got.Status != orders.Pending {
			t.Fatalf("order paid with the wrong amount is %s", got.Status)
		}

		// Expiry cancels; an unknown session changes nothing.
		e := place(t, d, price, "stripe", "cs_e")
		if out, _ := shop.Apply(ctx, payments.Event{ID: "evt_e", Provider: "stripe", Type: payments.CheckoutExpired, SessionRef: "cs_e"}, now); out != orders.Applied {
			t.Fatalf("expiry = %v", out)
		}
		if got, _ := orders.ByNumber(ctx, d, e.Number); got.Status != orders.Cancelled {
			t.Fatalf("expired checkout left order %s", got.Status)
		}
		if out, _ := shop.Apply(ctx, completed("evt_x", "cs_nope"), now); out != orders.UnknownOrder {
			t.Fatalf("unknown session = %v", out)
		}

		// Disputes: opened, then won.
		dp := place(t, d, price, "stripe", "cs_d")
		shop.Apply(ctx, completed("evt_d1", "cs_d"), now)
		for i, ev := range []payments.EventType{payments.DisputeOpened, payments.DisputeWon} {
			if out, _ := shop.Apply(ctx, payments.Event{ID: fmt.Sprint("evt_dd", i), Provider: "stripe", Type: ev, PaymentRef: "pi_cs_d"}, now); out != orders.Applied {
				t.Fatalf("%s = %v", ev, out)
			}
		}
		if got, _ := orders.ByNumber(ctx, d, dp.Number); got.Status != orders.Paid {
			t.Fatalf("after a won dispute the order is %s", got.Status)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE customer_id IS NULL AND template = 'order_confirmation'`); n != 2 {
			t.Fatalf("%d confirmations, want 2 (a won dispute sends none)", n)
		}
	})
}

func TestOrdersRefuseUnavailablePricesAndBadBilling(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := catalogWithPrice(t, d)
		try := func(n orders.NewOrder) error {
			return d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := orders.Create(ctx, tx, n, now)
				return err
			})
		}
		if err := try(orders.NewOrder{PriceID: 999, Provider: "manual", Billing: buyer}); !errors.Is(err, orders.ErrUnavailable) {
			t.Fatalf("unknown price: %v", err)
		}
		if err := try(orders.NewOrder{PriceID: price, Provider: "manual", Billing: orders.Billing{Email: "x@example.com"}}); !errors.Is(err, orders.ErrBadBilling) {
			t.Fatalf("missing billing name: %v", err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE editions SET active = FALSE`); err != nil {
			t.Fatal(err)
		}
		if err := try(orders.NewOrder{PriceID: price, Provider: "manual", Billing: buyer}); !errors.Is(err, orders.ErrUnavailable) {
			t.Fatalf("deactivated edition: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders stored from refused checkouts", n)
		}
	})
}

func TestManualOrderInvoiceMarkPaidAndCancel(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "Milterworks", BaseURL: "https://shop.example.com", PaymentInstructions: "IBAN DE00 1234",
			Providers: []payments.Provider{payments.Manual{}}}
		price := catalogWithPrice(t, d)
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			if o, err = orders.Create(ctx, tx, orders.NewOrder{PriceID: price, Provider: "manual", Billing: buyer}, now); err != nil {
				return err
			}
			_, err = shop.PlaceManual(ctx, tx, o, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'manual_invoice'`).Scan(&text); err != nil || !strings.Contains(text, "IBAN DE00 1234") || !strings.Contains(text, "2026-000001") {
			t.Fatalf("manual invoice mail = %q, %v", text, err)
		}
		paid, err := shop.MarkPaid(ctx, o.ID, "staff:1", now.Add(time.Hour))
		if err != nil || paid.Status != orders.Paid {
			t.Fatalf("MarkPaid = %+v, %v", paid, err)
		}
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:1", now); !errors.Is(err, orders.ErrInvalidState) {
			t.Fatalf("second MarkPaid: %v", err)
		}
		if invs, _ := orders.Invoices(ctx, d, o.ID); len(invs) != 1 {
			t.Fatalf("paying a manual order issued another invoice: %+v", invs)
		}

		// A cancelled manual order keeps its invoice and gets a credit note.
		c := place(t, d, price, "manual", "")
		d.Tx(ctx, func(tx *sql.Tx) error { _, err := shop.PlaceManual(ctx, tx, c, now); return err })
		if err := shop.Cancel(ctx, c.ID, "staff:1", "customer withdrew", now); err != nil {
			t.Fatal(err)
		}
		if invs, _ := orders.Invoices(ctx, d, c.ID); len(invs) != 2 || invs[1].Kind != orders.KindCreditNote {
			t.Fatalf("cancelled manual order documents = %+v", invs)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInvoiceNumbersHaveNoGaps issues invoices from many goroutines while
// some transactions roll back: the numbers used stay 1..n.
func TestInvoiceNumbersHaveNoGaps(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		price := catalogWithPrice(t, d)
		var wg sync.WaitGroup
		for i := range 24 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				boom := errors.New("rolled back")
				err := d.Tx(ctx, func(tx *sql.Tx) error {
					o, err := orders.Create(ctx, tx, orders.NewOrder{PriceID: price, Provider: "manual", Billing: buyer}, now)
					if err != nil {
						return err
					}
					if _, err := shop.PlaceManual(ctx, tx, o, now); err != nil {
						return err
					}
					if i%3 == 0 {
						return boom
					}
					return nil
				})
				if err != nil && !errors.Is(err, boom) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if n := count(t, d, `SELECT count(*) FROM invoices`); n != 16 {
			t.Fatalf("%d invoices, want 16", n)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

// TestEventFoundByOrderNumberOnlyForItsProvider: when the processor's
// session is not the one stored, its echo of our order number finds the
// order, but only an order placed with that processor.
func TestEventFoundByOrderNumberOnlyForItsProvider(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		price := catalogWithPrice(t, d)
		st := place(t, d, price, "stripe", "cs_stored")
		ev := completed("evt_n1", "cs_other")
		ev.OrderNumber = st.Number
		if out, _ := shop.Apply(ctx, ev, now); out != orders.Applied {
			t.Fatalf("event by order number = %v, want applied", out)
		}
		man := place(t, d, price, "manual", "")
		ev = completed("evt_n2", "cs_other2")
		ev.OrderNumber = man.Number
		if out, _ := shop.Apply(ctx, ev, now); out != orders.UnknownOrder {
			t.Fatalf("a Stripe event naming a manual order = %v, want unknown order", out)
		}
	})
}

// TestTaxAddedByTheProcessorIsRecorded: a payment larger than the catalog
// price in the same currency is tax the processor charged; it is recorded
// and the order is paid. A smaller one stays a mismatch.
func TestTaxAddedByTheProcessorIsRecorded(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		o := place(t, d, catalogWithPrice(t, d), "stripe", "cs_tax")
		ev := completed("evt_tax", "cs_tax")
		ev.AmountMinor = 58310 // 49000 + 19 % VAT
		if out, _ := shop.Apply(ctx, ev, now); out != orders.Applied {
			t.Fatalf("payment with tax = %v", out)
		}
		got, _ := orders.ByNumber(ctx, d, o.Number)
		if got.Status != orders.Paid || got.TaxMinor != 9310 || got.TotalMinor != 58310 || got.TaxText() != "€93.10" {
			t.Fatalf("order with tax = %+v", got)
		}
		if invs, _ := orders.Invoices(ctx, d, o.ID); invs[0].TotalMinor != 58310 {
			t.Fatalf("invoice total %d, want the amount charged", invs[0].TotalMinor)
		}
	})
}

// TestRestrictionStopsTheConfirmation: a customer who restricted
// processing gets their order fulfilled, but no confirmation email; the
// invoice email the law requires still goes.
func TestRestrictionStopsTheConfirmation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}}}
		price := catalogWithPrice(t, d)
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			if err := privacy.SetChoice(ctx, tx, privacy.Declared, 42, privacy.ChoiceRestriction, "", true, "", now); err != nil {
				return err
			}
			if o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: 42, PriceID: price, Provider: "manual", Billing: buyer}, now); err != nil {
				return err
			}
			_, err = shop.PlaceManual(ctx, tx, o, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:1", now); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 0 {
			t.Fatalf("%d confirmations sent to a customer who restricted processing", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'manual_invoice'`); n != 1 {
			t.Fatalf("the legally required invoice was not sent (%d)", n)
		}
	})
}

// TestInvoiceCorrectionsNeverRewrite: a correction is a document of its
// own in the same gapless sequence; the invoice keeps what it said.
func TestInvoiceCorrectionsNeverRewrite(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		o := place(t, d, catalogWithPrice(t, d), "stripe", "cs_c")
		shop.Apply(ctx, completed("evt_c", "cs_c"), now)
		fixed := orders.Billing{Name: "Bea Buyer", Company: "Buyer GmbH", Address: "5 New St\nTown", Country: "de", VATID: "DE123456789"}
		try := func(number, reason string, b orders.Billing) (orders.Correction, error) {
			var c orders.Correction
			err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
				c, err = orders.CorrectInvoice(ctx, tx, number, b, reason, now.Add(time.Hour))
				return err
			})
			return c, err
		}
		if _, err := try("2026-000001", "  ", fixed); !errors.Is(err, orders.ErrNoReason) {
			t.Fatalf("correction without a reason: %v", err)
		}
		if _, err := try("2026-000001", "x", orders.Billing{Name: "x"}); !errors.Is(err, orders.ErrBadBilling) {
			t.Fatalf("correction without an address: %v", err)
		}
		if _, err := try("2099-000001", "x", fixed); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("correction of an unknown invoice: %v", err)
		}
		c, err := try("2026-000001", "company name added", fixed)
		if err != nil || c.Number != "2026-000002" || c.InvoiceNumber != "2026-000001" || c.Billing.Country != "DE" {
			t.Fatalf("correction = %+v, %v", c, err)
		}
		got, _ := orders.ByNumber(ctx, d, o.Number)
		if got.Billing.Company != "" || got.Billing.Address != buyer.Address {
			t.Fatalf("the order's billing (what the invoice shows) was rewritten: %+v", got.Billing)
		}
		list, _ := orders.Corrections(ctx, d, o.ID)
		back, orderID, err := orders.CorrectionByNumber(ctx, d, c.Number)
		if len(list) != 1 || err != nil || orderID != o.ID || back.Reason != "company name added" {
			t.Fatalf("corrections = %+v; by number = %+v, %d, %v", list, back, orderID, err)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}
