package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
)

// signedInCustomer creates a customer through the sign-in link flow of
// the customers package and returns a browser holding their session.
func signedInCustomer(t *testing.T, s *site, email string) (*browser, customers.Customer) {
	t.Helper()
	ctx := context.Background()
	var c customers.Customer
	var token string
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		raw, err := customers.RequestSignIn(ctx, tx, email, s.clock.Now())
		if err != nil {
			return err
		}
		if c, _, err = customers.CompleteSignIn(ctx, tx, raw, s.clock.Now()); err != nil {
			return err
		}
		token, err = customers.StartSession(ctx, tx, c.ID, s.clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(s)
	b.cookies["sk_customer"] = token
	return b, c
}

// priceID returns the id of the seeded Mailguard Professional EUR one-time
// price (€490.00).
func priceID(t *testing.T, d *db.DB) string {
	t.Helper()
	var id string
	err := d.QueryRowContext(context.Background(), `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
		WHERE e.slug = 'professional' AND pr.currency = 'EUR' AND pr.billing = 'one_time'`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var billingForm = url.Values{"name": {"Bea Buyer"}, "company": {"Buyer GmbH"}, "address": {"Hauptstr. 5\r\n10115 Berlin"}, "country": {"de"}, "vat_id": {"DE 123456789"}}

func withForm(v url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func newDemoProvider(t *testing.T) *payments.Demo {
	t.Helper()
	p, err := payments.NewDemo("http://127.0.0.1:8080", clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemoCheckoutEndToEnd(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d, withPayments(newDemoProvider(t), payments.Manual{}), withDemo())
		price := priceID(t, d)
		anon := newBrowser(s)
		res, _ := anon.get(t, "/checkout?price="+price)
		wantRedirect(t, res, "/account/login?next=")
		res, body := anon.get(t, "/products/mailguard")
		mustContain(t, body, `href="/checkout?price=`+price+`"`)

		b, c := signedInCustomer(t, s, "bea@example.com")
		res, body = b.get(t, "/checkout?price="+price)
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Mailguard Professional", "€490.00", "Test payment (demo only")

		res, body = b.post(t, "/checkout", withForm(billingForm, "price", price, "method", "demo", "name", ""))
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "Enter the name to put on the invoice")
		// Country and VAT ID are checked as the profile checks them.
		res, body = b.post(t, "/checkout", withForm(billingForm, "price", price, "method", "demo", "country", "ZZ"))
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "Enter the country as a two-letter code")
		res, body = b.post(t, "/checkout", withForm(billingForm, "price", price, "method", "demo", "vat_id", "DE12345"))
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		mustContain(t, body, "not the format of a VAT ID from Germany")
		res, body = b.post(t, "/checkout", withForm(billingForm, "price", "999999", "method", "demo"))
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = b.post(t, "/checkout", withForm(billingForm, "price", price, "method", "bitcoin"))
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		if n := countRows(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders from refused checkouts", n)
		}

		res, _ = b.post(t, "/checkout", withForm(billingForm, "price", price, "method", "demo"))
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/demo-pay/") {
			t.Fatalf("checkout answered %d to %q, want the demo payment page", res.StatusCode, res.Header.Get("Location"))
		}
		pay := strings.TrimPrefix(res.Header.Get("Location"), "http://127.0.0.1:8080")
		res, body = b.get(t, pay)
		wantStatus(t, res, body, 200)
		mustContain(t, body, "No card is asked for and no money moves", "€490.00")
		res, _ = b.post(t, pay+"/pay", nil)
		wantRedirect(t, res, "/account/orders/")
		orderURL := res.Header.Get("Location")
		res, body = b.get(t, orderURL)
		wantStatus(t, res, body, 200)
		mustContain(t, body, `<dd id="order-status">paid</dd>`, "Your payment has arrived", "Invoice 2026-000001")
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation' AND customer_id = $1`, c.ID); n != 1 {
			t.Fatalf("%d confirmation emails, want 1", n)
		}
		// Paying twice changes nothing.
		b.post(t, pay+"/pay", nil)
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 1 {
			t.Fatalf("a second test payment sent another confirmation (%d)", n)
		}
		res, body = b.get(t, "/account/invoices/2026-000001")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Invoice 2026-000001", "Bea Buyer", "Buyer GmbH", "VAT number DE123456789", "Milterworks GmbH")
		res, _ = b.get(t, "/account/invoices/2026-000001?download=1")
		if !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatal("invoice download is not offered as a file")
		}

		// Another customer sees neither the order nor its invoice.
		other, _ := signedInCustomer(t, s, "eve@example.com")
		res, body = other.get(t, orderURL)
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = other.get(t, "/account/invoices/2026-000001")
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestManualInvoiceAndFinanceMarksPaid(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d, withPayments(payments.Manual{}))
		b, _ := signedInCustomer(t, s, "bea@example.com")
		res, _ := b.post(t, "/checkout", withForm(billingForm, "price", priceID(t, d), "method", "manual"))
		wantRedirect(t, res, "/account/orders/")
		res, body := b.get(t, res.Header.Get("Location"))
		wantStatus(t, res, body, 200)
		mustContain(t, body, "invoice with payment instructions is on its way", `<dd id="order-status">pending</dd>`)
		number := regexp.MustCompile(`Order ([A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(body)[1]
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'manual_invoice'`); n != 1 {
			t.Fatalf("%d invoice emails", n)
		}

		support := addStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := newBrowser(s)
		sb.signIn(t, support)
		res, body = sb.get(t, "/staff/orders")
		wantStatus(t, res, body, http.StatusForbidden)

		fin := addStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := newBrowser(s)
		fb.signIn(t, fin)
		res, body = fb.get(t, "/staff/orders?status=pending")
		wantStatus(t, res, body, 200)
		mustContain(t, body, number, "Bea Buyer")
		res, body = fb.get(t, "/staff/orders?status=lost")
		wantStatus(t, res, body, http.StatusBadRequest)
		res, body = fb.get(t, "/staff/orders/"+number)
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Mark paid", "Hauptstr. 5")
		res, _ = fb.post(t, "/staff/orders/"+number+"/mark-paid", nil)
		wantRedirect(t, res, "/staff/orders/"+number+"?done=order-paid")
		res, body = fb.post(t, "/staff/orders/"+number+"/mark-paid", nil)
		wantStatus(t, res, body, http.StatusConflict)
		res, body = fb.get(t, "/staff/invoices/2026-000001")
		wantStatus(t, res, body, 200)
		o, err := orders.ByNumber(context.Background(), d, number)
		if err != nil || o.Status != orders.Paid {
			t.Fatalf("order after mark-paid: %+v, %v", o, err)
		}
		for _, a := range []string{"order.mark_paid", "personal_data.view"} {
			if len(auditActions(t, d, a)) == 0 {
				t.Errorf("no %s audit entry", a)
			}
		}
	})
}

