package payments

import (
	"context"
	"errors"
)

// A Provider can do more than start checkouts. Each further ability is a
// named interface, checked with a type assertion where it is needed, so a
// new processor gains a feature by implementing a method, not by a caller
// comparing provider names.

// Refunder returns a payment, or part of it, to the buyer through the
// processor. Package orders reserves what it refunds before it asks and
// records the refund as soon as the processor answers with its reference,
// so the processor's later refund event finds it recorded.
type Refunder interface {
	// Refund returns r.AmountMinor of the payment r.PaymentRef and gives
	// the processor's reference of the refund. A request with the same
	// r.Key returns the same refund (a retry after a timeout).
	Refund(ctx context.Context, r RefundRequest) (refundRef string, err error)
}

// RefundRequest asks a processor to return money.
type RefundRequest struct {
	PaymentRef  string // the processor's payment (Stripe's payment intent)
	AmountMinor int64  // > 0, in Currency
	Currency    string // ISO 4217, upper case
	// Key names this refund once and for all (order number and refund
	// id): the processor's idempotency key and the refund's metadata.
	Key         string
	OrderNumber string
}

// ErrAlreadyRefunded: the processor has nothing left of the payment to
// return (refunded in its dashboard, or by an earlier request).
var ErrAlreadyRefunded = errors.New("payments: the payment is refunded already")

// CustomerDeleter deletes the processor's own customer record (name,
// address, saved payment methods) when the person is erased here.
type CustomerDeleter interface {
	DeleteCustomer(ctx context.Context, customerRef string) error
}

// HostedPage is a provider that sends the buyer to a payment page of its
// own; the Content-Security-Policy's form-action must allow its origins.
type HostedPage interface {
	FormOrigins() []string
}

// Offline is a provider whose money arrives outside Storekeep (a bank
// transfer): nothing is collected online, the buyer receives an invoice
// with payment instructions at once, and finance marks the order paid.
type Offline interface {
	PaymentInstructions() string
}

// DemoOnly is the demo's test provider, which never moves money and is
// refused outside `storekeep demo`.
type DemoOnly interface {
	IsDemo() bool
}

// Resumer sends a buyer back to a checkout that is still open (they closed
// the tab, or came back from the payment page without paying). It never
// starts a second checkout for one order: two open checkouts could both be
// paid.
type Resumer interface {
	// ResumeCheckout returns where to send the buyer to pay the open
	// checkout sessionRef, or ErrCheckoutEnded when it can no longer be
	// paid (expired or paid already).
	ResumeCheckout(ctx context.Context, sessionRef string) (Started, error)
}

// CheckoutCloser ends an open checkout at the processor so that it can no
// longer be paid, before its order is cancelled.
type CheckoutCloser interface {
	// CloseCheckout ends sessionRef. A checkout that has ended already
	// counts as closed; one that was paid returns ErrCheckoutPaid, and the
	// order must not be cancelled (the payment event is on its way).
	CloseCheckout(ctx context.Context, sessionRef string) error
}

// Subscriber renews yearly prices by itself: a checkout with a yearly line
// starts a subscription at the processor, whose paid invoices renew the
// licenses (RenewalPaid events), and the customer can turn the renewal
// off before the period ends, and on again.
type Subscriber interface {
	// SetRenewal asks the processor to renew subscriptionRef at the end
	// of its period (renew) or to end it then (!renew). It is idempotent.
	SetRenewal(ctx context.Context, subscriptionRef string, renew bool) error
}

// PaymentFinder names the payment that settled a processor invoice, for
// a renewal whose event did not carry it: a refund of the renewal finds
// its order by that payment.
type PaymentFinder interface {
	InvoicePayment(ctx context.Context, invoiceRef string) (paymentRef string, err error)
}

// Errors of Resumer and CheckoutCloser.
var (
	ErrCheckoutEnded = errors.New("payments: the checkout has ended")
	ErrCheckoutPaid  = errors.New("payments: the checkout was paid")
)

// Compile-time checks of who has which ability.
var (
	_ Refunder        = (*Stripe)(nil)
	_ CustomerDeleter = (*Stripe)(nil)
	_ HostedPage      = (*Stripe)(nil)
	_ Offline         = Manual{}
	_ DemoOnly        = (*Demo)(nil)
	_ Resumer         = (*Stripe)(nil)
	_ CheckoutCloser  = (*Stripe)(nil)
	_ Resumer         = (*Demo)(nil)
	_ Subscriber      = (*Stripe)(nil)
	_ Subscriber      = (*Demo)(nil)
	_ PaymentFinder   = (*Stripe)(nil)
)

// PaymentInstructions returns the bank details printed on the invoice.
func (m Manual) PaymentInstructions() string { return m.Instructions }
