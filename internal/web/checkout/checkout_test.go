package checkout_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/app"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestDemoCheckoutEndToEnd(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t), payments.Manual{}), webtest.WithDemo())
		price := webtest.PriceID(t, d)
		anon := webtest.NewBrowser(s)
		res, _ := anon.Get(t, "/checkout?price="+price)
		webtest.WantRedirect(t, res, "/account/login?next=")
		res, body := anon.Get(t, "/products/mailguard")
		webtest.MustContain(t, body, `href="/checkout?price=`+price+`"`)

		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, body = b.Get(t, "/checkout?price="+price)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Mailguard Professional", "€490.00", "Test payment (demo only")

		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo", "name", ""))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Enter the name to put on the invoice")
		// Country and VAT ID are checked as the profile checks them.
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo", "country", "ZZ"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Enter the country as a two-letter code")
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo", "vat_id", "DE12345"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "not the format of a VAT ID from Germany")
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", "999999", "method", "demo"))
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "bitcoin"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders from refused checkouts", n)
		}

		res, _ = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo"))
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "/demo-pay/") {
			t.Fatalf("checkout answered %d to %q, want the demo payment page", res.StatusCode, res.Header.Get("Location"))
		}
		pay := strings.TrimPrefix(res.Header.Get("Location"), "http://127.0.0.1:8080")
		res, body = b.Get(t, pay)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "No card is asked for and no money moves", "€490.00")
		res, _ = b.Post(t, pay+"/pay", nil)
		webtest.WantRedirect(t, res, "/account/orders/")
		orderURL := res.Header.Get("Location")
		res, body = b.Get(t, orderURL)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, `<dd id="order-status">paid</dd>`, "Your payment has arrived", "Invoice 2026-000001")
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation' AND customer_id = $1`, c.ID); n != 1 {
			t.Fatalf("%d confirmation emails, want 1", n)
		}
		// Paying twice changes nothing.
		b.Post(t, pay+"/pay", nil)
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 1 {
			t.Fatalf("a second test payment sent another confirmation (%d)", n)
		}
		res, body = b.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Invoice 2026-000001", "Bea Buyer", "Buyer GmbH", "VAT number DE123456789", "Milterworks GmbH",
			"A document of the demo: the vendor is made up and no money moved.")
		res, _ = b.Get(t, "/account/invoices/2026-000001?download=1")
		if !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatal("invoice download is not offered as a file")
		}

		// Another customer sees neither the order nor its invoice.
		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		res, body = other.Get(t, orderURL)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = other.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestManualInvoiceAndFinanceMarksPaid(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		res, body := b.Get(t, res.Header.Get("Location"))
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "invoice with payment instructions is on its way", `<dd id="order-status">pending</dd>`)
		number := regexp.MustCompile(`Order ([A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(body)[1]
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'manual_invoice'`); n != 1 {
			t.Fatalf("%d invoice emails", n)
		}

		support := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		sb.SignIn(t, support)
		res, body = sb.Get(t, "/staff/orders")
		webtest.WantStatus(t, res, body, http.StatusForbidden)

		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)
		res, body = fb.Get(t, "/staff/orders?status=pending")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, number, "Bea Buyer")
		res, body = fb.Get(t, "/staff/orders?status=lost")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = fb.Get(t, "/staff/orders/"+number)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Mark paid", "Hauptstr. 5")
		res, _ = fb.Post(t, "/staff/orders/"+number+"/mark-paid", nil)
		webtest.WantRedirect(t, res, "/staff/orders/"+number+"?done=order-paid")
		res, body = fb.Post(t, "/staff/orders/"+number+"/mark-paid", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		res, body = fb.Get(t, "/staff/invoices/2026-000001")
		webtest.WantStatus(t, res, body, 200)
		o, err := orders.ByNumber(context.Background(), d, number)
		if err != nil || o.Status != orders.Paid {
			t.Fatalf("order after mark-paid: %+v, %v", o, err)
		}
		for _, a := range []string{"order.mark_paid", "personal_data.view"} {
			if len(webtest.AuditActions(t, d, a)) == 0 {
				t.Errorf("no %s audit entry", a)
			}
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
		s := webtest.NewSite(t, d, webtest.WithStripe(st))
		// Browsers apply form-action to the redirect after the checkout
		// form: the hosted page's origin must be allowed.
		if res, _ := s.Get(t, "/"); !strings.Contains(res.Header.Get("Content-Security-Policy"), "form-action 'self' https://checkout.stripe.com;") {
			t.Fatalf("CSP does not allow the checkout redirect: %s", res.Header.Get("Content-Security-Policy"))
		}
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		// Card wording only where a processor takes cards (defect 14).
		res, body := b.Get(t, "/checkout?price="+webtest.PriceID(t, d))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Card and other methods (Stripe)", "you enter your card details on the payment provider's own page")
		webtest.MustNotContain(t, body, "bank transfer", "license")
		res, _ = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "stripe"))
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
			s.H.ServeHTTP(rec, req)
			return rec.Result()
		}
		ev := testutil.StripeCheckoutCompleted("evt_paid_1", testutil.StripeSession{ID: session, PaymentIntent: "pi_1", Customer: "cus_1",
			OrderNumber: number, AmountTotal: 49000, Currency: "eur"})
		payload, sig := testutil.SignedStripeEvent(t, secret, ev)

		// Forged: another secret; tampered: signed, then changed; stale.
		_, forged := testutil.SignedStripeEvent(t, "whsec_wrong", ev)
		tampered := []byte(strings.Replace(string(payload), "49000", "1", 1))
		stalePayload, staleSig := testutil.SignedStripeEventAt(t, secret, ev, s.Clock.Now().Add(-time.Hour))
		for name, tc := range map[string][2][]byte{"forged": {payload, []byte(forged)}, "tampered": {tampered, []byte(sig)},
			"stale": {stalePayload, []byte(staleSig)}, "unsigned": {payload, nil}} {
			if r := post(tc[0], string(tc[1])); r.StatusCode != http.StatusBadRequest {
				t.Errorf("%s webhook: %d, want 400", name, r.StatusCode)
			}
		}
		if o, _ := orders.ByNumber(context.Background(), d, number); o.Status != orders.Pending {
			t.Fatalf("a refused webhook changed the order to %s", o.Status)
		}
		if strings.Contains(s.Logs.String(), "bea@example.com") {
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
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'order_confirmation'`); n != 1 {
			t.Fatalf("%d confirmations, want 1", n)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM payment_events`); n != 1 {
			t.Fatalf("%d payment events recorded, want 1", n)
		}
		// No card data anywhere: only Stripe's references.
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders WHERE processor_payment LIKE 'pi_%' AND processor_customer = 'cus_1'`); n != 1 {
			t.Fatal("processor references not stored")
		}
	})
}

func TestDemoProviderNeedsDemoMode(t *testing.T) {
	d := testutil.SQLite(t)
	_, err := app.New(app.Options{Options: web.Options{DB: d, BaseURL: webtest.BaseURL}, Payments: []payments.Provider{webtest.NewDemoProvider(t)}})
	if err == nil || !strings.Contains(err.Error(), "only for `storekeep demo`") {
		t.Fatalf("app.New accepted the demo provider outside the demo: %v", err)
	}
}

// TestPolicyNamesPaymentAndMailProcessors: the recipients declared with
// orders and mail appear on the privacy policy with their location.
func TestPolicyNamesPaymentAndMailProcessors(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	_, body := s.Get(t, "/privacy")
	webtest.MustContain(t, body, "<th scope=\"row\">Stripe</th>", "Ireland (Stripe Payments Europe) and the United States",
		"EU-U.S. Data Privacy Framework and Standard Contractual Clauses", "Email delivery provider",
		"Purchase and invoice records", "7 years after the end of the calendar year")
}

// TestCheckoutSavesDetailsToProfile: the buyer's billing details become
// their profile only when they tick the box; an address the profile
// cannot hold still places the order, and the page says what was not
// saved; a profile's address comes back to the form as it was and is
// saved unchanged (region included).
func TestCheckoutSavesDetailsToProfile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t), payments.Manual{}), webtest.WithDemo())
		price := webtest.PriceID(t, d)
		ctx := context.Background()
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		profile := func() customers.Profile {
			t.Helper()
			got, err := customers.ByID(ctx, d, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Profile
		}

		// Not ticked: the profile stays empty.
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		if p := profile(); p.Name != "" || p.AddressLine1 != "" {
			t.Fatalf("details saved without the box ticked: %+v", p)
		}

		// Ticked: saved, the address split into the profile's fields.
		res, _ = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "save_profile", "on"))
		webtest.WantRedirect(t, res, "/account/orders/")
		p := profile()
		if p.Name != "Bea Buyer" || p.Company != "Buyer GmbH" || p.AddressLine1 != "Hauptstr. 5" || p.PostalCode != "10115" ||
			p.City != "Berlin" || p.Country != "DE" || p.VATID != "DE123456789" {
			t.Fatalf("profile after checkout: %+v", p)
		}

		// The form shows the profile; sent back unchanged, the profile's
		// fields stay as they were, region included.
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			p.AddressLine2, p.Region = "Hinterhaus", "Brandenburg"
			_, err := customers.UpdateProfile(ctx, tx, c.ID, p, s.Clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		res, body := b.Get(t, "/checkout?price="+price)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Hauptstr. 5\nHinterhaus\n10115 Berlin\nBrandenburg</textarea>", `name="save_profile"`)
		res, _ = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "save_profile", "on",
			"address", orders.ProfileAddress(p)))
		webtest.WantRedirect(t, res, "/account/orders/")
		if got := profile(); got != p {
			t.Fatalf("an unchanged address changed the profile:\n got %+v\nwant %+v", got, p)
		}

		// An address on one line cannot be split: the order is placed all
		// the same, and the buyer reads why the profile did not change.
		orders0 := webtest.Count(t, d, `SELECT count(*) FROM orders`)
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "demo", "save_profile", "on",
			"address", "Am Markt 1, Potsdam"))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "is placed", "Your billing details were not saved to your profile",
			"write the street on the first line", `id="continue-payment"`, "/demo-pay/")
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != orders0+1 {
			t.Fatalf("%d orders, want %d: the order must stand when the profile is not saved", n, orders0+1)
		}
		if got := profile(); got != p {
			t.Fatalf("a refused save changed the profile: %+v", got)
		}
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "save_profile", "on",
			"address", "Am Markt 1, Potsdam"))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your billing details were not saved", "invoice with payment instructions is on its way", "/account/orders/")

		// A refused form keeps the box as it was.
		res, body = b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "save_profile", "on", "name", ""))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, `name="save_profile" checked`)
	})
}

// TestCancelledDemoOrderCannotBePaid: once the buyer cancelled on the
// demo's payment page, neither the page nor its pay button makes the
// order paid; an unknown action is a 404.
func TestCancelledDemoOrderCannotBePaid(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t)), webtest.WithDemo())
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "demo"))
		pay := strings.TrimPrefix(res.Header.Get("Location"), webtest.BaseURL)
		if !strings.HasPrefix(pay, "/demo-pay/") {
			t.Fatalf("checkout went to %q", pay)
		}
		res, body := b.Post(t, pay+"/refund", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, _ = b.Post(t, pay+"/cancel", nil)
		webtest.WantRedirect(t, res, "/account/orders/")
		res, body = b.Get(t, pay)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "is cancelled, so this test payment has ended")
		res, body = b.Post(t, pay+"/pay", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		var number string
		d.QueryRowContext(context.Background(), `SELECT number FROM orders`).Scan(&number)
		res, body = b.Get(t, "/account/orders/"+number)
		webtest.MustContain(t, body, `<dd id="order-status">cancelled</dd>`, "No invoice was issued for this order.")
		webtest.MustNotContain(t, body, "The invoice is issued when the payment arrives", `id="pay-now"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders WHERE status = 'cancelled'`); n != 1 {
			t.Fatal("the cancelled demo order changed state")
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM invoices`); n != 0 {
			t.Fatalf("%d invoices for a cancelled order", n)
		}
		res, body = b.Get(t, "/demo-pay/demo_000000000000000000000000")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

