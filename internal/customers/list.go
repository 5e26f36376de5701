package customers

import (
	"context"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Page lists customers newest first, limit of them, after the customer
// created at beforeAt with id beforeID (zero for the first page): a keyset
// page over the index on (created_at, id) (migration 00025).
func Page(ctx context.Context, q db.Querier, beforeAt time.Time, beforeID int64, limit int) ([]Customer, error) {
	text, args := PageSQL(beforeAt, beforeID, limit)
	return queryCustomers(ctx, q, "list customers", text, args...)
}

// PageSQL is Page's query, for the plan checks.
func PageSQL(beforeAt time.Time, beforeID int64, limit int) (string, []any) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	where, args := "", []any(nil)
	if beforeID != 0 {
		where = ` WHERE created_at <= $1 AND (created_at < $1 OR id < $2)`
		args = []any{beforeAt.UTC(), beforeID}
	}
	return `SELECT ` + customerColumns("") + ` FROM customers` + where + ` ORDER BY created_at DESC, id DESC LIMIT ` + strconv.Itoa(limit), args
}
