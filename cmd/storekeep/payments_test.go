package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/config"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/app"
)

// TestConfiguredProcessors: the providers serve uses and the processors
// erasure asks come from one place; each processor is a recipient of the
// inventory, and only providers that can delete a customer are one.
func TestConfiguredProcessors(t *testing.T) {
	cfg := &config.Config{StripeSecretKey: "sk_test_123", StripeWebhookSecret: "whsec_x", ManualPayments: true, BaseURL: "http://127.0.0.1:8080"}
	cp, err := newPayments(cfg, true, clock.System{})
	if err != nil {
		t.Fatal(err)
	}
	procs, err := cp.Processors()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 1 || procs["stripe"] == nil {
		t.Fatalf("processors = %v, want stripe only", procs)
	}
	for id := range procs {
		if _, ok := privacy.Declared.Recipient(id); !ok {
			t.Errorf("processor %q is no declared recipient", id)
		}
	}
	var o app.Options
	if err := paymentOptions(cfg, true, clock.System{}, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Payments) != 3 || o.Payments[0].Name() != "demo" || o.StripeWebhooks == nil || o.Processors["stripe"] == nil {
		t.Fatalf("serve's options: %d providers, webhooks %v, processors %v", len(o.Payments), o.StripeWebhooks, o.Processors)
	}
	o = app.Options{}
	if err := paymentOptions(&config.Config{}, false, clock.System{}, &o); err != nil || len(o.Payments) != 0 || o.StripeWebhooks != nil || len(o.Processors) != 0 {
		t.Fatalf("nothing configured: %+v, %v", o, err)
	}
}

// TestPrivacyEraseCommandAsksStripe: the command line asks the configured
// Stripe (here stripe-mock) to delete the person's Stripe customer,
// through the same providers serve builds.
func TestPrivacyEraseCommandAsksStripe(t *testing.T) {
	backend := testutil.StartStripeMock(t)
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "sk.db")
	migrateWithCustomer(t, ctx, dbPath, "cus@example.com")
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	_, err = d.ExecContext(ctx, `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, total_minor, processor_customer, billing_email, created_at, updated_at)
		SELECT 'AAAA-BBBB', id, 'pending', 'stripe', 'EUR', 100, 100, 'cus_cli_erase', email, $1, $1 FROM customers WHERE email = 'cus@example.com'`, now)
	d.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("STOREKEEP_STRIPE_SECRET_KEY", "sk_test_123")
	t.Setenv("STOREKEEP_STRIPE_WEBHOOK_SECRET", "whsec_x")
	t.Setenv("STOREKEEP_STRIPE_API_URL", backend)
	out, err := execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "cus@example.com", "--dry-run")
	if err != nil || !strings.Contains(out, "Would ask Stripe to delete customer cus_cli_erase") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	out, err = execute(t, ctx, "privacy", "erase", "--db", dbPath, "--email", "cus@example.com", "--yes")
	if err != nil || !strings.Contains(out, "Deleted Stripe customer cus_cli_erase") || !strings.Contains(out, "orders (not invoiced)") {
		t.Fatalf("erase: %v\n%s", err, out)
	}
	if !strings.Contains(out, "ask Email delivery provider to erase its own copies") {
		t.Fatalf("the command does not say what staff must still do:\n%s", out)
	}
}
