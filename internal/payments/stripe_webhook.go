package payments

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// ErrAPIVersion: a genuine Stripe event rendered in an API version whose
// objects this build does not read. The webhook endpoint in Stripe's
// dashboard must use the API version stripe-go was built for
// (stripe.APIVersion, or another of its release train). It is a
// configuration error: answer with a server error (Stripe retries for
// three days) and log it for the operator.
var ErrAPIVersion = errors.New("payments: stripe webhook: event API version differs from the one Storekeep reads")

// ParseWebhook checks a webhook delivery's Stripe-Signature header against
// the endpoint's signing secret and returns the event it carries.
//
// Errors: ErrBadSignature (wrapped with the cause, never with payload
// content) when the header is missing or malformed, the signature does not
// match, its timestamp is more than five minutes old, or a signed payload
// is not a readable event; ErrIgnored (possibly wrapped with the reason)
// for genuine events Storekeep does not act on; ErrAPIVersion when the
// endpoint sends another API version.
//
// Events and what they become:
//
//	checkout.session.completed, paid or no_payment_required  CheckoutCompleted
//	checkout.session.completed, unpaid (delayed method)      ErrIgnored: async_payment_succeeded follows
//	checkout.session.async_payment_succeeded                 CheckoutCompleted
//	checkout.session.async_payment_failed                    CheckoutExpired (never paid)
//	checkout.session.expired                                 CheckoutExpired
//	charge.refunded, in full or in part                      PaymentRefunded (AmountMinor: refunded so far)
//	charge.dispute.created                                   DisputeOpened
//	charge.dispute.closed, won / lost                        DisputeWon / DisputeLost
//	charge.dispute.closed, other status (warning_closed)     ErrIgnored
//	invoice.paid, billing reason subscription_cycle          RenewalPaid
//	invoice.payment_failed, subscription_cycle               RenewalFailed
//	invoice.*, other billing reasons                         ErrIgnored (the first invoice is the checkout's)
//	customer.subscription.updated                            SubscriptionChanged
//	customer.subscription.updated, incomplete or paused      ErrIgnored
//	customer.subscription.deleted                            SubscriptionEnded
//	charge.succeeded with a risk assessment                  PaymentRisk (the fraud review decides what it means)
//	charge.succeeded, not assessed                           ErrIgnored
//	review.opened / review.closed                            ReviewOpened / ReviewClosed
//	radar.early_fraud_warning.created / .updated             EarlyFraudWarning
//	anything else                                            ErrIgnored
func (s *Stripe) ParseWebhook(payload []byte, signature string) (Event, error) {
	return parseStripeWebhook(payload, signature, s.webhookSecret)
}

