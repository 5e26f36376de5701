package refuse

import (
	"errors"
	"fmt"
	"testing"
)

func TestIsMatchesByCodeAndKind(t *testing.T) {
	sentinel := New(Conflict, "not_pending", "The order is not pending.")
	specific := sentinel.Withf("Order %s is paid already.", "2026-0001")
	wrapped := fmt.Errorf("pay: %w", specific)

	if !errors.Is(wrapped, sentinel) {
		t.Error("a refusal made from a sentinel does not match it by code")
	}
	if errors.Is(wrapped, New(Conflict, "other", "x")) {
		t.Error("refusals with different codes match")
	}
	if !errors.Is(wrapped, &Error{Kind: Conflict}) {
		t.Error("a kind-only target does not match a refusal of that kind")
	}
	if errors.Is(wrapped, &Error{Kind: NotFound}) {
		t.Error("a kind-only target matches a refusal of another kind")
	}
	e, ok := As(wrapped)
	if !ok || e.Msg != "Order 2026-0001 is paid already." || e.Kind != Conflict {
		t.Errorf("As = %+v, %v", e, ok)
	}
	if _, ok := As(errors.New("disk full")); ok {
		t.Error("a plain error is taken for a refusal")
	}
	if f := Field("country", "Choose a country."); f.Field != "country" || f.Kind != Invalid {
		t.Errorf("Field = %+v", f)
	}
}
