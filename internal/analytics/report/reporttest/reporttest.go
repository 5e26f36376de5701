// Package reporttest writes analytics aggregates for tests and
// benchmarks: fixture rows as the roll-up would write them, inserted in
// batches, and a generator of a year of realistic traffic.
package reporttest

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

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
// both databases' limits on parameters.
const batch = 500

// Insert writes rows and funnel days in transactions of a few thousand
// rows, with multi-row INSERTs.
func Insert(ctx context.Context, d *db.DB, rows []Daily, funnel []FunnelDay) error {
	for len(rows) > 0 {
		n := min(len(rows), batch*8)
		part := rows[:n]
		rows = rows[n:]
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for len(part) > 0 {
				k := min(len(part), batch)
				if err := insertDaily(ctx, tx, d.Dialect, part[:k]); err != nil {
					return err
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
			for i, f := range funnel[:k] {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString(placeholders(d.Dialect, len(args), 6))
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

func insertDaily(ctx context.Context, tx *sql.Tx, dialect db.Dialect, rows []Daily) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO analytics_daily (dim, day, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views) VALUES `)
	args := make([]any, 0, 10*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(placeholders(dialect, len(args), 10))
		args = append(args, string(r.Dim), r.Day, r.Value, r.Views, r.Visitors, r.Entries, r.Exits, r.Bounces, r.EngagedMS, r.EngagedViews)
	}
	if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("insert analytics_daily: %w", err)
	}
	return nil
}

// placeholders is "(?, ?, ...)" on SQLite, whose driver looks each $N up
// by name (slow with thousands), and "($k+1, ...)" on PostgreSQL.
func placeholders(dialect db.Dialect, from, n int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if dialect == db.SQLite {
			b.WriteByte('?')
		} else {
			b.WriteString("$" + strconv.Itoa(from+i+1))
		}
	}
	b.WriteByte(')')
	return b.String()
}