func parseStripeWebhook(payload []byte, signature, secret string) (Event, error) {
	se, err := webhook.ConstructEventWithOptions(payload, signature, secret, webhook.ConstructEventOptions{
		Tolerance: stripeTolerance,
		// Checked below, to tell a misconfigured endpoint from a bad
		// payload.
		IgnoreAPIVersionMismatch: true,
	})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader),
		errors.Is(err, webhook.ErrNoValidSignature), errors.Is(err, webhook.ErrTooOld):
		return Event{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	case err != nil:
		// Signed, but not JSON of an event. The JSON error can quote
		// the payload: leave it out.
		return Event{}, fmt.Errorf("%w: the signed payload is not a Stripe event", ErrBadSignature)
	case se.ID == "" || se.Type == "":
		return Event{}, fmt.Errorf("%w: the signed payload is not a Stripe event", ErrBadSignature)
	case !sameReleaseTrain(se.APIVersion, stripe.APIVersion):
		return Event{}, fmt.Errorf("%w: event %s has API version %q; set the webhook endpoint's API version to %s", ErrAPIVersion, se.ID, se.APIVersion, stripe.APIVersion)
	}

	ev := Event{ID: se.ID, Provider: "stripe", Created: time.Unix(se.Created, 0).UTC()}
	obj := func(v any) error {
		if se.Data == nil || len(se.Data.Raw) == 0 {
			return fmt.Errorf("%w: event %s has no data object", ErrBadSignature, se.ID)
		}
		if err := json.Unmarshal(se.Data.Raw, v); err != nil {
			return fmt.Errorf("%w: the data object of event %s (%s) is unreadable", ErrBadSignature, se.ID, se.Type)
		}
		return nil
	}

	switch se.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		var cs stripe.CheckoutSession
		if err := obj(&cs); err != nil {
			return Event{}, err
		}
		switch cs.PaymentStatus {
		case stripe.CheckoutSessionPaymentStatusPaid, stripe.CheckoutSessionPaymentStatusNoPaymentRequired:
		default:
			// A delayed method (bank debit, transfer): the session is
			// complete but the money is not there yet.
			// checkout.session.async_payment_succeeded or _failed follows.
			return Event{}, fmt.Errorf("%w: checkout session completed with payment status %q; waiting for async_payment_succeeded", ErrIgnored, cs.PaymentStatus)
		}
		ev.Type = CheckoutCompleted
		fromSession(&ev, &cs)
	case stripe.EventTypeCheckoutSessionExpired, stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		var cs stripe.CheckoutSession
		if err := obj(&cs); err != nil {
			return Event{}, err
		}
		ev.Type = CheckoutExpired
		fromSession(&ev, &cs)
	case stripe.EventTypeChargeRefunded:
		var ch stripe.Charge
		if err := obj(&ch); err != nil {
			return Event{}, err
		}
		// In full or in part: AmountMinor is what Stripe has refunded of
		// the charge so far (amount_refunded), which orders compares with
		// the refunds it recorded, so a refund made through Storekeep is
		// never counted twice.
		ev.Type = PaymentRefunded
		if ch.Refunds != nil {
			// Present when the endpoint's API version or an expansion
			// includes them: each refund then counts by its ID.
			for _, r := range ch.Refunds.Data {
				if r == nil || r.ID == "" || r.Status == stripe.RefundStatusFailed || r.Status == stripe.RefundStatusCanceled {
					continue
				}
				ev.Refunds = append(ev.Refunds, RefundRef{Ref: r.ID, AmountMinor: r.Amount, Key: r.Metadata["storekeep_refund"]})
			}
		}
		ev.PaymentRef = paymentIntentID(ch.PaymentIntent)
		if ch.Customer != nil {
			ev.CustomerRef = ch.Customer.ID
		}
		ev.OrderNumber = ch.Metadata["order_number"]
		ev.AmountMinor = ch.AmountRefunded
		ev.Currency = strings.ToUpper(string(ch.Currency))
	case stripe.EventTypeChargeDisputeCreated, stripe.EventTypeChargeDisputeClosed:
		var d stripe.Dispute
		if err := obj(&d); err != nil {
			return Event{}, err
		}
		switch {
		case se.Type == stripe.EventTypeChargeDisputeCreated:
			ev.Type = DisputeOpened
		case d.Status == stripe.DisputeStatusWon:
			ev.Type = DisputeWon
		case d.Status == stripe.DisputeStatusLost:
			ev.Type = DisputeLost
		default:
			return Event{}, fmt.Errorf("%w: dispute closed with status %q", ErrIgnored, d.Status)
		}
		ev.PaymentRef = paymentIntentID(d.PaymentIntent)
		if ev.PaymentRef == "" && d.Charge != nil {
			ev.PaymentRef = paymentIntentID(d.Charge.PaymentIntent)
		}
		ev.AmountMinor = d.Amount
		ev.Currency = strings.ToUpper(string(d.Currency))
		ev.Reason = string(d.Reason)
	case stripe.EventTypeChargeSucceeded:
		var ch stripe.Charge
		if err := obj(&ch); err != nil {
			return Event{}, err
		}
		if ch.Outcome == nil || ch.Outcome.RiskLevel == "" || ch.Outcome.RiskLevel == "not_assessed" || ch.Outcome.RiskLevel == "unknown" {
			return Event{}, fmt.Errorf("%w: charge without a risk assessment", ErrIgnored)
		}
		ev.Type = PaymentRisk
		ev.Risk = Risk{Level: ch.Outcome.RiskLevel, Score: ch.Outcome.RiskScore, Outcome: ch.Outcome.Type}
		if ch.Outcome.Rule != nil {
			ev.Risk.Rule = ch.Outcome.Rule.ID
		}
		fromCharge(&ev, &ch)
		ev.AmountMinor = ch.Amount
	case stripe.EventTypeReviewOpened, stripe.EventTypeReviewClosed:
		var rv stripe.Review
		if err := obj(&rv); err != nil {
			return Event{}, err
		}
		ev.Type, ev.Reason = ReviewOpened, string(rv.OpenedReason)
		if se.Type == stripe.EventTypeReviewClosed {
			ev.Type, ev.Reason = ReviewClosed, string(rv.ClosedReason)
		}
		if ev.Reason == "" {
			ev.Reason = string(rv.Reason)
		}
		ev.PaymentRef = paymentIntentID(rv.PaymentIntent)
		if ev.PaymentRef == "" && rv.Charge != nil {
			ev.PaymentRef = paymentIntentID(rv.Charge.PaymentIntent)
		}
	case stripe.EventTypeRadarEarlyFraudWarningCreated, stripe.EventTypeRadarEarlyFraudWarningUpdated:
		var w stripe.RadarEarlyFraudWarning
		if err := obj(&w); err != nil {
			return Event{}, err
		}
		ev.Type, ev.Reason, ev.Actionable = EarlyFraudWarning, string(w.FraudType), w.Actionable
		ev.PaymentRef = paymentIntentID(w.PaymentIntent)
		if ev.PaymentRef == "" && w.Charge != nil {
			ev.PaymentRef = paymentIntentID(w.Charge.PaymentIntent)
		}
	case stripe.EventTypeInvoicePaid, stripe.EventTypeInvoicePaymentFailed:
		var inv stripe.Invoice
		if err := obj(&inv); err != nil {
			return Event{}, err
		}
		if inv.BillingReason != stripe.InvoiceBillingReasonSubscriptionCycle {
			// The subscription's first invoice is paid in the checkout,
			// whose completion records it; other invoices (a change of
			// plan, one made by hand) renew nothing.
			return Event{}, fmt.Errorf("%w: invoice with billing reason %q", ErrIgnored, inv.BillingReason)
		}
		if err := fromInvoice(&ev, &inv); err != nil {
			return Event{}, err
		}
		ev.Type = RenewalPaid
		if se.Type == stripe.EventTypeInvoicePaymentFailed {
			ev.Type = RenewalFailed
		}
	case stripe.EventTypeCustomerSubscriptionUpdated, stripe.EventTypeCustomerSubscriptionDeleted:
		var sub stripe.Subscription
		if err := obj(&sub); err != nil {
			return Event{}, err
		}
		if sub.ID == "" {
			return Event{}, fmt.Errorf("%w: event %s names no subscription", ErrBadSignature, se.ID)
		}
		ev.Type = SubscriptionChanged
		switch sub.Status {
		case stripe.SubscriptionStatusActive, stripe.SubscriptionStatusTrialing:
			ev.SubscriptionStatus = SubscriptionActive
		case stripe.SubscriptionStatusPastDue, stripe.SubscriptionStatusUnpaid:
			ev.SubscriptionStatus = SubscriptionPastDue
		case stripe.SubscriptionStatusCanceled, stripe.SubscriptionStatusIncompleteExpired:
			ev.SubscriptionStatus = SubscriptionCancelled
		default:
			// incomplete (the first payment is under way: the checkout
			// decides) or paused (not offered by our checkout).
			return Event{}, fmt.Errorf("%w: subscription status %q", ErrIgnored, sub.Status)
		}
		if se.Type == stripe.EventTypeCustomerSubscriptionDeleted {
			ev.Type, ev.SubscriptionStatus = SubscriptionEnded, SubscriptionCancelled
		}
		ev.SubscriptionRef = sub.ID
		ev.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
		ev.OrderNumber = sub.Metadata["order_number"]
		if sub.Customer != nil {
			ev.CustomerRef = sub.Customer.ID
		}
		if sub.Items != nil {
			for _, it := range sub.Items.Data {
				if it != nil && it.CurrentPeriodEnd > 0 && time.Unix(it.CurrentPeriodEnd, 0).After(ev.PeriodEnd) {
					ev.PeriodEnd = time.Unix(it.CurrentPeriodEnd, 0).UTC()
				}
			}
		}
	default:
		return Event{}, ErrIgnored
	}
	return ev, nil
}

