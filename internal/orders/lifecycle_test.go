package orders_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

// hosted is a processor with a hosted page, as Stripe: it refunds,
// resumes and closes checkouts, and records what it was asked.
type hosted struct {
	refunded, resumed, closed []string
	closeErr, resumeErr       error
}

func (*hosted) Name() string  { return "stripe" }
func (*hosted) Label() string { return "Card" }
func (*hosted) StartCheckout(context.Context, payments.Checkout) (payments.Started, error) {
	return payments.Started{}, errors.New("not used")
}
func (h *hosted) Refund(_ context.Context, r payments.RefundRequest) (string, error) {
	h.refunded = append(h.refunded, r.PaymentRef)
	return "re_" + strconv.Itoa(len(h.refunded)), nil
}
func (h *hosted) ResumeCheckout(_ context.Context, ref string) (payments.Started, error) {
	h.resumed = append(h.resumed, ref)
	if h.resumeErr != nil {
		return payments.Started{}, h.resumeErr
	}
	return payments.Started{SessionRef: ref, RedirectURL: "https://pay.example/" + ref}, nil
}
func (h *hosted) CloseCheckout(_ context.Context, ref string) error {
	h.closed = append(h.closed, ref)
	return h.closeErr
}

func lastEvent(t *testing.T, d *db.DB, orderID int64) orders.Event {
	t.Helper()
	evs, err := orders.Events(context.Background(), d, orderID)
	if err != nil || len(evs) == 0 {
		t.Fatalf("history: %v, %v", evs, err)
	}
	return evs[len(evs)-1]
}

func status(t *testing.T, d *db.DB, id int64) orders.Status {
	t.Helper()
	o, err := orders.ByID(context.Background(), d, id)
	if err != nil {
		t.Fatal(err)
	}
	return o.Status
}

