package orders

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/payments"
)

// Shop holds what order processing needs besides the database: how mails
// name the vendor and where the customer portal is.
type Shop struct {
	DB       *db.DB
	SiteName string
	BaseURL  string // e.g. https://shop.example.com, without a trailing slash
	// PaymentInstructions are printed on manual invoices (bank details).
	PaymentInstructions string
	// Providers are the ways to pay this site offers. What an order's
	// provider can do (refund through the processor, be marked paid by
	// hand) is asked of it through the abilities in package payments.
	Providers []payments.Provider
	// Licenses issues the licenses of paid orders; nil issues none.
	Licenses Licenser
	// Signals hands the processor's fraud signals (risk outcomes, reviews,
	// early fraud warnings, disputes) to the fraud review; nil raises
	// none. It never changes the order.
	Signals Signals
}

// Signals looks at a processor event about an order for signs of fraud and
// raises them for a person to review (package fraud/detect), in the
// event's transaction. It reports whether it raised one. It must not
// change the order, its licenses or its customer: issue 16 forbids any
// automatic decision.
type Signals interface {
	ProcessorEvent(ctx context.Context, tx *sql.Tx, dialect db.Dialect, o Order, ev payments.Event, now time.Time) (raised bool, err error)
}

// signal hands ev to s.Signals, if any; raised says one was raised.
func (s Shop) signal(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (raised bool, err error) {
	if s.Signals == nil {
		return false, nil
	}
	return s.Signals.ProcessorEvent(ctx, tx, s.DB.Dialect, *o, ev, now)
}

// provider returns the configured provider of that name, or nil.
func (s Shop) provider(name string) payments.Provider {
	for _, p := range s.Providers {
		if p != nil && p.Name() == name {
			return p
		}
	}
	return nil
}

// Outcome says what a payment event did.
type Outcome string

// The outcomes of Apply.
const (
	Applied      Outcome = "applied"
	Duplicate    Outcome = "duplicate"     // this event was processed before
	UnknownOrder Outcome = "unknown order" // no order has the event's session or payment
	Deferred     Outcome = "deferred"      // arrived before the state it applies to; applied when that state comes
	Ignored      Outcome = "ignored"       // genuine, but changes nothing for this order
	Mismatch     Outcome = "amount mismatch"
)

// Apply processes one verified processor event exactly once. The event's
// ID is recorded in the same transaction as its effect: a second delivery,
// also from another instance at the same moment, finds it and changes
// nothing.
func (s Shop) Apply(ctx context.Context, ev payments.Event, now time.Time) (Outcome, error) {
	var out Outcome
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		data, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("record payment event: %w", err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO payment_events (provider, event_id, type, received_at, data) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (provider, event_id) DO NOTHING`, ev.Provider, ev.ID, string(ev.Type), now, string(data))
		if err != nil {
			return fmt.Errorf("record payment event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out = Duplicate
			return nil
		}
		o, err := s.findForEvent(ctx, tx, ev)
		if errors.Is(err, ErrNotFound) {
			out = UnknownOrder
			return s.setOutcome(ctx, tx, ev, 0, out, "")
		}
		if err != nil {
			return err
		}
		var detail string
		out, detail, err = s.applyTo(ctx, tx, &o, ev.Type, ev, now)
		if err != nil {
			return err
		}
		if err := s.setOutcome(ctx, tx, ev, o.ID, out, detail); err != nil {
			return err
		}
		if out == Applied && o.Status == Paid {
			return s.replayDeferred(ctx, tx, &o, now)
		}
		return nil
	})
	return out, err
}

func (s Shop) setOutcome(ctx context.Context, tx *sql.Tx, ev payments.Event, orderID int64, out Outcome, detail string) error {
	var order any
	if orderID != 0 {
		order = orderID
	}
	text := string(out)
	if detail != "" {
		text += ": " + detail
	}
	_, err := tx.ExecContext(ctx, `UPDATE payment_events SET order_id = $1, outcome = $2 WHERE provider = $3 AND event_id = $4`,
		order, text, ev.Provider, ev.ID)
	if err != nil {
		return fmt.Errorf("record payment event outcome: %w", err)
	}
	return nil
}

// findForEvent finds the order an event is about: by checkout session, by
// payment, and otherwise by the order number the processor echoes back
// (our client reference), for an order placed with that processor.
func (s Shop) findForEvent(ctx context.Context, tx *sql.Tx, ev payments.Event) (Order, error) {
	if ev.SubscriptionRef != "" && ev.SessionRef == "" {
		// A subscription's event is about the order that started it.
		o, err := lockOrder(ctx, tx, s.DB.Dialect, "id = (SELECT order_id FROM subscriptions WHERE processor_ref = $1)", ev.SubscriptionRef)
		if !errors.Is(err, ErrNotFound) {
			return o, err
		}
	}
	if ev.SessionRef != "" {
		o, err := lockOrder(ctx, tx, s.DB.Dialect, "processor_session = $1", ev.SessionRef)
		if !errors.Is(err, ErrNotFound) {
			return o, err
		}
	}
	if ev.PaymentRef != "" {
		o, err := lockOrder(ctx, tx, s.DB.Dialect, "processor_payment = $1 AND processor_payment <> ''", ev.PaymentRef)
		if !errors.Is(err, ErrNotFound) {
			return o, err
		}
	}
	if ev.OrderNumber != "" {
		o, err := lockOrder(ctx, tx, s.DB.Dialect, "number = $1", ev.OrderNumber)
		if err == nil && o.Provider != ev.Provider {
			return Order{}, ErrNotFound // a reference to an order paid another way
		}
		return o, err
	}
	return Order{}, ErrNotFound
}

// applyTo moves the order as the event says.
func (s Shop) applyTo(ctx context.Context, tx *sql.Tx, o *Order, t payments.EventType, ev payments.Event, now time.Time) (Outcome, string, error) {
	cause := ev.Provider + ":" + ev.ID
	switch t {
	case payments.SubscriptionChanged, payments.SubscriptionEnded, payments.RenewalPaid, payments.RenewalFailed:
		return s.applySubscription(ctx, tx, o, ev, now)
	case payments.CheckoutCompleted:
		detail := "payment received"
		if o.Status == Cancelled {
			// The checkout was paid before the cancellation (an expiry,
			// or the buyer's) reached the processor: the money was taken,
			// so it is recorded. An order invoiced at placement is paid
			// by transfer, never through a checkout event.
			if _, err := invoiceFor(ctx, tx, o.ID, KindInvoice); !errors.Is(err, ErrNotFound) {
				if err != nil {
					return "", "", err
				}
				return Ignored, "order is cancelled and was invoiced", nil
			}
			detail = "payment received after the order was cancelled"
		} else if o.Status != Pending {
			return Ignored, "order is " + string(o.Status), nil
		}
		if o.Tax.Treatment == TaxProcessor && ev.TaxReported && strings.EqualFold(ev.Currency, o.Currency) {
			// The vendor let the processor compute the tax: record its
			// result, line by line.
			ok, err := processorTax(ctx, tx, o, ev.AmountMinor, ev.TaxMinor)
			if err != nil {
				return "", "", err
			}
			if !ok {
				return Mismatch, fmt.Sprintf("paid %s with tax %s, which does not fit the catalog's %s", catalog.FormatMoney(ev.AmountMinor, o.Currency),
					catalog.FormatMoney(ev.TaxMinor, o.Currency), o.Total()), nil
			}
		} else if !o.Tax.Computed() && ev.AmountMinor > o.TotalMinor && strings.EqualFold(ev.Currency, o.Currency) {
			// The processor added tax (e.g. Stripe Tax): record it as
			// charged, so the invoice shows what was paid.
			tax := ev.AmountMinor - o.SubtotalMinor
			if _, err := tx.ExecContext(ctx, `UPDATE orders SET tax_minor = $1, total_minor = $2 WHERE id = $3`, tax, ev.AmountMinor, o.ID); err != nil {
				return "", "", fmt.Errorf("record tax: %w", err)
			}
			o.TaxMinor, o.TotalMinor = tax, ev.AmountMinor
		}
		if ev.AmountMinor != o.TotalMinor || !strings.EqualFold(ev.Currency, o.Currency) {
			// Left pending for a person to look at: paying a different
			// amount than the catalog's is never accepted silently.
			return Mismatch, fmt.Sprintf("paid %s, order total %s", catalog.FormatMoney(ev.AmountMinor, strings.ToUpper(ev.Currency)), o.Total()), nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET processor_payment = $1, processor_customer = $2 WHERE id = $3`,
			ev.PaymentRef, ev.CustomerRef, o.ID); err != nil {
			return "", "", fmt.Errorf("store payment reference: %w", err)
		}
		o.ProcessorPayment, o.ProcessorCustomer = ev.PaymentRef, ev.CustomerRef
		if ev.SubscriptionRef != "" {
			// Paid by subscription (a yearly price by card): its later
			// invoices renew this order's licenses.
			if _, err := recordSubscription(ctx, tx, s.DB.Dialect, *o, ev.Provider, ev.SubscriptionRef,
				subscriptionState{status: payments.SubscriptionActive, at: time.Time{}}, now); err != nil {
				return "", "", err
			}
		}
		return Applied, "", s.fulfil(ctx, tx, o, cause, detail, now)
	case payments.CheckoutExpired:
		if o.Status != Pending {
			return Ignored, "order is " + string(o.Status), nil
		}
		return Applied, "", move(ctx, tx, o, Cancelled, cause, "checkout expired", now)
	case payments.PaymentRefunded, payments.DisputeLost:
		if o.Status == Pending {
			return Deferred, "order not paid yet", nil
		}
		if o.Status != Paid && o.Status != Disputed {
			return Ignored, "order is " + string(o.Status), nil
		}
		// Each refund the processor made that is not recorded yet
		// becomes a refund with its credit note (refunds.go).
		return s.applyRefunded(ctx, tx, o, ev, now)
	case payments.DisputeOpened:
		if o.Status == Pending {
			return Deferred, "order not paid yet", nil
		}
		if _, err := s.signal(ctx, tx, o, ev, now); err != nil {
			return "", "", err
		}
		if o.Status != Paid {
			return Ignored, "order is " + string(o.Status) + "; raised for review", nil
		}
		// Bookkeeping only: the order says its payment is contested. The
		// licenses stay as they are until a person decides on the review
		// case (issue 16: no automatic suspension).
		if err := move(ctx, tx, o, Disputed, cause, "dispute opened; raised for review", now); err != nil {
			return "", "", err
		}
		return Applied, "", nil
	case payments.DisputeWon:
		if _, err := s.signal(ctx, tx, o, ev, now); err != nil {
			return "", "", err
		}
		if o.Status != Disputed {
			return Ignored, "order is " + string(o.Status), nil
		}
		if err := move(ctx, tx, o, Paid, cause, "dispute won", now); err != nil {
			return "", "", err
		}
		return Applied, "", nil
	case payments.PaymentRisk, payments.ReviewOpened, payments.ReviewClosed, payments.EarlyFraudWarning:
		// A signal for a person to review; the order stays as it is.
		raised, err := s.signal(ctx, tx, o, ev, now)
		switch {
		case err != nil:
			return "", "", err
		case raised:
			return Applied, "raised for review; the order is unchanged", nil
		case s.Signals == nil:
			return Ignored, "no fraud review configured", nil
		}
		return Ignored, "nothing to review", nil
	}
	return Ignored, "event type " + string(t), nil
}

