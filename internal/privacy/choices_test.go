package privacy_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestChoicesGovernProcessing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		set := func(choice, purpose string, on bool) error {
			return d.Tx(ctx, func(tx *sql.Tx) error {
				return privacy.SetChoice(ctx, tx, privacy.Declared, 7, choice, purpose, on, "", t0)
			})
		}
		permits := func(purpose string) bool {
			c, err := privacy.LoadChoices(ctx, d, 7)
			if err != nil {
				t.Fatal(err)
			}
			ok, _ := c.Permits(privacy.Declared, purpose)
			return ok
		}
		if !permits("delivery") || !permits("notices") || permits("marketing") {
			t.Fatal("defaults: contract and legitimate interests allowed, consent purposes not without consent")
		}
		if err := set(privacy.ChoiceConsent, "marketing", true); err != nil || !permits("marketing") {
			t.Fatalf("consent given: %v", err)
		}
		if err := set(privacy.ChoiceConsent, "marketing", false); err != nil || permits("marketing") {
			t.Fatalf("consent withdrawn still permits marketing: %v", err)
		}
		if err := set(privacy.ChoiceObjection, "notices", true); err != nil || permits("notices") || !permits("delivery") {
			t.Fatalf("objection to notices: %v", err)
		}
		if err := set(privacy.ChoiceRestriction, "", true); err != nil || permits("delivery") || !permits("legal") {
			t.Fatalf("restriction must stop everything but legal obligations: %v", err)
		}
		if err := set(privacy.ChoiceRestriction, "", false); err != nil || !permits("delivery") {
			t.Fatalf("lifting the restriction: %v", err)
		}
		// Objections only to legitimate interests, consents only to consent.
		if err := set(privacy.ChoiceObjection, "delivery", true); !errors.Is(err, privacy.ErrNotAChoice) {
			t.Fatalf("objection to a contract purpose: %v", err)
		}
		if err := set(privacy.ChoiceConsent, "notices", true); !errors.Is(err, privacy.ErrNotAChoice) {
			t.Fatalf("consent to a legitimate-interest purpose: %v", err)
		}
	})
}
