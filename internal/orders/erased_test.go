package orders_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

const webhookSecret = "whsec_test_orders"

// newCustomer stores a customer account and returns its id.
func newCustomer(t *testing.T, d *db.DB, email string) int64 {
	t.Helper()
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		return tx.QueryRowContext(context.Background(), `INSERT INTO customers (email, name, created_at, updated_at) VALUES ($1, 'Bea Buyer', $2, $2) RETURNING id`,
			email, now).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// placeFor places an order of the customer's with provider.
func placeFor(t *testing.T, d *db.DB, shop orders.Shop, customerID, priceID int64, provider, session string) orders.Order {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		if o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: customerID, PriceID: priceID, Provider: provider, Billing: buyer}, now); err != nil {
			return err
		}
		if provider == "manual" {
			_, err = shop.PlaceManual(ctx, tx, o, now)
			return err
		}
		return orders.SetSession(ctx, tx, o.ID, session, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func erase(t *testing.T, d *db.DB, customerID int64) {
	t.Helper()
	ref := privacy.SubjectRef{Kind: privacy.Customer, ID: customerID, Email: buyer.Email}
	if _, err := privacy.Erase(context.Background(), d, privacy.Declared, privacy.EraseRequest{Subject: ref}, nil, now); err != nil {
		t.Fatal(err)
	}
}

// signedStripeEvent turns event JSON into a payments.Event the way the
// webhook handler does: signed as Stripe signs, then verified.
func signedStripeEvent(t *testing.T, eventJSON []byte) payments.Event {
	t.Helper()
	st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: webhookSecret, Backend: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	body, header := testutil.SignedStripeEvent(t, webhookSecret, eventJSON)
	ev, err := st.ParseWebhook(body, header)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestPaymentAfterErasureIsRecorded: a customer erased their account while
// an order was pending; the payment that arrives afterwards is applied and
// invoiced, and the confirmation that has no address to go to is skipped,
// with the skip in the order's history. Stripe's webhook and finance's
// mark-paid alike.
func TestPaymentAfterErasureIsRecorded(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}}}
		price := catalogWithPrice(t, d)
		check := func(o orders.Order, wantInvoices int) {
			t.Helper()
			got, err := orders.ByID(ctx, d, o.ID)
			if err != nil || got.Status != orders.Paid || got.Billing.Email != "" {
				t.Fatalf("order after payment = %+v, %v", got, err)
			}
			if invs, _ := orders.Invoices(ctx, d, o.ID); len(invs) != wantInvoices || invs[len(invs)-1].Kind != orders.KindInvoice {
				t.Fatalf("invoices = %+v", invs)
			}
			evs, _ := orders.Events(ctx, d, o.ID)
			last := evs[len(evs)-1]
			if last.From != orders.Paid || last.To != orders.Paid || !strings.Contains(last.Detail, "confirmation not sent") {
				t.Fatalf("the skipped confirmation is not in the history: %+v", evs)
			}
		}

		// Stripe: the customer erases their account with a checkout open,
		// then pays; every redelivery succeeds.
		c := newCustomer(t, d, buyer.Email)
		st := placeFor(t, d, shop, c, price, "stripe", "cs_erased")
		erase(t, d, c)
		ev := signedStripeEvent(t, testutil.StripeCheckoutCompleted("evt_erased", testutil.StripeSession{
			ID: "cs_erased", PaymentIntent: "pi_erased", Customer: "cus_erased", OrderNumber: st.Number, AmountTotal: 49000, Currency: "eur"}))
		if out, err := shop.Apply(ctx, ev, now); err != nil || out != orders.Applied {
			t.Fatalf("payment of an erased customer's order = %v, %v", out, err)
		}
		if out, err := shop.Apply(ctx, ev, now); err != nil || out != orders.Duplicate {
			t.Fatalf("redelivery = %v, %v", out, err)
		}
		check(st, 1)

		// Bank transfer: the invoice was mailed at checkout; finance marks
		// the order paid after the erasure.
		c2 := newCustomer(t, d, buyer.Email)
		man := placeFor(t, d, shop, c2, price, "manual", "")
		erase(t, d, c2)
		if _, err := shop.MarkPaid(ctx, man.ID, "staff:1", now); err != nil {
			t.Fatalf("mark paid after erasure: %v", err)
		}
		check(man, 1)
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 0 {
			t.Fatalf("%d confirmations queued without an address", n)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}
