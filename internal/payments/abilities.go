package payments

import "context"

// A Provider can do more than start checkouts. Each further ability is a
// named interface, checked with a type assertion where it is needed, so a
// new processor gains a feature by implementing a method, not by a caller
// comparing provider names.

// Refunder returns a payment to the buyer through the processor. The
// order changes when the processor's refund event arrives.
type Refunder interface {
	Refund(ctx context.Context, paymentRef string) error
}

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

// Compile-time checks of who has which ability.
var (
	_ Refunder        = (*Stripe)(nil)
	_ CustomerDeleter = (*Stripe)(nil)
	_ HostedPage      = (*Stripe)(nil)
	_ Offline         = Manual{}
	_ DemoOnly        = (*Demo)(nil)
)

// PaymentInstructions returns the bank details printed on the invoice.
func (m Manual) PaymentInstructions() string { return m.Instructions }