// replayDeferred applies events that arrived before the payment they refer
// to (processors do not promise order), now that the order is paid.
func (s Shop) replayDeferred(ctx context.Context, tx *sql.Tx, o *Order, now time.Time) error {
	rows, err := tx.QueryContext(ctx, `SELECT provider, event_id, type, data FROM payment_events WHERE order_id = $1 AND outcome LIKE 'deferred%' ORDER BY received_at`, o.ID)
	if err != nil {
		return fmt.Errorf("deferred payment events: %w", err)
	}
	var evs []payments.Event
	for rows.Next() {
		var ev payments.Event
		var data string
		if err := rows.Scan(&ev.Provider, &ev.ID, &ev.Type, &data); err != nil {
			rows.Close()
			return err
		}
		if data != "" {
			// The event as it arrived (those recorded before it was
			// kept have their identity and type only).
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				rows.Close()
				return fmt.Errorf("deferred payment event %s: %w", ev.ID, err)
			}
		}
		evs = append(evs, ev)
	}
	rows.Close()
	for _, ev := range evs {
		out, detail, err := s.applyTo(ctx, tx, o, ev.Type, ev, now)
		if err != nil {
			return err
		}
		if err := s.setOutcome(ctx, tx, ev, o.ID, out, detail+" (replayed)"); err != nil {
			return err
		}
	}
	return nil
}

