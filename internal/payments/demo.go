package payments

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
)

// Demo is the pretend processor of `storekeep demo`, so that the demo can
// be clicked through from checkout to a paid order without a Stripe
// account. It imitates a hosted payment page: StartCheckout sends the
// buyer to /demo-pay/{session} on the site itself, where a button reports
// the payment (NewEvent) as Stripe's webhook would.
//
// No money moves and nothing is checked: it must never run on a real
// shop. Only NewDemo makes a working Demo, and a test of this package
// fails when NewDemo is called anywhere but in code for the demo
// (a function whose name says "demo"); `storekeep serve` never offers it.
type Demo struct {
	baseURL string
	clock   clock.Clock
}

// demoSessionTTL is how long a demo payment page stays payable, as long as
// a Stripe Checkout Session.
const demoSessionTTL = 24 * time.Hour

// NewDemo returns the demo provider for the site at baseURL (such as
// http://127.0.0.1:8080). Call it from `storekeep demo` only.
func NewDemo(baseURL string, clk clock.Clock) (*Demo, error) {
	u, err := url.Parse(strings.TrimSuffix(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("payments: demo provider: the base URL %q is not usable", baseURL)
	}
	if clk == nil {
		clk = clock.System{}
	}
	return &Demo{baseURL: u.String(), clock: clk}, nil
}

// Name returns "demo".
func (*Demo) Name() string { return "demo" }

// Label names the demo's way to pay so that nobody takes it for a real one.
func (*Demo) Label() string { return "Test payment (demo only, no money moves)" }

// SetRenewal accepts turning a demo subscription's renewal off and on (the
// demo's sample customer has one): the demo charges nothing, so there is
// nothing to tell; orders records the choice as for Stripe.
func (*Demo) SetRenewal(_ context.Context, subscriptionRef string, _ bool) error {
	if subscriptionRef == "" {
		return errors.New("payments: demo: set renewal: no subscription reference")
	}
	return nil
}

// IsDemo marks the provider as the demo's, for pages to label it.
func (*Demo) IsDemo() bool { return true }

// StartCheckout makes up a session reference and returns the address of
// the site's demo payment page for it.
func (d *Demo) StartCheckout(_ context.Context, c Checkout) (Started, error) {
	if d == nil || d.clock == nil {
		return Started{}, errors.New("payments: the demo provider was not made with NewDemo")
	}
	if _, err := c.check(); err != nil {
		return Started{}, err
	}
	ref := demoSessionPrefix + randomHex(12)
	return Started{
		SessionRef:  ref,
		RedirectURL: d.baseURL + "/demo-pay/" + ref,
		ExpiresAt:   d.clock.Now().Add(demoSessionTTL),
	}, nil
}

// ResumeCheckout returns the demo payment page of sessionRef again. The
// page itself refuses an order that is no longer pending.
func (d *Demo) ResumeCheckout(_ context.Context, sessionRef string) (Started, error) {
	if d == nil || d.clock == nil {
		return Started{}, errors.New("payments: the demo provider was not made with NewDemo")
	}
	if !IsDemoSessionRef(sessionRef) {
		return Started{}, ErrCheckoutEnded
	}
	return Started{SessionRef: sessionRef, RedirectURL: d.baseURL + "/demo-pay/" + sessionRef}, nil
}

// NewEvent returns the event the demo payment page reports, as Stripe's
// webhook would: CheckoutCompleted when the visitor pays, CheckoutExpired
// when they give up, and so on. Its ID is made of the type and the session,
// so that a second click on the same button is a duplicate delivery of one
// event (orders then changes nothing). The payment reference is made from
// the session's too, so that a later PaymentRefunded or dispute event for
// the same sessionRef names the same payment, as Stripe's charge events
// name the payment intent rather than the session.
func (d *Demo) NewEvent(t EventType, sessionRef, orderNumber string, amountMinor int64, currency string) Event {
	now := time.Now().UTC()
	if d != nil && d.clock != nil {
		now = d.clock.Now()
	}
	ev := Event{
		Provider:    "demo",
		Type:        t,
		Created:     now,
		OrderNumber: orderNumber,
		AmountMinor: amountMinor,
		Currency:    strings.ToUpper(currency),
	}
	if id, ok := strings.CutPrefix(sessionRef, demoSessionPrefix); ok && IsDemoSessionRef(sessionRef) {
		ev.ID = "demo_evt_" + id + "_" + string(t)
		ev.PaymentRef = "demo_pi_" + id
	} else {
		ev.ID = "demo_evt_" + randomHex(12) + "_" + string(t)
	}
	switch t {
	case CheckoutCompleted, CheckoutExpired:
		ev.SessionRef = sessionRef // as Stripe's checkout events do
	}
	return ev
}

const demoSessionPrefix = "demo_"

// IsDemoSessionRef reports whether ref has the form of a demo session
// reference, for the demo payment page to refuse anything else before
// looking it up.
func IsDemoSessionRef(ref string) bool {
	hexPart, ok := strings.CutPrefix(ref, demoSessionPrefix)
	if !ok || len(hexPart) != 24 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil && strings.ToLower(hexPart) == hexPart
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}
