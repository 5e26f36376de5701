package report_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// topReader reads a top list in the way under test.
type topReader func(ctx context.Context, q db.Querier, dim report.Dim, r report.Range, compare bool, n int) ([]report.Row, error)

// topCases are the top lists to compare: every range with every dim,
// with and without the previous period, cut to each of ns rows.
type topCases struct {
	ranges []report.Range
	dims   []report.Dim
	ns     []int
}

// differences reads every list of c with each reader and with
// reporttest.TopFromDays (the sums of every day, the reference), and
// describes the lists that differ, stopping at the first max. The reference is read once per range
// and dim, with the previous period and every row: without the previous
// period a list is the same rows with zeros (both keep the values viewed
// in the range), and n rows are its first n (the order is total).
func differences(t *testing.T, d *db.DB, c topCases, max int, readers map[string]topReader) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	compared := 0
	for _, r := range c.ranges {
		for _, dim := range c.dims {
			all, err := reporttest.TopFromDays(ctx, d, dim, r, true, report.MaxExport)
			if err != nil {
				t.Fatal(err)
			}
			for _, compare := range []bool{false, true} {
				ref := all
				if !compare {
					ref = make([]report.Row, len(all))
					for i, row := range all {
						ref[i] = report.Row{Value: row.Value, Cur: row.Cur}
					}
				}
				for _, n := range c.ns {
					want := ref[:min(n, len(ref))]
					for name, read := range readers {
						got, err := read(ctx, d, dim, r, compare, n)
						if errors.Is(err, errSkip) {
							continue
						}
						if err != nil {
							t.Fatalf("%s: %s, %s, compare %v, %d rows: %v", name, r, dim, compare, n, err)
						}
						compared++
						if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
							out = append(out, fmt.Sprintf("%s: %s, %s, compare %v, %d rows:\n%+v\nfrom the days:\n%+v", name, r, dim, compare, n, got, want))
							if len(out) == max {
								return out
							}
						}
					}
				}
			}
		}
	}
	if compared == 0 {
		t.Fatal("no list compared")
	}
	return out
}

// errSkip is a reader's answer to a list it does not read.
var errSkip = errors.New("not read this way")

// bounds reads a list through bounds wherever Top would, with query as
// an attempt's text and first candidates in the first attempt, counting
// the lists read so and those that took more than one attempt; it skips
// the others, and the lists without the previous period (the same
// attempts, less to sum) unless plain is set. It fails the test when the
// bounds give up (the test data is far too small for that).
func bounds(t *testing.T, query string, first int, plain bool, read, retried *int) topReader {
	return func(ctx context.Context, q db.Querier, dim report.Dim, r report.Range, compare bool, n int) ([]report.Row, error) {
		if !report.Bounded(r, n) || !compare && !plain {
			return nil, errSkip
		}
		rows, attempts, ok, err := report.TopBounded(ctx, q, query, dim, r, compare, n, first)
		if err == nil && !ok {
			t.Errorf("%s, %s, %d rows, first %d candidates: the bounds gave up after %d attempts", r, dim, n, first, attempts)
		}
		*read++
		if attempts > 1 {
			*retried++
		}
		return rows, err
	}
}

// sampled is set where the comparisons take a sample of their cases:
// SQLite under the race detector, where the pure-Go SQLite runs some
// twenty times slower. PostgreSQL, whose work is outside the test's
// process, takes them all there too.
func sampled(dialect db.Dialect) bool { return raceDetector && dialect == db.SQLite }

// generated inserts 800 days of generated traffic (the Small shape: a few
// dozen values of each dimension, counts small enough to tie often)
// ending on the test clock's today, with its months; 430 days when the
// cases are sampled (see generatedCases).
func generated(t *testing.T, d *db.DB) {
	t.Helper()
	days := 800
	if sampled(d.Dialect) {
		days = 430
	}
	var rows []reporttest.Daily
	var funnel []reporttest.FunnelDay
	if _, err := reporttest.Generate(reporttest.Traffic{Last: now, Days: days, ViewsPerDay: 300, Seed: 3, Shape: reporttest.Small},
		func(r []reporttest.Daily, f []reporttest.FunnelDay) error {
			rows, funnel = append(rows, r...), append(funnel, f...)
			return nil
		}); err != nil {
		t.Fatal(err)
	}
	if err := reporttest.Insert(context.Background(), d, rows, funnel); err != nil {
		t.Fatal(err)
	}
}

