package account_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

const longDate = "2 January 2006"

// yearlyPriceID is the seeded Mailguard Professional EUR yearly price
// (€98.00).
func yearlyPriceID(t *testing.T, d *db.DB) string {
	t.Helper()
	var id string
	err := d.QueryRowContext(context.Background(), `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
		WHERE e.slug = 'professional' AND pr.currency = 'EUR' AND pr.billing = 'yearly'`).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// buyYearly pays a yearly price with the demo's test payment and returns
// the license it issued.
func buyYearly(t *testing.T, s *webtest.Site, b *webtest.Browser, c customers.Customer) licensing.License {
	t.Helper()
	res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", yearlyPriceID(t, s.DB), "method", "demo", "save_profile", "on"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout answered %d", res.StatusCode)
	}
	pay := strings.TrimPrefix(res.Header.Get("Location"), webtest.BaseURL)
	res, _ = b.Post(t, pay+"/pay", nil)
	webtest.WantRedirect(t, res, "/account/orders/")
	ls, err := licensing.ForCustomer(context.Background(), s.DB, c.ID, s.Clock.Now())
	if err != nil || len(ls) != 1 || ls[0].Perpetual() {
		t.Fatalf("the purchase issued %v (%v), want one yearly license", ls, err)
	}
	return ls[0]
}

func orderNumberOf(t *testing.T, res *http.Response) string {
	t.Helper()
	loc := strings.TrimPrefix(res.Header.Get("Location"), webtest.BaseURL)
	n, ok := strings.CutPrefix(loc, "/account/orders/")
	if res.StatusCode != http.StatusSeeOther || !ok {
		t.Fatalf("answered %d to %q, want the order page", res.StatusCode, loc)
	}
	n, _, _ = strings.Cut(n, "?")
	return n
}

