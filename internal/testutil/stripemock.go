package testutil

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// StripeMockInstall is how to install the stripe-mock that the Stripe
// tests talk to; .ci/run installs the version pinned in .ci/tools.env.
const StripeMockInstall = "go install github.com/stripe/stripe-mock@v0.203.0"

// StartStripeMock returns the HTTP base URL of the stripe-mock (Stripe's API
// simulator) of this test binary, for payments.StripeConfig Backend. The
// first call starts it on free loopback ports; later calls, from any test
// of the package, share it: stripe-mock keeps no state between requests,
// so tests stay independent as long as each uses objects of its own. It
// runs until the test binary exits (it is killed with it). Without
// stripe-mock in PATH the test is skipped, or fails when Required.
func StartStripeMock(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("stripe-mock"); err != nil {
		if Required() {
			t.Fatalf("stripe-mock is not in PATH; the Stripe tests are required here. Install it with: %s", StripeMockInstall)
		}
		t.Skipf("stripe-mock not in PATH (install: %s): skipping", StripeMockInstall)
	}
	sharedStripeMock.once.Do(func() {
		sharedStripeMock.url, sharedStripeMock.pid, sharedStripeMock.err = startStripeMock()
	})
	if sharedStripeMock.err != nil {
		t.Fatal(sharedStripeMock.err)
	}
	return sharedStripeMock.url
}

// sharedStripeMock is the one stripe-mock process of the test binary.
var sharedStripeMock struct {
	once sync.Once
	url  string
	pid  int
	err  error
}

