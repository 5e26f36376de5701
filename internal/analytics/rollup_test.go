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

type daily struct {
	views, visitors, entries, exits, bounces, engagedMS, engagedViews int64
}

func dailyRows(t *testing.T, d *db.DB, day string) map[string]daily {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT dim, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views
		FROM analytics_daily WHERE day = $1`, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]daily{}
	for rows.Next() {
		var dim, value string
		var r daily
		if err := rows.Scan(&dim, &value, &r.views, &r.visitors, &r.entries, &r.exits, &r.bounces, &r.engagedMS, &r.engagedViews); err != nil {
			t.Fatal(err)
		}
		out[dim+":"+value] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type funnel struct{ visitors, checkouts, paid, activated int64 }

func funnelRows(t *testing.T, d *db.DB, day string) map[string]funnel {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT product, product_visitors, checkout_visitors, orders_paid, activated FROM analytics_funnel WHERE day = $1`, day)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]funnel{}
	for rows.Next() {
		var p string
		var f funnel
		if err := rows.Scan(&p, &f.visitors, &f.checkouts, &f.paid, &f.activated); err != nil {
			t.Fatal(err)
		}
		out[p] = f
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// shop adds two products and paid orders: one for milter on the day whose
// license was activated (and its machine freed since), one for relay the
// day before, not activated, and an unpaid one for milter.
func shop(t *testing.T, d *db.DB, day time.Time) {
	t.Helper()
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for i, slug := range []string{"milter", "relay"} {
		id := i + 1
		exec(`INSERT INTO products (id, slug, name, created_at, updated_at) VALUES ($1, $2, $2, $3, $3)`, id, slug, day)
		exec(`INSERT INTO editions (id, product_id, slug, name, created_at, updated_at) VALUES ($1, $1, 'pro', 'Pro', $2, $2)`, id, day)
		exec(`INSERT INTO prices (id, edition_id, currency, amount_minor, billing, created_at) VALUES ($1, $1, 'EUR', 10000, 'one_time', $2)`, id, day)
	}
	order := func(id, price int, at time.Time, paid, activated bool) {
		var paidAt any
		status := "pending"
		if paid {
			paidAt, status = at.Add(time.Minute), "paid"
		}
		exec(`INSERT INTO orders (id, number, status, provider, currency, subtotal_minor, total_minor, billing_email, created_at, updated_at, paid_at)
			VALUES ($1, $2, $3, 'invoice', 'EUR', 10000, 10000, 'buyer@example.org', $4, $4, $5)`, id, fmt.Sprintf("SK-%d", id), status, at, paidAt)
		exec(`INSERT INTO order_lines (id, order_id, price_id, description, billing, unit_minor, quantity) VALUES ($1, $1, $2, 'x', 'one_time', 10000, 1)`, id, price)
		if paid {
			var first any
			if activated {
				first = at.Add(48 * time.Hour)
			}
			exec(`INSERT INTO licenses (lic, license_key, kid, order_id, order_line_id, product, edition, status, issued_at, updated_at, first_activated_at)
				VALUES ($1, 'k', 'kid', $2, $2, 'p', 'e', 'active', $3, $3, $4)`, fmt.Sprintf("L%d", id), id, at, first)
		}
	}
	order(1, 1, day.Add(15*time.Hour), true, true)
	order(2, 2, day.Add(-10*time.Hour), true, false)
	order(3, 1, day.Add(16*time.Hour), false, false)
}

// TestRollupCountsVisitsEntriesSourcesAndTheFunnel walks a day of three
// visitors through the roll-up and checks every figure by hand.
func TestRollupCountsVisitsEntriesSourcesAndTheFunnel(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		day := time.Date(2026, 5, 7, 0, 0, 0, 0, time.UTC)
		c := newCounter(t, d, analytics.Options{})
		a := netip.MustParseAddr("198.51.100.7")
		b := netip.MustParseAddr("198.51.100.8")
		cc := netip.MustParseAddr("203.0.113.5")
		hit := func(at time.Time, addr netip.Addr, ua string, body []byte) {
			t.Helper()
			if o := c.Count(analytics.Hit{Body: body, At: at, Addr: addr, UserAgent: ua}); o != analytics.Counted {
				t.Fatalf("%s: %v", body, o)
			}
		}
		h := func(hh, mm int) time.Time {
			return day.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
		}
		// A: from news.example.org, tagged mastodon: a product, pricing, checkout.
		hit(h(10, 0), a, firefox, view("00000000000000a1", "/products/milter", `"r":"https://news.example.org/x"`, `"q":"?utm_source=mastodon"`, `"w":1440`))
		hit(h(10, 1), a, firefox, engaged("00000000000000a1", 5000))
		hit(h(10, 1), a, firefox, view("00000000000000a2", "/pricing", `"r":"https://shop.example.com/products/milter"`))
		hit(h(10, 2), a, firefox, view("00000000000000a3", "/checkout"))
		hit(h(10, 3), a, firefox, engaged("00000000000000a3", 1000))
		hit(h(10, 4), a, firefox, engaged("00000000000000a3", 3000))     // the page hidden again: the larger counts
		hit(h(10, 5), a, firefox, view("00000000000000a3", "/checkout")) // a replay
		// B: one view of relay, direct, on a phone; its engaged time comes after midnight.
		hit(h(23, 59), b, safari, view("00000000000000b1", "/products/relay", `"w":390`))
		hit(h(24, 0).Add(30*time.Second), b, safari, engaged("00000000000000b1", 7000))
		// C: the checkout first, then milter: not a checkout after the product.
		hit(h(9, 0), cc, firefox, view("00000000000000c1", "/checkout"))
		hit(h(12, 0), cc, firefox, view("00000000000000c2", "/products/milter"))
		// A again the next day: another day, another visitor.
		hit(h(24, 10), a, firefox, view("00000000000000a9", "/"))
		// An engaged time for a view that does not exist counts for nothing.
		hit(h(11, 0), a, firefox, engaged("00000000000000ff", 9000))
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		shop(t, d, day)

		now := h(24, 20)
		for range 2 { // running it again changes nothing
			if err := analytics.Rollup(ctx, d, now); err != nil {
				t.Fatal(err)
			}
		}
		got := dailyRows(t, d, "2026-05-07")
		want := map[string]daily{
			"total:":                    {views: 6, visitors: 3, entries: 3, exits: 3, bounces: 1, engagedMS: 15000, engagedViews: 3},
			"page:/products/milter":     {views: 2, visitors: 2, entries: 1, exits: 1, engagedMS: 5000, engagedViews: 1},
			"page:/pricing":             {views: 1, visitors: 1},
			"page:/checkout":            {views: 2, visitors: 2, entries: 1, exits: 1, engagedMS: 3000, engagedViews: 1},
			"page:/products/relay":      {views: 1, visitors: 1, entries: 1, exits: 1, bounces: 1, engagedMS: 7000, engagedViews: 1},
			"referrer:news.example.org": {views: 3, visitors: 1, entries: 1, engagedMS: 8000, engagedViews: 2},
			"referrer:":                 {views: 3, visitors: 2, entries: 2, bounces: 1, engagedMS: 7000, engagedViews: 1},
			"utm_source:mastodon":       {views: 3, visitors: 1, entries: 1, engagedMS: 8000, engagedViews: 2},
			"browser:Firefox":           {views: 5, visitors: 2, entries: 2, exits: 2, engagedMS: 8000, engagedViews: 2},
			"browser:Safari":            {views: 1, visitors: 1, entries: 1, exits: 1, bounces: 1, engagedMS: 7000, engagedViews: 1},
			"device:desktop":            {views: 5, visitors: 2, entries: 2, exits: 2, engagedMS: 8000, engagedViews: 2},
			"device:mobile":             {views: 1, visitors: 1, entries: 1, exits: 1, bounces: 1, engagedMS: 7000, engagedViews: 1},
			"screen:desktop":            {views: 1, visitors: 1, entries: 1, engagedMS: 5000, engagedViews: 1},
			"screen:phone":              {views: 1, visitors: 1, entries: 1, exits: 1, bounces: 1, engagedMS: 7000, engagedViews: 1},
			"screen:":                   {views: 4, visitors: 2, entries: 1, exits: 2, engagedMS: 3000, engagedViews: 1},
			"country:":                  {views: 6, visitors: 3, entries: 3, exits: 3, bounces: 1, engagedMS: 15000, engagedViews: 3},
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %+v, want %+v", k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected row %s: %+v", k, got[k])
			}
		}
		if next := dailyRows(t, d, "2026-05-08"); next["total:"] != (daily{views: 1, visitors: 1, entries: 1, exits: 1, bounces: 1}) {
			t.Errorf("next day %+v", next["total:"])
		}

		fun := funnelRows(t, d, "2026-05-07")
		wantFunnel := map[string]funnel{
			"milter": {visitors: 2, checkouts: 1, paid: 1, activated: 1},
			"relay":  {visitors: 1},
			"":       {visitors: 3, checkouts: 1, paid: 1, activated: 1},
		}
		for k, w := range wantFunnel {
			if fun[k] != w {
				t.Errorf("funnel %q: %+v, want %+v", k, fun[k], w)
			}
		}
		if len(fun) != len(wantFunnel) {
			t.Errorf("funnel rows %v", fun)
		}
		if before := funnelRows(t, d, "2026-05-06"); before["relay"] != (funnel{paid: 1}) || before[""] != (funnel{paid: 1}) {
			t.Errorf("the day before: %v", before)
		}
	})
}

// TestRollupOnSeveralInstancesAtOnce: roll-ups running concurrently (as
// on several instances) end with the same counts and no error.
func TestRollupOnSeveralInstancesAtOnce(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newCounter(t, d, analytics.Options{})
		for i := range 200 {
			addr := netip.AddrFrom4([4]byte{198, 51, 100, byte(i % 50)})
			c.Count(analytics.Hit{Body: view(fmt.Sprintf("%016x", i+1), fmt.Sprintf("/products/p%d", i%7)), At: t0.Add(time.Duration(i) * time.Second), Addr: addr, UserAgent: firefox})
		}
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errs <- analytics.Rollup(ctx, d, t0.Add(time.Hour)) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := dailyRows(t, d, analytics.Day(t0))["total:"]; got.views != 200 || got.visitors != 50 {
			t.Fatalf("total %+v", got)
		}
	})
}
