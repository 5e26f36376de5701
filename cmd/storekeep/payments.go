package main

import (
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/web/app"
)

// paymentOptions sets up the ways to pay that the configuration enables.
// Only `storekeep demo` passes isDemo, so the test provider can never be
// switched on in `serve`.
func paymentOptions(cfg *config.Config, isDemo bool, clk clock.Clock, o *app.Options) error {
	if cfg.StripeSecretKey != "" {
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, Backend: cfg.StripeAPIURL})
		if err != nil {
			return err
		}
		o.Payments = append(o.Payments, st)
		o.StripeWebhooks = st
	}
	if cfg.ManualPayments || isDemo {
		o.Payments = append(o.Payments, payments.Manual{})
		o.PaymentInstructions = cfg.PaymentInstructions
	}
	if isDemo {
		demo, err := payments.NewDemo(cfg.BaseURL, clk)
		if err != nil {
			return err
		}
		o.Payments = append([]payments.Provider{demo}, o.Payments...)
		if o.PaymentInstructions == "" {
			o.PaymentInstructions = "Demo bank: IBAN XX00 0000 0000 0000 (nothing here is real)"
		}
	}
	return nil
}