// TestPendingOrdersExpire: an unpaid hosted checkout is cancelled after
// its session's day and the margin, an unpaid invoice after 30 days with
// its credit note; a payment that completed before the expiry reached the
// processor is still recorded.
func TestPendingOrdersExpire(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}, &hosted{}}}
		price := catalogWithPrice(t, d)
		c := newCustomer(t, d, buyer.Email)
		card := placeFor(t, d, shop, c, price, "stripe", "cs_exp")
		invoiced := placeFor(t, d, shop, c, price, "manual", "")

		if n, err := orders.ExpirePending(ctx, d, orders.DefaultExpiry, now.Add(29*time.Hour)); err != nil || n != 0 {
			t.Fatalf("expiry before any deadline = %d, %v", n, err)
		}
		n, err := orders.ExpirePending(ctx, d, orders.DefaultExpiry, now.Add(31*time.Hour))
		if err != nil || n != 1 || status(t, d, card.ID) != orders.Cancelled || status(t, d, invoiced.ID) != orders.Pending {
			t.Fatalf("expiry after 31 hours = %d, %v; card %s, invoice %s", n, err, status(t, d, card.ID), status(t, d, invoiced.ID))
		}
		if e := lastEvent(t, d, card.ID); e.Cause != "system:expiry" || !strings.Contains(e.Detail, "30 hours") {
			t.Fatalf("expiry recorded as %+v", e)
		}
		n, err = orders.ExpirePending(ctx, d, orders.DefaultExpiry, now.Add(31*24*time.Hour))
		if err != nil || n != 1 || status(t, d, invoiced.ID) != orders.Cancelled {
			t.Fatalf("expiry after 31 days = %d, %v", n, err)
		}
		if e := lastEvent(t, d, invoiced.ID); e.Cause != "system:expiry" || !strings.Contains(e.Detail, "30 days") {
			t.Fatalf("expiry recorded as %+v", e)
		}
		if invs, _ := orders.Invoices(ctx, d, invoiced.ID); len(invs) != 2 || invs[1].Kind != orders.KindCreditNote {
			t.Fatalf("expired invoice's documents = %+v", invs)
		}
		if n, _ := orders.ExpirePending(ctx, d, orders.DefaultExpiry, now.Add(40*24*time.Hour)); n != 0 {
			t.Fatalf("a second run cancelled %d more", n)
		}

		// A configured period: a week for invoices.
		week := placeFor(t, d, shop, c, price, "manual", "")
		if n, _ := orders.ExpirePending(ctx, d, orders.Expiry{Invoiced: 7 * 24 * time.Hour}, now.Add(8*24*time.Hour)); n != 1 || status(t, d, week.ID) != orders.Cancelled {
			t.Fatalf("a week's expiry cancelled %d", n)
		}

		// The card checkout was paid just before it expired, and the event
		// came late: the money is recorded and invoiced.
		if out, err := shop.Apply(ctx, completed("evt_late", "cs_exp"), now.Add(32*time.Hour)); err != nil || out != orders.Applied {
			t.Fatalf("late payment = %v, %v", out, err)
		}
		if e := lastEvent(t, d, card.ID); status(t, d, card.ID) != orders.Paid || e.From != orders.Cancelled || !strings.Contains(e.Detail, "after the order was cancelled") {
			t.Fatalf("late payment left %s, %+v", status(t, d, card.ID), e)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCustomerCancelsAndResumes: a customer cancels or pays again only
// their own pending orders; a hosted checkout is resumed (never started
// twice) and closed at the processor before the order is cancelled.
func TestCustomerCancelsAndResumes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		card := &hosted{}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", PaymentInstructions: "IBAN DE00 1",
			Providers: []payments.Provider{payments.Manual{}, card}}
		price := catalogWithPrice(t, d)
		c, other := newCustomer(t, d, "c@example.com"), newCustomer(t, d, "o@example.com")
		inv := placeFor(t, d, shop, c, price, "manual", "")
		cs := placeFor(t, d, shop, c, price, "stripe", "cs_resume")

		if _, err := shop.Resume(ctx, other, inv.Number); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("resume of another's order: %v", err)
		}
		if _, err := shop.CancelByCustomer(ctx, other, cs.Number, now); !errors.Is(err, orders.ErrNotFound) || len(card.closed) != 0 {
			t.Fatalf("cancel of another's order: %v (closed %v)", err, card.closed)
		}
		if _, err := orders.ForCustomerByNumber(ctx, d, other, cs.Number); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("another's order by number: %v", err)
		}
		r, err := shop.Resume(ctx, c, inv.Number)
		if err != nil || r.RedirectURL != "" || r.Invoice.Number != "2026-000001" || r.PaymentInstructions != "IBAN DE00 1" {
			t.Fatalf("resume of an invoice = %+v, %v", r, err)
		}
		r, err = shop.Resume(ctx, c, cs.Number)
		if err != nil || r.RedirectURL != "https://pay.example/cs_resume" {
			t.Fatalf("resume of a checkout = %+v, %v", r, err)
		}
		card.resumeErr = payments.ErrCheckoutEnded
		if _, err := shop.Resume(ctx, c, cs.Number); !errors.Is(err, orders.ErrCheckoutEnded) {
			t.Fatalf("resume of an expired checkout: %v", err)
		}

		// Paid at the processor meanwhile: not cancelled.
		card.closeErr = payments.ErrCheckoutPaid
		if _, err := shop.CancelByCustomer(ctx, c, cs.Number, now); !errors.Is(err, orders.ErrPaymentUnderway) || status(t, d, cs.ID) != orders.Pending {
			t.Fatalf("cancel of a paid checkout: %v, %s", err, status(t, d, cs.ID))
		}
		card.closeErr = nil
		if _, err := shop.CancelByCustomer(ctx, c, cs.Number, now); err != nil || status(t, d, cs.ID) != orders.Cancelled {
			t.Fatalf("cancel: %v, %s", err, status(t, d, cs.ID))
		}
		if card.closed[len(card.closed)-1] != "cs_resume" {
			t.Fatalf("the checkout was not closed at the processor: %v", card.closed)
		}
		if e := lastEvent(t, d, cs.ID); e.Cause != "customer:"+itoa(c) || e.To != orders.Cancelled {
			t.Fatalf("cancellation recorded as %+v", e)
		}
		if _, err := shop.CancelByCustomer(ctx, c, cs.Number, now); !errors.Is(err, orders.ErrNotPending) {
			t.Fatalf("second cancel: %v", err)
		}
		if _, err := shop.Resume(ctx, c, cs.Number); !errors.Is(err, orders.ErrNotPending) {
			t.Fatalf("resume of a cancelled order: %v", err)
		}
		if _, err := shop.CancelByCustomer(ctx, c, inv.Number, now); err != nil {
			t.Fatal(err)
		}
		if invs, _ := orders.Invoices(ctx, d, inv.ID); len(invs) != 2 || invs[1].Kind != orders.KindCreditNote {
			t.Fatalf("the cancelled invoice was not reversed: %+v", invs)
		}
		if r, ok := refuse.As(orders.ErrNotPending); !ok || r.Kind != refuse.Conflict {
			t.Fatal("ErrNotPending is not a conflict")
		}

		// A way to pay that is no longer configured.
		gone := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		left := placeFor(t, d, shop, c, price, "stripe", "cs_left")
		if _, err := gone.Resume(ctx, c, left.Number); !errors.Is(err, orders.ErrProviderGone) {
			t.Fatalf("resume without the provider: %v", err)
		}
	})
}

