package checkout_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// stripeWithPayments forwards to stripe-mock, except that it answers the
// list of an invoice's payments as Stripe does for a paid invoice
// (stripe-mock's fixture names no payment intent), and records which
// checkout mode was asked for.
func stripeWithPayments(t *testing.T, mock string) (url string, modes func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/invoice_payments" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"object":"list","url":"/v1/invoice_payments","has_more":false,"data":[{"id":"inpay_1",
				"object":"invoice_payment","invoice":"`+r.URL.Query().Get("invoice")+`","status":"paid",
				"payment":{"type":"payment_intent","payment_intent":"pi_renewal_1"}}]}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/checkout/sessions" && r.Method == http.MethodPost {
			mu.Lock()
			for _, kv := range strings.Split(string(body), "&") {
				if v, ok := strings.CutPrefix(kv, "mode="); ok {
					seen = append(seen, v)
				}
			}
			mu.Unlock()
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, mock+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// TestYearlyPriceRenewsBySubscription: through the assembled site, a
// yearly price bought with Stripe is a subscription checkout; the signed
// checkout completion issues the license; a year later the signed
// invoice.paid of the billing cycle (its payment asked of Stripe) becomes
// a paid renewal order that extends the same license, and a refund of that
// payment, found by it, suspends the license.
func TestYearlyPriceRenewsBySubscription(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		const secret = "whsec_test_storekeep"
		api, modes := stripeWithPayments(t, mock)
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: secret, Backend: api})
		if err != nil {
			t.Fatal(err)
		}
		s := webtest.NewSite(t, d, webtest.WithStripe(st), webtest.WithLicenseKeys(webtest.LicenseKeys))
		var yearly string
		if err := d.QueryRowContext(ctx, `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
			WHERE e.slug = 'professional' AND pr.billing = 'yearly'`).Scan(&yearly); err != nil {
			t.Fatal(err)
		}
		b, c := webtest.SignedInCustomer(t, s, "sam@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", yearly, "method", "stripe"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("checkout answered %d", res.StatusCode)
		}
		if m := modes(); len(m) != 1 || m[0] != "subscription" {
			t.Fatalf("checkout modes asked: %v", m)
		}
		var number, session string
		if err := d.QueryRowContext(ctx, `SELECT number, processor_session FROM orders WHERE customer_id = $1`, c.ID).Scan(&number, &session); err != nil {
			t.Fatal(err)
		}
		post := func(event []byte) { t.Helper(); s.StripeEvent(t, secret, event) }
		post(testutil.StripeCheckoutCompleted("evt_sub_paid", testutil.StripeSession{ID: session, Subscription: "sub_sam", Customer: "cus_sam",
			OrderNumber: number, AmountTotal: 9800, Currency: "eur"}))
		o, err := orders.ByNumber(ctx, d, number)
		if err != nil || o.Status != orders.Paid {
			t.Fatalf("order after the checkout: %+v, %v", o, err)
		}
		ls, err := licensing.ForOrder(ctx, d, o.ID, s.Clock.Now())
		if err != nil || len(ls) != 1 || ls[0].Perpetual() {
			t.Fatalf("licenses %+v, %v", ls, err)
		}
		lic := ls[0]

		s.Clock.Set(lic.ExpiresAt.Add(-time.Minute))
		end := lic.ExpiresAt.AddDate(1, 0, 0)
		post(testutil.StripeInvoiceEvent("evt_cycle_1", "invoice.paid", testutil.StripeInvoice{ID: "in_cycle_sam", Subscription: "sub_sam",
			OrderNumber: number, Customer: "cus_sam", AmountPaid: 9800, Total: 9800, Currency: "eur",
			PeriodStart: lic.ExpiresAt.Add(-time.Minute), PeriodEnd: end}))
		got, err := licensing.ByID(ctx, d, lic.ID, s.Clock.Now())
		if err != nil || !got.ExpiresAt.Equal(end) || got.Key != lic.Key {
			t.Fatalf("after the renewal: %+v, %v (want expiry %v, the same key)", got, err, end)
		}
		var renewal string
		if err := d.QueryRowContext(ctx, `SELECT number FROM orders WHERE processor_invoice = 'in_cycle_sam' AND processor_payment = 'pi_renewal_1' AND status = 'paid'`).
			Scan(&renewal); err != nil {
			t.Fatalf("no paid renewal order with the invoice's payment: %v", err)
		}
		b, _ = webtest.SignedInCustomer(t, s, "sam@example.com") // a year on: signed in again
		res, body := b.Get(t, "/account/orders/"+renewal)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "yearly renewal")

		post(testutil.StripeChargeRefunded("evt_refund_renewal", "pi_renewal_1", 9800, 9800, "eur"))
		if got, _ := licensing.ByID(ctx, d, lic.ID, s.Clock.Now()); got.Status != licensing.Suspended {
			t.Errorf("after the renewal's refund the license is %s", got.Status)
		}
		if strings.Contains(s.Logs.String(), "sam@example.com") {
			t.Error("the webhooks logged personal data")
		}
	})
}
