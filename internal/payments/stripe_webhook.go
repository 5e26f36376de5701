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
//	charge.refunded, refunded in full                        PaymentRefunded
//	charge.refunded, partly refunded                         ErrIgnored
//	charge.dispute.created                                   DisputeOpened
//	charge.dispute.closed, won / lost                        DisputeWon / DisputeLost
//	charge.dispute.closed, other status (warning_closed)     ErrIgnored
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
		if !ch.Refunded {
			// Orders know full refunds only; a partial refund is
			// recorded by finance by hand.
			return Event{}, fmt.Errorf("%w: partial refund (%d of %d)", ErrIgnored, ch.AmountRefunded, ch.Amount)
		}
		ev.Type = PaymentRefunded
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
	default:
		return Event{}, ErrIgnored
	}
	return ev, nil
}

func fromSession(ev *Event, cs *stripe.CheckoutSession) {
	ev.SessionRef = cs.ID
	ev.PaymentRef = paymentIntentID(cs.PaymentIntent)
	if cs.Customer != nil {
		ev.CustomerRef = cs.Customer.ID
	}
	ev.OrderNumber = cs.ClientReferenceID
	if ev.OrderNumber == "" {
		ev.OrderNumber = cs.Metadata["order_number"]
	}
	ev.AmountMinor = cs.AmountTotal
	ev.Currency = strings.ToUpper(string(cs.Currency))
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
