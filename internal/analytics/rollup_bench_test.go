package analytics_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkRollup times the periodic roll-up (today and yesterday) at 10
// million page views a year (docs/benchmarks.md, "Analytics dashboard at
// 10 million page views"): a year of daily aggregates of the heavy shape
// (reporttest.Heavy, thousands of pages) before yesterday, and raw page
// views for yesterday and today (27,400 a day, with engaged times). Each
// run first adds five minutes of views to today, as between two runs of
// the job.
//
//	STOREKEEP_TEST_POSTGRES=... go test -run='^$' -bench=BenchmarkRollup \
//	  -benchtime=10x -timeout 30m ./internal/analytics/
//
// "days" is the roll-up of the two days without the months (as before
// analytics_monthly), "months" the two months' recounts alone, "rollup"
// the whole job; "recount-whole-month" recounts every value of a month.
func BenchmarkRollup(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var d *db.DB
			if dialect == "sqlite" {
				d = testutil.SQLite(b)
			} else {
				d = testutil.Postgres(b)
			}
			ctx := context.Background()
			now := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
			today := now.Truncate(24 * time.Hour)
			yesterday := today.AddDate(0, 0, -1)
			start := time.Now()
			var rows []reporttest.Daily
			var funnel []reporttest.FunnelDay
			_, err := reporttest.Generate(reporttest.Traffic{Last: yesterday.AddDate(0, 0, -1), Days: 363, ViewsPerDay: 27_400, Seed: 14},
				func(r []reporttest.Daily, f []reporttest.FunnelDay) error {
					rows, funnel = append(rows, r...), append(funnel, f...)
					if len(rows) < 20_000 {
						return nil
					}
					err := reporttest.Insert(ctx, d, rows, funnel)
					rows, funnel = rows[:0], funnel[:0]
					return err
				})
			if err == nil {
				err = reporttest.Insert(ctx, d, rows, funnel)
			}
			if err != nil {
				b.Fatal(err)
			}
			g := &rawViews{rng: rand.New(rand.NewPCG(14, 15))}
			g.add(b, d, yesterday, 27_400, 24*time.Hour)
			g.add(b, d, today, 27_400*10/24, 10*time.Hour)
			if d.Dialect == db.Postgres {
				if _, err := d.Writer().ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			if err := analytics.Rollup(ctx, d, now); err != nil {
				b.Fatal(err)
			}
			fmt.Fprintf(os.Stderr, "%s: seeded in %s\n", d.Dialect, time.Since(start).Round(100*time.Millisecond))
			step := func(b *testing.B) {
				b.StopTimer()
				g.add(b, d, today, 95, 5*time.Minute)
				b.StartTimer()
			}
			b.Run("days", func(b *testing.B) {
				for b.Loop() {
					step(b)
					for _, day := range []time.Time{yesterday, today} {
						if err := analytics.RollupDayWithoutMonth(ctx, d, day); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run("months", func(b *testing.B) {
				for b.Loop() {
					step(b)
					b.StopTimer()
					if err := analytics.RollupDayWithoutMonth(ctx, d, today); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					for _, day := range []time.Time{yesterday, today} {
						if err := analytics.RecountMonthOfDay(ctx, d, day); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			b.Run("rollup", func(b *testing.B) {
				for b.Loop() {
					step(b)
					if err := analytics.Rollup(ctx, d, now); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("recount-whole-month", func(b *testing.B) {
				for b.Loop() {
					if err := analytics.RecountMonth(ctx, d, today); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// rawViews writes raw page views and engaged times shaped like
// reporttest.Heavy: 6,000 pages with Zipf-like weights, 2.7 views per
// visitor, referrers, campaigns on 12 %.
type rawViews struct {
	rng *rand.Rand
	n   int
}

func (g *rawViews) add(b *testing.B, d *db.DB, day time.Time, views int, over time.Duration) {
	b.Helper()
	ctx := context.Background()
	zipf := func(n int) int { return int(math.Floor(math.Pow(g.rng.Float64(), 2.5) * float64(n))) }
	browsers := []string{"Chrome", "Firefox", "Safari", "Edge", "Opera"}
	for views > 0 {
		k := min(views, 400)
		views -= k
		var q, e strings.Builder
		q.WriteString(`INSERT INTO analytics_views (day, at, view, visitor, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, device, screen, country) VALUES `)
		e.WriteString(`INSERT INTO analytics_engaged (day, at, view, ms) VALUES `)
		var args, eargs []any
		for i := range k {
			g.n++
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			at := day.Add(time.Duration(g.rng.Int64N(int64(over))))
			view := fmt.Sprintf("%016x", g.n)
			ref, src, med, camp := "", "", "", ""
			if g.rng.IntN(100) < 55 {
				ref = fmt.Sprintf("site-%03d.example", zipf(800))
			}
			if g.rng.IntN(100) < 12 {
				src, med, camp = fmt.Sprintf("source-%02d", zipf(60)), "email", fmt.Sprintf("campaign-%03d", zipf(300))
			}
			args = append(args, analytics.Day(day), at, view, g.rng.Int64N(int64(views+k)*10/27+1), fmt.Sprintf("/docs/page-%04d", zipf(6000)),
				ref, src, med, camp, browsers[zipf(len(browsers))], "desktop", "large", fmt.Sprintf("C%02d", zipf(80)))
			if g.rng.IntN(10) < 7 {
				if len(eargs) > 0 {
					e.WriteString(", ")
				}
				e.WriteString("(?, ?, ?, ?)")
				eargs = append(eargs, analytics.Day(day), at.Add(time.Minute), view, 1000+g.rng.Int64N(60_000))
			}
		}
		if d.Dialect == db.Postgres {
			q2, e2 := numbered(q.String()), numbered(e.String())
			q.Reset()
			q.WriteString(q2)
			e.Reset()
			e.WriteString(e2)
		}
		if _, err := d.Writer().ExecContext(ctx, q.String(), args...); err != nil {
			b.Fatal(err)
		}
		if len(eargs) > 0 {
			if _, err := d.Writer().ExecContext(ctx, e.String(), eargs...); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// numbered turns ? into $1, $2, ... for PostgreSQL.
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
