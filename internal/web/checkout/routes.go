// Package checkout is buying: the checkout page that places an order and
// hands the buyer to the payment provider, the processors' signed
// webhooks, and the demo's imitation of a hosted payment page.
package checkout

import (
	"embed"
	"errors"
	"github.com/storekeep/storekeep/internal/orders"
	"log/slog"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// WebhookVerifier checks a processor's webhook signature and returns the
// event it carries (payments.ErrBadSignature, payments.ErrIgnored).
type WebhookVerifier interface {
	ParseWebhook(payload []byte, signature string) (payments.Event, error)
}

// Options are what checkout needs besides the core.
type Options struct {
	// Payments are the enabled ways to pay, in the order the checkout page
	// offers them. The demo provider is only ever passed by `storekeep demo`.
	Payments []payments.Provider
	// StripeWebhooks verifies Stripe's webhook deliveries; nil when Stripe
	// is not configured.
	StripeWebhooks WebhookVerifier
	// PaymentInstructions tell buyers paying by invoice how to pay (bank
	// details).
	PaymentInstructions string
	// Licenses issues the licenses of paid orders; nil when no license
	// signing keys are configured.
	Licenses orders.Licenser
	// VATChecker confirms buyers' VAT numbers (VIES, --vies); nil checks
	// their format only.
	VATChecker tax.Checker
	// Fraud looks at each placed order for fraud signals (a disposable
	// address, a country mismatch) and records the checkout for the burst
	// patterns, in the order's transaction; nil looks at nothing.
	Fraud *detect.Checks
	// Signals hands the processor's fraud signals (risk outcome, reviews,
	// early fraud warnings, disputes) from the webhook to the fraud
	// review; nil raises none.
	Signals orders.Signals
}

// handler serves checkout.
type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	pages *web.Pages

	payments            []payments.Provider
	stripeWebhooks      WebhookVerifier
	paymentInstructions string
	licenses            orders.Licenser
	vat                 tax.Checker
	fraud               *detect.Checks
	signals             orders.Signals
}

// Mount registers checkout's routes on s.
func Mount(s *web.Server, o Options) error {
	for _, p := range o.Payments {
		if d, ok := p.(payments.DemoOnly); ok && d.IsDemo() && !s.Demo() {
			return errors.New("web: the demo payment provider is only for `storekeep demo`; it never takes real payments")
		}
	}
	pages, err := s.NewPages("checkout", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), log: s.Log(), pages: pages,
		payments: o.Payments, stripeWebhooks: o.StripeWebhooks, paymentInstructions: o.PaymentInstructions, licenses: o.Licenses, vat: o.VATChecker, fraud: o.Fraud, signals: o.Signals}
	s.Handle("GET /checkout", h.checkoutForm)
	s.Handle("POST /checkout", h.checkout)
	s.Handle("POST /webhooks/stripe", h.stripeWebhook)
	if h.demoProvider() != nil {
		s.Handle("GET /demo-pay/{session}", h.demoPayForm)
		s.Handle("POST /demo-pay/{session}/{action}", h.demoPay)
	}
	return nil
}

// FormOrigins are the origins of the providers' hosted payment pages,
// which the Content-Security-Policy's form-action must allow.
func FormOrigins(ps []payments.Provider) []string {
	var origins []string
	for _, p := range ps {
		if f, ok := p.(payments.HostedPage); ok {
			origins = append(origins, f.FormOrigins()...)
		}
	}
	return origins
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}
