package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestMonthRecountWaitsForAnotherDayOfTheMonth interleaves two roll-ups
// of different days of one month as two instances could: the first has
// counted its day and recounted the month but not committed when the
// second starts. Without the month's lock the second would recount the
// month without the first's day (not yet committed when its statements
// started) and write over the first's sums after it commits; with it, the
// second waits and counts both days. The first commits once the second
// is seen waiting for it.
func TestMonthRecountWaitsForAnotherDayOfTheMonth(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		day1 := time.Date(2026, 5, 6, 0, 0, 0, 0, time.UTC)
		day2 := day1.AddDate(0, 0, 1)
		for i := range 20 {
			day := []time.Time{day1, day2}[i%2]
			if _, err := d.ExecContext(ctx, `INSERT INTO analytics_views (day, at, view, visitor, path) VALUES ($1, $2, $3, $4, $5)`,
				Day(day), day.Add(time.Duration(i)*time.Minute), fmt.Sprintf("%016x", i), i%5, "/products/milter"); err != nil {
				t.Fatal(err)
			}
		}

		first, err := d.Writer().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = first.Rollback() }()
		err = rollupDay(ctx, d, func(q string, args ...any) (int64, error) {
			res, err := first.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}, day1)
		if err != nil {
			t.Fatal(err)
		}
		// The second must come to wait for the first: on PostgreSQL for the
		// month's row lock (a session the first's blocks), on SQLite for
		// the one writer connection (the pool counts who waited for it).
		var firstPID int
		if d.Dialect == db.Postgres {
			if err := first.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&firstPID); err != nil {
				t.Fatal(err)
			}
		}
		waited := d.Writer().Stats().WaitCount
		waiting := func() bool {
			if d.Dialect != db.Postgres {
				return d.Writer().Stats().WaitCount > waited
			}
			var n int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, firstPID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n > 0
		}
		second := make(chan error, 1)
		go func() { second <- RollupDay(ctx, d, day2) }()
		for deadline := time.Now().Add(30 * time.Second); !waiting(); {
			select {
			case err := <-second:
				t.Fatalf("the second roll-up finished before the first committed: %v", err)
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("the second roll-up has not waited for the first in 30 s")
			}
		}
		if err := first.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
		for _, dim := range []string{"total", "page"} {
			var views, days int64
			if err := d.QueryRowContext(ctx, `SELECT views FROM analytics_monthly WHERE dim = $1 AND month = '2026-05'`, dim).Scan(&views); err != nil {
				t.Fatal(err)
			}
			if err := d.QueryRowContext(ctx, `SELECT sum(views) FROM analytics_daily WHERE dim = $1`, dim).Scan(&days); err != nil {
				t.Fatal(err)
			}
			if views != 20 || days != 20 {
				t.Errorf("%s: the month has %d views, its days %d; want 20", dim, views, days)
			}
		}
	})
}