func startStripeMock() (url string, pid int, err error) {
	// An empty port makes stripe-mock choose free ones and print them: no
	// race between finding a free port and binding it. Both addresses are
	// given, or stripe-mock opens HTTPS on every interface.
	cmd := exec.Command("stripe-mock", "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, fmt.Errorf("stripe-mock: %w", err)
	}
	cmd.Stderr = cmd.Stdout // its messages go to either, depending on version
	if err := startTied(cmd); err != nil {
		return "", 0, fmt.Errorf("start stripe-mock: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	fail := func(format string, args ...any) (string, int, error) {
		_ = cmd.Process.Kill()
		<-exited
		return "", 0, fmt.Errorf(format, args...)
	}

	const prefix = "Listening for HTTP at address: "
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var addr string
		for sc.Scan() {
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), prefix); ok && addr == "" {
				addr = a
				addrc <- a
			}
		}
		close(addrc)
		_, _ = io.Copy(io.Discard, out) // keep the pipe drained until exit
	}()

	deadline := time.NewTimer(15 * time.Second)
	defer deadline.Stop()
	var addr string
	select {
	case a, ok := <-addrc:
		if !ok {
			return fail("stripe-mock exited without listening on HTTP")
		}
		addr = a
	case <-deadline.C:
		return fail("stripe-mock did not start listening within 15 s")
	}
	// It prints the address once bound; make sure it answers before
	// handing it out.
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return "http://" + addr, cmd.Process.Pid, nil
		}
		select {
		case <-exited:
			return "", 0, fmt.Errorf("stripe-mock exited: %w", err)
		case <-deadline.C:
			return fail("stripe-mock does not answer on %s: %v", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SignedStripeEvent signs eventJSON with a webhook endpoint's secret as
// Stripe does, now, and returns the request body and the Stripe-Signature
// header value.
func SignedStripeEvent(t testing.TB, secret string, eventJSON []byte) (payload []byte, header string) {
	t.Helper()
	return SignedStripeEventAt(t, secret, eventJSON, time.Now())
}

// SignedStripeEventAt signs as SignedStripeEvent with the signature
// timestamp at, for tests of stale signatures.
func SignedStripeEventAt(t testing.TB, secret string, eventJSON []byte, at time.Time) (payload []byte, header string) {
	t.Helper()
	if secret == "" {
		t.Fatal("SignedStripeEvent: empty secret")
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: eventJSON, Secret: secret, Timestamp: at})
	return sp.Payload, sp.Header
}

// StripeSession describes the checkout session of a test event.
type StripeSession struct {
	ID            string // "cs_test_..."; "" makes one up
	PaymentIntent string // "pi_..."
	Customer      string // "cus_..."
	OrderNumber   string // client_reference_id
	AmountTotal   int64
	Currency      string // any case; sent lower case, as Stripe does
	// PaymentStatus is "paid" when empty; "unpaid" for a delayed payment
	// method.
	PaymentStatus string
	// Subscription ("sub_...") makes it a session in subscription mode,
	// which started that subscription (a yearly price by card).
	Subscription string
}

// StripeCheckoutCompleted returns the JSON of a checkout.session.completed
// event with ID eventID ("" makes one up).
func StripeCheckoutCompleted(eventID string, s StripeSession) []byte {
	return StripeCheckoutEvent(eventID, "checkout.session.completed", s)
}

// StripeCheckoutEvent returns the JSON of a checkout.session.* event of
// the given type (such as checkout.session.async_payment_succeeded) about
// a completed session.
func StripeCheckoutEvent(eventID, eventType string, s StripeSession) []byte {
	return StripeEventJSON(eventID, eventType, sessionObject(s, "complete"))
}

// StripeCheckoutExpired returns the JSON of a checkout.session.expired
// event.
func StripeCheckoutExpired(eventID string, s StripeSession) []byte {
	s.PaymentStatus = "unpaid"
	s.PaymentIntent = ""
	return StripeEventJSON(eventID, "checkout.session.expired", sessionObject(s, "expired"))
}

// StripeChargeRefunded returns the JSON of a charge.refunded event for the
// payment intent: refunded in full when refunded == amount.
func StripeChargeRefunded(eventID, paymentIntent string, amount, refunded int64, currency string) []byte {
	return StripeEventJSON(eventID, "charge.refunded", chargeObject(paymentIntent, amount, refunded, currency))
}

// StripeDispute returns the JSON of a charge.dispute.created
// (status "needs_response") or charge.dispute.closed event; status is the
// dispute's status, such as "won" or "lost".
func StripeDispute(eventID, eventType, paymentIntent string, amount int64, currency, status string) []byte {
	return StripeEventJSON(eventID, eventType, map[string]any{
		"id":             "dp_" + randHex(12),
		"object":         "dispute",
		"amount":         amount,
		"currency":       strings.ToLower(currency),
		"charge":         "ch_" + randHex(12),
		"payment_intent": paymentIntent,
		"reason":         "fraudulent",
		"status":         status,
		"livemode":       false,
		"metadata":       map[string]string{},
	})
}

// StripeEventJSON returns the JSON of a Stripe event of type eventType
// whose data.object is object, in the API version stripe-go reads
// (stripe.APIVersion: the webhook check refuses others). An empty eventID
// makes one up.
func StripeEventJSON(eventID, eventType string, object any) []byte {
	if eventID == "" {
		eventID = "evt_" + randHex(12)
	}
	b, err := json.MarshalIndent(map[string]any{
		"id":               eventID,
		"object":           "event",
		"api_version":      stripe.APIVersion,
		"created":          time.Now().Unix(),
		"type":             eventType,
		"livemode":         false,
		"pending_webhooks": 1,
		"request":          map[string]any{"id": nil, "idempotency_key": nil},
		"data":             map[string]any{"object": object},
	}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("StripeEventJSON: %v", err)) // only for values json cannot encode
	}
	return b
}

func sessionObject(s StripeSession, status string) map[string]any {
	if s.ID == "" {
		s.ID = "cs_test_" + randHex(12)
	}
	if s.PaymentStatus == "" {
		s.PaymentStatus = "paid"
	}
	nullable := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	mode := "payment"
	if s.Subscription != "" {
		mode = "subscription"
	}
	return map[string]any{
		"id":                  s.ID,
		"object":              "checkout.session",
		"mode":                mode,
		"subscription":        nullable(s.Subscription),
		"status":              status,
		"payment_status":      s.PaymentStatus,
		"client_reference_id": nullable(s.OrderNumber),
		"customer":            nullable(s.Customer),
		"payment_intent":      nullable(s.PaymentIntent),
		"amount_subtotal":     s.AmountTotal,
		"amount_total":        s.AmountTotal,
		"currency":            strings.ToLower(s.Currency),
		"created":             time.Now().Add(-time.Minute).Unix(),
		"expires_at":          time.Now().Add(24 * time.Hour).Unix(),
		"livemode":            false,
		"metadata":            map[string]string{"order_number": s.OrderNumber},
		"url":                 nil,
	}
}

// StripeMockPID is the process ID of the shared stripe-mock, 0 before
// StartStripeMock has started it (for the test that checks it dies with
// the test binary).
func StripeMockPID() int { return sharedStripeMock.pid }
