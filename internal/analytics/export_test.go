package analytics

import (
	"context"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// RollupDayWithoutMonth is RollupDay as it was before analytics_monthly:
// the day's rows and funnel, not the month; for BenchmarkRollup.
func RollupDayWithoutMonth(ctx context.Context, d *db.DB, day time.Time) error {
	c, err := countDay(ctx, d, day)
	if err != nil {
		return err
	}
	return tx(ctx, d, func(run func(q string, args ...any) (int64, error)) error {
		return writeDay(run, day, c, false)
	})
}

// RecountMonthOfDay is the month's part of RollupDay (the month of day
// recounted); for BenchmarkRollup.
func RecountMonthOfDay(ctx context.Context, d *db.DB, day time.Time) error {
	return tx(ctx, d, func(run func(q string, args ...any) (int64, error)) error {
		return recountMonth(run, day)
	})
}
