package reports

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// planned is one query of the console's figures and lists, with
// arguments of the right types.
type planned struct {
	name string
	sql  string
	args []any
	// paged: the query reads an index in its order and stops at LIMIT, so
	// it must not sort (a sort reads every matching row first).
	paged bool
}

func consoleQueries(d db.Dialect) []planned {
	now := time.Date(2027, 2, 5, 0, 0, 0, 0, time.UTC)
	from, to := now.AddDate(0, -1, 0), now
	sum, list := backlogSQL(openWhere, openOrder, 10)
	osum, olist := backlogSQL(overdueWhere, overdueOrder, 10)
	out := []planned{
		{name: "revenue by day", sql: revenueSQL(d, db.Day), args: []any{from, to}},
		{name: "revenue by week", sql: revenueSQL(d, db.Week), args: []any{from, to}},
		{name: "revenue by month", sql: revenueSQL(d, db.Month), args: []any{from, to}},
		{name: "by product", sql: byProductSQL, args: []any{from, to}},
		{name: "sales report", sql: salesSQL, args: []any{from, to}},
		{name: "reverse charge", sql: reverseChargeSQL, args: []any{from, to}},
		{name: "open orders", sql: sum},
		{name: "open orders list", sql: list, paged: true},
		{name: "overdue transfers", sql: osum, args: []any{Transfer, now}},
		{name: "overdue transfers list", sql: olist, args: []any{Transfer, now}, paged: true},
	}
	after := orders.Cursor{At: now, ID: 1000}
	for _, q := range []struct {
		name string
		q    orders.Query
	}{
		{"search: first page", orders.Query{}},
		{"search: a later page", orders.Query{After: after}},
		{"search: number", orders.Query{Number: "ABCD-EFGH"}},
		{"search: status", orders.Query{Status: orders.Paid, After: after}},
		{"search: dates", orders.Query{From: from, To: to, After: after}},
		{"search: status and dates", orders.Query{Status: orders.Pending, From: from, To: to}},
		{"search: whole email", orders.Query{Customer: "ada@example.com", After: after}},
		{"search: part of a name", orders.Query{Customer: "lovel", After: after}},
		{"search: product", orders.Query{ProductID: 3, After: after}},
	} {
		text, args := orders.SearchPlan(q.q)
		// A whole address finds one buyer's orders by the index on
		// billing_email and sorts those few: allowed.
		out = append(out, planned{name: q.name, sql: text, args: args, paged: q.q.Customer != "ada@example.com"})
	}
	text, args := customers.PageSQL(now, 1000, 50)
	out = append(out, planned{name: "customers page", sql: text, args: args, paged: true})
	text, args = customers.PageSQL(time.Time{}, 0, 50)
	out = append(out, planned{name: "customers first page", sql: text, args: args, paged: true})
	return out
}

// tables are the tables a console query may not scan.
var tables = []string{"orders", "order_lines", "invoices", "customers", "prices", "editions", "products"}

// TestConsoleQueriesUseIndexes: no query of the dashboard, the order
// search, the sales report or the customers list scans a table, and none
// of the paged ones sorts, on either database. Without this the pages
// would slow down with the number of orders (docs/benchmarks.md, "Console
// at a million orders").
func TestConsoleQueriesUseIndexes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		conn, err := d.Reader().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		prefix := "EXPLAIN QUERY PLAN "
		if d.Dialect == db.Postgres {
			// With sequential scans and sorts priced out, a plan that still
			// has one has no index to use instead.
			for _, set := range []string{"SET enable_seqscan = off", "SET enable_sort = off"} {
				if _, err := conn.ExecContext(ctx, set); err != nil {
					t.Fatal(err)
				}
			}
			prefix = "EXPLAIN "
		}
		for _, q := range consoleQueries(d.Dialect) {
			rows, err := conn.QueryContext(ctx, prefix+q.sql, q.args...)
			if err != nil {
				t.Fatalf("%s: %v\n%s", q.name, err, q.sql)
			}
			var plan []string
			for rows.Next() {
				var detail string
				if d.Dialect == db.Postgres {
					err = rows.Scan(&detail)
				} else {
					var id, parent, notused int
					err = rows.Scan(&id, &parent, &notused, &detail)
				}
				if err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			for _, line := range plan {
				if bad := badStep(d.Dialect, line, q.paged); bad != "" {
					t.Errorf("%s: %s: %s\n%s\nplan:\n%s", q.name, bad, strings.TrimSpace(line), q.sql, strings.Join(plan, "\n"))
				}
			}
		}
	})
}

func badStep(d db.Dialect, line string, paged bool) string {
	line = strings.TrimSpace(line)
	if d == db.Postgres {
		line = strings.TrimLeft(line, "-> ")
		for _, t := range tables {
			if strings.HasPrefix(line, "Seq Scan on "+t+" ") {
				return "scans a table"
			}
		}
		if paged && (strings.HasPrefix(line, "Sort ") || strings.HasPrefix(line, "Incremental Sort")) {
			return "sorts before the page"
		}
		return ""
	}
	for _, t := range tables {
		for _, alias := range []string{t, "o", "l", "i", "pr", "e", "p"} {
			scan := "SCAN " + alias
			if line == scan || strings.HasPrefix(line, scan+" ") {
				// An index read in its order up to the LIMIT is what a page
				// is; reading a whole table, or an index for the figures, is
				// not.
				if paged && strings.Contains(line, " USING ") && strings.Contains(line, "INDEX") {
					return ""
				}
				return "scans a table"
			}
		}
		_ = t
	}
	if paged && strings.Contains(line, "TEMP B-TREE FOR ORDER BY") {
		return "sorts before the page"
	}
	return ""
}
