package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	// SecretKey is the API key (sk_live_... or sk_test_...; a restricted
	// key needs write access to Checkout Sessions, Refunds, Customers and
	// Subscriptions, and read access to Invoices).
	SecretKey string
	// WebhookSecret is the signing secret of the webhook endpoint
	// (whsec_...), which ParseWebhook checks every delivery against.
	WebhookSecret string
	// Backend is the base URL of the API, such as stripe-mock's
	// http://127.0.0.1:12111 in tests; "" means Stripe's real API.
	Backend string
	// HTTPClient makes the API requests; nil means a client with a
	// 30-second timeout.
	HTTPClient *http.Client
}

// Stripe takes payments on Stripe's hosted Checkout page and learns the
// outcome from Stripe's signed webhook events. Only Stripe's references
// (checkout session, payment intent, customer) reach us, never card data.
//
// Each Stripe value has its own API client: nothing is kept in stripe-go's
// package-level settings, so instances (and tests) never share a key or a
// backend.
type Stripe struct {
	api           *stripe.Client
	webhookSecret string
}

// stripeTolerance is how old a webhook signature may be. Stripe signs each
// delivery attempt afresh, so a genuine retry is never older than this;
// an older one is a replay.
const stripeTolerance = 5 * time.Minute

// NewStripe returns the Stripe provider. Both secrets are required.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("payments: Stripe needs its secret API key (STOREKEEP_STRIPE_SECRET_KEY)")
	}
	if cfg.WebhookSecret == "" {
		return nil, errors.New("payments: Stripe needs the webhook endpoint's signing secret (STOREKEEP_STRIPE_WEBHOOK_SECRET); without it payments are never confirmed")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	bc := &stripe.BackendConfig{
		HTTPClient: hc,
		// stripe-go logs failed requests with Stripe's message, which can
		// quote what we sent (an email address): errors go back to the
		// caller instead, reduced by stripeError.
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}
	if cfg.Backend != "" {
		bc.URL = stripe.String(strings.TrimSuffix(cfg.Backend, "/"))
	}
	api := stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))
	return &Stripe{api: api, webhookSecret: cfg.WebhookSecret}, nil
}

// Name returns "stripe".
func (*Stripe) Name() string { return "stripe" }

// Label names Stripe on the checkout page.
func (*Stripe) Label() string { return "Card and other methods (Stripe)" }

// FormOrigins are the origins the checkout form's redirect leads to: the
// site's Content-Security-Policy form-action must allow them, or browsers
// stop the redirect to the hosted payment page.
func (*Stripe) FormOrigins() []string { return []string{"https://checkout.stripe.com"} }

