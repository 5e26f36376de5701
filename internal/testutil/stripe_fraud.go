package testutil

import "strings"

// StripeRisk is the risk outcome of a test charge (charge.outcome).
type StripeRisk struct {
	Level   string // "normal", "elevated", "highest", "not_assessed"; "" leaves the outcome out
	Score   int64
	Rule    string // "rule_..."; "" for none
	Outcome string // outcome.type; "authorized" when empty
}

// StripeChargeSucceeded returns the JSON of a charge.succeeded event for
// the payment intent, with the risk outcome r, naming the order by its
// number in the charge's metadata (as our checkout sets it).
func StripeChargeSucceeded(eventID, paymentIntent, orderNumber string, amount int64, currency string, r StripeRisk) []byte {
	ch := chargeObject(paymentIntent, amount, 0, currency)
	ch["metadata"] = map[string]string{"order_number": orderNumber}
	ch["paid"] = true
	ch["status"] = "succeeded"
	if r.Level != "" {
		if r.Outcome == "" {
			r.Outcome = "authorized"
		}
		out := map[string]any{"network_status": "approved_by_network", "reason": nil, "risk_level": r.Level,
			"seller_message": "Payment complete.", "type": r.Outcome}
		if r.Score > 0 {
			out["risk_score"] = r.Score
		}
		if r.Rule != "" {
			out["rule"] = r.Rule
		}
		ch["outcome"] = out
	}
	return StripeEventJSON(eventID, "charge.succeeded", ch)
}

// StripeReview returns the JSON of a review.opened or review.closed event
// about the payment intent; reason is the opening reason (opened) or the
// closing reason (closed), such as "rule" or "approved".
func StripeReview(eventID, eventType, paymentIntent, reason string) []byte {
	rv := map[string]any{
		"id": "prv_" + randHex(12), "object": "review", "charge": "ch_" + randHex(12), "payment_intent": paymentIntent,
		"open": eventType == "review.opened", "reason": reason, "created": 1764633600, "livemode": false,
		"ip_address": "203.0.113.9",
	}
	if eventType == "review.opened" {
		rv["opened_reason"] = reason
	} else {
		rv["closed_reason"] = reason
	}
	return StripeEventJSON(eventID, eventType, rv)
}

// StripeEarlyFraudWarning returns the JSON of a
// radar.early_fraud_warning.created (or .updated) event about the payment
// intent.
func StripeEarlyFraudWarning(eventID, eventType, paymentIntent, fraudType string, actionable bool) []byte {
	return StripeEventJSON(eventID, eventType, map[string]any{
		"id": "issfr_" + randHex(12), "object": "radar.early_fraud_warning", "actionable": actionable,
		"charge": "ch_" + randHex(12), "payment_intent": paymentIntent, "fraud_type": strings.ToLower(fraudType),
		"created": 1764633600, "livemode": false,
	})
}
