package licensing_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// subscribed places an order for the yearly price with its own customer,
// ready to be paid by a subscription checkout: the event that pays it.
func (f *fixture) subscribed(t *testing.T, n int) (orders.Order, payments.Event) {
	t.Helper()
	ctx := context.Background()
	c := f.newCustomer(t, fmt.Sprintf("subscriber%d@example.com", n))
	var o orders.Order
	err := f.d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		o, err = orders.Create(ctx, tx, orders.NewOrder{CustomerID: c.ID, PriceID: f.proYearly, Provider: "stripe",
			Billing: orders.Billing{Email: c.Email, Name: "Subscriber", Address: "1 Road", Country: "DE"}}, t0)
		if err != nil {
			return err
		}
		return orders.SetSession(ctx, tx, o.ID, fmt.Sprintf("cs_sub_%d", n), t0)
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, payments.Event{ID: fmt.Sprintf("evt_checkout_%d", n), Provider: "stripe", Type: payments.CheckoutCompleted, Created: t0,
		SessionRef: fmt.Sprintf("cs_sub_%d", n), SubscriptionRef: fmt.Sprintf("sub_%d", n), CustomerRef: fmt.Sprintf("cus_%d", n),
		OrderNumber: o.Number, AmountMinor: 19000, Currency: "EUR"}
}

// renewal is the invoice.paid (or payment_failed) of the subscription's
// first billing cycle.
func renewal(typ payments.EventType, id string, n int, orderNumber string, created time.Time) payments.Event {
	return payments.Event{ID: id, Provider: "stripe", Type: typ, Created: created, SubscriptionRef: fmt.Sprintf("sub_%d", n),
		InvoiceRef: fmt.Sprintf("in_cycle_%d", n), PaymentRef: fmt.Sprintf("pi_cycle_%d", n), CustomerRef: fmt.Sprintf("cus_%d", n),
		OrderNumber: orderNumber, AmountMinor: 19000, Currency: "EUR",
		PeriodStart: t0.AddDate(1, 0, 0), PeriodEnd: t0.AddDate(2, 0, 0)}
}

func apply(t *testing.T, shop orders.Shop, ev payments.Event, at time.Time, want orders.Outcome) {
	t.Helper()
	out, err := shop.Apply(context.Background(), ev, at)
	if err != nil || out != want {
		t.Fatalf("%s %s: %s, %v; want %s", ev.Type, ev.ID, out, err, want)
	}
}