// StartCheckout creates a Checkout Session for the order, in payment mode,
// or in subscription mode when a line is a yearly price (Line.Yearly),
// and returns the URL of Stripe's page. The session expires after
// Stripe's default of 24 hours (checkout.session.expired follows).
//
// The request carries an idempotency key made of the order number and a
// digest of the checkout: a repeated call for the same checkout (a retry
// after a timeout, a second instance racing) returns the session the first
// one created, for as long as Stripe keeps the key (at least 24 hours).
// expires_at is left to Stripe's default so that the repeated request is
// identical, which Stripe requires of a reused key.
//
// Without c.CustomerRef Stripe is asked to create a customer, so that the
// completed session names one (Event.CustomerRef) that later purchases
// reuse and that DeleteCustomer can erase.
func (s *Stripe) StartCheckout(ctx context.Context, c Checkout) (Started, error) {
	currency, err := c.check()
	if err != nil {
		return Started{}, err
	}
	if c.SuccessURL == "" || c.CancelURL == "" {
		return Started{}, fmt.Errorf("payments: checkout of order %s needs a success and a cancel URL", c.OrderNumber)
	}
	meta := map[string]string{
		"order_number": c.OrderNumber,
		"order_id":     strconv.FormatInt(c.OrderID, 10),
	}
	p := &stripe.CheckoutSessionCreateParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(c.OrderNumber),
		SuccessURL:        stripe.String(c.SuccessURL),
		CancelURL:         stripe.String(c.CancelURL),
		Metadata:          meta,
	}
	subscription := false
	for _, l := range c.Lines {
		pd := &stripe.CheckoutSessionCreateLineItemPriceDataParams{
			Currency:    stripe.String(strings.ToLower(currency)),
			UnitAmount:  stripe.Int64(l.AmountMinor),
			ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String(l.Name)},
		}
		if c.AutomaticTax {
			// Stripe Tax computes the tax on top of (exclusive) or out of
			// (inclusive) the catalog's price.
			behaviour := "exclusive"
			if c.PricesIncludeTax {
				behaviour = "inclusive"
			}
			pd.TaxBehavior = stripe.String(behaviour)
		}
		if l.Yearly {
			pd.Recurring = &stripe.CheckoutSessionCreateLineItemPriceDataRecurringParams{Interval: stripe.String("year")}
			subscription = true
		}
		p.LineItems = append(p.LineItems, &stripe.CheckoutSessionCreateLineItemParams{PriceData: pd, Quantity: stripe.Int64(int64(l.Quantity))})
	}
	if subscription {
		// A yearly price renews itself: Stripe charges it every year and
		// each paid invoice renews the licenses (invoice.paid). The
		// subscription names the order, so its events find it.
		p.Mode = stripe.String(string(stripe.CheckoutSessionModeSubscription))
		p.SubscriptionData = &stripe.CheckoutSessionCreateSubscriptionDataParams{
			Metadata: meta, Description: stripe.String("Order " + c.OrderNumber)}
	} else {
		// The payment, and so its charge, refunds and disputes in
		// Stripe's dashboard, names the order too.
		p.PaymentIntentData = &stripe.CheckoutSessionCreatePaymentIntentDataParams{
			Metadata:    meta,
			Description: stripe.String("Order " + c.OrderNumber),
		}
	}
	if c.CustomerRef != "" {
		// Stripe takes either a customer or an email, not both; the
		// customer's email is prefilled from the customer.
		p.Customer = stripe.String(c.CustomerRef)
	} else {
		if c.CustomerEmail != "" {
			p.CustomerEmail = stripe.String(c.CustomerEmail)
		}
		if !subscription {
			// A subscription always creates its customer; Stripe
			// refuses customer_creation in subscription mode.
			p.CustomerCreation = stripe.String(string(stripe.CheckoutSessionCustomerCreationAlways))
		}
	}
	if c.AutomaticTax {
		// Stripe Tax needs the buyer's address, and a business buyer's
		// tax ID decides the reverse charge: Checkout asks for both and
		// keeps them on the customer.
		p.AutomaticTax = &stripe.CheckoutSessionCreateAutomaticTaxParams{Enabled: stripe.Bool(true)}
		p.TaxIDCollection = &stripe.CheckoutSessionCreateTaxIDCollectionParams{Enabled: stripe.Bool(true)}
		if c.CustomerRef != "" {
			p.CustomerUpdate = &stripe.CheckoutSessionCreateCustomerUpdateParams{Address: stripe.String("auto"), Name: stripe.String("auto")}
		}
	}
	p.SetIdempotencyKey(checkoutIdempotencyKey(c))

	sess, err := s.api.V1CheckoutSessions.Create(ctx, p)
	if err != nil {
		return Started{}, stripeError("create checkout session for order "+c.OrderNumber, err)
	}
	if sess.ID == "" || sess.URL == "" {
		return Started{}, fmt.Errorf("payments: stripe: create checkout session for order %s: the answer has no session ID or URL", c.OrderNumber)
	}
	st := Started{SessionRef: sess.ID, RedirectURL: sess.URL}
	if sess.ExpiresAt > 0 {
		st.ExpiresAt = time.Unix(sess.ExpiresAt, 0).UTC()
	}
	return st, nil
}

