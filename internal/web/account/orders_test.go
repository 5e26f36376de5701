package account_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestCustomerSeesOnlyTheirOrdersAndDocuments: the buyer opens their
// order and, once it is paid, its invoice; another customer, and anyone
// guessing numbers, finds nothing there.
func TestCustomerSeesOnlyTheirOrdersAndDocuments(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		res, body := b.Get(t, res.Header.Get("Location"))
		webtest.WantStatus(t, res, body, http.StatusOK)
		number := regexp.MustCompile(`Order ([A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(body)[1]

		ctx := context.Background()
		o, err := orders.ByNumber(ctx, d, number)
		if err != nil {
			t.Fatal(err)
		}
		shop := orders.Shop{DB: d, SiteName: webtest.Vendor.Name, BaseURL: webtest.BaseURL, PaymentInstructions: "IBAN DE00",
			Providers: []payments.Provider{payments.Manual{}}}
		if _, err := shop.MarkPaid(ctx, o.ID, "test", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		res, body = b.Get(t, "/account/orders/"+number)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `<dd id="order-status">paid</dd>`, "/account/invoices/2026-000001")
		res, body = b.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "2026-000001", "Bea Buyer", "Milterworks GmbH")
		res, _ = b.Get(t, "/account/invoices/2026-000001?download=1")
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="invoice-2026-000001.html"` {
			t.Errorf("download: Content-Disposition %q", cd)
		}

		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		for _, p := range []string{"/account/orders/" + number, "/account/invoices/2026-000001", "/account/orders/ZZZZ-ZZZZ",
			"/account/invoices/2026-999999", "/account/corrections/2026-000001"} {
			res, body := other.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustNotContain(t, body, "Bea Buyer")
		}
	})
}

// hostedFake is a hosted processor for tests: it resumes its checkout,
// and says a checkout was paid when asked to close it once paid is set.
type hostedFake struct{ paid *bool }

func (hostedFake) Name() string  { return "fakepay" }
func (hostedFake) Label() string { return "Fake hosted payment" }
func (hostedFake) StartCheckout(_ context.Context, c payments.Checkout) (payments.Started, error) {
	return payments.Started{SessionRef: "fake_" + c.OrderNumber, RedirectURL: "https://pay.example/" + c.OrderNumber}, nil
}
func (hostedFake) ResumeCheckout(_ context.Context, ref string) (payments.Started, error) {
	return payments.Started{SessionRef: ref, RedirectURL: "https://pay.example/again/" + ref}, nil
}
func (f hostedFake) CloseCheckout(context.Context, string) error {
	if *f.paid {
		return payments.ErrCheckoutPaid
	}
	return nil
}

// TestCustomerPaysOrCancelsPendingOrders: a pending order's page offers
// "Pay now" and "Cancel order". Paying again goes back to the same open
// checkout or shows the invoice and bank details; an expired payment page
// is 410; cancelling closes the order (its invoice gets a credit note),
// and an order no longer pending, or whose payment is on its way, is 409
// and unchanged. The account page names what each order bought.
func TestCustomerPaysOrCancelsPendingOrders(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		paid := false
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{Instructions: "Milterworks GmbH\nIBAN DE00 1234 5678"}, hostedFake{&paid}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		price := webtest.PriceID(t, d)
		place := func(method string) string {
			t.Helper()
			res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", price, "method", method))
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("checkout with %s: %d", method, res.StatusCode)
			}
			var number string
			if err := d.QueryRowContext(context.Background(), `SELECT number FROM orders ORDER BY id DESC LIMIT 1`).Scan(&number); err != nil {
				t.Fatal(err)
			}
			return number
		}

		// By transfer: the invoice number to give and the bank details.
		manual := place("manual")
		res, body := b.Get(t, "/account/orders/"+manual)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `id="pay-now"`, `id="cancel-order"`)
		res, body = b.Post(t, "/account/orders/"+manual+"/pay", nil)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "How to pay", "Transfer €490.00", "<strong>2026-000001</strong>", "IBAN DE00 1234 5678")

		res, body = b.Get(t, "/account")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "<td>Mailguard Professional</td>")

		// Cancelled: the invoice is reversed, and nothing more can happen.
		res, _ = b.Post(t, "/account/orders/"+manual+"/cancel", nil)
		webtest.WantRedirect(t, res, "/account/orders/"+manual+"?done=cancelled")
		res, body = b.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "Your order is cancelled.", `<dd id="order-status">cancelled</dd>`, "Credit note 2026-000002")
		webtest.MustNotContain(t, body, `id="pay-now"`)
		for _, action := range []string{"cancel", "pay"} {
			res, body = b.Post(t, "/account/orders/"+manual+"/"+action, nil)
			webtest.WantStatus(t, res, body, http.StatusConflict)
			webtest.MustContain(t, body, "not waiting for payment")
		}

		// A hosted checkout: back to the same open page.
		hosted := place("fakepay")
		res, _ = b.Post(t, "/account/orders/"+hosted+"/pay", nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "https://pay.example/again/fake_"+hosted {
			t.Fatalf("pay now: %d to %q, want the open checkout", res.StatusCode, res.Header.Get("Location"))
		}
		// Paid at the processor while the buyer cancels: refused, unchanged.
		paid = true
		res, body = b.Post(t, "/account/orders/"+hosted+"/cancel", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "Your payment has been received and is being confirmed")
		if o, _ := orders.ByNumber(context.Background(), d, hosted); o.Status != orders.Pending {
			t.Fatalf("order %s after a refused cancellation", o.Status)
		}

		// Someone else's order, or none: 404, whatever the action.
		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		for _, p := range []string{"/account/orders/" + hosted + "/pay", "/account/orders/" + hosted + "/cancel", "/account/orders/ZZZZ-ZZZZ/pay"} {
			res, body := other.Post(t, p, nil)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}
	})
}

