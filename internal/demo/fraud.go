package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
)

// SeedFraud gives the demo's fraud review something to show: two open
// cases, raised through fraud.Raise as the signals raise them — one
// sample customer's license used from more networks than a license
// explains, another's payment rated elevated by the processor. Nothing is
// decided: the cases wait for a person, as every case does. It needs the
// sample customers (SeedCustomers) and reports whether it raised anything;
// seeding twice raises nothing new (each signal's source is fixed).
func SeedFraud(ctx context.Context, d *db.DB, now time.Time) (bool, error) {
	if len(SampleCustomers) < 2 {
		return false, nil
	}
	type seed struct {
		email string
		sig   func(order, license int64) fraud.Signal
	}
	seeds := []seed{
		{SampleCustomers[1].Email, func(_, license int64) fraud.Signal {
			return fraud.Signal{Kind: fraud.KeySharing, Subject: fraud.Subject{LicenseID: license},
				Summary: "The license was activated or checked in from more networks in a day than its machines explain.",
				Facts:   []fraud.Fact{{Name: "networks in 24 hours", Value: "9"}, {Name: "machines allowed", Value: "2"}},
				Source:  "demo:key_sharing", At: now.Add(-3 * time.Hour)}
		}},
		{SampleCustomers[0].Email, func(order, _ int64) fraud.Signal {
			return fraud.Signal{Kind: fraud.ProcessorRisk, Subject: fraud.Subject{OrderID: order},
				Summary: "The payment processor rated the payment's risk elevated.",
				Facts:   []fraud.Fact{{Name: "risk level", Value: "elevated"}, {Name: "risk score", Value: "67"}},
				Source:  "demo:processor_risk", At: now.Add(-26 * time.Hour)}
		}},
	}
	raised := false
	for _, s := range seeds {
		var order, license int64
		err := d.QueryRowContext(ctx, `SELECT o.id, COALESCE(min(l.id), 0) FROM orders o JOIN customers c ON c.id = o.customer_id
			LEFT JOIN licenses l ON l.customer_id = c.id WHERE c.email = $1 GROUP BY o.id ORDER BY o.id LIMIT 1`, s.email).Scan(&order, &license)
		if errors.Is(err, sql.ErrNoRows) {
			continue // the sample customer was erased in the demo
		}
		if err != nil {
			return false, fmt.Errorf("demo fraud case: %w", err)
		}
		if sig := s.sig(order, license); sig.Kind == fraud.KeySharing && license == 0 {
			continue // no license to be about
		}
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			_, created, err := fraud.Raise(ctx, tx, d.Dialect, s.sig(order, license))
			raised = raised || created
			return err
		})
		if err != nil && !errors.Is(err, fraud.ErrNoSubject) {
			return false, fmt.Errorf("demo fraud case: %w", err)
		}
	}
	return raised, nil
}