// checkoutIdempotencyKey names one checkout attempt: the same checkout
// gives the same key, a changed one (another amount, another email, or an
// order number reused by another installation on the same Stripe account)
// a new key, so Stripe never answers a changed request with an
// idempotency error.
func checkoutIdempotencyKey(c Checkout) string {
	b, _ := json.Marshal(c) // plain fields only: cannot fail
	sum := sha256.Sum256(b)
	return "storekeep-checkout-" + c.OrderNumber + "-" + hex.EncodeToString(sum[:8])
}

// ResumeCheckout returns the address of the Checkout Session sessionRef
// while it is open, so a buyer who left the payment page can go back to the
// same session (never a second one: both could be paid).
func (s *Stripe) ResumeCheckout(ctx context.Context, sessionRef string) (Started, error) {
	if sessionRef == "" {
		return Started{}, ErrCheckoutEnded
	}
	sess, err := s.api.V1CheckoutSessions.Retrieve(ctx, sessionRef, nil)
	if se := (*stripe.Error)(nil); errors.As(err, &se) && se.Code == stripe.ErrorCodeResourceMissing {
		return Started{}, ErrCheckoutEnded
	}
	if err != nil {
		return Started{}, stripeError("retrieve checkout session "+sessionRef, err)
	}
	if sess.Status != stripe.CheckoutSessionStatusOpen || sess.URL == "" {
		return Started{}, ErrCheckoutEnded
	}
	st := Started{SessionRef: sess.ID, RedirectURL: sess.URL}
	if sess.ExpiresAt > 0 {
		st.ExpiresAt = time.Unix(sess.ExpiresAt, 0).UTC()
	}
	return st, nil
}

// CloseCheckout expires the Checkout Session sessionRef, so that it can no
// longer be paid. Stripe refuses to expire a session that is not open; the
// session is then read to tell an expired one (closed: nil) from a paid one
// (ErrCheckoutPaid).
func (s *Stripe) CloseCheckout(ctx context.Context, sessionRef string) error {
	if sessionRef == "" {
		return nil
	}
	_, err := s.api.V1CheckoutSessions.Expire(ctx, sessionRef, nil)
	if err == nil {
		return nil
	}
	if se := (*stripe.Error)(nil); !errors.As(err, &se) || se.HTTPStatusCode != 400 && se.HTTPStatusCode != 404 {
		return stripeError("expire checkout session "+sessionRef, err)
	}
	sess, rerr := s.api.V1CheckoutSessions.Retrieve(ctx, sessionRef, nil)
	if se := (*stripe.Error)(nil); errors.As(rerr, &se) && se.Code == stripe.ErrorCodeResourceMissing {
		return nil
	}
	if rerr != nil {
		return stripeError("retrieve checkout session "+sessionRef, rerr)
	}
	switch sess.Status {
	case stripe.CheckoutSessionStatusExpired:
		return nil
	case stripe.CheckoutSessionStatusComplete:
		return ErrCheckoutPaid
	}
	return stripeError("expire checkout session "+sessionRef, err)
}

// Refund returns r.AmountMinor of a payment (payment intent) and gives
// Stripe's refund ID (re_...). The request carries the idempotency key
// "storekeep-refund-" + r.Key, so a retry of the same refund returns the
// refund the first attempt made, never a second one; the refund's
// metadata names the order and the key. A payment with nothing left to
// refund is ErrAlreadyRefunded.
func (s *Stripe) Refund(ctx context.Context, r RefundRequest) (string, error) {
	switch {
	case r.PaymentRef == "":
		return "", errors.New("payments: stripe: refund: no payment reference")
	case r.AmountMinor <= 0:
		return "", fmt.Errorf("payments: stripe: refund of %s: the amount must be positive", r.PaymentRef)
	case r.Key == "":
		return "", fmt.Errorf("payments: stripe: refund of %s: no key names the refund", r.PaymentRef)
	}
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(r.PaymentRef), Amount: stripe.Int64(r.AmountMinor),
		Metadata: map[string]string{"order_number": r.OrderNumber, "storekeep_refund": r.Key}}
	p.SetIdempotencyKey("storekeep-refund-" + r.Key)
	ref, err := s.api.V1Refunds.Create(ctx, p)
	if se := (*stripe.Error)(nil); errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
		return "", ErrAlreadyRefunded
	}
	if err != nil {
		return "", stripeError("refund "+r.PaymentRef, err)
	}
	if ref.ID == "" {
		return "", fmt.Errorf("payments: stripe: refund of %s: the answer names no refund", r.PaymentRef)
	}
	return ref.ID, nil
}