func countOf(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func subscriptionOf(t *testing.T, d *db.DB, orderID int64) orders.Subscription {
	t.Helper()
	s, ok, err := orders.SubscriptionForOrder(context.Background(), d, orderID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("order %d has no subscription", orderID)
	}
	return s
}

// TestSubscriptionRenewalPaid: a yearly price paid by subscription
// records the subscription with the order; the cycle's paid invoice
// becomes a paid renewal order of its own, with our invoice and a
// confirmation that says "renewed", and extends the license (the same
// key) to the end of the period paid for. The same invoice delivered again
// under another event, or its failure arriving late, changes nothing; a
// refund of the renewal suspends the license.
func TestSubscriptionRenewalPaid(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Term, TermMonths: 12, UpdatesMonths: 12, GraceDays: 14, MaxMachines: 2})
		shop := f.shop()
		o, paid := f.subscribed(t, 1)
		apply(t, shop, paid, t0, orders.Applied)
		if s := subscriptionOf(t, d, o.ID); s.Ref != "sub_1" || s.Status != payments.SubscriptionActive || !s.Renews() {
			t.Fatalf("subscription %+v", s)
		}
		lic := f.orderLicenses(t, o.ID)[0]
		if !lic.ExpiresAt.Equal(t0.AddDate(1, 0, 0)) {
			t.Fatalf("issued to %v", lic.ExpiresAt)
		}

		at := t0.AddDate(1, 0, 0)
		apply(t, shop, renewal(payments.RenewalPaid, "evt_paid_1", 1, o.Number, at), at, orders.Applied)
		got, err := licensing.ByID(ctx, d, lic.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ExpiresAt.Equal(t0.AddDate(2, 0, 0)) || !got.UpdatesUntil.Equal(t0.AddDate(2, 0, 0)) || got.Key != lic.Key || got.State != licensing.StateActive {
			t.Fatalf("after the renewal: expires %v, updates %v, state %s, key changed %v", got.ExpiresAt, got.UpdatesUntil, got.State, got.Key != lic.Key)
		}
		r, err := orders.ForCustomer(ctx, d, o.CustomerID)
		if err != nil || len(r) != 2 {
			t.Fatalf("orders of the subscriber: %d, %v", len(r), err)
		}
		ren := r[0]
		if ren.ID == o.ID {
			ren = r[1]
		}
		if ren.Status != orders.Paid || ren.ProcessorInvoice != "in_cycle_1" || ren.TotalMinor != 19000 || len(ren.Lines) != 1 ||
			ren.Lines[0].RenewsLicenseID != lic.ID || !ren.Lines[0].PeriodEnd.Equal(t0.AddDate(2, 0, 0)) ||
			!strings.HasSuffix(ren.Lines[0].Description, "(yearly renewal)") {
			t.Fatalf("renewal order %+v", ren)
		}
		if n := countOf(t, d, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, ren.ID); n != 1 {
			t.Errorf("%d invoices for the renewal", n)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE dedup_key = $1`, fmt.Sprintf("order-paid:%d", ren.ID)).Scan(&text); err != nil {
			t.Fatalf("renewal confirmation: %v", err)
		}
		if !strings.Contains(text, "renewed, until "+t0.AddDate(2, 0, 0).Format("2 January 2006")) || !strings.Contains(text, lic.Key) {
			t.Errorf("the confirmation does not say the renewal:\n%s", text)
		}

		// The same invoice under another event; its failure, late.
		apply(t, shop, renewal(payments.RenewalPaid, "evt_paid_1b", 1, o.Number, at), at, orders.Ignored)
		apply(t, shop, renewal(payments.RenewalFailed, "evt_failed_1", 1, o.Number, at.Add(-time.Hour)), at, orders.Ignored)
		if n := countOf(t, d, `SELECT count(*) FROM orders WHERE customer_id = $1`, o.CustomerID); n != 2 {
			t.Errorf("%d orders after duplicates", n)
		}
		if n := countOf(t, d, `SELECT count(*) FROM outbox WHERE template = 'renewal_failed'`); n != 0 {
			t.Errorf("a paid renewal's late failure was mailed (%d)", n)
		}
		if s := subscriptionOf(t, d, o.ID); s.Status != payments.SubscriptionActive || !s.PeriodEnd.Equal(t0.AddDate(2, 0, 0)) {
			t.Errorf("subscription after the renewal %+v", s)
		}

		// The renewal's payment refunded: the license is suspended.
		apply(t, shop, payments.Event{ID: "evt_refund_1", Provider: "stripe", Type: payments.PaymentRefunded, PaymentRef: "pi_cycle_1",
			AmountMinor: 19000, Currency: "EUR", Created: at.Add(time.Hour)}, at.Add(time.Hour), orders.Applied)
		if got, _ := licensing.ByID(ctx, d, lic.ID, at); got.Status != licensing.Suspended {
			t.Errorf("after the renewal's refund the license is %s", got.Status)
		}
	})
}

// TestSubscriptionRenewalFailsAndEnds: a failed renewal marks the
// subscription past due and tells the buyer once, with the dates their
// product keeps working; the license is not extended, so its grace period
// runs from the end of the paid period. An older state arriving late
// changes nothing; an ended subscription stays ended and renews nothing.
func TestSubscriptionRenewalFailsAndEnds(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		f.policy(t, licensing.Policy{EditionID: f.pro, Kind: licensing.Term, TermMonths: 12, GraceDays: 14, MaxMachines: 2})
		shop := f.shop()
		o, paid := f.subscribed(t, 2)
		apply(t, shop, paid, t0, orders.Applied)
		lic := f.orderLicenses(t, o.ID)[0]
		at := t0.AddDate(1, 0, 0)

		apply(t, shop, renewal(payments.RenewalFailed, "evt_fail_a", 2, o.Number, at), at, orders.Applied)
		apply(t, shop, renewal(payments.RenewalFailed, "evt_fail_b", 2, o.Number, at.Add(72*time.Hour)), at.Add(72*time.Hour), orders.Applied)
		if s := subscriptionOf(t, d, o.ID); s.Status != payments.SubscriptionPastDue {
			t.Errorf("after a failed renewal the subscription is %s", s.Status)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'renewal_failed'`).Scan(&text); err != nil {
			t.Fatalf("one failure mail: %v", err)
		}
		grace := lic.ExpiresAt.AddDate(0, 0, 14).Format("2 January 2006")
		if !strings.Contains(text, lic.LicenseID) || !strings.Contains(text, grace) {
			t.Errorf("the failure mail does not say until when the product works (%s):\n%s", grace, text)
		}
		if got, _ := licensing.ByID(ctx, d, lic.ID, at.AddDate(0, 0, 1)); got.State != licensing.StateInGrace || !got.ExpiresAt.Equal(lic.ExpiresAt) {
			t.Errorf("a day after a failed renewal: %s, expires %v", got.State, got.ExpiresAt)
		}

		// A state older than the failure, delivered late: ignored.
		old := payments.Event{ID: "evt_sub_old", Provider: "stripe", Type: payments.SubscriptionChanged, Created: at.Add(-time.Hour),
			SubscriptionRef: "sub_2", SubscriptionStatus: payments.SubscriptionActive, PeriodEnd: at}
		apply(t, shop, old, at.Add(73*time.Hour), orders.Ignored)
		// The customer's payment never came: Stripe ends it.
		end := payments.Event{ID: "evt_sub_end", Provider: "stripe", Type: payments.SubscriptionEnded, Created: at.AddDate(0, 0, 10),
			SubscriptionRef: "sub_2", SubscriptionStatus: payments.SubscriptionCancelled, PeriodEnd: at}
		apply(t, shop, end, at.AddDate(0, 0, 10), orders.Applied)
		again := old
		again.ID, again.Created = "evt_sub_new", at.AddDate(0, 0, 11)
		apply(t, shop, again, at.AddDate(0, 0, 11), orders.Ignored)
		if s := subscriptionOf(t, d, o.ID); s.Status != payments.SubscriptionCancelled || s.Renews() {
			t.Errorf("an ended subscription came back: %+v", s)
		}
		if _, err := shop.SetAutoRenew(ctx, o.CustomerID, o.ID, true, at.AddDate(0, 0, 12)); err == nil {
			t.Error("an ended subscription was turned on again")
		}
		if got, _ := licensing.ByID(ctx, d, lic.ID, at.AddDate(0, 0, 15)); got.State != licensing.StateExpired {
			t.Errorf("after the grace period of an ended subscription: %s", got.State)
		}
	})
}