// TestRefundByAnyMethod: a bank-transfer order (and one whose provider is
// gone) is refunded by recording it, with its credit note in the gapless
// sequence; a card order through the processor, refunded as soon as the
// processor made the refund (its later event changes nothing). Marking
// paid by hand is for transfers only.
func TestRefundByAnyMethod(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		card := &hosted{}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}, card}}
		price := catalogWithPrice(t, d)
		c := newCustomer(t, d, buyer.Email)

		man := placeFor(t, d, shop, c, price, "manual", "")
		if _, err := shop.Refund(ctx, man.ID, "staff:1", "", now); !errors.Is(err, orders.ErrNotPaid) {
			t.Fatalf("refund of a pending order: %v", err)
		}
		if _, err := shop.MarkPaid(ctx, man.ID, "staff:1", now); err != nil {
			t.Fatal(err)
		}
		if _, err := shop.Refund(ctx, man.ID, "staff:1", "bad\u202enote", now); !errors.Is(err, refuse.Field("note", "")) {
			t.Fatalf("refund with a hostile note: %v", err)
		}
		out, err := shop.Refund(ctx, man.ID, "staff:1", "returned to the buyer's IBAN", now)
		if err != nil || out != orders.RefundRecorded || status(t, d, man.ID) != orders.Refunded {
			t.Fatalf("refund of a transfer = %v, %v, %s", out, err, status(t, d, man.ID))
		}
		if e := lastEvent(t, d, man.ID); e.Cause != "staff:1" || !strings.Contains(e.Detail, "returned to the buyer's IBAN") {
			t.Fatalf("refund recorded as %+v", e)
		}
		if invs, _ := orders.Invoices(ctx, d, man.ID); len(invs) != 2 || invs[1].Kind != orders.KindCreditNote || invs[1].TotalMinor != -49000 {
			t.Fatalf("documents after the refund = %+v", invs)
		}
		if _, err := shop.Refund(ctx, man.ID, "staff:1", "", now); !errors.Is(err, orders.ErrNotPaid) {
			t.Fatalf("second refund: %v", err)
		}

		cs := placeFor(t, d, shop, c, price, "stripe", "cs_rf")
		if _, err := shop.MarkPaid(ctx, cs.ID, "staff:1", now); !errors.Is(err, orders.ErrNotOffline) {
			t.Fatalf("mark paid of a card order: %v", err)
		}
		shop.Apply(ctx, completed("evt_rf", "cs_rf"), now)
		if out, err := shop.Refund(ctx, cs.ID, "staff:1", "", now); err != nil || out != orders.RefundRequested || len(card.refunded) != 1 || card.refunded[0] != "pi_cs_rf" {
			t.Fatalf("card refund = %v, %v, %v", out, err, card.refunded)
		}
		if status(t, d, cs.ID) != orders.Refunded {
			t.Fatal("the processor made the refund, but the order is not refunded")
		}
		// The processor's refund event finds the refund recorded.
		if out, err := shop.Apply(ctx, payments.Event{ID: "evt_rf2", Provider: "stripe", Type: payments.PaymentRefunded, PaymentRef: "pi_cs_rf",
			AmountMinor: 49000, Currency: "EUR"}, now); err != nil || out != orders.Ignored {
			t.Fatalf("the refund's own event = %v, %v; want ignored", out, err)
		}
		if invs, _ := orders.Invoices(ctx, d, cs.ID); len(invs) != 2 {
			t.Fatalf("documents of the card refund = %+v", invs)
		}

		// The demo (or a provider switched off): recorded like a transfer.
		demo := placeFor(t, d, shop, c, price, "demo", "demo_0123456789abcdef01234567")
		shop.Apply(ctx, payments.Event{ID: "demo_evt", Provider: "demo", Type: payments.CheckoutCompleted, SessionRef: "demo_0123456789abcdef01234567",
			PaymentRef: "demo_pi", AmountMinor: 49000, Currency: "EUR"}, now)
		if out, err := shop.Refund(ctx, demo.ID, "staff:1", "", now); err != nil || out != orders.RefundRecorded {
			t.Fatalf("demo refund = %v, %v", out, err)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
