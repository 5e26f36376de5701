package analytics_test

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

// months reads analytics_monthly, or (fromDays) the sums of analytics_daily
// per month that it must equal, keyed "dim month value".
func months(t *testing.T, d *db.DB, fromDays bool) map[string]daily {
	t.Helper()
	q := `SELECT dim, month, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views FROM analytics_monthly`
	if fromDays {
		q = `SELECT dim, substr(day, 1, 7), value, sum(views), sum(visitors), sum(entries), sum(exits), sum(bounces), sum(engaged_ms), sum(engaged_views)
			FROM analytics_daily GROUP BY dim, substr(day, 1, 7), value`
	}
	rows, err := d.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]daily{}
	for rows.Next() {
		var dim, month, value string
		var r daily
		if err := rows.Scan(&dim, &month, &value, &r.views, &r.visitors, &r.entries, &r.exits, &r.bounces, &r.engagedMS, &r.engagedViews); err != nil {
			t.Fatal(err)
		}
		out[dim+" "+month+" "+value] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// monthsEqualDays fails unless every month of analytics_monthly is the sum
// of its days in analytics_daily, row for row.
func monthsEqualDays(t *testing.T, d *db.DB) map[string]daily {
	t.Helper()
	got, want := months(t, d, false), months(t, d, true)
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("month %s: %+v (present %v), its days sum to %+v", k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("month %s: %+v without a day", k, g)
		}
	}
	return got
}

// TestRollupKeepsMonthsEqualToTheirDays rolls up the last day of April
// and the first days of May as the periodic job would (today and
// yesterday, every few minutes), with a view before midnight whose engaged
// time comes after it: each month stays the sum of its days, April keeps
// values May does not have, and running again changes nothing.
func TestRollupKeepsMonthsEqualToTheirDays(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newCounter(t, d, analytics.Options{})
		a := netip.MustParseAddr("198.51.100.7")
		b := netip.MustParseAddr("198.51.100.8")
		hit := func(at time.Time, addr netip.Addr, ua string, body []byte) {
			t.Helper()
			if o := c.Count(analytics.Hit{Body: body, At: at, Addr: addr, UserAgent: ua}); o != analytics.Counted {
				t.Fatalf("%s: %v", body, o)
			}
		}
		rollup := func(now time.Time) {
			t.Helper()
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if err := analytics.Rollup(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		apr30 := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
		may1 := apr30.AddDate(0, 0, 1)

		hit(apr30.Add(20*time.Hour), a, firefox, view("00000000000000a1", "/pricing", `"r":"https://news.example.org/x"`))
		hit(apr30.Add(20*time.Hour+time.Minute), a, firefox, view("00000000000000a2", "/products/milter"))
		rollup(apr30.Add(21 * time.Hour))
		monthsEqualDays(t, d)

		hit(apr30.Add(23*time.Hour+59*time.Minute), b, safari, view("00000000000000b1", "/products/relay", `"q":"?utm_source=mastodon"`))
		hit(may1.Add(30*time.Second), b, safari, engaged("00000000000000b1", 7000)) // April's view, reported in May
		hit(may1.Add(9*time.Hour), a, firefox, view("00000000000000a3", "/products/milter"))
		rollup(may1.Add(10 * time.Hour)) // yesterday is in April, today in May
		got := monthsEqualDays(t, d)
		if g := got["total 2026-04 "]; g.views != 3 || g.visitors != 2 || g.engagedMS != 7000 {
			t.Errorf("April %+v", g)
		}
		if g := got["total 2026-05 "]; g.views != 1 || g.visitors != 1 {
			t.Errorf("May %+v", g)
		}
		if _, ok := got["page 2026-05 /pricing"]; ok {
			t.Error("May has a page only April had")
		}
		if g := got["page 2026-04 /pricing"]; g.views != 1 {
			t.Errorf("April's /pricing %+v", g)
		}

		hit(may1.Add(24*time.Hour+time.Hour), b, safari, view("00000000000000b2", "/products/milter"))
		for range 2 { // running it again changes nothing
			rollup(may1.Add(26 * time.Hour))
		}
		got = monthsEqualDays(t, d)
		if g := got["page 2026-05 /products/milter"]; g.views != 2 || g.visitors != 2 {
			t.Errorf("May's /products/milter %+v", g)
		}
		if g := got["total 2026-04 "]; g.views != 3 {
			t.Errorf("April after May's days %+v", g)
		}

		// A whole recount finds the same.
		before := months(t, d, false)
		for _, m := range []time.Time{apr30, may1} {
			if err := analytics.RecountMonth(ctx, d, m); err != nil {
				t.Fatal(err)
			}
		}
		if after := months(t, d, false); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("RecountMonth changed the months:\n%v\n%v", before, after)
		}
	})
}

// TestMonthRecountOnSeveralInstancesAtOnce: roll-ups of two days of the
// same month running at once, as on several instances, while views keep
// arriving, end with each month equal to the sum of its days.
func TestMonthRecountOnSeveralInstancesAtOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newCounter(t, d, analytics.Options{})
		today := analytics.Day(t0)
		days := []time.Time{t0.Truncate(24*time.Hour).AddDate(0, 0, -1), t0.Truncate(24 * time.Hour)}
		n := 0
		add := func(k int) {
			for range k {
				n++
				day := days[n%2]
				addr := netip.AddrFrom4([4]byte{198, 51, 100, byte(n % 40)})
				c.Count(analytics.Hit{Body: view(fmt.Sprintf("%016x", n), fmt.Sprintf("/products/p%d", n%9)),
					At: day.Add(time.Duration(n) * time.Second), Addr: addr, UserAgent: firefox})
			}
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// Two rounds: in each, the goroutines that roll up one day roll up
		// the other in the other round.
		for round := range 2 {
			add(120)
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for i := range 8 {
				wg.Go(func() {
					if i%4 == 0 {
						errs <- analytics.Rollup(ctx, d, t0.Add(time.Hour))
						return
					}
					errs <- analytics.RollupDay(ctx, d, days[(i+round)%2])
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got := monthsEqualDays(t, d)
			if g := got["total "+today[:7]+" "]; g.views != int64(n) {
				t.Fatalf("round %d: month's views %d, want %d", round, g.views, n)
			}
		}
	})
}