// TestSubscriptionEventsInAnyOrder: Stripe promises no order. The
// checkout's completion, the first renewal's failure and its later
// success, and the customer turning renewal off, delivered in each of the
// 24 orders, leave the same state: the license runs two years, one renewal
// order, the subscription active and ending at its period's end.
func TestSubscriptionEventsInAnyOrder(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		shop := f.shop()
		at := t0.AddDate(1, 0, 0)
		for n, perm := range permutations([]int{0, 1, 2, 3}) {
			o, paid := f.subscribed(t, 100+n)
			evs := []payments.Event{
				paid,
				renewal(payments.RenewalFailed, fmt.Sprintf("evt_f_%d", n), 100+n, o.Number, at.Add(-2*time.Hour)),
				renewal(payments.RenewalPaid, fmt.Sprintf("evt_p_%d", n), 100+n, o.Number, at),
				{ID: fmt.Sprintf("evt_u_%d", n), Provider: "stripe", Type: payments.SubscriptionChanged, Created: at.Add(time.Hour),
					SubscriptionRef: fmt.Sprintf("sub_%d", 100+n), OrderNumber: o.Number, SubscriptionStatus: payments.SubscriptionActive,
					CancelAtPeriodEnd: true, PeriodEnd: t0.AddDate(2, 0, 0)},
			}
			for i, k := range perm {
				now := at.Add(time.Duration(i) * time.Minute)
				if k == 0 {
					now = t0 // the license's year counts from the checkout's payment
				}
				if _, err := shop.Apply(ctx, evs[k], now); err != nil {
					t.Fatalf("order %v, event %s: %v", perm, evs[k].ID, err)
				}
			}
			what := fmt.Sprintf("delivered in the order %v", perm)
			ls := f.orderLicenses(t, o.ID)
			if len(ls) != 1 || !ls[0].ExpiresAt.Equal(t0.AddDate(2, 0, 0)) {
				t.Fatalf("%s: licenses %+v", what, ls)
			}
			if n := countOf(t, d, `SELECT count(*) FROM orders WHERE customer_id = $1 AND status = 'paid'`, o.CustomerID); n != 2 {
				t.Errorf("%s: %d paid orders, want the purchase and its renewal", what, n)
			}
			s := subscriptionOf(t, d, o.ID)
			if s.Status != payments.SubscriptionActive || !s.CancelAtPeriodEnd || !s.PeriodEnd.Equal(t0.AddDate(2, 0, 0)) {
				t.Errorf("%s: subscription %+v", what, s)
			}
			if n := countOf(t, d, `SELECT count(*) FROM payment_events WHERE order_id = $1 AND outcome LIKE 'deferred%'`, o.ID); n != 0 {
				t.Errorf("%s: %d events still deferred", what, n)
			}
		}
	})
}

