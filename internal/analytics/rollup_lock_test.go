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
// second waits and counts both days.
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
		second := make(chan error, 1)
		go func() { second <- RollupDay(ctx, d, day2) }()
		// Give the second time to reach the month (it must wait there on
		// PostgreSQL, and for the one writer on SQLite); the test can only
		// pass more easily if it has not got there yet.
		select {
		case err := <-second:
			t.Fatalf("the second roll-up finished before the first committed: %v", err)
		case <-time.After(300 * time.Millisecond):
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
