package privacy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"database/sql"

	"github.com/storekeep/storekeep/internal/db"
)

// The choices a person can make about the processing of their data.
const (
	ChoiceRestriction = "restriction" // Art. 18: store only, process nothing else
	ChoiceObjection   = "objection"   // Art. 21: stop a legitimate-interest purpose
	ChoiceConsent     = "consent"     // Art. 6(1)(a) and 7(3): given or withdrawn
)

// Choices are a customer's current choices.
type Choices struct {
	Restricted   bool
	RestrictedAt time.Time
	Objections   map[string]time.Time // purpose -> since
	Consents     map[string]time.Time // purpose -> given at
}

// LoadChoices reads a customer's current choices.
func LoadChoices(ctx context.Context, q db.Querier, customerID int64) (Choices, error) {
	c := Choices{Objections: map[string]time.Time{}, Consents: map[string]time.Time{}}
	rows, err := q.QueryContext(ctx, `SELECT choice, purpose, changed_at FROM subject_choices WHERE customer_id = $1 AND active`, customerID)
	if err != nil {
		return c, fmt.Errorf("read choices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var choice, purpose string
		var at time.Time
		if err := rows.Scan(&choice, &purpose, &at); err != nil {
			return c, fmt.Errorf("read choices: %w", err)
		}
		switch choice {
		case ChoiceRestriction:
			c.Restricted, c.RestrictedAt = true, at
		case ChoiceObjection:
			c.Objections[purpose] = at
		case ChoiceConsent:
			c.Consents[purpose] = at
		}
	}
	return c, rows.Err()
}

// ErrNotAChoice is returned for a purpose the choice does not apply to.
var ErrNotAChoice = errors.New("this purpose does not allow that choice")

// SetChoice records a choice (on or off) for a customer. Objections apply
// only to purposes based on legitimate interests, consents only to purposes
// based on consent; a restriction names no purpose.
func SetChoice(ctx context.Context, tx *sql.Tx, inv Inventory, customerID int64, choice, purpose string, on bool, note string, now time.Time) error {
	switch choice {
	case ChoiceRestriction:
		purpose = ""
	case ChoiceObjection, ChoiceConsent:
		p, ok := inv.Purpose(purpose)
		want := LegitimateInterest
		if choice == ChoiceConsent {
			want = Consent
		}
		if !ok || p.Basis != want {
			return ErrNotAChoice
		}
	default:
		return ErrNotAChoice
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO subject_choices (customer_id, choice, purpose, active, changed_at, note)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (customer_id, choice, purpose) DO UPDATE SET active = excluded.active, changed_at = excluded.changed_at, note = excluded.note`,
		customerID, choice, purpose, on, now.UTC(), note)
	if err != nil {
		return fmt.Errorf("record %s: %w", choice, err)
	}
	return nil
}

// Permits reports whether processing the customer's data for purpose is
// allowed by their choices, and if not, why. While processing is
// restricted only what the law requires goes on; an objection stops its
// purpose; a consent purpose needs a consent in force.
func (c Choices) Permits(inv Inventory, purpose string) (bool, string) {
	p, ok := inv.Purpose(purpose)
	if !ok {
		return false, "unknown purpose " + purpose
	}
	if c.Restricted && p.Basis != LegalObligation {
		return false, "processing is restricted at the person's request"
	}
	if _, objected := c.Objections[purpose]; objected && p.Basis == LegitimateInterest {
		return false, "the person objected to " + p.Name
	}
	if _, given := c.Consents[purpose]; p.Basis == Consent && !given {
		return false, "no consent in force for " + p.Name
	}
	return true, ""
}