// SetRenewal sets the subscription to renew at the end of its period
// (renew) or to end then (cancel_at_period_end). Setting what is set
// already succeeds, so a retry is safe.
func (s *Stripe) SetRenewal(ctx context.Context, subscriptionRef string, renew bool) error {
	if subscriptionRef == "" {
		return errors.New("payments: stripe: set renewal: no subscription reference")
	}
	p := &stripe.SubscriptionUpdateParams{CancelAtPeriodEnd: stripe.Bool(!renew)}
	if _, err := s.api.V1Subscriptions.Update(ctx, subscriptionRef, p); err != nil {
		return stripeError("set renewal of "+subscriptionRef, err)
	}
	return nil
}

// InvoicePayment returns the payment intent that paid the invoice, ""
// when none did (or the invoice was paid otherwise, out of band).
func (s *Stripe) InvoicePayment(ctx context.Context, invoiceRef string) (string, error) {
	if invoiceRef == "" {
		return "", errors.New("payments: stripe: invoice payment: no invoice reference")
	}
	p := &stripe.InvoicePaymentListParams{Invoice: stripe.String(invoiceRef), Status: stripe.String("paid")}
	p.Limit = stripe.Int64(10)
	for ip, err := range s.api.V1InvoicePayments.List(ctx, p) {
		if err != nil {
			return "", stripeError("list payments of invoice "+invoiceRef, err)
		}
		if ip.Payment != nil && ip.Payment.PaymentIntent != nil && ip.Payment.PaymentIntent.ID != "" {
			return ip.Payment.PaymentIntent.ID, nil
		}
	}
	return "", nil
}

// DeleteCustomer deletes the customer at Stripe, with the personal data
// Stripe holds on them (name, email, address, saved payment methods), for
// erasure. Stripe keeps its records of past payments as the law requires.
// A customer that no longer exists counts as deleted.
func (s *Stripe) DeleteCustomer(ctx context.Context, customerRef string) error {
	if customerRef == "" {
		return errors.New("payments: stripe: delete customer: no customer reference")
	}
	_, err := s.api.V1Customers.Delete(ctx, customerRef, nil)
	if se := (*stripe.Error)(nil); errors.As(err, &se) && se.Code == stripe.ErrorCodeResourceMissing {
		return nil
	}
	if err != nil {
		return stripeError("delete customer "+customerRef, err)
	}
	return nil
}

// stripeError describes a failed API call by Stripe's error type, code,
// parameter and request ID. It leaves out Stripe's message, which can
// quote what we sent (an email address) and would carry it into our logs;
// the request ID finds the full message in Stripe's dashboard.
func stripeError(op string, err error) error {
	var se *stripe.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("payments: stripe: %s: %w", op, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "payments: stripe: %s: HTTP %d, %s", op, se.HTTPStatusCode, se.Type)
	if se.Code != "" {
		fmt.Fprintf(&b, ", code %s", se.Code)
	}
	if se.Param != "" {
		fmt.Fprintf(&b, ", parameter %s", se.Param)
	}
	if se.RequestID != "" {
		fmt.Fprintf(&b, ", request %s", se.RequestID)
	}
	return &StripeError{msg: b.String(), Type: string(se.Type), Code: string(se.Code), HTTPStatus: se.HTTPStatusCode}
}

// StripeError is an error answer of Stripe's API, without Stripe's
// message (see stripeError).
type StripeError struct {
	msg        string
	Type       string // e.g. "invalid_request_error", "api_error"
	Code       string // e.g. "resource_missing"; "" when Stripe gave none
	HTTPStatus int
}

func (e *StripeError) Error() string { return e.msg }