// fromInvoice reads a subscription invoice: the subscription and the order
// it names, the amount, and the service period its lines bill (the
// earliest start and the latest end).
func fromInvoice(ev *Event, inv *stripe.Invoice) error {
	if inv.Parent == nil || inv.Parent.SubscriptionDetails == nil || inv.Parent.SubscriptionDetails.Subscription == nil ||
		inv.Parent.SubscriptionDetails.Subscription.ID == "" {
		return fmt.Errorf("%w: invoice %s of a billing cycle names no subscription", ErrIgnored, inv.ID)
	}
	sd := inv.Parent.SubscriptionDetails
	ev.SubscriptionRef, ev.InvoiceRef = sd.Subscription.ID, inv.ID
	ev.OrderNumber = sd.Metadata["order_number"]
	if inv.Customer != nil {
		ev.CustomerRef = inv.Customer.ID
	}
	ev.AmountMinor = inv.AmountPaid
	if ev.AmountMinor == 0 {
		ev.AmountMinor = inv.Total // a failed payment has paid nothing
	}
	ev.Currency = strings.ToUpper(string(inv.Currency))
	if inv.AutomaticTax != nil && inv.AutomaticTax.Enabled {
		for _, t := range inv.TotalTaxes {
			if t != nil {
				ev.TaxMinor += t.Amount
			}
		}
		ev.TaxReported = true
	}
	if inv.Lines != nil {
		for _, l := range inv.Lines.Data {
			if l == nil || l.Period == nil || l.Period.End == 0 {
				continue
			}
			start, end := time.Unix(l.Period.Start, 0).UTC(), time.Unix(l.Period.End, 0).UTC()
			if ev.PeriodStart.IsZero() || start.Before(ev.PeriodStart) {
				ev.PeriodStart = start
			}
			if end.After(ev.PeriodEnd) {
				ev.PeriodEnd = end
			}
		}
	}
	if inv.Payments != nil {
		// Present when Stripe includes the invoice's payments: the
		// payment intent lets a refund of the renewal find its order.
		for _, ip := range inv.Payments.Data {
			if ip != nil && ip.Payment != nil && ip.Payment.PaymentIntent != nil && ip.Payment.PaymentIntent.ID != "" {
				ev.PaymentRef = ip.Payment.PaymentIntent.ID
				break
			}
		}
	}
	return nil
}

