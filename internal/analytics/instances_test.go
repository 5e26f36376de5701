package analytics_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/analytics/salt"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestTwoInstancesCountOneVisitor: two instances on one database, each
// with its own salt keeper, agree on the day's salt; a visitor whose
// page views the load balancer sends to both is one visitor. The next
// day both count them under a new number.
func TestTwoInstancesCountOneVisitor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		keepers := []*salt.Keeper{salt.New(d, clk, nil), salt.New(d, clk, nil)}
		sync := func() {
			t.Helper()
			for range 3 {
				for _, k := range keepers {
					if err := k.Sync(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		sync()
		var counters []*analytics.Counter
		for _, k := range keepers {
			counters = append(counters, newCounter(t, d, analytics.Options{Salts: k}))
		}
		ada := netip.MustParseAddr("2001:db8::7")
		for i, id := range []string{"00000000000000d1", "00000000000000d2", "00000000000000d3"} {
			if o := counters[i%2].Count(analytics.Hit{Body: view(id, "/pricing"), At: clk.Now(), Addr: ada, UserAgent: firefox}); o != analytics.Counted {
				t.Fatalf("instance %d: %v", i%2, o)
			}
		}
		clk.Advance(24 * time.Hour)
		sync()
		if o := counters[1].Count(analytics.Hit{Body: view("00000000000000d4", "/pricing"), At: clk.Now(), Addr: ada, UserAgent: firefox}); o != analytics.Counted {
			t.Fatal(o)
		}
		for _, c := range counters {
			if err := c.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		got := views(t, d)
		if len(got) != 4 {
			t.Fatalf("%d views", len(got))
		}
		if got[0].Visitor != got[1].Visitor || got[1].Visitor != got[2].Visitor {
			t.Fatalf("two instances, several visitors for one browser: %d %d %d", got[0].Visitor, got[1].Visitor, got[2].Visitor)
		}
		if got[3].Visitor == got[0].Visitor {
			t.Fatal("the same visitor number on the next day")
		}
	})
}

// TestRawRowsGoAfterTwoDaysAggregatesStay: the inventory-driven purge
// deletes raw views and engaged times two days after they were
// collected; the daily aggregates, counts only, stay.
func TestRawRowsGoAfterTwoDaysAggregatesStay(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newCounter(t, d, analytics.Options{})
		ada := netip.MustParseAddr("198.51.100.7")
		c.Count(analytics.Hit{Body: view("00000000000000e1", "/"), At: t0, Addr: ada, UserAgent: firefox})
		c.Count(analytics.Hit{Body: engaged("00000000000000e1", 3000), At: t0, Addr: ada, UserAgent: firefox})
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := analytics.Rollup(ctx, d, t0); err != nil {
			t.Fatal(err)
		}
		count := func(table string) int {
			var n int
			if err := d.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.Add(47*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if count("analytics_views") != 1 || count("analytics_engaged") != 1 {
			t.Fatal("raw rows gone before two days")
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.Add(49*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if count("analytics_views") != 0 || count("analytics_engaged") != 0 {
			t.Fatal("raw rows kept past two days")
		}
		if count("analytics_daily") == 0 {
			t.Fatal("the aggregates went with the raw rows")
		}
	})
}