func TestStaffEditsTheCatalog(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := newBrowser(s)
		b.signIn(t, owner)
		res, body := b.get(t, "/staff/catalog")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Mailguard", "Professional")
		var productID, editionID, price string
		d.QueryRowContext(context.Background(), `SELECT id FROM products WHERE slug = 'mailguard'`).Scan(&productID)
		d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&editionID)
		price = priceID(t, d)

		res, _ = b.post(t, "/staff/catalog/product", url.Values{"id": {productID}, "name": {"Mailguard 2"}, "tagline": {"New"}, "description": {"**Better**"}, "active": {"on"}})
		wantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.post(t, "/staff/catalog/price", url.Values{"id": {price}, "amount": {"1,290.00"}, "active": {"on"}})
		wantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.post(t, "/staff/catalog/price", url.Values{"edition_id": {editionID}, "currency": {"usd"}, "amount": {"540"}, "billing": {"one_time"}})
		wantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.post(t, "/staff/catalog/edition", url.Values{"product_id": {productID}, "slug": {"enterprise"}, "name": {"Enterprise"}, "features": {"All\r\nof it"}})
		wantRedirect(t, res, "/staff/catalog?done=saved")
		_, page := s.get(t, "/products/mailguard")
		mustContain(t, page, "Mailguard 2", "€1,290.00", "$540.00", "Enterprise")

		for _, bad := range []url.Values{
			{"id": {price}, "amount": {"12.345"}},
			{"id": {price}, "amount": {"-5"}},
			{"edition_id": {editionID}, "currency": {"EURO"}, "amount": {"5"}, "billing": {"one_time"}},
			{"edition_id": {editionID}, "currency": {"USD"}, "amount": {"5"}, "billing": {"one_time"}},
		} {
			res, body := b.post(t, "/staff/catalog/price", bad)
			wantStatus(t, res, body, http.StatusUnprocessableEntity)
		}
		res, body = b.post(t, "/staff/catalog/edition", url.Values{"product_id": {productID}, "slug": {"Bad Slug"}, "name": {"X"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = b.post(t, "/staff/catalog/price", url.Values{"id": {"99999"}, "amount": {"1"}})
		wantStatus(t, res, body, http.StatusNotFound)

		// Taking the price off sale removes it from the page and from checkout.
		res, _ = b.post(t, "/staff/catalog/price", url.Values{"id": {price}, "amount": {"1290"}})
		wantRedirect(t, res, "/staff/catalog?done=saved")
		_, page = s.get(t, "/products/mailguard")
		mustNotContain(t, page, "€1,290.00")
		if len(auditActions(t, d, "catalog.")) < 4 {
			t.Fatal("catalog changes were not recorded")
		}
	})
}