func fromSession(ev *Event, cs *stripe.CheckoutSession) {
	ev.SessionRef = cs.ID
	ev.PaymentRef = paymentIntentID(cs.PaymentIntent)
	if cs.Customer != nil {
		ev.CustomerRef = cs.Customer.ID
	}
	if cs.Subscription != nil {
		ev.SubscriptionRef = cs.Subscription.ID
	}
	ev.OrderNumber = cs.ClientReferenceID
	if ev.OrderNumber == "" {
		ev.OrderNumber = cs.Metadata["order_number"]
	}
	ev.AmountMinor = cs.AmountTotal
	ev.Currency = strings.ToUpper(string(cs.Currency))
	if cs.AutomaticTax != nil && cs.AutomaticTax.Enabled && cs.TotalDetails != nil {
		ev.TaxMinor, ev.TaxReported = cs.TotalDetails.AmountTax, true
	}
}

// fromCharge reads the payment, customer and order a charge names.
func fromCharge(ev *Event, ch *stripe.Charge) {
	ev.PaymentRef = paymentIntentID(ch.PaymentIntent)
	if ch.Customer != nil {
		ev.CustomerRef = ch.Customer.ID
	}
	ev.OrderNumber = ch.Metadata["order_number"]
	ev.Currency = strings.ToUpper(string(ch.Currency))
}

func paymentIntentID(pi *stripe.PaymentIntent) string {
	if pi == nil {
		return ""
	}
	return pi.ID
}

// sameReleaseTrain reports whether an event's API version renders objects
// the way stripe-go's does: versions are DATE.TRAIN (2025-08-27.basil), and
// within one train Stripe changes objects only additively. This is the
// rule stripe-go's own check applies.
func sameReleaseTrain(event, ours string) bool {
	_, et, ok1 := strings.Cut(event, ".")
	_, ot, ok2 := strings.Cut(ours, ".")
	if !ok1 || !ok2 {
		return false
	}
	if ot == "preview" {
		return event == ours
	}
	return et == ot
}
