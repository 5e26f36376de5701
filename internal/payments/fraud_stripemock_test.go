package payments_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

// stripeMockObject fetches one object from stripe-mock as raw JSON: the
// shape Stripe's own OpenAPI fixtures give it, with every field the real
// API sends, not only those our event builders write.
func stripeMockObject(t *testing.T, base, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return obj
}

// TestFraudEventsFromStripeMockObjects reads the fraud signals' events
// built around the objects stripe-mock serves (a charge, a review, an
// early fraud warning, a dispute), signed as Stripe signs them: the parser
// takes what the real API sends, with the fields our own builders would
// never think of, and finds in it what the fraud review needs.
func TestFraudEventsFromStripeMockObjects(t *testing.T) {
	base := testutil.StartStripeMock(t)
	s := webhookStripe(t)

	charge := stripeMockObject(t, base, "/v1/charges/ch_fraud1")
	charge["payment_intent"] = "pi_mock1"
	charge["metadata"] = map[string]any{"order_number": "SK-2026-000777"}
	outcome, _ := charge["outcome"].(map[string]any)
	if outcome == nil {
		outcome = map[string]any{"type": "authorized"}
	}
	outcome["risk_level"], outcome["risk_score"] = "elevated", 72
	outcome["type"] = "manual_review"
	outcome["rule"] = "rule_mock_review"
	charge["outcome"] = outcome

	review := stripeMockObject(t, base, "/v1/reviews/prv_fraud1")
	review["payment_intent"] = "pi_mock1"
	review["opened_reason"], review["reason"] = "rule", "rule"

	warning := stripeMockObject(t, base, "/v1/radar/early_fraud_warnings/issfr_fraud1")
	warning["payment_intent"] = "pi_mock1"
	warning["fraud_type"], warning["actionable"] = "made_with_stolen_card", true

	dispute := stripeMockObject(t, base, "/v1/disputes/dp_fraud1")
	dispute["payment_intent"] = "pi_mock1"
	dispute["status"], dispute["reason"] = "needs_response", "fraudulent"
	dispute["amount"], dispute["currency"] = 4900, "eur"

	for _, c := range []struct {
		name, eventType string
		object          map[string]any
		check           func(t *testing.T, ev payments.Event)
	}{
		{"risk outcome", "charge.succeeded", charge, func(t *testing.T, ev payments.Event) {
			if ev.Type != payments.PaymentRisk || ev.Risk.Level != "elevated" || ev.Risk.Score != 72 ||
				ev.Risk.Rule != "rule_mock_review" || ev.Risk.Outcome != "manual_review" {
				t.Errorf("risk = %s %+v", ev.Type, ev.Risk)
			}
			if ev.OrderNumber != "SK-2026-000777" {
				t.Errorf("order = %q", ev.OrderNumber)
			}
		}},
		{"review opened", "review.opened", review, func(t *testing.T, ev payments.Event) {
			if ev.Type != payments.ReviewOpened || ev.Reason != "rule" {
				t.Errorf("review = %s %q", ev.Type, ev.Reason)
			}
		}},
		{"early fraud warning", "radar.early_fraud_warning.created", warning, func(t *testing.T, ev payments.Event) {
			if ev.Type != payments.EarlyFraudWarning || ev.Reason != "made_with_stolen_card" || !ev.Actionable {
				t.Errorf("warning = %s %q actionable=%v", ev.Type, ev.Reason, ev.Actionable)
			}
		}},
		{"dispute opened", "charge.dispute.created", dispute, func(t *testing.T, ev payments.Event) {
			if ev.Type != payments.DisputeOpened || ev.AmountMinor != 4900 || ev.Currency != "EUR" || ev.Reason != "fraudulent" {
				t.Errorf("dispute = %s %d %s %q", ev.Type, ev.AmountMinor, ev.Currency, ev.Reason)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			payload, header := testutil.SignedStripeEvent(t, testSecret, testutil.StripeEventJSON("", c.eventType, c.object))
			ev, err := s.ParseWebhook(payload, header)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if ev.PaymentRef != "pi_mock1" {
				t.Errorf("payment = %q, want pi_mock1", ev.PaymentRef)
			}
			c.check(t, ev)

			// The same payload signed with another secret is refused.
			payload, header = testutil.SignedStripeEvent(t, "whsec_someone_else", testutil.StripeEventJSON("", c.eventType, c.object))
			if _, err := s.ParseWebhook(payload, header); err == nil {
				t.Error("a payload signed with another secret was accepted")
			}
		})
	}
}
