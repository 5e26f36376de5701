package audit

import (
	"context"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// CountSince counts the entries recorded at or after since.
func CountSince(ctx context.Context, q db.Querier, since time.Time) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE at >= $1`, since).Scan(&n)
	return n, err
}
