package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Refusals of the order's life cycle, told apart with errors.Is.
var (
	ErrNotPending = refuse.New(refuse.Conflict, "order_not_pending", "This order is not waiting for payment any more.")
	ErrNotPaid    = refuse.New(refuse.Conflict, "order_not_paid", "Only a paid order can be refunded.")
	ErrNotOffline = refuse.New(refuse.Conflict, "order_not_offline",
		"Only orders paid by bank transfer are marked paid by hand; card payments are confirmed by the processor.")
	ErrCheckoutEnded = refuse.New(refuse.Gone, "checkout_ended",
		"The payment page of this order has expired. Cancel the order and place it again from the pricing page.")
	ErrPaymentUnderway = refuse.New(refuse.Conflict, "payment_underway",
		"Your payment has been received and is being confirmed, so the order cannot be cancelled. Reload the page in a minute.")
	ErrProviderGone = refuse.New(refuse.Conflict, "provider_gone",
		"This way to pay is no longer offered. Cancel the order and place it again with another way to pay.")
)

// Expiry says how long a pending order waits for its payment before it is
// cancelled.
type Expiry struct {
	// Invoiced is how long an order whose invoice was issued when it was
	// placed (bank transfer) waits, from placement.
	Invoiced time.Duration
	// Checkout is how long an order paid through a hosted payment page
	// waits after its checkout started: the processor's session lifetime
	// (24 hours at Stripe and in the demo) plus a margin for a late event.
	Checkout time.Duration
}

// DefaultExpiry is 30 days for an unpaid invoice and 30 hours (a day's
// session and six hours' margin) for a hosted checkout.
var DefaultExpiry = Expiry{Invoiced: 30 * 24 * time.Hour, Checkout: 30 * time.Hour}

// ExpirePending cancels the pending orders whose time to pay has passed, as
// e says, each with the cause "system:expiry" in its history; an order
// invoiced at placement gets its credit note. Which deadline applies is
// read from the order's own record (an invoice issued before payment means
// payment by transfer), not from the configured providers, so an order of a
// provider switched off since expires too. It is safe on several instances
// at once: each order is locked and checked again before it moves. A
// hosted checkout's payment that arrives after the expiry is still
// recorded (see Apply). It returns how many orders it cancelled.
func ExpirePending(ctx context.Context, d *db.DB, e Expiry, now time.Time) (int, error) {
	if e.Invoiced <= 0 {
		e.Invoiced = DefaultExpiry.Invoiced
	}
	if e.Checkout <= 0 {
		e.Checkout = DefaultExpiry.Checkout
	}
	const invoiced = `EXISTS (SELECT 1 FROM invoices i WHERE i.order_id = o.id AND i.kind = 'invoice')`
	rows, err := d.QueryContext(ctx, `SELECT o.id FROM orders o WHERE o.status = 'pending' AND (
		(`+invoiced+` AND o.created_at < $1) OR (NOT `+invoiced+` AND o.updated_at < $2)) ORDER BY o.id LIMIT 1000`,
		now.Add(-e.Invoiced).UTC(), now.Add(-e.Checkout).UTC())
	if err != nil {
		return 0, fmt.Errorf("expire orders: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("expire orders: %w", err)
		}
		ids = append(ids, id)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("expire orders: %w", err)
	}
	n := 0
	for _, id := range ids {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			o, err := lockOrder(ctx, tx, d.Dialect, "id = $1", id)
			if err != nil || o.Status != Pending {
				return err // gone, or moved meanwhile (another instance)
			}
			_, err = invoiceFor(ctx, tx, o.ID, KindInvoice)
			isInvoiced := err == nil
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			why := fmt.Sprintf("expired: the checkout was not completed within %s", words(e.Checkout))
			if isInvoiced {
				why = fmt.Sprintf("expired: the invoice was not paid within %s", words(e.Invoiced))
				if !o.CreatedAt.Before(now.Add(-e.Invoiced)) {
					return nil
				}
			} else if !o.UpdatedAt.Before(now.Add(-e.Checkout)) {
				return nil // a checkout started meanwhile
			}
			if err := cancelLocked(ctx, tx, &o, "system:expiry", why, now); err != nil {
				return err
			}
			n++
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("expire order %d: %w", id, err)
		}
	}
	return n, nil
}

