package report_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestTopFromMonthsEqualsTopFromDays generates 800 days of traffic and
// compares every top list the report reads from the months and the days
// at either end with the first query's sums of every day, for ranges
// that start and end on and off month boundaries, with and without the
// previous period, cut to ten rows and not.
func TestTopFromMonthsEqualsTopFromDays(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var rows []reporttest.Daily
		var funnel []reporttest.FunnelDay
		if _, err := reporttest.Generate(reporttest.Traffic{Last: now, Days: 800, ViewsPerDay: 300, Seed: 3, Shape: reporttest.Small},
			func(r []reporttest.Daily, f []reporttest.FunnelDay) error {
				rows, funnel = append(rows, r...), append(funnel, f...)
				return nil
			}); err != nil {
			t.Fatal(err)
		}
		if err := reporttest.Insert(ctx, d, rows, funnel); err != nil {
			t.Fatal(err)
		}
		ranges := []report.Range{
			{From: day("2026-04-01"), To: day("2026-04-30")},
			{From: day("2026-03-01"), To: day("2026-04-30")},
			{From: day("2026-03-31"), To: day("2026-05-01")},
			{From: day("2025-05-01"), To: day("2026-04-30")},
			{From: day("2025-05-08"), To: day("2026-05-07")},
			{From: day("2024-03-01"), To: day("2024-03-31")}, // the previous period starts before the data
			{From: day("2024-04-01"), To: day("2025-05-05")}, // 400 days
			{From: day("2025-01-15"), To: day("2025-02-14")},
			{From: day("2025-12-31"), To: day("2026-01-01")},
		}
		for _, n := range []int{1, 7, 30, 31, 90, 365, 400} {
			ranges = append(ranges, report.Last(n, now))
		}
		for _, r := range ranges {
			for _, dim := range report.Dims {
				for _, compare := range []bool{false, true} {
					for _, limit := range []int{10, report.MaxExport} {
						got, err := report.Top(ctx, d, dim, r, compare, limit)
						if err != nil {
							t.Fatal(err)
						}
						want, err := reporttest.TopFromDays(ctx, d, dim, r, compare, limit)
						if err != nil {
							t.Fatal(err)
						}
						if !reflect.DeepEqual(got, want) {
							t.Errorf("%s, %s, compare %v, %d rows: from months\n%+v\nfrom days\n%+v", r, dim, compare, limit, got, want)
						} else if len(want) == 0 && dim == report.Page {
							t.Errorf("%s: no pages: the test compares nothing", r)
						}
					}
				}
			}
		}
	})
}
