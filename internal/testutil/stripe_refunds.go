package testutil

import "strings"

// StripeRefund is one refund listed in a charge's refunds.
type StripeRefund struct {
	ID     string // re_...
	Amount int64
	// Key is the metadata storekeep_refund Storekeep gives the refunds it
	// makes; "" for a refund made in Stripe's dashboard.
	Key    string
	Status string // "succeeded" when empty
}

// StripeChargeRefundedListing returns the JSON of a charge.refunded event
// whose charge lists its refunds, as an endpoint on an API version that
// includes them (or one expanding data.object.refunds) receives it.
func StripeChargeRefundedListing(eventID, paymentIntent string, amount, refunded int64, currency string, refunds []StripeRefund) []byte {
	var data []map[string]any
	for _, r := range refunds {
		meta := map[string]string{}
		if r.Key != "" {
			meta["storekeep_refund"] = r.Key
		}
		status := r.Status
		if status == "" {
			status = "succeeded"
		}
		data = append(data, map[string]any{"id": r.ID, "object": "refund", "amount": r.Amount, "currency": strings.ToLower(currency),
			"payment_intent": paymentIntent, "status": status, "metadata": meta})
	}
	charge := chargeObject(paymentIntent, amount, refunded, currency)
	charge["refunds"] = map[string]any{"object": "list", "data": data, "has_more": false, "url": "/v1/charges/x/refunds"}
	return StripeEventJSON(eventID, "charge.refunded", charge)
}

// chargeObject is a succeeded charge of the payment intent, of which
// refunded is refunded: in full when refunded == amount.
func chargeObject(paymentIntent string, amount, refunded int64, currency string) map[string]any {
	return map[string]any{
		"id":              "ch_" + randHex(12),
		"object":          "charge",
		"amount":          amount,
		"amount_captured": amount,
		"amount_refunded": refunded,
		"currency":        strings.ToLower(currency),
		"payment_intent":  paymentIntent,
		"paid":            true,
		"captured":        true,
		"refunded":        refunded >= amount,
		"status":          "succeeded",
		"livemode":        false,
		"metadata":        map[string]string{},
	}
}
