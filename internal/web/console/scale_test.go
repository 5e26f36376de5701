package console_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestConsoleAtScale seeds STOREKEEP_SCALE_ORDERS orders (1000000 for
// docs/benchmarks.md, "Console at a million orders") on each database and
// times the dashboard and the order pages through the whole site. It does
// not run unless the variable is set (CI does not set it):
//
//	STOREKEEP_SCALE_ORDERS=1000000 STOREKEEP_TEST_POSTGRES=... \
//	  go test -count=1 -run TestConsoleAtScale -v -timeout 60m ./internal/web/console/
//
// The orders are spread over three years back from the site's clock, one
// every 94 seconds (about 920 a day): 2,000 of the newest pending (a few
// hundred of them by transfer and more than 14 days old), one in twenty
// cancelled, the others paid a minute after they were placed; two in
// three in EUR, one in USD; one line each of one of the seeded prices;
// one customer in ten has an account (100,000 customers).
func TestConsoleAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STOREKEEP_SCALE_ORDERS"))
	if n <= 0 {
		t.Skip("set STOREKEEP_SCALE_ORDERS (1000000 for docs/benchmarks.md) to run")
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		start := time.Now()
		seedScale(t, d, s.Clock.Now(), n)
		t.Logf("%s: seeded %d orders in %s", d.Dialect, n, time.Since(start).Round(time.Second))
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false))
		var second string
		{
			res, body := owner.Get(t, "/staff/orders")
			webtest.WantStatus(t, res, body, 200)
			if m := nextLink.FindStringSubmatch(body); m != nil {
				second = m[1]
			}
		}
		now := s.Clock.Now().UTC()
		month := now.AddDate(0, -1, 0).Format("2006-01")
		for _, p := range []struct {
			name, path string
			b          *webtest.Browser
		}{
			{"dashboard (owner)", "/staff", owner},
			{"dashboard (finance)", "/staff", fin},
			{"orders, first page", "/staff/orders", owner},
			{"orders, second page", unescape(second), owner},
			{"orders, paid, one month", "/staff/orders?status=paid&from=" + now.AddDate(0, -2, 0).Format(time.DateOnly) + "&to=" + now.AddDate(0, -1, 0).Format(time.DateOnly), owner},
			{"orders, by number", "/staff/orders?number=N0500000", owner},
			{"orders, by whole email", "/staff/orders?" + url.Values{"customer": {"b500000@example.com"}}.Encode(), owner},
			{"orders, by part of a name (matches)", "/staff/orders?" + url.Values{"customer": {"buyer 12"}}.Encode(), owner},
			{"orders, by product", "/staff/orders?product=1", owner},
			{"orders, by part of a name (no match: reads all)", "/staff/orders?" + url.Values{"customer": {"nobody"}}.Encode(), owner},
			{"sales report, a month", "/staff/reports/sales?month=" + month, fin},
			{"customers, first page", "/staff/customers", owner},
		} {
			var times []time.Duration
			for range 5 {
				t0 := time.Now()
				res, body := p.b.Get(t, p.path)
				times = append(times, time.Since(t0))
				webtest.WantStatus(t, res, body, 200)
			}
			slices.Sort(times)
			t.Logf("%s: %-50s median %6.1f ms (min %6.1f, max %6.1f) %s", d.Dialect, p.name, ms(times[2]), ms(times[0]), ms(times[4]), p.path)
		}
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func unescape(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.String()
}

// seedScale inserts n orders with one line each, and n/10 customers, in
// one INSERT ... SELECT each from a generated series (a recursive CTE on
// SQLite, generate_series on PostgreSQL), then updates the planner's
// statistics.
func seedScale(t *testing.T, d *db.DB, now time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	epoch := now.Unix()
	series := fmt.Sprintf(`WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < %d) SELECT i FROM g`, n)
	ts := func(expr string) string {
		return fmt.Sprintf(`strftime('%%Y-%%m-%%d %%H:%%M:%%S', %s, 'unixepoch') || ' +0000 UTC'`, expr)
	}
	num := `'N' || printf('%07d', i)`
	if d.Dialect == db.Postgres {
		series = fmt.Sprintf(`SELECT i FROM generate_series(1, %d) AS g(i)`, n)
		ts = func(expr string) string { return "to_timestamp(" + expr + ")" }
		num = `'N' || lpad(i::text, 7, '0')`
	}
	created := fmt.Sprintf("%d - i * 94", epoch)
	status := `CASE WHEN i <= 2000 THEN 'pending' WHEN i % 20 = 0 THEN 'cancelled' ELSE 'paid' END`
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`INSERT INTO customers (email, name, created_at, updated_at)
				SELECT 'b' || i || '@example.com', 'Buyer ' || i, ` + ts(created) + `, ` + ts(created) + ` FROM (` + series + `) s WHERE i % 10 = 0`,
			`INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, tax_minor, total_minor,
					billing_email, billing_name, billing_country, created_at, updated_at, paid_at, tax_treatment, tax_country)
				SELECT ` + num + `, NULL, ` + status + `,
					CASE WHEN i % 4 = 0 THEN 'manual' ELSE 'stripe' END, CASE WHEN i % 3 = 0 THEN 'USD' ELSE 'EUR' END,
					49000, CASE WHEN i % 3 = 0 THEN 0 ELSE 9310 END, CASE WHEN i % 3 = 0 THEN 49000 ELSE 58310 END,
					'b' || i || '@example.com', 'Buyer ' || i, CASE WHEN i % 3 = 0 THEN 'US' ELSE 'DE' END,
					` + ts(created) + `, ` + ts(created) + `,
					CASE WHEN i <= 2000 OR i % 20 = 0 THEN NULL ELSE ` + ts(created+" + 60") + ` END,
					CASE WHEN i % 3 = 0 THEN 'export' ELSE 'eu_consumer' END, CASE WHEN i % 3 = 0 THEN '' ELSE 'DE' END
				FROM (` + series + `) s`,
			`INSERT INTO order_lines (order_id, price_id, description, billing, unit_minor, quantity, net_minor, tax_minor, tax_rate_bp)
				SELECT o.id, (SELECT min(id) FROM prices), 'Mailguard Professional', 'one_time', 49000, 1, 49000, o.tax_minor,
					CASE WHEN o.tax_minor > 0 THEN 1900 ELSE 0 END FROM orders o`,
			`UPDATE orders SET customer_id = (SELECT c.id FROM customers c WHERE c.email = orders.billing_email) WHERE id % 10 = 0`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%w\n%s", err, q)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	analyze := "ANALYZE"
	if d.Dialect == db.Postgres {
		analyze = "VACUUM ANALYZE" // also sets the visibility map index-only scans need
	}
	if _, err := d.ExecContext(ctx, analyze); err != nil {
		t.Fatal(err)
	}
}

var nextLink = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
