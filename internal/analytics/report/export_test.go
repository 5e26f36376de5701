package report

import (
	"context"

	"github.com/storekeep/storekeep/internal/db"
)

// BoundedSQL is the text of an attempt of the bounded top list, for tests
// that break it.
var BoundedSQL = boundedSQL

// Bounded reports whether Top reads a list of limit rows over r through
// bounds.
func Bounded(r Range, limit int) bool { return bounded(r, limit) }

// TopBounded is Top through bounds with query as an attempt's text and
// first candidates in the first attempt; ok is false when it gave up (Top
// then sums every value).
func TopBounded(ctx context.Context, q db.Querier, query string, dim Dim, r Range, compare bool, limit, first int) (rows []Row, attempts int, ok bool, err error) {
	return topBounded(ctx, q, query, dim, r, compare, limit, first)
}

// TopSummed is Top without bounds: every value of the range summed.
func TopSummed(ctx context.Context, q db.Querier, dim Dim, r Range, compare bool, limit int) ([]Row, error) {
	var out []Row
	err := eachSummed(ctx, q, dim, r, compare, limit, func(row Row) error {
		out = append(out, row)
		return nil
	})
	return out, err
}