// fulfil marks a pending order paid, issues its invoice and queues the
// confirmation email, all in tx.
func (s Shop) fulfil(ctx context.Context, tx *sql.Tx, o *Order, cause, detail string, now time.Time) error {
	if err := move(ctx, tx, o, Paid, cause, detail, now); err != nil {
		return err
	}
	inv, err := issue(ctx, tx, *o, KindInvoice, s.instructionsFor(*o), now)
	if err != nil {
		return err
	}
	var lics []IssuedLicense
	if s.Licenses != nil {
		if lics, err = s.Licenses.IssueForOrder(ctx, tx, *o, now); err != nil {
			return err
		}
		for _, l := range lics {
			if l.Key == "" {
				if err := recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "no license issued for "+l.Description+": its price is no longer in the catalog; issue one by hand", now); err != nil {
					return err
				}
			}
		}
	}
	return s.confirm(ctx, tx, o, inv, lics, cause, now)
}

// confirm queues the purchase confirmation of a paid order. A payment is
// recorded and invoiced whether or not the confirmation can go: when the
// buyer erased their account before the money arrived there is no address
// to send it to, and a restricted customer gets no confirmation (the
// portal shows the order). Either skip is recorded in the order's history,
// so staff can see why the buyer heard nothing.
func (s Shop) confirm(ctx context.Context, tx *sql.Tx, o *Order, inv Invoice, lics []IssuedLicense, cause string, now time.Time) error {
	if strings.TrimSpace(o.Billing.Email) == "" {
		return recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "confirmation not sent: the buyer's address was erased", now)
	}
	m, err := s.confirmation(*o, inv, lics)
	if err != nil {
		return err
	}
	m.DedupKey = fmt.Sprintf("order-paid:%d", o.ID)
	_, err = mail.Enqueue(ctx, tx, m, now)
	switch {
	case errors.Is(err, mail.ErrNotPermitted):
		return recordEvent(ctx, tx, o.ID, o.Status, o.Status, cause, "confirmation not sent: the customer restricted processing", now)
	case errors.Is(err, mail.ErrDuplicate):
		return nil
	}
	return err
}

