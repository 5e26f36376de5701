package staff

import (
	"context"
	"fmt"

	"github.com/storekeep/storekeep/internal/db"
)

// Contact is a staff account's address, for the mail the system itself
// sends to staff (warnings, digests, reminders).
type Contact struct {
	ID    int64
	Email string
}

// ActiveOwners lists the owners whose accounts are not disabled, by id:
// whom the privacy-request digest, the breach deadline warnings and the
// data review reminder go to.
func ActiveOwners(ctx context.Context, q db.Querier) ([]Contact, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, email FROM staff WHERE role = 'owner' AND disabled_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("find owners: %w", err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		var o Contact
		if err := rows.Scan(&o.ID, &o.Email); err != nil {
			return nil, fmt.Errorf("find owners: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
