package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// processorFake is a hosted processor that refunds through itself and
// closes its checkouts; closing says "paid" once paid is set.
type processorFake struct {
	mu       *sync.Mutex
	paid     *bool
	refunded *[]string
	amounts  *[]int64
}

func newProcessorFake() processorFake {
	return processorFake{mu: &sync.Mutex{}, paid: new(bool), refunded: new([]string), amounts: new([]int64)}
}

func (processorFake) Name() string  { return "fakepay" }
func (processorFake) Label() string { return "Fakepay" }
func (processorFake) StartCheckout(_ context.Context, c payments.Checkout) (payments.Started, error) {
	return payments.Started{SessionRef: "fake_" + c.OrderNumber, RedirectURL: "https://pay.example/" + c.OrderNumber}, nil
}
func (f processorFake) Refund(_ context.Context, r payments.RefundRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*f.refunded = append(*f.refunded, r.PaymentRef)
	*f.amounts = append(*f.amounts, r.AmountMinor)
	return fmt.Sprintf("re_fake_%d", len(*f.refunded)), nil
}
func (f processorFake) CloseCheckout(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if *f.paid {
		return payments.ErrCheckoutPaid
	}
	return nil
}

// placeOrder checks out as b with method and returns the order's number.
func placeOrder(t *testing.T, d *db.DB, b *webtest.Browser, method string) string {
	t.Helper()
	res, body := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", method))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout with %s: %d\n%s", method, res.StatusCode, body)
	}
	var number string
	if err := d.QueryRowContext(context.Background(), `SELECT number FROM orders ORDER BY id DESC LIMIT 1`).Scan(&number); err != nil {
		t.Fatal(err)
	}
	return number
}