// TestStripeCheckoutAndSignedWebhooks: the real Stripe client against
// stripe-mock creates the hosted checkout; properly signed webhook
// deliveries pay the order once; forged, stale and tampered ones change
// nothing.
func TestStripeCheckoutAndSignedWebhooks(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		const secret = "whsec_test_storekeep"
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: secret, Backend: mock})
		if err != nil {
			t.Fatal(err)
		}
		s := newSite(t, d, withStripe(st))
		// Browsers apply form-action to the redirect after the checkout
		// form: the hosted page's origin must be allowed.
		if res, _ := s.get(t, "/"); !strings.Contains(res.Header.Get("Content-Security-Policy"), "form-action 'self' https://checkout.stripe.com;") {
			t.Fatalf("CSP does not allow the checkout redirect: %s", res.Header.Get("Content-Security-Policy"))
		}
		b, c := signedInCustomer(t, s, "bea@example.com")
		res, _ := b.post(t, "/checkout", withForm(billingForm, "price", priceID(t, d), "method", "stripe"))
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "http") {
			t.Fatalf("checkout answered %d to %q, want Stripe's page", res.StatusCode, res.Header.Get("Location"))
		}
		var number, session string
		if err := d.QueryRowContext(context.Background(), `SELECT number, processor_session FROM orders WHERE customer_id = $1`, c.ID).Scan(&number, &session); err != nil || session == "" {
			t.Fatalf("order has no checkout session: %q, %v", session, err)
		}

		post := func(payload []byte, sig string) *http.Response {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(payload))
			if sig != "" {
				req.Header.Set("Stripe-Signature", sig)
			}
			rec := httptest.NewRecorder()
			s.h.ServeHTTP(rec, req)
			return rec.Result()
		}
		ev := testutil.StripeCheckoutCompleted("evt_paid_1", testutil.StripeSession{ID: session, PaymentIntent: "pi_1", Customer: "cus_1",
			OrderNumber: number, AmountTotal: 49000, Currency: "eur"})
		payload, sig := testutil.SignedStripeEvent(t, secret, ev)

		// Forged: another secret; tampered: signed, then changed; stale.
		_, forged := testutil.SignedStripeEvent(t, "whsec_wrong", ev)
		tampered := []byte(strings.Replace(string(payload), "49000", "1", 1))
		stalePayload, staleSig := testutil.SignedStripeEventAt(t, secret, ev, s.clock.Now().Add(-time.Hour))
		for name, tc := range map[string][2][]byte{"forged": {payload, []byte(forged)}, "tampered": {tampered, []byte(sig)},
			"stale": {stalePayload, []byte(staleSig)}, "unsigned": {payload, nil}} {
			if r := post(tc[0], string(tc[1])); r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s webhook: %d, want 400", name, r.StatusCode)
			}
		}
		if o, _ := orders.ByNumber(context.Background(), d, number); o.Status != orders.Pending {
			t.Fatalf("a refused webhook changed the order to %s", o.Status)
		}
		if strings.Contains(s.logs.String(), "bea@example.com") {
			t.Fatal("a refused webhook logged personal data")
		}

		for i := range 3 { // delivered three times
			if r := post(payload, sig); r.StatusCode != http.StatusOK {
				t.Fatalf("delivery %d: %d", i+1, r.StatusCode)
			}
		}
		o, _ := orders.ByNumber(context.Background(), d, number)
		if o.Status != orders.Paid || o.ProcessorPayment != "pi_1" {
			t.Fatalf("order after the webhook: %+v", o)
		}
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 1 {
			t.Fatalf("%d confirmations, want 1", n)
		}
		if n := countRows(t, d, `SELECT count(*) FROM payment_events`); n != 1 {
			t.Fatalf("%d payment events recorded, want 1", n)
		}
		// No card data anywhere: only Stripe's references.
		if n := countRows(t, d, `SELECT count(*) FROM orders WHERE processor_payment LIKE 'pi_%' AND processor_customer = 'cus_1'`); n != 1 {
			t.Fatal("processor references not stored")
		}
	})
}

func TestDemoProviderNeedsDemoMode(t *testing.T) {
	d := testutil.SQLite(t)
	_, err := web.New(web.Options{DB: d, BaseURL: "http://127.0.0.1:8080", Payments: []payments.Provider{newDemoProvider(t)}})
	if err == nil || !strings.Contains(err.Error(), "only for `storekeep demo`") {
		t.Fatalf("web.New accepted the demo provider outside the demo: %v", err)
	}
}