func permutations(xs []int) [][]int {
	if len(xs) <= 1 {
		return [][]int{append([]int(nil), xs...)}
	}
	var out [][]int
	for i := range xs {
		rest := append(append([]int(nil), xs[:i]...), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]int{xs[i]}, p...))
		}
	}
	return out
}

// TestCustomerTurnsRenewalOff: the customer turns the automatic renewal
// off and on again; Stripe (stripe-mock) is asked each time, the order's
// history says it, and nobody else can do it for them.
func TestCustomerTurnsRenewalOff(t *testing.T) {
	stripeAPI := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: "whsec_x", Backend: stripeAPI})
		if err != nil {
			t.Fatal(err)
		}
		shop := f.shop()
		shop.Providers = []payments.Provider{st}
		o, paid := f.subscribed(t, 3)
		apply(t, shop, paid, t0, orders.Applied)
		other := f.newCustomer(t, "someone.else@example.com")
		if _, err := shop.SetAutoRenew(ctx, other.ID, o.ID, false, t0); err == nil {
			t.Fatal("another customer turned the renewal off")
		}
		s, err := shop.SetAutoRenew(ctx, o.CustomerID, o.ID, false, t0.Add(time.Hour))
		if err != nil || s.Renews() {
			t.Fatalf("turned off: %+v, %v", s, err)
		}
		if s := subscriptionOf(t, d, o.ID); !s.CancelAtPeriodEnd {
			t.Fatalf("not recorded: %+v", s)
		}
		if _, err := shop.SetAutoRenew(ctx, o.CustomerID, o.ID, true, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if s := subscriptionOf(t, d, o.ID); !s.Renews() {
			t.Fatalf("not turned on again: %+v", s)
		}
		evs, err := orders.Events(ctx, d, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var said []string
		for _, e := range evs {
			if strings.Contains(e.Detail, "automatic renewal") {
				said = append(said, e.Detail)
			}
		}
		if len(said) != 2 {
			t.Errorf("the history says %q", said)
		}
		// An order without a subscription has nothing to turn off.
		plain := f.paidOrder(t, shop, f.proOnce, 9)
		if _, err := shop.SetAutoRenew(ctx, f.customer.ID, plain.ID, false, t0); err == nil {
			t.Error("turned off the renewal of a one-time purchase")
		}
	})
}

// TestErasedSubscriptionStaysErased: erasure blanks the subscription's
// reference; Stripe's events about it (the customer's deletion there ends
// the subscription) find the order by its number and must not write the
// reference back.
func TestErasedSubscriptionStaysErased(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		shop := f.shop()
		o, paid := f.subscribed(t, 4)
		apply(t, shop, paid, t0, orders.Applied)
		if _, err := d.ExecContext(context.Background(), `UPDATE subscriptions SET processor_ref = '' WHERE order_id = $1`, o.ID); err != nil {
			t.Fatal(err) // what erasure does (inventory: minimised)
		}
		at := t0.AddDate(0, 1, 0)
		for _, ev := range []payments.Event{
			{ID: "evt_del_4", Provider: "stripe", Type: payments.SubscriptionEnded, Created: at, SubscriptionRef: "sub_4",
				OrderNumber: o.Number, SubscriptionStatus: payments.SubscriptionCancelled},
			renewal(payments.RenewalFailed, "evt_fail_4", 4, o.Number, at),
		} {
			if _, err := shop.Apply(context.Background(), ev, at); err != nil {
				t.Fatal(err)
			}
		}
		if n := countOf(t, d, `SELECT count(*) FROM subscriptions WHERE processor_ref <> ''`); n != 0 {
			t.Errorf("an erased subscription's reference came back (%d rows)", n)
		}
	})
}
