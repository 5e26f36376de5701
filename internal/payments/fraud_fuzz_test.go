package payments_test

import (
	"errors"
	"testing"

	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// FuzzFraudEvents feeds signed events of the fraud signals' types with
// fuzzed data objects to the webhook parser: it never panics, and answers
// an event, ErrIgnored or ErrBadSignature, never anything else.
func FuzzFraudEvents(f *testing.F) {
	for _, seed := range [][]byte{
		testutil.StripeChargeSucceeded("evt_1", "pi_1", "SK-1", 100, "eur", testutil.StripeRisk{Level: "elevated", Score: 70, Rule: "rule_1"}),
		testutil.StripeReview("evt_2", "review.opened", "pi_1", "rule"),
		testutil.StripeEarlyFraudWarning("evt_3", "radar.early_fraud_warning.created", "pi_1", "misc", true),
		testutil.StripeDispute("evt_4", "charge.dispute.created", "pi_1", 100, "eur", "needs_response"),
	} {
		f.Add(seed)
	}
	f.Add([]byte(`{"id":"evt_5","object":"event","type":"review.closed","data":{"object":{"charge":{"payment_intent":7}}}}`))
	s := webhookStripe(f)
	f.Fuzz(func(t *testing.T, event []byte) {
		payload, header := testutil.SignedStripeEvent(t, testSecret, event)
		ev, err := s.ParseWebhook(payload, header)
		switch {
		case err == nil:
			if ev.ID == "" || ev.Type == "" {
				t.Fatalf("an event without ID or type: %+v", ev)
			}
		case errors.Is(err, payments.ErrIgnored), errors.Is(err, payments.ErrBadSignature), errors.Is(err, payments.ErrAPIVersion):
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	})
}