// TestPolicyNamesPaymentAndMailProcessors: the recipients declared with
// orders and mail appear on the privacy policy with their location.
func TestPolicyNamesPaymentAndMailProcessors(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	_, body := s.get(t, "/privacy")
	mustContain(t, body, "<th scope=\"row\">Stripe</th>", "Ireland (Stripe Payments Europe) and the United States",
		"EU-U.S. Data Privacy Framework and Standard Contractual Clauses", "Email delivery provider",
		"Purchase and invoice records", "7 years after the end of the calendar year")
}

// TestFinanceCorrectsAnInvoice: finance issues a correction from the order
// page; the customer sees both documents; the invoice is unchanged.
func TestFinanceCorrectsAnInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d, withPayments(payments.Manual{}))
		b, _ := signedInCustomer(t, s, "bea@example.com")
		res, _ := b.post(t, "/checkout", withForm(billingForm, "price", priceID(t, d), "method", "manual"))
		orderURL := res.Header.Get("Location")
		number := strings.TrimPrefix(strings.SplitN(orderURL, "?", 2)[0], "/account/orders/")
		fin := addStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := newBrowser(s)
		fb.signIn(t, fin)
		res, body := fb.get(t, "/staff/orders/"+number)
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Correct the billing details of 2026-000001")
		res, body = fb.post(t, "/staff/invoices/2026-000001/correct", url.Values{"name": {"Bea Buyer"}, "address": {"x"}, "country": {"DE"}})
		wantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = fb.post(t, "/staff/invoices/2026-000001/correct", url.Values{"name": {"Bea Buyer"}, "company": {"Buyer AG"},
			"address": {"Neue Str. 1\r\n10115 Berlin"}, "country": {"de"}, "reason": {"company renamed"}})
		wantRedirect(t, res, "/staff/orders/"+number+"?done=corrected")
		res, body = fb.get(t, "/staff/corrections/2026-000002")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Correction 2026-000002", "corrects invoice 2026-000001", "Buyer AG", "Neue Str. 1")

		res, body = b.get(t, "/account/invoices/2026-000001")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Buyer GmbH")
		mustNotContain(t, body, "Buyer AG")
		res, body = b.get(t, orderURL)
		mustContain(t, body, "Correction 2026-000002")
		res, body = b.get(t, "/account/corrections/2026-000002")
		wantStatus(t, res, body, 200)
		other, _ := signedInCustomer(t, s, "eve@example.com")
		res, body = other.get(t, "/account/corrections/2026-000002")
		wantStatus(t, res, body, http.StatusNotFound)
		if len(auditActions(t, d, "invoice.corrected")) != 1 {
			t.Fatal("the correction was not recorded in the audit log")
		}
	})
}

// TestStaffLookUpACustomer: support finds a customer by address and sees
// contact data but no billing details; finance sees those too; every
// search and view is in the audit log.
func TestStaffLookUpACustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		_, c := signedInCustomer(t, s, "bea@example.com")
		err := d.Tx(context.Background(), func(tx *sql.Tx) error {
			_, err := customers.UpdateProfile(context.Background(), tx, c.ID, customers.Profile{Name: "Bea Buyer",
				AddressLine1: "Hauptstr. 5", PostalCode: "10115", City: "Berlin", Country: "DE"}, s.clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		sup := addStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := newBrowser(s)
		sb.signIn(t, sup)
		res, body := sb.get(t, "/staff/customers")
		wantStatus(t, res, body, 200)
		mustNotContain(t, body, "bea@example.com")
		res, body = sb.get(t, "/staff/customers?q=be")
		wantStatus(t, res, body, http.StatusBadRequest)
		res, body = sb.get(t, "/staff/customers?q=BEA@")
		wantStatus(t, res, body, 200)
		mustContain(t, body, "bea@example.com", "/staff/customers/"+itoa64(c.ID))
		res, body = sb.get(t, "/staff/customers/"+itoa64(c.ID))
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Bea Buyer", "bea@example.com")
		mustNotContain(t, body, "Hauptstr. 5")

		fin := addStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := newBrowser(s)
		fb.signIn(t, fin)
		res, body = fb.get(t, "/staff/customers/"+itoa64(c.ID))
		wantStatus(t, res, body, http.StatusForbidden) // finance has no customers.view
		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := newBrowser(s)
		ob.signIn(t, owner)
		res, body = ob.get(t, "/staff/customers/"+itoa64(c.ID))
		wantStatus(t, res, body, 200)
		mustContain(t, body, "Hauptstr. 5")
		res, body = ob.get(t, "/staff/customers/999999")
		wantStatus(t, res, body, http.StatusNotFound)
		views := 0
		for _, e := range auditActions(t, d, "personal_data.view") {
			if e.SubjectID == itoa64(c.ID) || e.SubjectType == "customers" {
				views++
			}
		}
		if views < 3 {
			t.Fatalf("%d recorded views of the customer, want the search and each opening", views)
		}
	})
}
