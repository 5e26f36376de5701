package downloads

import (
	"context"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Logged is one row of the download log as staff read it beside a
// customer: which file of which release, how and when.
type Logged struct {
	Product, Version, File string
	Via                    Via
	At                     time.Time
}

// RecentForCustomer lists the customer's latest downloads, newest first,
// at most limit (the support desk's sidebar).
func RecentForCustomer(ctx context.Context, q db.Querier, customerID int64, limit int) ([]Logged, error) {
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	rows, err := q.QueryContext(ctx, `SELECT p.name, r.version, a.file_name, d.via, d.at
		FROM downloads d JOIN release_artifacts a ON a.id = d.artifact_id JOIN releases r ON r.id = a.release_id
		JOIN products p ON p.id = r.product_id
		WHERE d.customer_id = $1 ORDER BY d.at DESC, d.id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("list downloads: %w", err)
	}
	defer rows.Close()
	var out []Logged
	for rows.Next() {
		var l Logged
		if err := rows.Scan(&l.Product, &l.Version, &l.File, &l.Via, &l.At); err != nil {
			return nil, fmt.Errorf("list downloads: %w", err)
		}
		l.At = l.At.UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}