// MarkPaid records a payment that arrived outside a processor (a bank
// transfer finance saw, or the demo's test payment). cause names who did
// it, e.g. "staff:3".
func (s Shop) MarkPaid(ctx context.Context, orderID int64, cause string, now time.Time) (Order, error) {
	var o Order
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = lockOrder(ctx, tx, s.DB.Dialect, "id = $1", orderID); err != nil {
			return err
		}
		if o.Status != Pending {
			return ErrInvalidState.Withf("The order is %s: only a pending order is marked paid.", o.Status)
		}
		if _, ok := s.provider(o.Provider).(payments.Offline); !ok {
			return ErrNotOffline
		}
		return s.fulfil(ctx, tx, &o, cause, "payment received", now)
	})
	return o, err
}

// Cancel cancels a pending order (staff, or a buyer who gave up on the
// demo's payment page). An open checkout at the processor is closed first,
// so it can no longer be paid; one that was paid meanwhile refuses the
// cancellation with ErrPaymentUnderway.
func (s Shop) Cancel(ctx context.Context, orderID int64, cause, why string, now time.Time) error {
	o, err := ByID(ctx, s.DB, orderID)
	if err != nil {
		return err
	}
	if o.Status == Pending {
		if err := s.closeCheckout(ctx, o); err != nil {
			return err
		}
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		o, err := lockOrder(ctx, tx, s.DB.Dialect, "id = $1", orderID)
		if err != nil {
			return err
		}
		return cancelLocked(ctx, tx, &o, cause, why, now)
	})
}

// PlaceManual issues the invoice of a pending manual order and queues the
// email with payment instructions, in tx.
func (s Shop) PlaceManual(ctx context.Context, tx *sql.Tx, o Order, now time.Time) (Invoice, error) {
	inv, err := issue(ctx, tx, o, KindInvoice, s.instructionsFor(o), now)
	if err != nil {
		return inv, err
	}
	m, err := s.manualInvoice(o, inv)
	if err != nil {
		return inv, err
	}
	m.DedupKey = fmt.Sprintf("order-invoice:%d", o.ID)
	if _, err := mail.Enqueue(ctx, tx, m, now); err != nil && !errors.Is(err, mail.ErrDuplicate) {
		return inv, err
	}
	return inv, nil
}

// ErrCheckoutNotStarted wraps the provider's error when StartHosted could
// not open the payment page: the order was cancelled, nothing is charged.
var ErrCheckoutNotStarted = errors.New("orders: the payment provider did not start the checkout")

