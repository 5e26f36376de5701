package payments_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// recorder remembers the requests a Stripe client sends, to check what
// reaches the API.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, idempotencyKey string
	form                         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recorded{method: req.Method, path: req.URL.Path, idempotencyKey: req.Header.Get("Idempotency-Key")}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		rec.form, _ = url.ParseQuery(string(b))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request reached the API")
	}
	return r.reqs[len(r.reqs)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func newStripe(t *testing.T, backend string) (*payments.Stripe, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, err := payments.NewStripe(payments.StripeConfig{
		SecretKey:     "sk_test_123",
		WebhookSecret: testSecret,
		Backend:       backend,
		HTTPClient:    &http.Client{Transport: rec},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func testCheckout() payments.Checkout {
	return payments.Checkout{
		OrderID:       42,
		OrderNumber:   "SK-2026-000042",
		CustomerEmail: "alice@example.com",
		Lines: []payments.Line{
			{Name: "QuillGuard Milter Professional (one-time)", AmountMinor: 49900, Currency: "EUR", Quantity: 1},
			{Name: "QuillGuard support, 1 year", AmountMinor: 9900, Currency: "EUR", Quantity: 2},
		},
		SuccessURL: "https://shop.example.com/checkout/done?order=SK-2026-000042",
		CancelURL:  "https://shop.example.com/checkout/cancelled?order=SK-2026-000042",
	}
}

func TestStripeStartCheckout(t *testing.T) {
	s, rec := newStripe(t, testutil.StartStripeMock(t))
	ctx := context.Background()

	st, err := s.StartCheckout(ctx, testCheckout())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.SessionRef, "cs_") {
		t.Errorf("SessionRef = %q, want a Checkout Session ID", st.SessionRef)
	}
	if u, err := url.Parse(st.RedirectURL); err != nil || u.Scheme != "https" {
		t.Errorf("RedirectURL = %q, want Stripe's https page", st.RedirectURL)
	}

	r := rec.last(t)
	if r.method != http.MethodPost || r.path != "/v1/checkout/sessions" {
		t.Fatalf("request %s %s, want POST /v1/checkout/sessions", r.method, r.path)
	}
	want := map[string]string{
		"mode":                   "payment",
		"client_reference_id":    "SK-2026-000042",
		"metadata[order_number]": "SK-2026-000042",
		"metadata[order_id]":     "42",
		"payment_intent_data[metadata][order_number]": "SK-2026-000042",
		"customer_email":                                "alice@example.com",
		"customer_creation":                             "always",
		"success_url":                                   "https://shop.example.com/checkout/done?order=SK-2026-000042",
		"cancel_url":                                    "https://shop.example.com/checkout/cancelled?order=SK-2026-000042",
		"line_items[0][price_data][currency]":           "eur",
		"line_items[0][price_data][unit_amount]":        "49900",
		"line_items[0][price_data][product_data][name]": "QuillGuard Milter Professional (one-time)",
		"line_items[0][quantity]":                       "1",
		"line_items[1][price_data][currency]":           "eur",
		"line_items[1][price_data][unit_amount]":        "9900",
		"line_items[1][quantity]":                       "2",
	}
	for k, v := range want {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"customer", "expires_at"} {
		if r.form.Has(k) {
			t.Errorf("%s sent (%q); it must not be", k, r.form.Get(k))
		}
	}
	if !strings.HasPrefix(r.idempotencyKey, "storekeep-checkout-SK-2026-000042-") {
		t.Errorf("Idempotency-Key = %q, want one derived from the order number", r.idempotencyKey)
	}

	// The same checkout again (a retry) sends the same key, so Stripe
	// answers with the first session; a changed checkout gets another key.
	if _, err := s.StartCheckout(ctx, testCheckout()); err != nil {
		t.Fatal(err)
	}
	if again := rec.last(t).idempotencyKey; again != r.idempotencyKey {
		t.Errorf("a repeated checkout sent key %q, the first %q", again, r.idempotencyKey)
	}
	changed := testCheckout()
	changed.Lines[0].AmountMinor = 39900
	if _, err := s.StartCheckout(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if other := rec.last(t).idempotencyKey; other == r.idempotencyKey {
		t.Errorf("a changed checkout reused the key %q", other)
	}
}

func TestStripeStartCheckoutKnownCustomer(t *testing.T) {
	s, rec := newStripe(t, testutil.StartStripeMock(t))
	c := testCheckout()
	c.CustomerRef = "cus_known123"
	if _, err := s.StartCheckout(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	r := rec.last(t)
	if got := r.form.Get("customer"); got != "cus_known123" {
		t.Errorf("customer = %q, want cus_known123", got)
	}
	for _, k := range []string{"customer_email", "customer_creation"} {
		if r.form.Has(k) {
			t.Errorf("%s sent with a customer: Stripe refuses that", k)
		}
	}
}

func TestStripeStartCheckoutRefusesBadCheckouts(t *testing.T) {
	// No backend is reachable here: a bad checkout never gets that far.
	s, rec := newStripe(t, "http://127.0.0.1:1")
	for name, mutate := range map[string]func(*payments.Checkout){
		"no order number": func(c *payments.Checkout) { c.OrderNumber = "" },
		"no lines":        func(c *payments.Checkout) { c.Lines = nil },
		"mixed currency":  func(c *payments.Checkout) { c.Lines[1].Currency = "USD" },
		"zero quantity":   func(c *payments.Checkout) { c.Lines[0].Quantity = 0 },
		"free line":       func(c *payments.Checkout) { c.Lines[0].AmountMinor = 0 },
		"no name":         func(c *payments.Checkout) { c.Lines[0].Name = " " },
		"bad currency":    func(c *payments.Checkout) { c.Lines[0].Currency = "EURO" },
		"no success URL":  func(c *payments.Checkout) { c.SuccessURL = "" },
	} {
		t.Run(name, func(t *testing.T) {
			c := testCheckout()
			mutate(&c)
			if _, err := s.StartCheckout(context.Background(), c); err == nil {
				t.Error("accepted")
			}
		})
	}
	if n := rec.count(); n != 0 {
		t.Errorf("%d requests sent for bad checkouts", n)
	}
}

func TestStripeRefundAndDeleteCustomer(t *testing.T) {
	s, rec := newStripe(t, testutil.StartStripeMock(t))
	ctx := context.Background()

	// A partial refund: the amount, the order and Storekeep's key reach
	// Stripe, and Stripe's refund ID comes back.
	ref, err := s.Refund(ctx, payments.RefundRequest{PaymentRef: "pi_3PaidOrder", AmountMinor: 12345, Currency: "EUR",
		Key: "SK-2026-000042-7", OrderNumber: "SK-2026-000042"})
	if err != nil {
		t.Fatalf("Refund: %v", err)
	}
	if !strings.HasPrefix(ref, "re_") {
		t.Errorf("refund reference = %q, want Stripe's re_ ID", ref)
	}
	r := rec.last(t)
	if r.method != http.MethodPost || r.path != "/v1/refunds" || r.form.Get("payment_intent") != "pi_3PaidOrder" {
		t.Errorf("refund sent as %s %s %v", r.method, r.path, r.form)
	}
	if r.form.Get("amount") != "12345" || r.form.Get("metadata[order_number]") != "SK-2026-000042" ||
		r.form.Get("metadata[storekeep_refund]") != "SK-2026-000042-7" {
		t.Errorf("refund form %v lacks the amount or the metadata", r.form)
	}
	if r.idempotencyKey != "storekeep-refund-SK-2026-000042-7" {
		t.Errorf("refund Idempotency-Key = %q", r.idempotencyKey)
	}

	if err := s.DeleteCustomer(ctx, "cus_ToErase"); err != nil {
		t.Fatalf("DeleteCustomer: %v", err)
	}
	if r := rec.last(t); r.method != http.MethodDelete || r.path != "/v1/customers/cus_ToErase" {
		t.Errorf("delete sent as %s %s", r.method, r.path)
	}

	before := rec.count()
	for _, bad := range []payments.RefundRequest{
		{AmountMinor: 1, Key: "k"},
		{PaymentRef: "pi_1", Key: "k"},
		{PaymentRef: "pi_1", AmountMinor: -5, Key: "k"},
		{PaymentRef: "pi_1", AmountMinor: 5},
	} {
		if _, err := s.Refund(ctx, bad); err == nil {
			t.Errorf("Refund %+v succeeded", bad)
		}
	}
	if rec.count() != before {
		t.Error("refused refunds reached the API")
	}
	if err := s.DeleteCustomer(ctx, ""); err == nil {
		t.Error("DeleteCustomer without a reference succeeded")
	}
}

// TestStripeRefundFailures: a refund Stripe refuses, and an API that
// cannot be reached, are errors (never a refund reference); a payment
// with nothing left is ErrAlreadyRefunded.
func TestStripeRefundFailures(t *testing.T) {
	req := payments.RefundRequest{PaymentRef: "pi_1", AmountMinor: 500, Currency: "EUR", Key: "K-1", OrderNumber: "K"}
	s, _ := newStripe(t, stripeAnswering(t, http.StatusBadRequest, "amount_too_large", "Refund amount is greater than unrefunded amount"))
	if ref, err := s.Refund(context.Background(), req); err == nil || ref != "" || errors.Is(err, payments.ErrAlreadyRefunded) {
		t.Errorf("a refused refund = %q, %v", ref, err)
	}
	// A closed port: nothing listens.
	ln := httptest.NewServer(http.NotFoundHandler())
	closed := ln.URL
	ln.Close()
	s, _ = newStripe(t, closed)
	if ref, err := s.Refund(context.Background(), req); err == nil || ref != "" {
		t.Errorf("a refund with Stripe unreachable = %q, %v", ref, err)
	}
}

// stripeAnswering is an API that answers every request with an error of
// Stripe's shape.
func stripeAnswering(t *testing.T, status int, code, message string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_test1")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"error":{"type":"invalid_request_error","code":"`+code+`","param":"customer_email","message":"`+message+`"}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestStripeErrorsLeaveOutStripesMessage(t *testing.T) {
	s, _ := newStripe(t, stripeAnswering(t, http.StatusBadRequest, "email_invalid", "Invalid email address: alice@example.com"))
	_, err := s.StartCheckout(context.Background(), testCheckout())
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "alice") {
		t.Errorf("error carries personal data from Stripe's message: %s", msg)
	}
	for _, want := range []string{"SK-2026-000042", "HTTP 400", "email_invalid", "customer_email", "req_test1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not name %s", msg, want)
		}
	}
	var se *payments.StripeError
	if !errors.As(err, &se) || se.Code != "email_invalid" || se.HTTPStatus != 400 {
		t.Errorf("error %#v is not a StripeError with code and status", err)
	}
}

func TestStripeRepeatedRefundAndDeletion(t *testing.T) {
	req := payments.RefundRequest{PaymentRef: "pi_1", AmountMinor: 500, Currency: "EUR", Key: "K-1", OrderNumber: "K"}
	s, _ := newStripe(t, stripeAnswering(t, http.StatusBadRequest, "charge_already_refunded", "Charge ch_1 has already been refunded."))
	if _, err := s.Refund(context.Background(), req); !errors.Is(err, payments.ErrAlreadyRefunded) {
		t.Errorf("refunding a refunded payment: %v, want ErrAlreadyRefunded", err)
	}
	s, _ = newStripe(t, stripeAnswering(t, http.StatusNotFound, "resource_missing", "No such customer: 'cus_1'"))
	if err := s.DeleteCustomer(context.Background(), "cus_1"); err != nil {
		t.Errorf("deleting a deleted customer: %v", err)
	}
	if _, err := s.Refund(context.Background(), req); err == nil {
		t.Error("a refund answered resource_missing succeeded")
	}
}

func TestNewStripeNeedsBothSecrets(t *testing.T) {
	if _, err := payments.NewStripe(payments.StripeConfig{WebhookSecret: "whsec_x"}); err == nil {
		t.Error("no secret key accepted")
	}
	if _, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_x"}); err == nil {
		t.Error("no webhook secret accepted")
	}
	s, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_x", WebhookSecret: "whsec_x"})
	if err != nil {
		t.Fatal(err)
	}
	var p payments.Provider = s
	if p.Name() != "stripe" || p.Label() == "" {
		t.Errorf("Name %q, Label %q", p.Name(), p.Label())
	}
}

// TestStripeResumeAndCloseCheckout: a buyer goes back to the same open
// session (a GET of it, nothing created); cancelling expires it at Stripe.
func TestStripeResumeAndCloseCheckout(t *testing.T) {
	s, rec := newStripe(t, testutil.StartStripeMock(t))
	ctx := context.Background()
	st, err := s.ResumeCheckout(ctx, "cs_test_resume")
	if err != nil || st.RedirectURL == "" || st.SessionRef == "" {
		t.Fatalf("ResumeCheckout = %+v, %v", st, err)
	}
	if r := rec.last(t); r.method != http.MethodGet || r.path != "/v1/checkout/sessions/cs_test_resume" {
		t.Fatalf("resume sent %s %s, want a GET of the session", r.method, r.path)
	}
	if _, err := s.ResumeCheckout(ctx, ""); !errors.Is(err, payments.ErrCheckoutEnded) {
		t.Fatalf("resume without a session: %v", err)
	}
	if err := s.CloseCheckout(ctx, "cs_test_resume"); err != nil {
		t.Fatalf("CloseCheckout: %v", err)
	}
	if r := rec.last(t); r.method != http.MethodPost || r.path != "/v1/checkout/sessions/cs_test_resume/expire" {
		t.Fatalf("close sent %s %s, want the expire call", r.method, r.path)
	}
}

// TestStripeSubscriptionCheckoutAndRenewal: a checkout with a yearly line
// is a Checkout Session in subscription mode that stripe-mock (Stripe's
// own API description) accepts, with the order on the subscription, no
// payment-mode parameters, and the one-time line charged once with the
// first invoice; SetRenewal turns the renewal off and on.
func TestStripeSubscriptionCheckoutAndRenewal(t *testing.T) {
	s, rec := newStripe(t, testutil.StartStripeMock(t))
	ctx := context.Background()
	c := testCheckout()
	c.Lines[1] = payments.Line{Name: "QuillGuard Milter Professional (yearly)", AmountMinor: 19000, Currency: "EUR", Quantity: 1, Yearly: true}
	if _, err := s.StartCheckout(ctx, c); err != nil {
		t.Fatal(err)
	}
	r := rec.last(t)
	want := map[string]string{
		"mode": "subscription",
		"subscription_data[metadata][order_number]":      "SK-2026-000042",
		"metadata[order_number]":                         "SK-2026-000042",
		"line_items[1][price_data][recurring][interval]": "year",
		"line_items[1][price_data][unit_amount]":         "19000",
		"customer_email":                                 "alice@example.com",
	}
	for k, v := range want {
		if got := r.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"line_items[0][price_data][recurring][interval]", "payment_intent_data[metadata][order_number]", "customer_creation"} {
		if r.form.Has(k) {
			t.Errorf("%s sent (%q); a subscription checkout must not", k, r.form.Get(k))
		}
	}

	for _, renew := range []bool{false, true} {
		if err := s.SetRenewal(ctx, "sub_1Renews", renew); err != nil {
			t.Fatalf("SetRenewal(%v): %v", renew, err)
		}
		r := rec.last(t)
		if r.method != http.MethodPost || r.path != "/v1/subscriptions/sub_1Renews" || r.form.Get("cancel_at_period_end") != strconv.FormatBool(!renew) {
			t.Errorf("SetRenewal(%v) sent %s %s %v", renew, r.method, r.path, r.form)
		}
	}
	if err := s.SetRenewal(ctx, "", false); err == nil {
		t.Error("SetRenewal without a reference succeeded")
	}

	// The payment of a renewal's invoice, asked of the API: stripe-mock
	// accepts the request (its fixture names no payment intent: "").
	if pi, err := s.InvoicePayment(ctx, "in_1Renewal"); err != nil || pi != "" {
		t.Errorf("InvoicePayment from stripe-mock = %q, %v", pi, err)
	}
	if r := rec.last(t); r.method != http.MethodGet || r.path != "/v1/invoice_payments" {
		t.Errorf("InvoicePayment sent %s %s", r.method, r.path)
	}
	if _, err := s.InvoicePayment(ctx, ""); err == nil {
		t.Error("InvoicePayment without a reference succeeded")
	}
	// An answer as Stripe gives it for a paid invoice.
	var query url.Values
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","url":"/v1/invoice_payments","has_more":false,"data":[
			{"id":"inpay_1","object":"invoice_payment","invoice":"in_1Renewal","status":"paid",
			 "payment":{"type":"payment_intent","payment_intent":"pi_3Renewal"}}]}`)
	}))
	t.Cleanup(api.Close)
	real, _ := newStripe(t, api.URL)
	if pi, err := real.InvoicePayment(ctx, "in_1Renewal"); err != nil || pi != "pi_3Renewal" {
		t.Errorf("InvoicePayment = %q, %v; want pi_3Renewal", pi, err)
	}
	if query.Get("invoice") != "in_1Renewal" || query.Get("status") != "paid" {
		t.Errorf("InvoicePayment asked %v", query)
	}
}