// TestRenewByInvoiceFromAccount: a yearly license not renewed
// automatically offers "Renew for a year"; the page shows the catalog's
// price and the new expiry; bad details place nothing; the order placed is
// invoiced at once, a second placement finds it, and when finance marks
// it paid the same key runs a year longer and the order shows the
// service period.
func TestRenewByInvoiceFromAccount(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buyYearly(t, s, b, c)
		renew := "/account/licenses/" + l.LicenseID + "/renew"

		_, body := b.Get(t, "/account/licenses")
		webtest.MustContain(t, body, `href="`+renew+`">Renew for a year`)
		_, body = b.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.MustContain(t, body, "Not renewed automatically: the license runs until "+l.ExpiresAt.Format(longDate), `href="`+renew+`"`)
		webtest.MustNotContain(t, body, "auto-renew")

		// Months later: the session ended, so the customer signs in again.
		s.Clock.Set(l.ExpiresAt.AddDate(0, 0, -20))
		b, _ = webtest.SignedInCustomer(t, s, "bea@example.com")
		res, body := b.Get(t, renew)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "€98.00", "for a year", "Until "+l.ExpiresAt.AddDate(1, 0, 0).Format(longDate),
			`value="Bea Buyer"`, `id="method-manual"`, `id="method-demo"`, "the invoice with the bank details is emailed")

		// Bad details, no way to pay, a tampered amount: nothing placed.
		res, body = b.Post(t, renew, webtest.WithForm(webtest.BillingForm, "country", "ZZ", "method", "manual"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Nothing was ordered", "two-letter code")
		res, body = b.Post(t, renew, webtest.WithForm(webtest.BillingForm, "method", "carrier-pigeon"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Choose a way to pay.")
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 1 {
			t.Fatalf("refused renewals left %d orders", n)
		}

		res, _ = b.Post(t, renew, webtest.WithForm(webtest.BillingForm, "method", "manual", "amount", "1", "price", "1"))
		number := orderNumberOf(t, res)
		o, err := orders.ByNumber(ctx, d, number)
		if err != nil || o.TotalMinor != 9800 || o.Status != orders.Pending || o.Lines[0].RenewsLicenseID != l.ID {
			t.Fatalf("renewal order %+v, %v", o, err)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE template = 'manual_invoice' AND to_addr = 'bea@example.com'`); n != 1 {
			t.Fatalf("%d invoice mails, want 1", n)
		}
		_, body = b.Get(t, "/account/orders/"+number+"?placed=1")
		webtest.MustContain(t, body, "Mailguard Professional (yearly renewal)", "Renews your license for a year once paid")

		// Back on the renewal page: the waiting order, no second form.
		_, body = b.Get(t, renew)
		webtest.MustContain(t, body, `id="renew-pending"`, number)
		webtest.MustNotContain(t, body, `id="renew-submit"`)
		res, _ = b.Post(t, renew, webtest.WithForm(webtest.BillingForm, "method", "demo"))
		if again := orderNumberOf(t, res); again != number || !strings.Contains(res.Header.Get("Location"), "done=renewal-waiting") {
			t.Fatalf("a second renewal led to %s", res.Header.Get("Location"))
		}
		_, body = b.Get(t, "/account/orders/"+number+"?done=renewal-waiting")
		webtest.MustContain(t, body, "waiting for payment")
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 2 {
			t.Fatalf("%d orders after a second renewal, want 2", n)
		}

		shop := orders.NewShop(d, webtest.Vendor.Name, "", webtest.BaseURL, []payments.Provider{payments.Manual{}}, "", licensing.ForOrders(webtest.LicenseKeys))
		if _, err := shop.MarkPaid(ctx, o.ID, "staff:1", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		after, err := licensing.ByID(ctx, d, l.ID, s.Clock.Now())
		if err != nil || !after.ExpiresAt.Equal(l.ExpiresAt.AddDate(1, 0, 0)) || after.Key != l.Key {
			t.Fatalf("after payment: expires %s (%v), key unchanged %v", after.ExpiresAt, err, after.Key == l.Key)
		}
		_, body = b.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.MustContain(t, body, "Until "+after.ExpiresAt.Format(longDate), l.Key)
		_, body = b.Get(t, "/account/orders/"+number)
		webtest.MustContain(t, body, "Service period "+l.ExpiresAt.Format(longDate)+" to "+after.ExpiresAt.Format(longDate))
		_, body = b.Get(t, "/account")
		webtest.MustContain(t, body, "(yearly renewal)")
	})
}

// TestRenewWithTheDemoPayment: the demo's test payment pays the renewal
// as a processor would, and the confirmation says "renewed".
func TestRenewWithTheDemoPayment(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		l := buyYearly(t, s, b, c)
		s.Clock.Set(l.ExpiresAt.AddDate(0, 0, -3))
		b, _ = webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/account/licenses/"+l.LicenseID+"/renew", webtest.WithForm(webtest.BillingForm, "method", "demo"))
		pay := strings.TrimPrefix(res.Header.Get("Location"), webtest.BaseURL)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(pay, "/demo-pay/") {
			t.Fatalf("renewal answered %d to %q, want the test payment page", res.StatusCode, pay)
		}
		res, _ = b.Post(t, pay+"/pay", nil)
		webtest.WantRedirect(t, res, "/account/orders/")
		after, err := licensing.ByID(ctx, d, l.ID, s.Clock.Now())
		if err != nil || !after.ExpiresAt.Equal(l.ExpiresAt.AddDate(1, 0, 0)) {
			t.Fatalf("after the test payment: %s, %v", after.ExpiresAt, err)
		}
		var text string
		if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'order_confirmation' ORDER BY id DESC LIMIT 1`).Scan(&text); err != nil {
			t.Fatal(err)
		}
		webtest.MustContain(t, text, "(yearly renewal)", "renewed, until "+after.ExpiresAt.Format(longDate), l.Key)
		if n := webtest.Count(t, d, `SELECT count(*) FROM subscriptions`); n != 0 {
			t.Fatalf("%d subscriptions after renewals paid by the demo", n)
		}
	})
}

// TestRenewRefusals: perpetual licenses, other customers' licenses and
// visitors not signed in cannot renew; editions no longer sold by the year
// say so.
func TestRenewRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := licenseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		perpetual := buy(t, s, b, c)
		res, body := b.Get(t, "/account/licenses/"+perpetual.LicenseID+"/renew")
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "perpetual")
		_, body = b.Get(t, "/account/licenses/"+perpetual.LicenseID)
		webtest.MustNotContain(t, body, `id="renew-link"`)

		other, oc := webtest.SignedInCustomer(t, s, "otto@example.com")
		l := buyYearly(t, s, other, oc)
		res, body = b.Get(t, "/account/licenses/"+l.LicenseID+"/renew")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = b.Post(t, "/account/licenses/"+l.LicenseID+"/renew", webtest.WithForm(webtest.BillingForm, "method", "manual"))
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		res, _ = webtest.NewBrowser(s).Get(t, "/account/licenses/"+l.LicenseID+"/renew")
		webtest.WantRedirect(t, res, "/account/login?next="+url.QueryEscape("/account/licenses/"+l.LicenseID+"/renew"))

		if _, err := d.ExecContext(ctx, `UPDATE prices SET active = FALSE WHERE billing = 'yearly'`); err != nil {
			t.Fatal(err)
		}
		res, body = other.Get(t, "/account/licenses/"+l.LicenseID+"/renew")
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "not sold by the year")
		_, body = other.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.MustNotContain(t, body, `id="renew-link"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 2 {
			t.Fatalf("%d orders, want the two purchases", n)
		}
	})
}

// recordingTransport keeps the bodies of the requests to Stripe.
type recordingTransport struct {
	mu     sync.Mutex
	bodies map[string][]string // by path
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		rt.mu.Lock()
		if rt.bodies == nil {
			rt.bodies = map[string][]string{}
		}
		rt.bodies[r.URL.Path] = append(rt.bodies[r.URL.Path], string(b))
		rt.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (rt *recordingTransport) sent(path string) []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.bodies[path]...)
}

// TestAutomaticRenewalOffAndOn: a yearly license bought by card renews
// automatically; the customer turns that off (Stripe is asked to cancel at
// the period's end), sees until when it runs, turns it on again; and a
// renewal they place themselves is charged once at Stripe, never as a
// second subscription.
func TestAutomaticRenewalOffAndOn(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const secret = "whsec_test_storekeep"
		rt := &recordingTransport{}
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: secret, Backend: mock,
			HTTPClient: &http.Client{Transport: rt, Timeout: 10 * time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		s := webtest.NewSite(t, d, webtest.WithStripe(st), webtest.WithLicenseKeys(webtest.LicenseKeys))
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", yearlyPriceID(t, d), "method", "stripe"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("checkout answered %d", res.StatusCode)
		}
		if got := rt.sent("/v1/checkout/sessions"); len(got) != 1 || !strings.Contains(got[0], "mode=subscription") {
			t.Fatalf("the yearly purchase's checkout: %v, want subscription mode", got)
		}
		var number, session string
		if err := d.QueryRowContext(ctx, `SELECT number, processor_session FROM orders WHERE customer_id = $1`, c.ID).Scan(&number, &session); err != nil {
			t.Fatal(err)
		}
		post := func(ev []byte) { t.Helper(); s.StripeEvent(t, secret, ev) }
		post(testutil.StripeCheckoutCompleted("evt_sub_paid", testutil.StripeSession{ID: session, PaymentIntent: "pi_1", Customer: "cus_1",
			OrderNumber: number, AmountTotal: 9800, Currency: "eur", Subscription: "sub_bea"}))
		ls, err := licensing.ForCustomer(ctx, d, c.ID, s.Clock.Now())
		if err != nil || len(ls) != 1 {
			t.Fatalf("licenses %v, %v", ls, err)
		}
		l := ls[0]
		page := "/account/licenses/" + l.LicenseID
		toggle := page + "/auto-renew"
		_, body := b.Get(t, page)
		webtest.MustContain(t, body, "Renews automatically on "+l.ExpiresAt.Format(longDate), `id="auto-renew-off"`)
		webtest.MustNotContain(t, body, `id="renew-link"`)
		_, body = b.Get(t, "/account/licenses")
		webtest.MustContain(t, body, "Renews automatically on "+l.ExpiresAt.Format(longDate))

		res, body = b.Post(t, toggle, url.Values{"renew": {"maybe"}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		if got := rt.sent("/v1/subscriptions/sub_bea"); len(got) != 0 {
			t.Fatalf("a bad form reached Stripe: %v", got)
		}

		res, _ = b.Post(t, toggle, url.Values{"renew": {"off"}})
		webtest.WantRedirect(t, res, page+"?done=auto-renew-off")
		if got := rt.sent("/v1/subscriptions/sub_bea"); len(got) != 1 || !strings.Contains(got[0], "cancel_at_period_end=true") {
			t.Fatalf("Stripe was asked %v, want cancel_at_period_end=true", got)
		}
		_, body = b.Get(t, page+"?done=auto-renew-off")
		webtest.MustContain(t, body, "Automatic renewal is off", "Automatic renewal is off: the license runs until "+l.ExpiresAt.Format(longDate),
			`id="auto-renew-on"`, `id="renew-link"`)

		res, _ = b.Post(t, toggle, url.Values{"renew": {"on"}})
		webtest.WantRedirect(t, res, page+"?done=auto-renew-on")
		if got := rt.sent("/v1/subscriptions/sub_bea"); len(got) != 2 || !strings.Contains(got[1], "cancel_at_period_end=false") {
			t.Fatalf("Stripe was asked %v, want cancel_at_period_end=false second", got)
		}
		_, body = b.Get(t, page+"?done=auto-renew-on")
		webtest.MustContain(t, body, "Automatic renewal is on again", `id="auto-renew-off"`)
		var history int
		if err := d.QueryRowContext(ctx, `SELECT count(*) FROM order_events WHERE detail LIKE 'automatic renewal turned%'`).Scan(&history); err != nil || history != 2 {
			t.Fatalf("%d history entries of the switch (%v), want 2", history, err)
		}

		// Another customer cannot switch it.
		other, _ := webtest.SignedInCustomer(t, s, "otto@example.com")
		res, body = other.Post(t, toggle, url.Values{"renew": {"off"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		// A renewal placed by hand and paid by card is a one-time payment.
		res, _ = b.Post(t, page+"/renew", webtest.WithForm(webtest.BillingForm, "method", "stripe"))
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "http") {
			t.Fatalf("renewal by card answered %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if got := rt.sent("/v1/checkout/sessions"); len(got) != 2 || !strings.Contains(got[1], "mode=payment") || strings.Contains(got[1], "recurring") {
			t.Fatalf("the renewal's checkout: %v, want a one-time payment", got)
		}
		var rnumber, rsession string
		if err := d.QueryRowContext(ctx, `SELECT o.number, o.processor_session FROM orders o JOIN order_lines l ON l.order_id = o.id
			WHERE l.renews_license_id = $1`, l.ID).Scan(&rnumber, &rsession); err != nil {
			t.Fatal(err)
		}
		post(testutil.StripeCheckoutCompleted("evt_renewal_paid", testutil.StripeSession{ID: rsession, PaymentIntent: "pi_2", Customer: "cus_1",
			OrderNumber: rnumber, AmountTotal: 9800, Currency: "eur"}))
		after, err := licensing.ByID(ctx, d, l.ID, s.Clock.Now())
		if err != nil || !after.ExpiresAt.Equal(l.ExpiresAt.AddDate(1, 0, 0)) {
			t.Fatalf("after the card renewal: %s, %v", after.ExpiresAt, err)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM subscriptions`); n != 1 {
			t.Fatalf("%d subscriptions, want the one the purchase started", n)
		}
	})
}