// TestCheckoutRefusesHostileText (issue 9, defect 4): billing fields with
// invalid UTF-8, NUL, line breaks in one-line fields or direction
// overrides come back in the form with each field's message (422), on
// both databases (PostgreSQL refused invalid UTF-8 with a 500 before),
// and no order, invoice or mail is made.
func TestCheckoutRefusesHostileText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		price := webtest.PriceID(t, d)
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		for _, tc := range []struct{ field, value, want string }{
			{"name", "Bea \xff\xfe Buyer", "The name to put on the invoice contains bytes that are not text"},
			{"name", "Bea\x00Buyer", "contains a NUL character"},
			{"name", "Bea Buyer\r\nX-Spoof: 1", "contains a line break"},
			{"company", "Buyer \u202eHbmG", "an invisible character that changes the direction of the text"},
			{"company", "\u2067Buyer\u2069", "an invisible character that changes the direction of the text"},
			{"address", "Hauptstr. 5\x00\n10115 Berlin", "The billing address contains a NUL character"},
			{"address", "Hauptstr. \u202e5\n10115 Berlin", "The billing address contains an invisible character"},
			{"country", "D\xffE", "The country contains bytes that are not text"},
			{"vat_id", "DE\r\n123456789", "The VAT ID contains a line break"},
			{"price", price + "\x00", ""},
			{"method", "manual\x00", "Choose a way to pay."},
		} {
			res, body := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", tc.field, tc.value))
			// Text no person types is refused by the site's check of every
			// form; what is merely wrong for the field, by the form itself.
			webtest.WantRefused(t, res, body, tc.field)
			if strings.Contains(body, `id="`+tc.field+`-error"`) {
				webtest.MustContain(t, body, tc.want)
			}
		}
		for _, table := range []string{"orders", "invoices", "outbox"} {
			if n := webtest.Count(t, d, `SELECT count(*) FROM `+table); n != 0 {
				t.Errorf("%d rows in %s after refused checkouts", n, table)
			}
		}
		res, body := b.Get(t, "/checkout?price=%FF")
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
	})
}

