// Package payments is the edge between Storekeep and payment processors.
// Card data never reaches us: a provider sends the buyer to the
// processor's hosted page and tells us the outcome through signed webhook
// events, which this package verifies and turns into Events. What an event
// does to an order is decided in package orders.
package payments

import (
	"context"
	"errors"
	"time"
)

// Line is one item of a checkout, with the price taken from our catalog.
type Line struct {
	Name        string // e.g. "QuillGuard Milter Professional (one-time)"
	AmountMinor int64
	Currency    string // ISO 4217, upper case
	Quantity    int
	// Yearly marks a yearly price: a Subscriber charges it every year
	// until the subscription ends; other providers charge it once.
	Yearly bool
}

// Checkout asks a provider to collect payment for an order.
type Checkout struct {
	OrderID       int64
	OrderNumber   string // our public order reference; sent to the processor as client reference
	CustomerEmail string
	// CustomerRef is the processor's customer reference from an earlier
	// purchase, to reuse; "" for none.
	CustomerRef string
	Lines       []Line
	// AutomaticTax asks the processor to compute the tax (Stripe Tax);
	// the lines' amounts are then the catalog's, including tax when
	// PricesIncludeTax. Without it the lines' amounts are what the buyer
	// pays, tax included, and the processor adds nothing.
	AutomaticTax     bool
	PricesIncludeTax bool
	SuccessURL       string // where the processor returns the buyer after paying
	CancelURL        string // where it returns a buyer who gives up
}

// Started is where to send the buyer and how the processor names the
// checkout.
type Started struct {
	SessionRef  string // the processor's checkout session ID (unique per order)
	RedirectURL string // the hosted payment page; "" when nothing is to be paid online (manual invoice)
	ExpiresAt   time.Time
}

// Provider starts checkouts with one processor (or none, for manual
// invoices).
type Provider interface {
	// Name is "stripe", "manual" or "demo".
	Name() string
	// Label is how the checkout page names the way to pay.
	Label() string
	StartCheckout(ctx context.Context, c Checkout) (Started, error)
}

// EventType is what happened at the processor, normalised.
type EventType string

// The events orders act on.
const (
	CheckoutCompleted EventType = "checkout.completed" // paid
	CheckoutExpired   EventType = "checkout.expired"   // never paid
	PaymentRefunded   EventType = "payment.refunded"
	DisputeOpened     EventType = "dispute.opened"
	DisputeWon        EventType = "dispute.won"
	DisputeLost       EventType = "dispute.lost"
	// A subscription's renewal was paid (Stripe's invoice.paid for a
	// billing cycle): the licenses it renews run to PeriodEnd.
	RenewalPaid EventType = "renewal.paid"
	// A renewal's payment failed (invoice.payment_failed): the licenses
	// run out at the end of the paid period and their grace period begins.
	RenewalFailed EventType = "renewal.failed"
	// The subscription's state changed (customer.subscription.updated):
	// SubscriptionStatus, CancelAtPeriodEnd and PeriodEnd say it.
	SubscriptionChanged EventType = "subscription.changed"
	// The subscription ended (customer.subscription.deleted): nothing
	// renews any more; the licenses run to the end of the paid period.
	SubscriptionEnded EventType = "subscription.ended"

	// Fraud signals (issue 16): they change nothing of the order; package
	// orders records them and hands them to the fraud review
	// (orders.Signals).
	//
	// PaymentRisk is the processor's risk assessment of a successful
	// payment (Stripe's charge.succeeded with its outcome): Risk says it.
	PaymentRisk EventType = "payment.risk"
	// ReviewOpened and ReviewClosed: the processor opened or closed a
	// manual review of the payment (Stripe Radar's review.*); Reason says
	// why it opened or how it closed.
	ReviewOpened EventType = "review.opened"
	ReviewClosed EventType = "review.closed"
	// EarlyFraudWarning: the card network warned of fraud on the payment
	// (radar.early_fraud_warning.*); Reason is the fraud type.
	EarlyFraudWarning EventType = "early_fraud_warning"
)

// Risk levels a processor's assessment reports (Stripe's risk_level).
const (
	RiskNormal   = "normal"
	RiskElevated = "elevated"
	RiskHighest  = "highest"
)

// Risk is a processor's risk assessment of one payment.
type Risk struct {
	Level   string // RiskNormal, RiskElevated, RiskHighest
	Score   int64  // 0 to 100 where the processor gives one (Radar for Fraud Teams), else 0
	Rule    string // the processor's rule that acted on the payment, if any
	Outcome string // what the processor did: authorized, manual_review, ...
}

// Subscription states, as SubscriptionChanged reports them.
const (
	SubscriptionActive    = "active"
	SubscriptionPastDue   = "past_due"
	SubscriptionCancelled = "cancelled"
)

// Event is a verified processor event.
type Event struct {
	ID          string // the processor's event ID: processing is idempotent on it
	Provider    string
	Type        EventType
	Created     time.Time
	SessionRef  string // checkout session, when the event names one
	PaymentRef  string // the payment (payment intent), when known
	CustomerRef string // the processor's customer, when known
	OrderNumber string // our reference, echoed back by the processor
	// AmountMinor is the amount paid, disputed or (PaymentRefunded)
	// refunded of the payment so far.
	AmountMinor int64
	Currency    string
	// Refunds are the processor's refunds of the payment, when the
	// event lists them (PaymentRefunded).
	Refunds []RefundRef
	// TaxMinor is the tax the processor computed in AmountMinor (Stripe
	// Tax), when TaxReported.
	TaxMinor    int64
	TaxReported bool

	// Subscriptions (yearly prices paid by card).
	SubscriptionRef string // the processor's subscription (sub_...)
	InvoiceRef      string // the processor's invoice of a renewal (in_...)
	// PeriodStart and PeriodEnd are the service period a renewal pays
	// for, or the subscription's current period.
	PeriodStart, PeriodEnd time.Time
	SubscriptionStatus     string // SubscriptionActive, ...; SubscriptionChanged only
	CancelAtPeriodEnd      bool   // SubscriptionChanged only

	// Fraud signals.
	Risk Risk // PaymentRisk only
	// Reason is a dispute's reason, a review's opening or closing reason,
	// or an early fraud warning's fraud type.
	Reason string
	// Actionable says an early fraud warning's payment can still be
	// refunded before it becomes a dispute.
	Actionable bool
}

// RefundRef is one refund at the processor.
type RefundRef struct {
	Ref         string // the processor's refund ID (re_...)
	AmountMinor int64
	// Key is the key Storekeep gave the refund (RefundRequest.Key); ""
	// for a refund made in the processor's dashboard.
	Key string
}

// Errors a webhook handler tells apart.
var (
	// ErrBadSignature: the payload is not signed with our secret, or the
	// signature is too old. Answer 400 and change nothing.
	ErrBadSignature = errors.New("payments: webhook signature invalid or expired")
	// ErrIgnored: a genuine event of a type we do not act on. Answer 200.
	ErrIgnored = errors.New("payments: event type not handled")
)
