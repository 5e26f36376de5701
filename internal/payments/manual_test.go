package payments_test

import (
	"context"
	"testing"

	"github.com/storekeep/storekeep/internal/payments"
)

func TestManual(t *testing.T) {
	var p payments.Provider = payments.Manual{Instructions: "IBAN DE00 0000 0000 0000 0000 00"}
	if p.Name() != "manual" || p.Label() != "Invoice / bank transfer" {
		t.Errorf("Name %q, Label %q", p.Name(), p.Label())
	}
	st, err := p.StartCheckout(context.Background(), testCheckout())
	if err != nil {
		t.Fatal(err)
	}
	if want := (payments.Started{SessionRef: "manual-SK-2026-000042"}); st != want {
		t.Errorf("Started = %+v, want %+v: no page to go to, no deadline", st, want)
	}
	bad := testCheckout()
	bad.Lines = nil
	if _, err := p.StartCheckout(context.Background(), bad); err == nil {
		t.Error("a checkout without lines accepted")
	}
}
