// Package reporttest writes analytics aggregates for tests and
// benchmarks: fixture rows as the roll-up would write them, inserted in
// batches, a generator of traffic of a few shapes, and the dashboard's
// first top-list query (from the days only) to compare the report with.
package reporttest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/db"
)

// Daily is one row of analytics_daily.
type Daily struct {
	Dim   report.Dim
	Day   string // YYYY-MM-DD
	Value string
	report.Counts
}

// FunnelDay is one row of analytics_funnel.
type FunnelDay struct {
	Day, Product                                             string
	ProductVisitors, CheckoutVisitors, OrdersPaid, Activated int64
}

// batch is the rows per INSERT statement: 10 columns each, well under
// both databases' limits on parameters. A whole batch's statement is
// prepared once per transaction: parsing its 5,000 parameters was a third
// of the time of an insert on SQLite under the race detector.
const batch = 500

// Insert writes rows and funnel days in transactions of a few thousand
// rows, with multi-row INSERTs, then recounts the months of the rows in
// analytics_monthly as the roll-up would.
func Insert(ctx context.Context, d *db.DB, rows []Daily, funnel []FunnelDay) error {
	months := map[string]time.Time{}
	for _, r := range rows {
		t, err := time.Parse(time.DateOnly, r.Day)
		if err != nil {
			return fmt.Errorf("insert analytics_daily: day %q: %w", r.Day, err)
		}
		months[analytics.Month(t)] = t
	}
	if err := insert(ctx, d, rows, funnel); err != nil {
		return err
	}
	for _, t := range months {
		if err := analytics.RecountMonth(ctx, d, t); err != nil {
			return err
		}
	}
	return nil
}

func insert(ctx context.Context, d *db.DB, rows []Daily, funnel []FunnelDay) error {
	full := dailyInsert(d.Dialect, batch) // the text of a whole batch, prepared once per transaction
	for len(rows) > 0 {
		n := min(len(rows), batch*8)
		part := rows[:n]
		rows = rows[n:]
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			var st *sql.Stmt
			if len(part) >= batch {
				var err error
				if st, err = tx.PrepareContext(ctx, full); err != nil {
					return fmt.Errorf("insert analytics_daily: %w", err)
				}
				defer st.Close()
			}
			for len(part) > 0 {
				k := min(len(part), batch)
				args := dailyArgs(part[:k])
				var err error
				if k == batch {
					_, err = st.ExecContext(ctx, args...)
				} else {
					_, err = tx.ExecContext(ctx, dailyInsert(d.Dialect, k), args...)
				}
				if err != nil {
					return fmt.Errorf("insert analytics_daily: %w", err)
				}
				part = part[k:]
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(funnel) == 0 {
		return nil
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for len(funnel) > 0 {
			k := min(len(funnel), batch)
			var q strings.Builder
			q.WriteString(`INSERT INTO analytics_funnel (day, product, product_visitors, checkout_visitors, orders_paid, activated) VALUES `)
			args := make([]any, 0, 6*k)
			d.Dialect.Rows(&q, k, 6)
			for _, f := range funnel[:k] {
				args = append(args, f.Day, f.Product, f.ProductVisitors, f.CheckoutVisitors, f.OrdersPaid, f.Activated)
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("insert analytics_funnel: %w", err)
			}
			funnel = funnel[k:]
		}
		return nil
	})
}

// dailyInsert is the INSERT of n rows of analytics_daily.
func dailyInsert(dialect db.Dialect, n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO analytics_daily (dim, day, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views) VALUES `)
	dialect.Rows(&q, n, 10)
	return q.String()
}

func dailyArgs(rows []Daily) []any {
	args := make([]any, 0, 10*len(rows))
	for _, r := range rows {
		args = append(args, string(r.Dim), r.Day, r.Value, r.Views, r.Visitors, r.Entries, r.Exits, r.Bounces, r.EngagedMS, r.EngagedViews)
	}
	return args
}

// TopFromDays is report.Top as the dashboard first computed it, summing
// every row of analytics_daily in the range and its previous period: the
// reference the monthly aggregates must agree with, and the "before" of
// BenchmarkDashboard.
func TopFromDays(ctx context.Context, q db.Querier, dim report.Dim, r report.Range, compare bool, limit int) ([]report.Row, error) {
	first := r.From
	if compare {
		first = r.Previous().From
	}
	rows, err := q.QueryContext(ctx, `SELECT value,
	sum(CASE WHEN day >= $2 THEN views ELSE 0 END), sum(CASE WHEN day >= $2 THEN visitors ELSE 0 END),
	sum(CASE WHEN day >= $2 THEN entries ELSE 0 END), sum(CASE WHEN day >= $2 THEN exits ELSE 0 END),
	sum(CASE WHEN day >= $2 THEN bounces ELSE 0 END), sum(CASE WHEN day >= $2 THEN engaged_ms ELSE 0 END),
	sum(CASE WHEN day >= $2 THEN engaged_views ELSE 0 END),
	sum(CASE WHEN day < $2 THEN views ELSE 0 END), sum(CASE WHEN day < $2 THEN visitors ELSE 0 END),
	sum(CASE WHEN day < $2 THEN entries ELSE 0 END), sum(CASE WHEN day < $2 THEN exits ELSE 0 END),
	sum(CASE WHEN day < $2 THEN bounces ELSE 0 END), sum(CASE WHEN day < $2 THEN engaged_ms ELSE 0 END),
	sum(CASE WHEN day < $2 THEN engaged_views ELSE 0 END)
	FROM analytics_daily WHERE dim = $1 AND day >= $3 AND day <= $4
	GROUP BY value
	HAVING sum(CASE WHEN day >= $2 THEN views ELSE 0 END) > 0
	ORDER BY 2 DESC, value
	LIMIT $5`, string(dim), r.FromText(), first.Format(time.DateOnly), r.ToText(), limit)
	if err != nil {
		return nil, fmt.Errorf("analytics top %s from days: %w", dim, err)
	}
	defer rows.Close()
	var out []report.Row
	for rows.Next() {
		var w report.Row
		c, p := &w.Cur, &w.Prev
		if err := rows.Scan(&w.Value, &c.Views, &c.Visitors, &c.Entries, &c.Exits, &c.Bounces, &c.EngagedMS, &c.EngagedViews,
			&p.Views, &p.Visitors, &p.Entries, &p.Exits, &p.Bounces, &p.EngagedMS, &p.EngagedViews); err != nil {
			return nil, fmt.Errorf("analytics top %s from days: %w", dim, err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics top %s from days: %w", dim, err)
	}
	return out, rows.Close()
}