// TestStaffRefundsByAnyMethod: a paid order can be refunded whatever paid
// it. Through the processor when it refunds (the order moves when its
// event arrives); otherwise staff record the money they returned, with a
// one-line note, and the order is refunded with its credit note at once.
// Mark paid is offered, and done, for transfers only; a staff
// cancellation of a checkout paid meanwhile is 409. Each action is in the
// audit log.
func TestStaffRefundsByAnyMethod(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		fake := newProcessorFake()
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}, fake))
		ctx := context.Background()
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)

		// By transfer: marked paid, then the refund is recorded.
		manual := placeOrder(t, d, b, "manual")
		res, _ := fb.Post(t, "/staff/orders/"+manual+"/mark-paid", nil)
		webtest.WantRedirect(t, res, "/staff/orders/"+manual+"?done=order-paid")
		res, body := fb.Get(t, "/staff/orders/"+manual)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Record refund (money returned outside)", `name="note"`, "<dd>Invoice / bank transfer</dd>")
		webtest.MustNotContain(t, body, "Refund through")
		for _, bad := range []string{"sent back\r\nX-Injected: 1", "bank\x00", "\xff\xfe", "Bea \u202eyub"} {
			res, body = fb.Post(t, "/staff/orders/"+manual+"/refund", url.Values{"note": {bad}})
			webtest.WantRefused(t, res, body, "note", "The note contains", `id="refund-note-error"`)
		}
		if o, _ := orders.ByNumber(ctx, d, manual); o.Status != orders.Paid {
			t.Fatalf("a refused refund moved the order to %s", o.Status)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM invoices WHERE kind = 'credit_note'`); n != 0 {
			t.Fatalf("%d credit notes after refused refunds", n)
		}
		res, _ = fb.Post(t, "/staff/orders/"+manual+"/refund", url.Values{"note": {"returned by transfer on 7 May"}})
		webtest.WantRedirect(t, res, "/staff/orders/"+manual+"?done=order-refund-recorded")
		res, body = fb.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "The refund is recorded", `<dd id="order-status">refunded</dd>`, "Credit note 2026-000002",
			"returned by transfer on 7 May")
		webtest.MustNotContain(t, body, "Record refund")
		res, body = fb.Post(t, "/staff/orders/"+manual+"/refund", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)

		// Through a processor that refunds: made at once, with the
		// processor's refund recorded.
		hosted := placeOrder(t, d, b, "fakepay")
		res, body = fb.Get(t, "/staff/orders/"+hosted)
		webtest.MustNotContain(t, body, "Mark paid")
		res, body = fb.Post(t, "/staff/orders/"+hosted+"/mark-paid", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "Only orders paid by bank transfer are marked paid by hand")
		shop := orders.Shop{DB: d, SiteName: webtest.Vendor.Name, BaseURL: webtest.BaseURL, Providers: []payments.Provider{fake}}
		out, err := shop.Apply(ctx, payments.Event{Provider: "fakepay", ID: "evt_1", Type: payments.CheckoutCompleted,
			SessionRef: "fake_" + hosted, PaymentRef: "pi_fake_1", AmountMinor: 49000, Currency: "EUR"}, s.Clock.Now())
		if err != nil || out != orders.Applied {
			t.Fatalf("paying the fake order: %s, %v", out, err)
		}
		res, body = fb.Get(t, "/staff/orders/"+hosted)
		webtest.MustContain(t, body, "Refund through Fakepay", "<dd>Fakepay</dd>")
		res, body = fb.Get(t, "/staff/orders?status=paid")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "<td>Mailguard Professional</td>", hosted)
		webtest.MustNotContain(t, body, "Record refund")
		res, _ = fb.Post(t, "/staff/orders/"+hosted+"/refund", nil)
		webtest.WantRedirect(t, res, "/staff/orders/"+hosted+"?done=order-refund-requested")
		res, body = fb.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "The payment processor made the refund", `<dd id="order-status">refunded</dd>`, "re_fake_1", "Credit note 2026-000004")
		if got := *fake.refunded; len(got) != 1 || got[0] != "pi_fake_1" {
			t.Fatalf("processor refunds: %v", got)
		}

		// A staff cancellation of a checkout paid meanwhile: refused.
		underway := placeOrder(t, d, b, "fakepay")
		*fake.paid = true
		res, body = fb.Post(t, "/staff/orders/"+underway+"/cancel", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		if o, _ := orders.ByNumber(ctx, d, underway); o.Status != orders.Pending {
			t.Fatalf("order %s after a refused cancellation", o.Status)
		}

		// Each refund is audited once, by the refund itself, as the staff
		// member from their network, with the reason.
		issued := webtest.AuditActions(t, d, "refund.issued")
		if len(issued) != 2 || len(webtest.AuditActions(t, d, "order.refund")) != 0 {
			t.Fatalf("refund audit entries: %+v", issued)
		}
		var reasons []string
		for _, e := range issued {
			if e.ActorType != "staff" || e.SourceNet == "" {
				t.Errorf("a refund audited without its staff member or network: %+v", e)
			}
			reasons = append(reasons, e.Detail)
		}
		if !strings.Contains(strings.Join(reasons, "|"), "returned by transfer on 7 May") || !strings.Contains(strings.Join(reasons, "|"), "refunded in full") {
			t.Errorf("refund audit entries lack their reasons: %q", reasons)
		}
		if len(webtest.AuditActions(t, d, "order.mark_paid")) != 1 || len(webtest.AuditActions(t, d, "order.cancel")) != 0 {
			t.Error("mark-paid and refused cancellations are not recorded as they happened")
		}

		// Support may not refund.
		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		sb.SignIn(t, sup)
		res, body = sb.Post(t, "/staff/orders/"+hosted+"/refund", nil)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
	})
}

// TestStaffFormsRefuseHostileText: the correction and catalog forms check
// every text with package input; a refusal shows the form again with the
// message (422), on both databases, and changes nothing. Numbers in
// addresses that are not text are 404, never a database error.
func TestStaffFormsRefuseHostileText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		placeOrder(t, d, b, "manual")
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(s)
		ob.SignIn(t, owner)

		good := url.Values{"name": {"Bea Buyer"}, "address": {"Neue Str. 1\r\n10115 Berlin"}, "country": {"DE"}, "reason": {"moved"}}
		for field, bad := range map[string]string{"name": "Bea\x00", "company": "\xff\xfe", "country": "D\nE", "reason": "fixed\r\nBcc: x",
			"address": "Evil \u202eStr. 1\n10115 Berlin"} {
			res, body := ob.Post(t, "/staff/invoices/2026-000001/correct", webtest.WithForm(good, field, bad))
			webtest.WantRefused(t, res, body, field, "The correction was not issued", "<details open>")
		}
		res, body := ob.Post(t, "/staff/invoices/2026-000001/correct", webtest.WithForm(good, "reason", ""))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Say in a sentence what is corrected and why.", `value="Bea Buyer"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM invoice_corrections`); n != 0 {
			t.Fatalf("%d corrections issued from refused forms", n)
		}

		var productID, editionID string
		d.QueryRowContext(context.Background(), `SELECT id FROM products WHERE slug = 'mailguard'`).Scan(&productID)
		d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&editionID)
		for _, tc := range []struct {
			what string
			form url.Values
			want string
		}{
			{"product", url.Values{"id": {productID}, "name": {"Mail\u202eguard"}, "active": {"on"}}, "The name contains an invisible character"},
			{"product", url.Values{"id": {productID}, "name": {"Mailguard"}, "tagline": {"a\r\nb"}, "active": {"on"}}, "The tagline contains a line break"},
			{"product", url.Values{"id": {productID}, "name": {"Mailguard"}, "description": {"ok\x00"}, "active": {"on"}}, "The description contains a NUL"},
			{"product", url.Values{"slug": {"new\xff"}, "name": {"New"}}, "The slug contains bytes that are not text"},
			{"edition", url.Values{"id": {editionID}, "name": {"Pro"}, "features": {"a\x1b[31m"}, "active": {"on"}}, "The list of features contains"},
			{"price", url.Values{"edition_id": {editionID}, "currency": {"EU\x00"}, "amount": {"5"}, "billing": {"one_time"}}, "The currency contains"},
			{"price", url.Values{"edition_id": {editionID}, "currency": {"GBP"}, "amount": {"five"}, "billing": {"one_time"}}, "Enter the amount as a number"},
		} {
			res, body := ob.Post(t, "/staff/catalog/"+tc.what, tc.form)
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
			// Text no person types is refused before the form by the site's
			// check of every form; what is merely wrong for the field, by
			// the form itself.
			if !strings.Contains(body, tc.want) && !strings.Contains(body, "nothing was changed") {
				t.Errorf("%s %v: the page lacks %q", tc.what, tc.form, tc.want)
			}
		}
		// A new edition of a product that does not exist: 404, not a
		// database error shown as a refusal.
		res, body = ob.Post(t, "/staff/catalog/edition", url.Values{"product_id": {"999999"}, "slug": {"x"}, "name": {"X"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = ob.Post(t, "/staff/catalog/product", url.Values{"id": {"abc"}, "name": {"X"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = s.Get(t, "/products/mailguard")
		webtest.MustContain(t, body, "Mailguard")
		webtest.MustNotContain(t, body, "\u202e")
		if n := webtest.Count(t, d, `SELECT count(*) FROM products`); n != 2 {
			t.Fatalf("%d products after refused forms", n)
		}

		for _, n := range []string{"%FF%FE", "%00", "AB%0D%0ACD", "%E2%80%AEX"} {
			for _, p := range []string{"/staff/orders/" + n, "/staff/invoices/" + n, "/staff/corrections/" + n} {
				res, body := ob.Get(t, p)
				webtest.WantStatus(t, res, body, http.StatusNotFound)
			}
			for _, p := range []string{"/staff/orders/" + n + "/cancel", "/staff/invoices/" + n + "/correct"} {
				res, body := ob.Post(t, p, nil)
				webtest.WantStatus(t, res, body, http.StatusNotFound)
			}
		}
	})
}

// TestFinanceRefundsChosenLines: finance opens the refund form of a paid
// order, chooses a quantity, sees the amount from the stored line and
// confirms; the order page then lists the refund with its credit note and
// says partly refunded. Amounts typed into the form are ignored; more than
// is left, a line refunded already and no reason are refused on the form
// (nothing changes); support may not open it.
func TestFinanceRefundsChosenLines(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		fake := newProcessorFake()
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}, fake))
		ctx := context.Background()
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)

		number := placeOrder(t, d, b, "fakepay")
		// Two seats of the line, so a quantity can be chosen.
		if _, err := d.ExecContext(ctx, `UPDATE order_lines SET quantity = 2, net_minor = 98000 WHERE order_id = (SELECT id FROM orders WHERE number = $1)`, number); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE orders SET subtotal_minor = 98000, total_minor = 98000 WHERE number = $1`, number); err != nil {
			t.Fatal(err)
		}
		shop := orders.Shop{DB: d, SiteName: webtest.Vendor.Name, BaseURL: webtest.BaseURL, Providers: []payments.Provider{fake}}
		if out, err := shop.Apply(ctx, payments.Event{Provider: "fakepay", ID: "evt_lines", Type: payments.CheckoutCompleted,
			SessionRef: "fake_" + number, PaymentRef: "pi_lines", AmountMinor: 98000, Currency: "EUR"}, s.Clock.Now()); err != nil || out != orders.Applied {
			t.Fatalf("paying the order: %s, %v", out, err)
		}
		o, _ := orders.ByNumber(ctx, d, number)
		line := "qty-" + webtest.Itoa(o.Lines[0].ID)
		path := "/staff/orders/" + number + "/refund-lines"

		res, body := fb.Get(t, "/staff/orders/"+number)
		webtest.MustContain(t, body, `href="`+path+`"`)
		res, body = fb.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Mailguard Professional", `name="`+line+`"`, `max="2"`, "through Fakepay", "€980.00")

		// Refused on the form, nothing changed.
		for _, tc := range []struct {
			form   url.Values
			status int
			want   string
		}{
			{url.Values{line: {"3"}, "reason": {"x"}}, http.StatusUnprocessableEntity, "left to refund"},
			{url.Values{line: {"1"}}, http.StatusUnprocessableEntity, "Say in a line why"},
			{url.Values{"qty-999999": {"1"}, "reason": {"x"}}, http.StatusUnprocessableEntity, "no such line"},
			{url.Values{line: {"one"}, "reason": {"x"}}, http.StatusUnprocessableEntity, "whole number"},
			{url.Values{"reason": {"x"}}, http.StatusConflict, "Choose how many"},
		} {
			tc.form.Set("confirm", "yes")
			res, body = fb.Post(t, path, tc.form)
			webtest.WantStatus(t, res, body, tc.status)
			webtest.MustContain(t, body, tc.want, `id="refund-error"`)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM refunds`); n != 0 || len(*fake.refunded) != 0 {
			t.Fatalf("%d refunds, %d processor refunds after refused forms", n, len(*fake.refunded))
		}

		// Review: the amount is the line's, whatever else the form says.
		form := url.Values{line: {"1"}, "reason": {"one seat returned"}, "amount": {"1"}, "gross_minor": {"1"}}
		res, body = fb.Post(t, path, form)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Confirm the refund", "total €490.00", "Refund €490.00 through Fakepay", `name="confirm" value="yes"`)
		if len(*fake.refunded) != 0 {
			t.Fatal("the review refunded")
		}
		form.Set("confirm", "yes")
		res, _ = fb.Post(t, path, form)
		webtest.WantRedirect(t, res, "/staff/orders/"+number+"?done=refund-made")
		if got := *fake.amounts; len(got) != 1 || got[0] != 49000 {
			t.Fatalf("the processor was asked for %v", got)
		}
		res, body = fb.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "The refund is made", `<dd id="order-status">paid</dd>`, "partly refunded: €490.00 returned, €490.00 left",
			`id="refunds"`, "1 × Mailguard Professional", "re_fake_1", "one seat returned", "Credit note 2026-000002")

		// The last seat: the order is refunded; the line cannot be
		// refunded again.
		res, _ = fb.Post(t, path, url.Values{"all": {"on"}, "reason": {"the rest"}, "confirm": {"yes"}})
		webtest.WantRedirect(t, res, "/staff/orders/"+number+"?done=refund-made")
		if got, _ := orders.ByNumber(ctx, d, number); got.Status != orders.Refunded {
			t.Fatalf("after refunding everything the order is %s", got.Status)
		}
		res, body = fb.Post(t, path, url.Values{line: {"1"}, "reason": {"again"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		if err := orders.CheckSequence(ctx, d, 2026); err != nil {
			t.Fatal(err)
		}
		es := webtest.AuditActions(t, d, "refund.issued")
		if len(es) != 2 || es[0].ActorID != fin.ID || es[0].SourceNet == "" {
			t.Fatalf("refund audit entries: %+v", es)
		}

		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		sb.SignIn(t, sup)
		res, body = sb.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = sb.Post(t, path, form)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
	})
}
