package orders_test

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

var refundKeys = licensing.NewKeyring(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))

// Three lines, taxed at 19 %: A (1 x 100.00 + 19.00), B (3 x 10.00 + 1.90
// each) and C (1 x 50.00 + 9.50). The total is 214.20.
const threeLinesTotal = 11900 + 3570 + 5950

// placeThreeLines places a pending order of three lines with provider
// (for "manual" with its invoice), and returns it with its lines.
func placeThreeLines(t *testing.T, d *db.DB, shop orders.Shop, price int64, provider, session string) orders.Order {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		line := func(desc string, unit int64, qty int, net, tax int64) orders.Line {
			return orders.Line{PriceID: price, Description: desc, Billing: catalog.OneTime, UnitMinor: unit, Quantity: qty,
				NetMinor: net, TaxMinor: tax, TaxRateBP: 1900}
		}
		o, err = orders.InsertOrder(ctx, tx, orders.Order{Number: "RF" + strings.ToUpper(provider) + session, Status: orders.Pending, Provider: provider,
			Currency: "EUR", SubtotalMinor: 18000, TaxMinor: 3420, TotalMinor: threeLinesTotal, Billing: buyer, CreatedAt: now, UpdatedAt: now,
			Lines: []orders.Line{line("Line A", 10000, 1, 10000, 1900), line("Line B", 1000, 3, 3000, 570), line("Line C", 5000, 1, 5000, 950)}},
			"customer", "placed with "+provider)
		if err != nil {
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

// licenseStates maps each order line's description to its license's state.
func licenseStates(t *testing.T, d *db.DB, orderID int64) map[string]string {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT l.description, li.status FROM licenses li JOIN order_lines l ON l.id = li.order_line_id
		WHERE li.order_id = $1`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var desc, st string
		if err := rows.Scan(&desc, &st); err != nil {
			t.Fatal(err)
		}
		out[desc] = st
	}
	return out
}

// unchanged checks that a refusal left the order's refunds, documents and
// state as they were.
func unchanged(t *testing.T, d *db.DB, o orders.Order, refunds, documents int, st orders.Status) {
	t.Helper()
	if n := count(t, d, `SELECT count(*) FROM refunds WHERE order_id = $1`, o.ID); n != refunds {
		t.Errorf("%d refunds, want %d", n, refunds)
	}
	if n := count(t, d, `SELECT count(*) FROM invoices WHERE order_id = $1`, o.ID); n != documents {
		t.Errorf("%d documents, want %d", n, documents)
	}
	if got := status(t, d, o.ID); got != st {
		t.Errorf("order %s, want %s", got, st)
	}
}

// TestRefundPerLine: finance refunds chosen lines and quantities of a
// paid order by transfer, then the rest. Amounts come from the stored
// lines; each refund issues the next credit note in the sequence the
// invoices and corrections share; only the licenses of lines refunded in
// full are suspended; the order stays paid (partly refunded) until nothing
// is left. Refusals (not paid, unknown line, too many, a line refunded
// already, no reason, hostile text) change nothing.
func TestRefundPerLine(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}},
			Licenses: licensing.ForOrders(refundKeys)}
		price := catalogWithPrice(t, d)
		o := placeThreeLines(t, d, shop, price, "manual", "")
		a, b, c := o.Lines[0].ID, o.Lines[1].ID, o.Lines[2].ID
		fin := audit.Staff(7)
		refund := func(reason string, lines ...orders.LineRefund) (orders.Refund, error) {
			return shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: lines, Reason: reason, By: fin}, now)
		}

		if _, err := refund("too early"); !errors.Is(err, orders.ErrNotPaid) {
			t.Fatalf("refund of a pending order: %v", err)
		}
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:7", now); err != nil {
			t.Fatal(err)
		}
		if got := licenseStates(t, d, o.ID); len(got) != 3 {
			t.Fatalf("licenses of the paid order: %v", got)
		}

		for _, tc := range []struct {
			name   string
			reason string
			lines  []orders.LineRefund
			want   error
		}{
			{"unknown line", "x", []orders.LineRefund{{LineID: 999999}}, orders.ErrUnknownLine},
			{"more than bought", "x", []orders.LineRefund{{LineID: b, Quantity: 4}}, orders.ErrRefundTooBig},
			{"a line twice, too many together", "x", []orders.LineRefund{{LineID: b, Quantity: 2}, {LineID: b, Quantity: 2}}, orders.ErrRefundTooBig},
			{"negative quantity", "x", []orders.LineRefund{{LineID: b, Quantity: -1}}, orders.ErrRefundTooBig},
			{"no reason", "  ", []orders.LineRefund{{LineID: a}}, orders.ErrRefundReason},
			{"hostile reason", "ok\u202eko", []orders.LineRefund{{LineID: a}}, refuse.Field("reason", "")},
		} {
			if _, err := refund(tc.reason, tc.lines...); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		unchanged(t, d, o, 0, 1, orders.Paid)

		// One of three B: a third of its net and tax.
		r1, err := refund("one seat returned", orders.LineRefund{LineID: b, Quantity: 1})
		if err != nil {
			t.Fatal(err)
		}
		if r1.NetMinor != 1000 || r1.TaxMinor != 190 || r1.GrossMinor != 1190 || r1.CreditNote.Number != "2026-000002" || r1.CreditNote.TotalMinor != -1190 {
			t.Fatalf("first refund = %+v", r1)
		}
		if got := licenseStates(t, d, o.ID); got["Line B"] != "active" {
			t.Fatalf("a partly refunded line's license: %v", got)
		}
		st, err := orders.RefundStatusOf(ctx, d, o.ID)
		if err != nil || !st.PartlyRefunded() || st.LeftMinor != threeLinesTotal-1190 || st.Order.Status != orders.Paid || st.Lines[1].LeftQuantity != 2 {
			t.Fatalf("after the first refund: %+v, %v", st, err)
		}

		// A correction takes the next number between two credit notes.
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := orders.CorrectInvoice(ctx, tx, "2026-000001", orders.Billing{Name: "Bea Buyer", Company: "Buyer GmbH", Address: "1 Main St", Country: "DE"}, "company added", now)
			return err
		}); err != nil {
			t.Fatal(err)
		}

		// A in full (quantity 0: all that is left) and the rest of B.
		r2, err := refund("returned", orders.LineRefund{LineID: a}, orders.LineRefund{LineID: b, Quantity: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r2.GrossMinor != 11900+2380 || r2.CreditNote.Number != "2026-000004" || len(r2.Lines) != 2 || r2.Lines[1].NetMinor != 2000 || r2.Lines[1].TaxMinor != 380 {
			t.Fatalf("second refund = %+v", r2)
		}
		if got := licenseStates(t, d, o.ID); got["Line A"] != "suspended" || got["Line B"] != "suspended" || got["Line C"] != "active" {
			t.Fatalf("licenses after refunding A and B: %v", got)
		}
		if status(t, d, o.ID) != orders.Paid {
			t.Fatal("a partly refunded order is no longer paid")
		}
		for _, l := range []orders.LineRefund{{LineID: a}, {LineID: b, Quantity: 1}} {
			if _, err := refund("again", l); !errors.Is(err, orders.ErrLineRefunded) {
				t.Errorf("a second refund of a refunded line: %v", err)
			}
		}
		unchanged(t, d, o, 2, 3, orders.Paid)

		// The rest: no lines chosen.
		r3, err := refund("cancelled the contract")
		if err != nil {
			t.Fatal(err)
		}
		if r3.GrossMinor != 5950 || r3.CreditNote.Number != "2026-000005" || len(r3.Lines) != 1 || r3.Lines[0].OrderLineID != c {
			t.Fatalf("third refund = %+v", r3)
		}
		if status(t, d, o.ID) != orders.Refunded {
			t.Fatal("nothing is left, but the order is not refunded")
		}
		if got := licenseStates(t, d, o.ID); got["Line C"] != "suspended" {
			t.Fatalf("licenses after the whole refund: %v", got)
		}
		if _, err := refund("once more"); !errors.Is(err, orders.ErrNotPaid) {
			t.Fatalf("refund of a refunded order: %v", err)
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
		if n := count(t, d, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'credit_note'`, o.ID); n != 3 {
			t.Fatalf("%d credit notes, want 3", n)
		}
		if n := count(t, d, `SELECT -sum(total_minor) FROM invoices WHERE order_id = $1 AND kind = 'credit_note'`, o.ID); n != threeLinesTotal {
			t.Fatalf("the credit notes return %d, the order cost %d", n, threeLinesTotal)
		}

		// What documents show: each refund, its lines and its credit note.
		rs, err := orders.RefundsOf(ctx, d, o.ID)
		if err != nil || len(rs) != 3 || rs[1].Lines[0].Description != "Line A" || rs[1].Lines[0].TaxRateBP != 1900 || rs[2].CreditNote.Number != "2026-000005" {
			t.Fatalf("RefundsOf = %+v, %v", rs, err)
		}
		if r, err := orders.RefundOfCreditNote(ctx, d, rs[0].CreditNote.ID); err != nil || r.ID != r1.ID || len(r.Lines) != 1 || r.Lines[0].Quantity != 1 {
			t.Fatalf("RefundOfCreditNote = %+v, %v", r, err)
		}

		// Audited as the staff member, with the reason, in the refund's
		// transaction; the history says partly refunded, then refunded.
		es, err := audit.List(ctx, d, audit.Filter{Action: "refund.issued"})
		if err != nil || len(es) != 3 {
			t.Fatalf("audit entries: %+v, %v", es, err)
		}
		for _, e := range es {
			if e.ActorType != audit.ActorStaff || e.ActorID != 7 || e.SubjectID != o.Number || !strings.Contains(e.Detail, "credit note 2026-") {
				t.Errorf("audit entry %+v", e)
			}
		}
		if !strings.Contains(es[0].Detail+es[1].Detail+es[2].Detail, "one seat returned") {
			t.Error("the audit log does not say why")
		}
		evs, _ := orders.Events(ctx, d, o.ID)
		var partly int
		for _, e := range evs {
			if strings.HasPrefix(e.Detail, "partly refunded") && e.Cause == "staff:7" {
				partly++
			}
		}
		if partly != 2 || evs[len(evs)-1].To != orders.Refunded {
			t.Fatalf("history: %+v", evs)
		}
	})
}