// StartHosted opens the provider's payment page for the pending order o
// (placed for a buyer with address email) and records the checkout
// session, so the webhook finds the order; the buyer comes back to the
// order's page. When the provider cannot start it, the order is cancelled
// at once, with the cause in its history, and the error wraps
// ErrCheckoutNotStarted. Checkout and the account's renewal both pay
// through it.
func (s Shop) StartHosted(ctx context.Context, o Order, p payments.Provider, email string, now func() time.Time) (payments.Started, error) {
	portal := s.portalURL(o)
	started, err := p.StartCheckout(ctx, payments.Checkout{OrderID: o.ID, OrderNumber: o.Number, CustomerEmail: email,
		Lines: PaymentLines(o), SuccessURL: portal + "?paid=1", CancelURL: portal,
		AutomaticTax: o.Tax.Treatment == TaxProcessor, PricesIncludeTax: o.Tax.PricesIncludeTax})
	if err != nil {
		if cerr := s.Cancel(ctx, o.ID, "system", "the payment provider could not be reached", now()); cerr != nil {
			return payments.Started{}, cerr
		}
		return payments.Started{}, fmt.Errorf("%w: %s: %w", ErrCheckoutNotStarted, p.Name(), err)
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error { return SetSession(ctx, tx, o.ID, started.SessionRef, now()) })
	return started, err
}

// NewShop is the order processing of a site named siteName at baseURL,
// offering providers. instructions are the bank details that mail and
// pages give buyers paying by transfer; without them, those of the
// offline provider, and without those, where to ask (supportEmail; ""
// leaves them empty for a page that says where to ask itself). Every area
// of the site builds its Shop here, so all say the same.
func NewShop(d *db.DB, siteName, supportEmail, baseURL string, providers []payments.Provider, instructions string, licenses Licenser) Shop {
	if instructions == "" {
		for _, p := range providers {
			if o, ok := p.(payments.Offline); ok && o.PaymentInstructions() != "" {
				instructions = o.PaymentInstructions()
				break
			}
		}
	}
	if instructions == "" && supportEmail != "" {
		instructions = "Write to " + supportEmail + " for the bank details to pay to."
	}
	return Shop{DB: d, SiteName: siteName, BaseURL: baseURL, PaymentInstructions: instructions, Providers: providers, Licenses: licenses}
}

// Licenser issues the licenses of a paid order's lines and suspends and
// reinstates them as the order's state changes, always in the order's
// transaction. Package licensing implements it (licensing.ForOrders); a
// Shop without one issues no licenses.
type Licenser interface {
	// IssueForOrder issues one license per line of the paid order (again:
	// the ones issued before) and returns them for the confirmation.
	IssueForOrder(ctx context.Context, tx *sql.Tx, o Order, now time.Time) ([]IssuedLicense, error)
	// SuspendForOrder suspends the order's active licenses (a refund in
	// full; never a dispute, which a person decides on).
	SuspendForOrder(ctx context.Context, tx *sql.Tx, o Order, now time.Time) error
	// SuspendForLines suspends the active licenses the order's lines
	// lineIDs issued or renewed (those lines were refunded), and no
	// other.
	SuspendForLines(ctx context.Context, tx *sql.Tx, o Order, lineIDs []int64, now time.Time) error
	// ReinstateForOrder reinstates the licenses SuspendForOrder suspended,
	// not those staff suspended. Nothing calls it on its own any more: a
	// dispute no longer suspends (issue 16).
	ReinstateForOrder(ctx context.Context, tx *sql.Tx, o Order, now time.Time) error
	// Renewable lists the term licenses the order bought at a yearly
	// price: those its subscription renews.
	Renewable(ctx context.Context, tx *sql.Tx, orderID int64, now time.Time) ([]Renewable, error)
}

// IssuedLicense is a license a paid order line issued, as the confirmation
// mail tells it.
type IssuedLicense struct {
	Description string // the order line
	Key         string // "" when none could be issued (the line's price left the catalog)
	MaxMachines int    // 0 = unlimited
	Expires     time.Time
	// Renewed says the line renewed a license the customer holds (Key is
	// that license's key) rather than issuing a new one.
	Renewed bool
}

// licensesFollow suspends the order's licenses after a refund in full, in
// tx: a refund is a person's decision (ours, or one made in the
// processor's dashboard). A dispute is not: opening, winning or losing one
// leaves the licenses as they are and raises a fraud signal; a person
// decides on its review case (issue 16, docs/fraud-signals.md).
func (s Shop) licensesFollow(ctx context.Context, tx *sql.Tx, o *Order, r *Refund, now time.Time) error {
	if s.Licenses == nil || o.Status != Refunded || r.Reason == disputeLost {
		return nil
	}
	return s.Licenses.SuspendForOrder(ctx, tx, *o, now)
}