// generatedCases are ranges that start and end on and off month
// boundaries (inside one month, across one or two month ends with no
// whole month between, whole months only, up to 400 days), some with a
// previous period before the data, with the dims of the Small shape (and
// one it has no row of) and lists of one row to every row; where sampled,
// a few of every kind.
func generatedCases(dialect db.Dialect) topCases {
	c := topCases{
		ranges: []report.Range{
			{From: day("2026-04-01"), To: day("2026-04-30")},
			{From: day("2026-03-01"), To: day("2026-04-30")},
			{From: day("2026-03-31"), To: day("2026-05-01")},
			{From: day("2025-05-01"), To: day("2026-04-30")},
			{From: day("2024-03-01"), To: day("2024-03-31")}, // the previous period and most of the range before the data
			{From: day("2024-04-01"), To: day("2025-05-05")}, // 400 days
			{From: day("2025-01-15"), To: day("2025-02-14")},
			{From: day("2025-12-31"), To: day("2026-01-01")},
			{From: day("2025-02-01"), To: day("2025-03-31")}, // February and March, whole
			{From: day("2025-01-31"), To: day("2025-03-01")}, // February whole, a day either side
		},
		dims: []report.Dim{report.Page, report.Referrer, report.Browser, report.Country, report.UTMMedium},
		ns:   []int{1, 3, 10, 100, report.MaxExport},
	}
	for _, n := range []int{1, 2, 7, 28, 30, 45, 61, 90, 365, 400} {
		c.ranges = append(c.ranges, report.Last(n, now))
	}
	for _, to := range []string{"2026-04-30", "2026-04-01", "2025-03-01"} {
		for _, n := range []int{1, 7, 30, 45, 90, 365} {
			c.ranges = append(c.ranges, report.Last(n, day(to)))
		}
	}
	if sampled(dialect) {
		c.ranges = []report.Range{
			{From: day("2026-03-31"), To: day("2026-05-01")}, // across two month ends, one month whole
			{From: day("2025-05-01"), To: day("2026-04-30")}, // whole months only
			report.Last(1, now),
			report.Last(30, now), // the dashboard's: across a month end, no whole month
			report.Last(365, now),
			report.Last(400, now), // the previous period before the data
			report.Last(7, day("2026-04-30")),
		}
		c.dims = []report.Dim{report.Page, report.Referrer, report.UTMMedium}
		c.ns = []int{1, 10, report.MaxExport}
	}
	return c
}

// TestTopFromMonthsEqualsTopFromDays compares every top list the report
// reads (from the months, the days at either end, and through the months'
// bounds where the list is short and the range has such days) with the
// first query's sums of every day: on generated data, many ranges, dims
// and lengths of list, with ties; on a fixture, ties at the bound. Lists
// through bounds are read with the first attempt's candidates as Top
// takes them and with fewer, so that they need further attempts. Then it
// breaks the bounded query and checks that the comparison sees it. One
// database of each kind holds both data sets (the fixture in dims the
// generated data does not use): a fresh database costs its migrations,
// seconds under the race detector.
func TestTopFromMonthsEqualsTopFromDays(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		generated(t, d)
		if err := reporttest.Insert(context.Background(), d, tieFixture(), nil); err != nil {
			t.Fatal(err)
		}
		t.Run("generated", func(t *testing.T) {
			var read, retried int
			diffs := differences(t, d, generatedCases(d.Dialect), 6, map[string]topReader{
				"Top":                          report.Top,
				"bounds from one candidate up": bounds(t, report.BoundedSQL, 1, false, &read, &retried),
				"TopFromMonths (the benchmark's before), 10 rows": func(ctx context.Context, q db.Querier, dim report.Dim, r report.Range, compare bool, n int) ([]report.Row, error) {
					if n != 10 {
						return nil, errSkip
					}
					return reporttest.TopFromMonths(ctx, q, dim, r, compare, n)
				},
			})
			for _, s := range diffs {
				t.Error(s)
			}
			if read == 0 || retried == 0 {
				t.Errorf("%d lists through bounds, %d of them in more than one attempt: the comparison misses a path", read, retried)
			}
		})
		t.Run("ties", func(t *testing.T) { tiesAtTheBound(t, d) })
		t.Run("broken", func(t *testing.T) { brokenBounds(t, d) })
	})
}

// tieFixture has values whose views in April tie while their months
// differ, in two dims with the names swapped: in device, b has 5 views
// in 04-10..04-20 and 100 more in April before it (a bound of 105), a has
// the same 5 views and nothing else (a bound of 5); in screen, a is the
// one with the extra views. In 04-10..04-20 a comes first in both (same
// views, a before b) although in device its bound is lower. y has fewer
// views, z none in the range but the highest bound, gone has views only
// in March (the previous period of some ranges).
func tieFixture() []reporttest.Daily {
	row := func(dim report.Dim, day, value string, views int64) reporttest.Daily {
		return reporttest.Daily{Dim: dim, Day: day, Value: value, Counts: report.Counts{Views: views, Visitors: views, Entries: 1, EngagedMS: 1000 * views, EngagedViews: views}}
	}
	var rows []reporttest.Daily
	for _, c := range []struct {
		dim            report.Dim
		bounded, plain string
	}{{report.Device, "b", "a"}, {report.Screen, "a", "b"}} {
		rows = append(rows,
			row(c.dim, "2026-04-02", c.bounded, 100),
			row(c.dim, "2026-04-15", c.bounded, 5),
			row(c.dim, "2026-04-12", c.plain, 5),
			row(c.dim, "2026-04-18", "y", 3),
			row(c.dim, "2026-04-25", "z", 500),
			row(c.dim, "2026-03-30", "gone", 7),
			row(c.dim, "2026-05-02", "y", 2),
		)
	}
	// In January and February (device), u has the most views in the
	// range (21) and is never among a month's first two: p and r (11 each)
	// come before it in January by name, q and s (10) in February. One or
	// two values per month see p (20 in the range) but not u; only the
	// two months' thresholds summed (21) keep p from being taken for the
	// first.
	rows = append(rows,
		row(report.Device, "2026-01-26", "p", 11),
		row(report.Device, "2026-01-27", "u", 11),
		row(report.Device, "2026-01-28", "r", 11),
		row(report.Device, "2026-02-05", "q", 10),
		row(report.Device, "2026-02-06", "u", 10),
		row(report.Device, "2026-02-08", "s", 10),
		row(report.Device, "2026-02-07", "p", 9),
	)
	// In June (screen), x has 50 views, 20 of them in 06-10..06-20; b2
	// has 20, none in the range; m has 20, all in it. Two values per month
	// see x and b2: a threshold of 20, equal to x's count, while m, unseen,
	// ties x and comes first by name.
	rows = append(rows,
		row(report.Screen, "2026-06-02", "x", 30),
		row(report.Screen, "2026-06-15", "x", 20),
		row(report.Screen, "2026-06-03", "b2", 20),
		row(report.Screen, "2026-06-12", "m", 20),
	)
	return rows
}