// words says a duration as people do: "30 days", "30 hours".
func words(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// cancelLocked cancels the locked order o. An invoice issued at placement
// is reversed by a credit note, never deleted.
func cancelLocked(ctx context.Context, tx *sql.Tx, o *Order, cause, why string, now time.Time) error {
	if err := move(ctx, tx, o, Cancelled, cause, why, now); err != nil {
		return err
	}
	if _, err := invoiceFor(ctx, tx, o.ID, KindInvoice); err == nil {
		_, err = issue(ctx, tx, *o, KindCreditNote, "", now)
		return err
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// closeCheckout ends the order's open checkout at its processor, when the
// processor can, so that nobody pays an order that is being cancelled. A
// checkout that was paid meanwhile refuses the cancellation.
func (s Shop) closeCheckout(ctx context.Context, o Order) error {
	c, ok := s.provider(o.Provider).(payments.CheckoutCloser)
	if !ok || o.ProcessorSession == "" {
		return nil
	}
	err := c.CloseCheckout(ctx, o.ProcessorSession)
	if errors.Is(err, payments.ErrCheckoutPaid) {
		return ErrPaymentUnderway
	}
	if err != nil {
		return fmt.Errorf("close the checkout of order %s: %w", o.Number, err)
	}
	return nil
}

// customerOrder returns the customer's order with number; another
// customer's order is ErrNotFound, as if it did not exist.
func customerOrder(ctx context.Context, q db.Querier, customerID int64, number string) (Order, error) {
	o, err := ByNumber(ctx, q, number)
	if err != nil {
		return Order{}, err
	}
	if customerID == 0 || o.CustomerID != customerID {
		return Order{}, ErrNotFound
	}
	return o, nil
}

// ForCustomerByNumber returns the customer's order with number, with its
// lines: ErrNotFound (a refusal) when there is none or it is another
// customer's, any other error as it came.
func ForCustomerByNumber(ctx context.Context, q db.Querier, customerID int64, number string) (Order, error) {
	return customerOrder(ctx, q, customerID, number)
}

// CancelByCustomer cancels the customer's own pending order: ErrNotFound
// when it is not theirs, ErrNotPending when it is not waiting for payment,
// ErrPaymentUnderway when its checkout was paid meanwhile. An open
// checkout at the processor is closed first, so it can no longer be paid.
func (s Shop) CancelByCustomer(ctx context.Context, customerID int64, number string, now time.Time) (Order, error) {
	o, err := customerOrder(ctx, s.DB, customerID, number)
	if err != nil {
		return o, err
	}
	if o.Status != Pending {
		return o, ErrNotPending
	}
	if err := s.closeCheckout(ctx, o); err != nil {
		return o, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = lockOrder(ctx, tx, s.DB.Dialect, "id = $1", o.ID); err != nil {
			return err
		}
		if o.Status != Pending {
			return ErrNotPending
		}
		return cancelLocked(ctx, tx, &o, fmt.Sprintf("customer:%d", customerID), "cancelled by the customer", now)
	})
	return o, err
}

// Resumption is what the order page needs to let the buyer pay a pending
// order again.
type Resumption struct {
	Order Order
	// RedirectURL is the processor's payment page to send the buyer to;
	// "" for payment by transfer.
	RedirectURL string
	// For payment by transfer: the invoice to pay (its number is the
	// reference to give) and the bank details.
	Invoice             Invoice
	PaymentInstructions string
}

// Resume returns how the customer pays their pending order: the same open
// checkout at a hosted processor (never a second one: both could be paid),
// or the invoice and bank details again. It refuses with ErrNotFound,
// ErrNotPending, ErrCheckoutEnded (the payment page expired) or
// ErrProviderGone (the way to pay is no longer configured).
func (s Shop) Resume(ctx context.Context, customerID int64, number string) (Resumption, error) {
	o, err := customerOrder(ctx, s.DB, customerID, number)
	if err != nil {
		return Resumption{}, err
	}
	if o.Status != Pending {
		return Resumption{}, ErrNotPending
	}
	res := Resumption{Order: o}
	switch p := s.provider(o.Provider).(type) {
	case payments.Offline:
		if res.Invoice, err = invoiceFor(ctx, s.DB, o.ID, KindInvoice); err != nil {
			return Resumption{}, fmt.Errorf("resume order %s: %w", o.Number, err)
		}
		res.PaymentInstructions = s.PaymentInstructions
		if res.PaymentInstructions == "" {
			res.PaymentInstructions = p.PaymentInstructions()
		}
		return res, nil
	case payments.Resumer:
		st, err := p.ResumeCheckout(ctx, o.ProcessorSession)
		if errors.Is(err, payments.ErrCheckoutEnded) {
			return Resumption{}, ErrCheckoutEnded
		}
		if err != nil {
			return Resumption{}, fmt.Errorf("resume order %s: %w", o.Number, err)
		}
		res.RedirectURL = st.RedirectURL
		return res, nil
	}
	return Resumption{}, ErrProviderGone
}

// RefundOutcome says what Refund did.
type RefundOutcome string

// The outcomes of Refund. Either way the refund is recorded, the order is
// refunded and its credit note issued when Refund returns.
const (
	// RefundRequested: the processor returned the money (it accepted the
	// refund and named it).
	RefundRequested RefundOutcome = "requested"
	// RefundRecorded: staff returned the money outside Storekeep (a bank
	// transfer back, or the demo) and recorded that they did.
	RefundRecorded RefundOutcome = "recorded"
)

// Refund returns everything left of a paid order's money: RefundOrder
// with no lines chosen. Through the processor when the order's provider
// is a payments.Refunder; otherwise (bank transfer, the demo, a provider
// no longer configured) it records the refund staff made outside. cause
// names who did it ("staff:3"); note says how the money went back
// (optional, one line), and is the refund's reason.
func (s Shop) Refund(ctx context.Context, orderID int64, cause, note string, now time.Time) (RefundOutcome, error) {
	note, err := input.Line("note", "The note", 300, note)
	if err != nil {
		return "", err
	}
	reason := "refunded in full"
	if note != "" {
		reason = note
	}
	r, err := s.RefundOrder(ctx, RefundRequest{OrderID: orderID, Reason: reason, By: actorOf(cause)}, now)
	if err != nil {
		return "", err
	}
	if r.ProviderRef != "" {
		return RefundRequested, nil
	}
	return RefundRecorded, nil
}

// actorOf reads a cause such as "staff:3" as the audit log's actor.
func actorOf(cause string) audit.Actor {
	kind, id, _ := strings.Cut(cause, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	switch {
	case err != nil:
	case kind == audit.ActorStaff:
		return audit.Staff(n)
	case kind == audit.ActorCustomer:
		return audit.Customer(n)
	}
	return audit.System()
}