// TestCheckoutSaysOnlyWhatIsTrue (issue 9, defect 14): the checkout page
// names the ways to pay that are configured and nothing else, speaks of
// card payments only when a processor takes cards, of bank transfers only
// when they are offered, and promises no license key; the demo's banner
// says payments are tests, not that nothing can be bought.
func TestCheckoutSaysOnlyWhatIsTrue(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
	price := webtest.PriceID(t, d)
	b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
	res, body := b.Get(t, "/checkout?price="+price)
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "Invoice / bank transfer", "invoice with the bank details is emailed to you at once")
	for _, claim := range []string{"by card", "card details", "Card", "license", "License", "Stripe", "Test payment", "demo-banner"} {
		webtest.MustNotContain(t, body, claim)
	}

	none := webtest.NewSite(t, testutil.SQLite(t))
	nb, _ := webtest.SignedInCustomer(t, none, "bea@example.com")
	res, body = nb.Get(t, "/checkout?price="+webtest.PriceID(t, none.DB))
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "No way to pay is set up on this site yet")
	webtest.MustNotContain(t, body, "Place order", "by card", "bank transfer")

	demo := webtest.NewSite(t, testutil.SQLite(t), webtest.WithPayments(webtest.NewDemoProvider(t)), webtest.WithDemo())
	db2, _ := webtest.SignedInCustomer(t, demo, "bea@example.com")
	res, body = db2.Get(t, "/checkout?price="+webtest.PriceID(t, demo.DB))
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "Test payment (demo only, no money moves)", `class="demo-banner"`,
		"Payments here are test payments: no money moves", "/dev/mail")
	webtest.MustNotContain(t, body, "nothing can be bought", "by card", "bank transfer", "license")
}
