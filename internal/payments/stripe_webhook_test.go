package payments_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"

	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
)

const testSecret = "whsec_test_storekeep"

func webhookStripe(t testing.TB) *payments.Stripe {
	t.Helper()
	s, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: testSecret, Backend: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var paidSession = testutil.StripeSession{
	ID: "cs_test_paid1", PaymentIntent: "pi_paid1", Customer: "cus_paid1",
	OrderNumber: "SK-2026-000042", AmountTotal: 69700, Currency: "eur",
}

var (
	period0    = time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	period1    = period0.AddDate(1, 0, 0)
	subSession = testutil.StripeSession{ID: "cs_test_sub1", Subscription: "sub_1", Customer: "cus_paid1",
		OrderNumber: "SK-2026-000043", AmountTotal: 19000, Currency: "eur"}
	cycleInvoice = testutil.StripeInvoice{ID: "in_cycle1", Subscription: "sub_1", OrderNumber: "SK-2026-000043", Customer: "cus_paid1",
		AmountPaid: 19000, Total: 19000, Currency: "eur", PeriodStart: period0, PeriodEnd: period1, PaymentIntent: "pi_cycle1"}
	failedInvoice = testutil.StripeInvoice{ID: "in_cycle1", Subscription: "sub_1", OrderNumber: "SK-2026-000043", Customer: "cus_paid1",
		Total: 19000, Currency: "eur", PeriodStart: period0, PeriodEnd: period1}
)

func TestParseWebhookEvents(t *testing.T) {
	s := webhookStripe(t)
	unpaid := paidSession
	unpaid.PaymentStatus, unpaid.PaymentIntent = "unpaid", ""
	tests := []struct {
		name  string
		event []byte
		want  payments.Event
	}{
		{"checkout completed", testutil.StripeCheckoutCompleted("evt_completed", paidSession), payments.Event{
			ID: "evt_completed", Type: payments.CheckoutCompleted, SessionRef: "cs_test_paid1", PaymentRef: "pi_paid1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR"}},
		{"checkout completed with Stripe Tax", testutil.StripeEventJSON("evt_taxed", "checkout.session.completed", map[string]any{
			"id": "cs_test_taxed", "object": "checkout.session", "status": "complete", "payment_status": "paid", "mode": "payment",
			"client_reference_id": "SK-2026-000044", "amount_total": 58310, "amount_subtotal": 49000, "currency": "eur",
			"automatic_tax": map[string]any{"enabled": true, "status": "complete"},
			"total_details": map[string]any{"amount_tax": 9310, "amount_discount": 0, "amount_shipping": 0}}), payments.Event{
			ID: "evt_taxed", Type: payments.CheckoutCompleted, SessionRef: "cs_test_taxed", OrderNumber: "SK-2026-000044",
			AmountMinor: 58310, Currency: "EUR", TaxMinor: 9310, TaxReported: true}},
		{"delayed payment succeeded", testutil.StripeCheckoutEvent("evt_async_ok", "checkout.session.async_payment_succeeded", paidSession), payments.Event{
			ID: "evt_async_ok", Type: payments.CheckoutCompleted, SessionRef: "cs_test_paid1", PaymentRef: "pi_paid1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR"}},
		{"checkout expired", testutil.StripeCheckoutExpired("evt_expired", paidSession), payments.Event{
			ID: "evt_expired", Type: payments.CheckoutExpired, SessionRef: "cs_test_paid1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR"}},
		{"delayed payment failed", testutil.StripeCheckoutEvent("evt_async_failed", "checkout.session.async_payment_failed", unpaid), payments.Event{
			ID: "evt_async_failed", Type: payments.CheckoutExpired, SessionRef: "cs_test_paid1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR"}},
		{"full refund", testutil.StripeChargeRefunded("evt_refund", "pi_paid1", 69700, 69700, "eur"), payments.Event{
			ID: "evt_refund", Type: payments.PaymentRefunded, PaymentRef: "pi_paid1", AmountMinor: 69700, Currency: "EUR"}},
		{"partial refund", testutil.StripeChargeRefunded("evt_partial", "pi_paid1", 69700, 10000, "eur"), payments.Event{
			ID: "evt_partial", Type: payments.PaymentRefunded, PaymentRef: "pi_paid1", AmountMinor: 10000, Currency: "EUR"}},
		{"partial refunds listed", testutil.StripeChargeRefundedListing("evt_listed", "pi_paid1", 69700, 30000, "eur", []testutil.StripeRefund{
			{ID: "re_ours", Amount: 10000, Key: "SK-2026-000042-1"}, {ID: "re_dash", Amount: 20000}, {ID: "re_failed", Amount: 500, Status: "failed"}}), payments.Event{
			ID: "evt_listed", Type: payments.PaymentRefunded, PaymentRef: "pi_paid1", AmountMinor: 30000, Currency: "EUR",
			Refunds: []payments.RefundRef{{Ref: "re_ours", AmountMinor: 10000, Key: "SK-2026-000042-1"}, {Ref: "re_dash", AmountMinor: 20000}}}},
		{"dispute opened", testutil.StripeDispute("evt_dp1", "charge.dispute.created", "pi_paid1", 69700, "eur", "needs_response"), payments.Event{
			ID: "evt_dp1", Reason: "fraudulent", Type: payments.DisputeOpened, PaymentRef: "pi_paid1", AmountMinor: 69700, Currency: "EUR"}},
		{"dispute won", testutil.StripeDispute("evt_dp2", "charge.dispute.closed", "pi_paid1", 69700, "eur", "won"), payments.Event{
			ID: "evt_dp2", Reason: "fraudulent", Type: payments.DisputeWon, PaymentRef: "pi_paid1", AmountMinor: 69700, Currency: "EUR"}},
		{"dispute lost", testutil.StripeDispute("evt_dp3", "charge.dispute.closed", "pi_paid1", 69700, "eur", "lost"), payments.Event{
			ID: "evt_dp3", Reason: "fraudulent", Type: payments.DisputeLost, PaymentRef: "pi_paid1", AmountMinor: 69700, Currency: "EUR"}},
		{"risk elevated", testutil.StripeChargeSucceeded("evt_risk1", "pi_paid1", "SK-2026-000042", 69700, "eur",
			testutil.StripeRisk{Level: "elevated", Score: 72, Rule: "rule_high_card_velocity"}), payments.Event{
			ID: "evt_risk1", Type: payments.PaymentRisk, PaymentRef: "pi_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR",
			Risk: payments.Risk{Level: "elevated", Score: 72, Rule: "rule_high_card_velocity", Outcome: "authorized"}}},
		{"risk normal", testutil.StripeChargeSucceeded("evt_risk2", "pi_paid1", "SK-2026-000042", 69700, "eur",
			testutil.StripeRisk{Level: "normal", Score: 12}), payments.Event{
			ID: "evt_risk2", Type: payments.PaymentRisk, PaymentRef: "pi_paid1", OrderNumber: "SK-2026-000042", AmountMinor: 69700, Currency: "EUR",
			Risk: payments.Risk{Level: "normal", Score: 12, Outcome: "authorized"}}},
		{"review opened", testutil.StripeReview("evt_rv1", "review.opened", "pi_paid1", "rule"), payments.Event{
			ID: "evt_rv1", Type: payments.ReviewOpened, PaymentRef: "pi_paid1", Reason: "rule"}},
		{"review closed", testutil.StripeReview("evt_rv2", "review.closed", "pi_paid1", "approved"), payments.Event{
			ID: "evt_rv2", Type: payments.ReviewClosed, PaymentRef: "pi_paid1", Reason: "approved"}},
		{"early fraud warning", testutil.StripeEarlyFraudWarning("evt_efw1", "radar.early_fraud_warning.created", "pi_paid1", "made_with_stolen_card", true), payments.Event{
			ID: "evt_efw1", Type: payments.EarlyFraudWarning, PaymentRef: "pi_paid1", Reason: "made_with_stolen_card", Actionable: true}},
		{"early fraud warning updated", testutil.StripeEarlyFraudWarning("evt_efw2", "radar.early_fraud_warning.updated", "pi_paid1", "card_never_received", false), payments.Event{
			ID: "evt_efw2", Type: payments.EarlyFraudWarning, PaymentRef: "pi_paid1", Reason: "card_never_received"}},
		{"subscription checkout completed", testutil.StripeCheckoutCompleted("evt_sub_completed", subSession), payments.Event{
			ID: "evt_sub_completed", Type: payments.CheckoutCompleted, SessionRef: "cs_test_sub1", SubscriptionRef: "sub_1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000043", AmountMinor: 19000, Currency: "EUR"}},
		{"renewal paid", testutil.StripeInvoiceEvent("evt_inv_paid", "invoice.paid", cycleInvoice), payments.Event{
			ID: "evt_inv_paid", Type: payments.RenewalPaid, SubscriptionRef: "sub_1", InvoiceRef: "in_cycle1", PaymentRef: "pi_cycle1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000043", AmountMinor: 19000, Currency: "EUR", PeriodStart: period0, PeriodEnd: period1}},
		{"renewal failed", testutil.StripeInvoiceEvent("evt_inv_failed", "invoice.payment_failed", failedInvoice), payments.Event{
			ID: "evt_inv_failed", Type: payments.RenewalFailed, SubscriptionRef: "sub_1", InvoiceRef: "in_cycle1",
			CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000043", AmountMinor: 19000, Currency: "EUR", PeriodStart: period0, PeriodEnd: period1}},
		{"renewal turned off", testutil.StripeSubscriptionEvent("evt_sub_upd", "customer.subscription.updated", testutil.StripeSubscription{
			ID: "sub_1", Status: "active", CancelAtPeriodEnd: true, OrderNumber: "SK-2026-000043", Customer: "cus_paid1", PeriodEnd: period0}), payments.Event{
			ID: "evt_sub_upd", Type: payments.SubscriptionChanged, SubscriptionRef: "sub_1", SubscriptionStatus: payments.SubscriptionActive,
			CancelAtPeriodEnd: true, CustomerRef: "cus_paid1", OrderNumber: "SK-2026-000043", PeriodEnd: period0}},
		{"subscription unpaid", testutil.StripeSubscriptionEvent("evt_sub_unpaid", "customer.subscription.updated", testutil.StripeSubscription{
			ID: "sub_1", Status: "unpaid", OrderNumber: "SK-2026-000043", PeriodEnd: period0}), payments.Event{
			ID: "evt_sub_unpaid", Type: payments.SubscriptionChanged, SubscriptionRef: "sub_1", SubscriptionStatus: payments.SubscriptionPastDue,
			OrderNumber: "SK-2026-000043", PeriodEnd: period0}},
		{"subscription deleted", testutil.StripeSubscriptionEvent("evt_sub_del", "customer.subscription.deleted", testutil.StripeSubscription{
			ID: "sub_1", Status: "canceled", OrderNumber: "SK-2026-000043", PeriodEnd: period0}), payments.Event{
			ID: "evt_sub_del", Type: payments.SubscriptionEnded, SubscriptionRef: "sub_1", SubscriptionStatus: payments.SubscriptionCancelled,
			OrderNumber: "SK-2026-000043", PeriodEnd: period0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, header := testutil.SignedStripeEvent(t, testSecret, tt.event)
			got, err := s.ParseWebhook(payload, header)
			if err != nil {
				t.Fatal(err)
			}
			if got.Created.IsZero() || time.Since(got.Created) > time.Minute {
				t.Errorf("Created = %v", got.Created)
			}
			got.Created = time.Time{}
			tt.want.Provider = "stripe"
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseWebhookIgnores(t *testing.T) {
	s := webhookStripe(t)
	unpaid := paidSession
	unpaid.PaymentStatus = "unpaid"
	for name, event := range map[string][]byte{
		"unknown type":            testutil.StripeEventJSON("", "customer.created", map[string]any{"id": "cus_1", "object": "customer"}),
		"completed but unpaid":    testutil.StripeCheckoutCompleted("", unpaid),
		"dispute warning closed":  testutil.StripeDispute("", "charge.dispute.closed", "pi_paid1", 69700, "eur", "warning_closed"),
		"dispute funds withdrawn": testutil.StripeEventJSON("", "charge.dispute.funds_withdrawn", map[string]any{"id": "dp_1", "object": "dispute"}),
		"charge not assessed":     testutil.StripeChargeSucceeded("", "pi_paid1", "SK-2026-000042", 69700, "eur", testutil.StripeRisk{Level: "not_assessed"}),
		"charge without outcome":  testutil.StripeChargeSucceeded("", "pi_paid1", "SK-2026-000042", 69700, "eur", testutil.StripeRisk{}),
		// The first invoice is paid in the checkout, whose completion
		// records it.
		"first invoice":        testutil.StripeInvoiceEvent("", "invoice.paid", withReason(cycleInvoice, "subscription_create")),
		"invoice of a change":  testutil.StripeInvoiceEvent("", "invoice.paid", withReason(cycleInvoice, "subscription_update")),
		"invoice made by hand": testutil.StripeInvoiceEvent("", "invoice.payment_failed", withReason(cycleInvoice, "manual")),
		"cycle without subscription": testutil.StripeInvoiceEvent("", "invoice.paid", func() testutil.StripeInvoice {
			i := cycleInvoice
			i.Subscription = ""
			return i
		}()),
		"subscription incomplete": testutil.StripeSubscriptionEvent("", "customer.subscription.updated", testutil.StripeSubscription{ID: "sub_1", Status: "incomplete"}),
		"subscription paused":     testutil.StripeSubscriptionEvent("", "customer.subscription.updated", testutil.StripeSubscription{ID: "sub_1", Status: "paused"}),
	} {
		t.Run(name, func(t *testing.T) {
			payload, header := testutil.SignedStripeEvent(t, testSecret, event)
			ev, err := s.ParseWebhook(payload, header)
			if !errors.Is(err, payments.ErrIgnored) {
				t.Errorf("err = %v, event %+v; want ErrIgnored", err, ev)
			}
			if errors.Is(err, payments.ErrBadSignature) {
				t.Error("a genuine event reported as a bad signature")
			}
		})
	}
}

func TestParseWebhookRefusesForgeries(t *testing.T) {
	s := webhookStripe(t)
	event := testutil.StripeCheckoutCompleted("evt_forged", testutil.StripeSession{
		ID: "cs_test_x", PaymentIntent: "pi_x", OrderNumber: "SK-2026-000042", AmountTotal: 100, Currency: "eur",
	})
	// Personal data in the payload, which no error may repeat.
	event = bytes.Replace(event, []byte(`"mode": "payment"`), []byte(`"mode": "payment", "customer_email": "mallory@example.com"`), 1)
	payload, header := testutil.SignedStripeEvent(t, testSecret, event)

	_, wrongSecret := testutil.SignedStripeEvent(t, "whsec_someone_else", event)
	_, stale := testutil.SignedStripeEventAt(t, testSecret, event, time.Now().Add(-6*time.Minute))
	tampered := bytes.Replace(payload, []byte(`"amount_total": 100`), []byte(`"amount_total": 1`), 1)
	if bytes.Equal(tampered, payload) {
		t.Fatal("tampering changed nothing")
	}
	garbage := []byte(`{"id": "evt_1", "type": "checkout.session.completed", mallory@example.com`)
	_, garbageSigned := testutil.SignedStripeEvent(t, testSecret, garbage)
	notAnEvent := []byte(`["mallory@example.com"]`)
	_, notAnEventSigned := testutil.SignedStripeEvent(t, testSecret, notAnEvent)
	noData := []byte(`{"id": "evt_1", "object": "event", "type": "checkout.session.completed", "api_version": "` + stripe.APIVersion + `"}`)
	_, noDataSigned := testutil.SignedStripeEvent(t, testSecret, noData)
	badObject := testutil.StripeEventJSON("evt_bad", "checkout.session.completed", map[string]any{"amount_total": "mallory@example.com"})
	_, badObjectSigned := testutil.SignedStripeEvent(t, testSecret, badObject)

	for name, tc := range map[string]struct {
		payload []byte
		header  string
	}{
		"wrong secret":              {payload, wrongSecret},
		"tampered payload":          {tampered, header},
		"stale timestamp":           {payload, stale},
		"missing header":            {payload, ""},
		"malformed header":          {payload, "mallory@example.com"},
		"header without signature":  {payload, "t=" + strings.TrimPrefix(strings.Split(header, ",")[0], "t=")},
		"garbage JSON":              {garbage, header},
		"signed garbage JSON":       {garbage, garbageSigned},
		"signed non-event":          {notAnEvent, notAnEventSigned},
		"signed event without data": {noData, noDataSigned},
		"signed unreadable object":  {badObject, badObjectSigned},
		"empty payload":             {nil, header},
	} {
		t.Run(name, func(t *testing.T) {
			ev, err := s.ParseWebhook(tc.payload, tc.header)
			if !errors.Is(err, payments.ErrBadSignature) {
				t.Fatalf("err = %v, event %+v; want ErrBadSignature", err, ev)
			}
			if !reflect.DeepEqual(ev, payments.Event{}) {
				t.Errorf("an event came with the error: %+v", ev)
			}
			if strings.Contains(err.Error(), "mallory") {
				t.Errorf("the error repeats payload content: %v", err)
			}
		})
	}
}

func TestParseWebhookAPIVersion(t *testing.T) {
	s := webhookStripe(t)
	date, train, _ := strings.Cut(stripe.APIVersion, ".")
	event := testutil.StripeCheckoutCompleted("evt_v", paidSession)

	older := bytes.Replace(event, []byte(stripe.APIVersion), []byte("2020-08-27"), 1)
	_, err := s.ParseWebhook(testutil.SignedStripeEvent(t, testSecret, older))
	if !errors.Is(err, payments.ErrAPIVersion) || errors.Is(err, payments.ErrBadSignature) {
		t.Errorf("event of API version 2020-08-27: err = %v, want ErrAPIVersion", err)
	}
	otherTrain := bytes.Replace(event, []byte(stripe.APIVersion), []byte(date+".acacia"), 1)
	if _, err := s.ParseWebhook(testutil.SignedStripeEvent(t, testSecret, otherTrain)); !errors.Is(err, payments.ErrAPIVersion) {
		t.Errorf("event of another release train: err = %v, want ErrAPIVersion", err)
	}
	sameTrain := bytes.Replace(event, []byte(stripe.APIVersion), []byte("2099-01-01."+train), 1)
	if _, err := s.ParseWebhook(testutil.SignedStripeEvent(t, testSecret, sameTrain)); err != nil {
		t.Errorf("event of a later version of the same train: %v", err)
	}
}

// FuzzParseWebhook feeds arbitrary payloads and headers, signed with the
// endpoint's secret or not. ParseWebhook must never panic, and must accept
// only payloads whose header carries a valid, fresh signature.
func withReason(i testutil.StripeInvoice, reason string) testutil.StripeInvoice {
	i.BillingReason = reason
	return i
}

func FuzzParseWebhook(f *testing.F) {
	s := webhookStripe(f)
	for _, e := range [][]byte{
		testutil.StripeInvoiceEvent("evt_5", "invoice.paid", cycleInvoice),
		testutil.StripeSubscriptionEvent("evt_6", "customer.subscription.deleted", testutil.StripeSubscription{ID: "sub_1", Status: "canceled", PeriodEnd: period0}),
		testutil.StripeCheckoutCompleted("evt_1", paidSession),
		testutil.StripeCheckoutExpired("evt_2", paidSession),
		testutil.StripeChargeRefunded("evt_3", "pi_1", 100, 100, "eur"),
		testutil.StripeDispute("evt_4", "charge.dispute.closed", "pi_1", 100, "eur", "lost"),
		[]byte(`{}`), []byte(`null`), []byte(`{"data":{"object":5}}`),
	} {
		f.Add(e, "", true)
		_, h := testutil.SignedStripeEvent(f, testSecret, e)
		f.Add(e, h, false)
	}
	f.Fuzz(func(t *testing.T, payload []byte, header string, sign bool) {
		if sign {
			_, header = testutil.SignedStripeEvent(t, testSecret, payload)
		}
		ev, err := s.ParseWebhook(payload, header)
		if err == nil || errors.Is(err, payments.ErrIgnored) || errors.Is(err, payments.ErrAPIVersion) {
			if verr := webhook.ValidatePayloadWithTolerance(payload, header, testSecret, 5*time.Minute); verr != nil {
				t.Fatalf("accepted a payload whose signature is invalid (%v): err %v, event %+v", verr, err, ev)
			}
		}
		if err == nil && (ev.ID == "" || ev.Type == "" || ev.Provider != "stripe") {
			t.Fatalf("accepted an incomplete event %+v", ev)
		}
		if err != nil && !reflect.DeepEqual(ev, payments.Event{}) {
			t.Fatalf("an event came with error %v: %+v", err, ev)
		}
	})
}