func tieCases() topCases {
	return topCases{
		ranges: []report.Range{
			{From: day("2026-04-10"), To: day("2026-04-20")},
			{From: day("2026-04-02"), To: day("2026-04-20")},
			{From: day("2026-03-25"), To: day("2026-04-20")},
			{From: day("2026-04-10"), To: day("2026-05-03")},
			{From: day("2026-04-01"), To: day("2026-04-30")},
			{From: day("2026-01-25"), To: day("2026-02-20")},
			{From: day("2026-06-10"), To: day("2026-06-20")},
		},
		dims: []report.Dim{report.Device, report.Screen},
		ns:   []int{1, 2, 3, report.MaxExport},
	}
}

// tieReaders read through bounds with one to three first candidates, so
// that the value left out when the first attempt ends is each of the
// tied ones in turn; where sampled, with two (the tied one left out).
func tieReaders(t *testing.T, d *db.DB, query string, read, retried *int) map[string]topReader {
	readers := map[string]topReader{"Top": report.Top}
	for first := 1; first <= 3; first++ {
		if first == 2 || !sampled(d.Dialect) {
			readers[fmt.Sprintf("bounds from %d candidates", first)] = bounds(t, query, first, first == 2, read, retried)
		}
	}
	return readers
}

// tiesAtTheBound checks the order of values with the same views, when
// the bound of the one that comes first is the lower one, against
// TopFromDays, and the first rows by name.
func tiesAtTheBound(t *testing.T, d *db.DB) {
	ctx := context.Background()
	r := report.Range{From: day("2026-04-10"), To: day("2026-04-20")}
	for _, dim := range []report.Dim{report.Device, report.Screen} {
		top, err := report.Top(ctx, d, dim, r, true, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range top {
			got = append(got, fmt.Sprintf("%s %d", row.Value, row.Cur.Views))
		}
		if want := "a 5, b 5, y 3"; strings.Join(got, ", ") != want {
			t.Errorf("%s: top 3 = %s, want %s", dim, strings.Join(got, ", "), want)
		}
	}
	var read, retried int
	for _, s := range differences(t, d, tieCases(), 6, tieReaders(t, d, report.BoundedSQL, &read, &retried)) {
		t.Error(s)
	}
	if read == 0 || retried == 0 {
		t.Errorf("%d lists through bounds, %d of them in more than one attempt", read, retried)
	}
}

// brokenBounds breaks the bounded query in ways that give wrong lists and
// checks that the comparison of the ties sees each: the threshold as the
// highest of the months' instead of their sum (too low for a value that
// is second in two months), a month with K values seen taken as a month
// with every value seen, and a threshold equal to the n-th count taken as
// beaten. A comparison that passes whatever the query proves nothing.
// (The fixture's January, February and June are there for the first and
// the last: the generated data broke neither.)
func brokenBounds(t *testing.T, d *db.DB) {
	for _, c := range []struct{ name, old, new string }{
		{"the months' thresholds not summed", "COALESCE(sum(CASE WHEN c = $2", "COALESCE(max(CASE WHEN c = $2"},
		{"a full month taken as every value seen", "CASE WHEN c = $2 THEN lo ELSE 0 END", "0"},
		{"a threshold equal to the n-th count beaten", "(SELECT views FROM nth) > (SELECT t FROM threshold)", "(SELECT views FROM nth) >= (SELECT t FROM threshold)"},
	} {
		broken := strings.Replace(report.BoundedSQL, c.old, c.new, 1)
		if broken == report.BoundedSQL {
			t.Fatalf("%s: %q is not in the query any more: update the test", c.name, c.old)
		}
		var read, retried int
		if diffs := differences(t, d, tieCases(), 1, tieReaders(t, d, broken, &read, &retried)); len(diffs) == 0 {
			t.Errorf("%s: no list differs from the days (%d lists through bounds)", c.name, read)
		}
	}
}
