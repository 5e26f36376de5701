package staff

import (
	"context"

	"github.com/storekeep/storekeep/internal/db"
)

// CountActive counts the accounts that can sign in (not disabled).
func CountActive(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE disabled_at IS NULL`).Scan(&n)
	return n, err
}
