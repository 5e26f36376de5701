package main

import (
	"fmt"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web/app"
)

// configuredPayments are the payment providers the configuration enables,
// built in one place for serve, demo and the command line (erasure asks
// the same processors the site uses).
type configuredPayments struct {
	// Providers in the order the checkout page offers them.
	Providers []payments.Provider
	// Stripe is set when Stripe is configured: it also verifies webhooks.
	Stripe       *payments.Stripe
	Instructions string
}

// newPayments builds the providers cfg enables. Only `storekeep demo`
// passes isDemo, so the test provider can never be switched on in `serve`.
func newPayments(cfg *config.Config, isDemo bool, clk clock.Clock) (configuredPayments, error) {
	var out configuredPayments
	if cfg.StripeSecretKey != "" {
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, Backend: cfg.StripeAPIURL})
		if err != nil {
			return out, err
		}
		out.Providers = append(out.Providers, st)
		out.Stripe = st
	}
	if cfg.ManualPayments || isDemo {
		out.Providers = append(out.Providers, payments.Manual{})
	}
	out.Instructions = invoiceInstructions(cfg, isDemo)
	if isDemo {
		demo, err := payments.NewDemo(cfg.BaseURL, clk)
		if err != nil {
			return out, err
		}
		out.Providers = append([]payments.Provider{demo}, out.Providers...)
	}
	return out, nil
}

// invoiceInstructions are the bank details that pages, mail and invoice
// PDFs print for payment by transfer ("" when no transfer is offered).
func invoiceInstructions(cfg *config.Config, isDemo bool) string {
	switch {
	case !cfg.ManualPayments && !isDemo:
		return ""
	case cfg.PaymentInstructions == "" && isDemo:
		return "Demo bank: IBAN XX00 0000 0000 0000 (nothing here is real)"
	}
	return cfg.PaymentInstructions
}

// Processors are the configured providers that can delete their record of
// a person (payments.CustomerDeleter), by recipient ID: a provider's name
// is the ID of the recipient the inventory declares for it.
func (c configuredPayments) Processors() (privacy.Processors, error) {
	out := privacy.Processors{}
	for _, p := range c.Providers {
		d, ok := p.(payments.CustomerDeleter)
		if !ok {
			continue
		}
		if _, declared := privacy.Declared.Recipient(p.Name()); !declared {
			return nil, fmt.Errorf("payment provider %q can delete customers but is no recipient in the data inventory", p.Name())
		}
		out[p.Name()] = d
	}
	return out, nil
}

// paymentOptions sets up the ways to pay that the configuration enables.
func paymentOptions(cfg *config.Config, isDemo bool, clk clock.Clock, o *app.Options) error {
	cp, err := newPayments(cfg, isDemo, clk)
	if err != nil {
		return err
	}
	o.Payments = append(o.Payments, cp.Providers...)
	if cp.Stripe != nil {
		o.StripeWebhooks = cp.Stripe
	}
	o.PaymentInstructions = cp.Instructions
	if cfg.VIES && !isDemo {
		// The seller's number (the requester) is added at each check
		// from the tax settings.
		o.VATChecker = tax.VIES{}
	}
	o.Processors, err = cp.Processors()
	return err
}
