package payments

import "context"

// Manual is payment by invoice and bank transfer. Nothing is collected
// online: the order waits for the money, the customer receives an invoice
// with the payment instructions, and finance marks the order paid in the
// console when the transfer arrives.
type Manual struct {
	// Instructions tell the customer how to pay (account holder, IBAN,
	// BIC, which reference to give). The invoice email prints them.
	Instructions string
}

// Name returns "manual".
func (Manual) Name() string { return "manual" }

// Label names the way to pay on the checkout page.
func (Manual) Label() string { return "Invoice / bank transfer" }

// StartCheckout returns a session reference made of the order number and
// no redirect: there is no page to send the buyer to, and no deadline.
func (Manual) StartCheckout(_ context.Context, c Checkout) (Started, error) {
	if _, err := c.check(); err != nil {
		return Started{}, err
	}
	return Started{SessionRef: "manual-" + c.OrderNumber}, nil
}