// stripeSpy forwards to stripe-mock and keeps the refund requests' forms.
type stripeSpy struct {
	mu    sync.Mutex
	forms []url.Values
}

func (s *stripeSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/v1/refunds" && r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		form, _ := url.ParseQuery(string(b))
		form.Set("idempotency_key", r.Header.Get("Idempotency-Key"))
		s.mu.Lock()
		s.forms = append(s.forms, form)
		s.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func stripeAt(t *testing.T, backend string, rt http.RoundTripper) *payments.Stripe {
	t.Helper()
	st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: webhookSecret, Backend: backend,
		HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRefundThroughStripe: a line refunded through Stripe (stripe-mock,
// with the real client) sends the line's amount and a key naming the
// refund, and is recorded with Stripe's refund ID at once. Stripe's
// charge.refunded for it changes nothing, by amount and by refund ID; a
// partial refund made in Stripe's dashboard is recorded once, as an
// amount without lines, with its credit note. Stripe refusing the refund,
// or not answering, leaves nothing changed and says so.
func TestRefundThroughStripe(t *testing.T) {
	backend := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		spy := &stripeSpy{}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{stripeAt(t, backend, spy)},
			Licenses: licensing.ForOrders(refundKeys)}
		price := catalogWithPrice(t, d)
		o := placeThreeLines(t, d, shop, price, "stripe", "cs_rs")
		paid := completed("evt_rs_paid", "cs_rs")
		paid.AmountMinor = threeLinesTotal
		if out, err := shop.Apply(ctx, paid, now); err != nil || out != orders.Applied {
			t.Fatalf("payment: %v, %v", out, err)
		}
		b := o.Lines[1].ID

		r, err := shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: b, Quantity: 1}},
			Reason: "one seat returned", By: audit.Staff(3)}, now)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.ProviderRef, "re_") || r.State != orders.RefundDone || r.GrossMinor != 1190 || r.CreditNote.Number != "2026-000002" {
			t.Fatalf("refund through Stripe = %+v", r)
		}
		if len(spy.forms) != 1 {
			t.Fatalf("%d refund requests reached Stripe", len(spy.forms))
		}
		f := spy.forms[0]
		key := o.Number + "-" + itoa(r.ID)
		if f.Get("amount") != "1190" || f.Get("payment_intent") != "pi_cs_rs" || f.Get("metadata[storekeep_refund]") != key ||
			f.Get("idempotency_key") != "storekeep-refund-"+key {
			t.Fatalf("Stripe was asked %v", f)
		}

		// Stripe's event for our own refund: by amount, and by its ID.
		for i, ev := range [][]byte{
			testutil.StripeChargeRefunded("evt_rs_1", "pi_cs_rs", threeLinesTotal, 1190, "eur"),
			testutil.StripeChargeRefundedListing("evt_rs_2", "pi_cs_rs", threeLinesTotal, 1190, "eur", []testutil.StripeRefund{{ID: r.ProviderRef, Amount: 1190, Key: key}}),
		} {
			if out, err := shop.Apply(ctx, signedStripeEvent(t, ev), now); err != nil || out != orders.Ignored {
				t.Fatalf("event %d of our own refund = %v, %v; want ignored", i, out, err)
			}
		}
		unchanged(t, d, o, 1, 2, orders.Paid)

		// 5.00 refunded in Stripe's dashboard: recorded once.
		dash := signedStripeEvent(t, testutil.StripeChargeRefundedListing("evt_rs_3", "pi_cs_rs", threeLinesTotal, 1690, "eur",
			[]testutil.StripeRefund{{ID: r.ProviderRef, Amount: 1190, Key: key}, {ID: "re_dashboard", Amount: 500}}))
		if out, err := shop.Apply(ctx, dash, now); err != nil || out != orders.Applied {
			t.Fatalf("dashboard refund = %v, %v", out, err)
		}
		if out, _ := shop.Apply(ctx, dash, now); out != orders.Duplicate {
			t.Fatalf("the same event again = %v", out)
		}
		// The same refund in an event that names it by amount only.
		if out, err := shop.Apply(ctx, signedStripeEvent(t, testutil.StripeChargeRefunded("evt_rs_4", "pi_cs_rs", threeLinesTotal, 1690, "eur")), now); err != nil || out != orders.Ignored {
			t.Fatalf("the dashboard refund by amount = %v, %v", out, err)
		}
		rs, _ := orders.RefundsOf(ctx, d, o.ID)
		if len(rs) != 2 || rs[1].ProviderRef != "re_dashboard" || rs[1].GrossMinor != 500 || len(rs[1].Lines) != 0 || rs[1].Cause != "stripe:evt_rs_3" ||
			rs[1].NetMinor+rs[1].TaxMinor != 500 || rs[1].CreditNote.TotalMinor != -500 {
			t.Fatalf("refunds after the dashboard's = %+v", rs)
		}
		unchanged(t, d, o, 2, 3, orders.Paid)

		// Every line left comes to 202.30, but 5.00 went back without
		// lines: only 197.30 is left of the order, so the lines are
		// refused together; everything left (no lines) would be 197.30.
		_, err = shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Reason: "r", By: audit.Staff(3), Lines: []orders.LineRefund{
			{LineID: o.Lines[0].ID}, {LineID: b}, {LineID: o.Lines[2].ID}}}, now)
		if !errors.Is(err, orders.ErrRefundTooBig) || !strings.Contains(err.Error(), "197.30") {
			t.Fatalf("lines worth more than is left: %v", err)
		}
		unchanged(t, d, o, 2, 3, orders.Paid)

		// Stripe refuses (an error answer) or cannot be reached: nothing
		// changes, and the refusal says so.
		refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"no"}}`)
		}))
		defer refusing.Close()
		closed := httptest.NewServer(http.NotFoundHandler())
		closed.Close()
		for name, url := range map[string]string{"refused": refusing.URL, "unreachable": closed.URL} {
			broken := shop
			broken.Providers = []payments.Provider{stripeAt(t, url, http.DefaultTransport)}
			_, err := broken.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: o.Lines[0].ID}}, Reason: "r", By: audit.Staff(3)}, now)
			if !errors.Is(err, orders.ErrRefundNotMade) {
				t.Fatalf("%s: %v, want ErrRefundNotMade", name, err)
			}
			unchanged(t, d, o, 2, 3, orders.Paid)
			if got := licenseStates(t, d, o.ID); got["Line A"] != "active" {
				t.Fatalf("%s: a failed refund suspended %v", name, got)
			}
		}
		if es, err := audit.List(ctx, d, audit.Filter{Action: "refund.issued"}); err != nil || len(es) != 2 {
			t.Fatalf("%d refund audit entries (%v), want 2", len(es), err)
		}

		// Everything left, refunded in the dashboard: the order is
		// refunded with the last credit note, every license suspended.
		all := signedStripeEvent(t, testutil.StripeChargeRefunded("evt_rs_5", "pi_cs_rs", threeLinesTotal, threeLinesTotal, "eur"))
		if out, err := shop.Apply(ctx, all, now); err != nil || out != orders.Applied {
			t.Fatalf("full refund in the dashboard = %v, %v", out, err)
		}
		unchanged(t, d, o, 3, 4, orders.Refunded)
		for line, st := range licenseStates(t, d, o.ID) {
			if st != "suspended" {
				t.Errorf("%s: license %s after the full refund", line, st)
			}
		}
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
	})
}

// reentrant is a processor that, while it is asked to refund, sees a
// second refund of the same order attempted (another member, another
// instance).
type reentrant struct {
	hosted
	during func() error
	seen   error
}

func (r *reentrant) Refund(ctx context.Context, req payments.RefundRequest) (string, error) {
	r.seen = r.during()
	return "re_reentrant", nil
}

// TestRefundReservesWhileTheProcessorIsAsked: while the processor is
// asked, the refund is reserved, so a second refund of the order is
// refused rather than returning the same money twice; afterwards the next
// refund may go ahead.
func TestRefundReservesWhileTheProcessorIsAsked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		p := &reentrant{}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{p}}
		o := placeThreeLines(t, d, shop, catalogWithPrice(t, d), "stripe", "cs_re")
		paid := completed("evt_re", "cs_re")
		paid.AmountMinor = threeLinesTotal
		if out, err := shop.Apply(ctx, paid, now); err != nil || out != orders.Applied {
			t.Fatalf("payment: %v, %v", out, err)
		}
		req := orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: o.Lines[0].ID}}, Reason: "r", By: audit.Staff(1)}
		p.during = func() error {
			st, err := orders.RefundStatusOf(ctx, d, o.ID)
			if err != nil || !st.Underway {
				t.Errorf("while the processor is asked: %+v, %v", st, err)
			}
			_, err = shop.RefundOrder(ctx, req, now)
			return err
		}
		if _, err := shop.RefundOrder(ctx, req, now); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(p.seen, orders.ErrRefundBusy) {
			t.Fatalf("a second refund while the first was under way: %v", p.seen)
		}
		p.during = func() error { return nil }
		if _, err := shop.RefundOrder(ctx, req, now); !errors.Is(err, orders.ErrLineRefunded) {
			t.Fatalf("the same line afterwards: %v", err)
		}
		unchanged(t, d, o, 1, 2, orders.Paid)
	})
}

// TestRefundEventCompletesTheReservation: the processor's refund event
// can arrive while the refunding request is still waiting for the
// processor's answer (or after the process stopped before recording it):
// the event completes the reservation, with its credit note, and the
// request then records nothing twice. Both with an event that lists the
// refund by the key we sent and with one that gives only the amount.
func TestRefundEventCompletesTheReservation(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		price := catalogWithPrice(t, d)
		for i, listed := range []bool{true, false} {
			ctx := context.Background()
			p := &reentrant{}
			shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{p}}
			session := fmt.Sprintf("cs_ev%d", i)
			o := placeThreeLines(t, d, shop, price, "stripe", session)
			paid := completed(fmt.Sprintf("evt_ev%d", i), session)
			paid.AmountMinor = threeLinesTotal
			if out, err := shop.Apply(ctx, paid, now); err != nil || out != orders.Applied {
				t.Fatalf("payment: %v, %v", out, err)
			}
			p.during = func() error {
				var id int64
				if err := d.QueryRowContext(ctx, `SELECT id FROM refunds WHERE order_id = $1 AND state = 'pending'`, o.ID).Scan(&id); err != nil {
					return err
				}
				raw := testutil.StripeChargeRefunded(fmt.Sprintf("evt_evr%d", i), "pi_"+session, threeLinesTotal, 11900, "eur")
				if listed {
					raw = testutil.StripeChargeRefundedListing(fmt.Sprintf("evt_evr%d", i), "pi_"+session, threeLinesTotal, 11900, "eur",
						[]testutil.StripeRefund{{ID: "re_reentrant", Amount: 11900, Key: fmt.Sprintf("%s-%d", o.Number, id)}})
				}
				out, err := shop.Apply(ctx, signedStripeEvent(t, raw), now)
				if err == nil && out != orders.Applied {
					err = fmt.Errorf("the event was %s", out)
				}
				return err
			}
			r, err := shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: o.Lines[0].ID}}, Reason: "r", By: audit.Staff(1)}, now)
			if err != nil || p.seen != nil {
				t.Fatalf("listed %v: the refund: %v; the event during it: %v", listed, err, p.seen)
			}
			if r.State != orders.RefundDone || r.CreditNote.Number == "" || r.GrossMinor != 11900 {
				t.Fatalf("listed %v: the refund returned %+v", listed, r)
			}
			unchanged(t, d, o, 1, 2, orders.Paid) // one refund, the invoice and one credit note
			if n := count(t, d, `SELECT count(*) FROM refunds WHERE order_id = $1 AND state = 'done' AND credit_note_id IS NOT NULL`, o.ID); n != 1 {
				t.Fatalf("listed %v: %d completed refunds", listed, n)
			}
			// The event again changes nothing.
			again := testutil.StripeChargeRefunded(fmt.Sprintf("evt_evr%d_again", i), "pi_"+session, threeLinesTotal, 11900, "eur")
			if out, err := shop.Apply(ctx, signedStripeEvent(t, again), now); err != nil || out != orders.Ignored {
				t.Fatalf("listed %v: the event again: %v, %v", listed, out, err)
			}
			unchanged(t, d, o, 1, 2, orders.Paid)
		}
	})
}