// TestPayNowSaysWhereTheBankDetailsAre: without configured bank details
// the page does not pretend the invoice carries them; it names who to
// ask, as the invoice mail does.
func TestPayNowSaysWhereTheBankDetailsAre(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		number := strings.TrimPrefix(strings.SplitN(res.Header.Get("Location"), "?", 2)[0], "/account/orders/")
		res, body := b.Post(t, "/account/orders/"+number+"/pay", nil)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "for the bank details to pay to", "mailto:support@milterworks.example")
		webtest.MustNotContain(t, body, "bank details are on the invoice")
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'manual_invoice' AND text_body LIKE '%Write to support@milterworks.example for the bank details%'`); n != 1 {
			t.Fatalf("%d invoice mails saying where the bank details are", n)
		}
	})
}

// TestExpiredPaymentPageIsGone: "Pay now" on an order whose processor's
// page can no longer be paid is 410 and says what to do.
func TestExpiredPaymentPageIsGone(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t)), webtest.WithDemo())
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "demo"))
		webtest.WantRedirect(t, res, webtest.BaseURL+"/demo-pay/")
		var number string
		if err := d.QueryRowContext(context.Background(), `SELECT number FROM orders`).Scan(&number); err != nil {
			t.Fatal(err)
		}
		res, _ = b.Post(t, "/account/orders/"+number+"/pay", nil)
		webtest.WantRedirect(t, res, webtest.BaseURL+"/demo-pay/demo_")
		// The demo knows its sessions by their form: one it cannot resume
		// stands for a payment page that ended.
		if _, err := d.ExecContext(context.Background(), `UPDATE orders SET processor_session = 'demo_ended' WHERE number = $1`, number); err != nil {
			t.Fatal(err)
		}
		res, body := b.Post(t, "/account/orders/"+number+"/pay", nil)
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "The payment page of this order has expired")
	})
}

// TestOrderAddressesThatNoNumberHas: numbers in order and document
// addresses that are not text (invalid UTF-8, NUL, line breaks) are 404,
// never a database error, on both databases.
func TestOrderAddressesThatNoNumberHas(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		for _, n := range []string{"%FF%FE", "%00", "AB%0D%0ACD", "%E2%80%AEXYZ"} {
			for _, p := range []string{"/account/orders/" + n, "/account/invoices/" + n, "/account/corrections/" + n} {
				res, body := b.Get(t, p)
				webtest.WantStatus(t, res, body, http.StatusNotFound)
			}
			res, body := b.Post(t, "/account/orders/"+n+"/pay", nil)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}
	})
}

// TestAccountFormsRefuseHostileText: the profile, sign-in and email
// change forms check every text with package input: invalid UTF-8, NUL,
// line breaks in one-line fields and direction overrides come back in the
// form with the field's message (422), nothing is stored or mailed, and
// PostgreSQL never sees them (no 500).
func TestAccountFormsRefuseHostileText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		good := url.Values{"name": {"Bea Buyer"}, "address_line1": {"Hauptstr. 5"}, "postal_code": {"10115"}, "city": {"Berlin"}, "country": {"DE"}}
		for field, bad := range map[string]string{
			"name": "Bea\x00", "company": "\xff\xfeGmbH", "address_line1": "Hauptstr. 5\r\nX", "city": "Ber\u202elin",
			"address_line2": "\u2066x\u2069", "vat_id": "DE\n123456789", "region": "a\tb", "postal_code": "1\x7f",
		} {
			res, body := b.Post(t, "/account/profile", webtest.WithForm(good, field, bad))
			webtest.WantRefused(t, res, body, field)
		}
		got, err := customers.ByID(context.Background(), d, c.ID)
		if err != nil || got.Name != "" || got.City != "" {
			t.Fatalf("a refused profile was stored: %+v, %v", got.Profile, err)
		}
		res, _ := b.Post(t, "/account/profile", good)
		webtest.WantRedirect(t, res, "/account?done=profile")

		mails := webtest.Count(t, d, `SELECT count(*) FROM outbox`)
		for _, bad := range []string{"bea\u202e@example.com", "bea@example.com\r\nBcc: eve@example.com", "\xffbea@example.com", "bea\x00@example.com"} {
			res, body := b.Post(t, "/account/email", url.Values{"email": {bad}})
			wantEmailRefused(t, res, body)
			res, body = webtest.NewBrowser(s).Post(t, "/account/login", url.Values{"email": {bad}, "next": {"/account\r\nX"}})
			wantEmailRefused(t, res, body)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox`); n != mails {
			t.Fatalf("%d mails queued for refused addresses", n-mails)
		}
		for _, tok := range []string{"%FF", "%00", "a%0D%0Ab"} {
			res, body := webtest.NewBrowser(s).Get(t, "/account/verify?token="+tok)
			webtest.WantStatus(t, res, body, http.StatusGone)
			res, body = b.Get(t, "/account/email/confirm?token="+tok)
			webtest.WantStatus(t, res, body, http.StatusGone)
		}
	})
}

// wantEmailRefused: a 422 saying what is wrong with the address, from the
// form or from the site's check of every form.
func wantEmailRefused(t *testing.T, res *http.Response, body string) {
	t.Helper()
	webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
	if !strings.Contains(body, "The email address contains") && !strings.Contains(body, "The field “email” contains") {
		t.Fatalf("the refusal does not say what is wrong with the address:\n%.400s", body)
	}
}
