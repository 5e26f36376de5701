package analytics_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/analytics"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// BenchmarkDashboard times each query of the dashboard and the whole page
// (through the site, as an analyst's browser asks for it) at 10 million
// page views over a year, for the last 30 and 365 days, on both databases
// and for two shapes of traffic: heavy (thousands of pages) and vendor (a
// software vendor's few hundred); see reporttest.Shape and
// docs/benchmarks.md, "Analytics dashboard at 10 million page views":
//
//	STOREKEEP_TEST_POSTGRES=... go test -run='^$' -bench=BenchmarkDashboard \
//	  -benchtime=10x -timeout 60m ./internal/web/analytics/
//
// "top-page-days" is the top pages as first computed (every day's rows,
// reporttest.TopFromDays) and "top-page-months" as computed before the
// months' bounds (whole months and the days at either end, every value
// summed: reporttest.TopFromMonths), for comparison in the same run with
// "top-page" (report.Top).
// STOREKEEP_BENCH_VIEWS sets another number of views a day (27,400 by
// default: 10 million a year).
func BenchmarkDashboard(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, shape := range []reporttest.Shape{reporttest.Heavy, reporttest.Vendor} {
			b.Run(dialect+"/"+shape.String(), func(b *testing.B) { benchDashboard(b, dialect, shape) })
		}
	}
}

func benchDashboard(b *testing.B, dialect string, shape reporttest.Shape) {
	var d *db.DB
	if dialect == "sqlite" {
		d = testutil.SQLite(b)
	} else {
		d = testutil.Postgres(b)
	}
	s := webtest.NewSite(b, d)
	seedTraffic(b, d, s.Clock.Now(), shape)
	analyst := webtest.NewBrowser(s)
	analyst.SignIn(b, webtest.AddStaff(b, s, "analyst@milterworks.example", staff.Analyst, true))
	ctx := context.Background()
	now := s.Clock.Now()
	for _, days := range []int{30, 365} {
		r := report.Last(days, now)
		prev := r.Previous()
		run := func(name string, f func() error) {
			b.Run(fmt.Sprintf("%dd/%s", days, name), func(b *testing.B) {
				for b.Loop() {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("totals", func() error {
			_, err := report.Totals(ctx, d, r)
			if err == nil {
				_, err = report.Totals(ctx, d, prev)
			}
			return err
		})
		run("series", func() error {
			_, err := report.Series(ctx, d, r)
			if err == nil {
				_, err = report.Series(ctx, d, prev)
			}
			return err
		})
		run("top-page-days", func() error {
			_, err := reporttest.TopFromDays(ctx, d, report.Page, r, true, 10)
			return err
		})
		run("top-page-months", func() error {
			_, err := reporttest.TopFromMonths(ctx, d, report.Page, r, true, 10)
			return err
		})
		for _, dim := range []report.Dim{report.Page, report.Referrer, report.UTMCampaign, report.Browser, report.Country} {
			run("top-"+string(dim), func() error {
				_, err := report.Top(ctx, d, dim, r, true, 10)
				return err
			})
		}
		run("funnel", func() error {
			_, err := report.Funnels(ctx, d, r, true)
			return err
		})
		page := func() error {
			res, body := analyst.Get(b, "/staff/analytics?days="+strconv.Itoa(days))
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d: %.300s", res.StatusCode, body)
			}
			return nil
		}
		// The page with its statements one at a time, the baseline of
		// "page" (a few at once) in the same run.
		analytics.SetFillParallel(1)
		run("page-serial", page)
		analytics.SetFillParallel(3)
		run("page", page)
		run("export-page", func() error {
			res, body := analyst.Get(b, "/staff/analytics/export.csv?dim=page&days="+strconv.Itoa(days))
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d: %.300s", res.StatusCode, body)
			}
			return nil
		})
	}
}

// seedTraffic writes a year of aggregates ending today: 10 million views
// at the default rate.
func seedTraffic(b *testing.B, d *db.DB, now time.Time, shape reporttest.Shape) {
	b.Helper()
	perDay := 27_400
	if v, err := strconv.Atoi(os.Getenv("STOREKEEP_BENCH_VIEWS")); err == nil && v > 0 {
		perDay = v
	}
	ctx := context.Background()
	start := time.Now()
	var rows []reporttest.Daily
	var funnel []reporttest.FunnelDay
	var nrows int
	flush := func() error {
		nrows += len(rows)
		err := reporttest.Insert(ctx, d, rows, funnel)
		rows, funnel = rows[:0], funnel[:0]
		return err
	}
	views, err := reporttest.Generate(reporttest.Traffic{Last: now, Days: 365, ViewsPerDay: perDay, Seed: 14, Shape: shape}, func(r []reporttest.Daily, f []reporttest.FunnelDay) error {
		rows, funnel = append(rows, r...), append(funnel, f...)
		if len(rows) >= 20_000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil && d.Dialect == db.Postgres {
		// As autovacuum would within a minute of the load.
		_, err = d.Writer().ExecContext(ctx, "VACUUM ANALYZE")
	}
	if err != nil {
		b.Fatal(err)
	}
	var monthly int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM analytics_monthly`).Scan(&monthly); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "%s, %s: %d views in %d rows of analytics_daily and %d of analytics_monthly, seeded in %s\n",
		d.Dialect, shape, views, nrows, monthly, time.Since(start).Round(100*time.Millisecond))
}
