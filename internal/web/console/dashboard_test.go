package console_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// testOrder is an order stored directly, as the orders domain stores one.
type testOrder struct {
	number, status, provider, currency string
	name, email, country, vatID        string
	treatment, taxCountry              string
	net, tax                           int64
	rateBP                             int
	created, paid                      time.Time
}

func insertOrders(t *testing.T, d *db.DB, list []testOrder) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for _, o := range list {
			var paid any
			if !o.paid.IsZero() {
				paid = o.paid
			}
			if o.email == "" {
				o.email = strings.ToLower(o.number) + "@example.com"
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO orders (number, status, provider, currency, subtotal_minor, tax_minor, total_minor,
					billing_email, billing_name, billing_country, billing_vat_id, created_at, updated_at, paid_at, tax_treatment, tax_country)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15) RETURNING id`,
				o.number, o.status, o.provider, o.currency, o.net, o.tax, o.net+o.tax, o.email, o.name, o.country, o.vatID, o.created, paid,
				o.treatment, o.taxCountry).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_id, description, billing, unit_minor, quantity, net_minor, tax_minor, tax_rate_bp)
				VALUES ($1, 'QuillGuard Pro', 'one_time', $2, 1, $2, $3, $4)`, id, o.net, o.tax, o.rateBP); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDashboardPerRole: owners see the figures, the orders behind them
// and support's queue; finance the figures and the orders; support its
// queue alone; analysts the figures alone, with no buyer's name and no
// order number. Each chart is an SVG image named by its caption, with the
// table of its numbers.
func TestDashboardPerRole(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		now := s.Clock.Now()
		insertOrders(t, d, []testOrder{
			{number: "PAID-0001", status: "paid", provider: "stripe", currency: "EUR", name: "Paula Paid", country: "DE", treatment: "eu_consumer",
				taxCountry: "DE", net: 10000, tax: 1900, rateBP: 1900, created: now.Add(-50 * time.Hour), paid: now.Add(-49 * time.Hour)},
			{number: "PAID-0002", status: "paid", provider: "stripe", currency: "USD", name: "Uma Usd", country: "US", treatment: "export",
				net: 4200, created: now.Add(-40 * 24 * time.Hour), paid: now.Add(-40 * 24 * time.Hour)},
			{number: "LATE-0001", status: "pending", provider: "manual", currency: "EUR", name: "Olga Overdue", country: "AT",
				net: 5000, tax: 1000, created: now.Add(-20 * 24 * time.Hour)},
			{number: "OPEN-0001", status: "pending", provider: "manual", currency: "EUR", name: "Otto Open", country: "AT",
				net: 3000, tax: 600, created: now.Add(-2 * time.Hour)},
		})
		parts := map[string]string{"figures": `id="figures"`, "lists": `id="order-lists"`, "queue": `id="support-queue"`}
		for _, c := range []struct {
			role staff.Role
			sees []string
		}{
			{staff.Owner, []string{"figures", "lists", "queue"}},
			{staff.Finance, []string{"figures", "lists"}},
			{staff.Support, []string{"queue"}},
			{staff.Analyst, []string{"figures"}},
		} {
			b := webtest.NewBrowser(s)
			b.SignIn(t, webtest.AddStaff(t, s, string(c.role)+"@milterworks.example", c.role, true))
			res, body := b.Get(t, "/staff")
			webtest.WantStatus(t, res, body, 200)
			for name, marker := range parts {
				if got, want := strings.Contains(body, marker), contains(c.sees, name); got != want {
					t.Errorf("%s: part %s shown %v, want %v", c.role, name, got, want)
				}
			}
			if contains(c.sees, "figures") {
				webtest.MustContain(t, body, `<svg role="img" aria-labelledby="rev-day-EUR-caption"`, `id="rev-day-EUR-caption"`,
					`id="rev-month-USD"`, "€100.00", "$42.00", `id="revenue-by-product"`, `id="revenue-by-currency"`)
				// One bar with the paid amount, and the same in the table.
				webtest.MustContain(t, body, "<title>"+periodDay(now.Add(-49*time.Hour))+": €100.00</title>",
					"<th scope=\"row\">"+periodDay(now.Add(-49*time.Hour))+"</th><td class=\"num\">€100.00</td>")
				if m := regexp.MustCompile(`id="open-count"><h3>(\d+)</h3>`).FindStringSubmatch(body); m == nil || m[1] != "2" {
					t.Errorf("%s: open orders count %v", c.role, m)
				}
				if m := regexp.MustCompile(`id="overdue-count"><h3>(\d+)</h3>`).FindStringSubmatch(body); m == nil || m[1] != "1" {
					t.Errorf("%s: overdue count %v", c.role, m)
				}
			}
			if contains(c.sees, "lists") {
				webtest.MustContain(t, body, "Olga Overdue", "LATE-0001", "Otto Open")
			} else {
				webtest.MustNotContain(t, body, "Olga Overdue", "LATE-0001", "Otto Open", "Paula Paid", "PAID-0001")
			}
			if contains(c.sees, "queue") {
				webtest.MustContain(t, body, "The support desk comes with a capability of its own")
			}
		}
	})
}

func periodDay(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006") }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestOrderSearchPagesAndExport: finance reads every page of the orders
// (pages of 50) and finds each order once; the search narrows by
// customer, state and dates; the export of a search has every matching
// order with formulas defused, and is recorded.
func TestOrderSearchPagesAndExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		now := s.Clock.Now()
		var list []testOrder
		for i := range 120 {
			o := testOrder{number: fmt.Sprintf("S%03d-0000", i), status: []string{"paid", "pending"}[i%2], provider: "manual", currency: "EUR",
				name: fmt.Sprintf("Buyer %d", i), net: 1000, created: now.Add(-time.Duration(i/4) * time.Hour)}
			if i == 4 { // paid
				o.name = "=HYPERLINK(\"http://evil.example\")"
				o.email = "mallory@example.com"
			}
			list = append(list, o)
		}
		insertOrders(t, d, list)
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false))
		seen := map[string]int{}
		numberRE := regexp.MustCompile(`<th scope="row"><a href="/staff/orders/(S\d{3}-0000)">`)
		pages := followPages(t, fin, "/staff/orders", func(body string) {
			for _, m := range numberRE.FindAllStringSubmatch(body, -1) {
				seen[m[1]]++
			}
		})
		if len(seen) != 120 || pages != 3 {
			t.Errorf("%d orders over %d pages, want 120 over 3", len(seen), pages)
		}
		for n, k := range seen {
			if k != 1 {
				t.Errorf("order %s shown %d times", n, k)
			}
		}
		res, body := fin.Get(t, "/staff/orders?customer=mallory@example.com")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "S004-0000")
		webtest.MustNotContain(t, body, "S005-0000")
		day := now.UTC().Format(time.DateOnly)
		res, body = fin.Get(t, "/staff/orders?status=pending&from="+day+"&to="+day)
		webtest.WantStatus(t, res, body, 200)
		if n := len(numberRE.FindAllString(body, -1)); n == 0 {
			t.Error("no pending order of today found")
		}
		webtest.MustNotContain(t, body, "S000-0000") // paid
		for _, bad := range []string{"?status=lost", "?from=2027-13-01", "?after=xyz", "?customer=ab", "?product=x", "?from=2027-02-02&to=2027-02-01"} {
			res, body := fin.Get(t, "/staff/orders"+bad)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
		}

		res, body = fin.Get(t, "/staff/orders.csv?status=paid")
		webtest.WantStatus(t, res, body, 200)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 61 || recs[0][0] != "number" {
			t.Fatalf("%d rows, want a header and 60 paid orders", len(recs))
		}
		for _, r := range recs[1:] {
			if r[3] != "paid" {
				t.Errorf("exported a %s order", r[3])
			}
		}
		var defused bool
		for _, r := range recs {
			if r[0] == "S004-0000" {
				defused = r[11] == `'=HYPERLINK("http://evil.example")` && r[6] == "10.00"
			}
		}
		if !defused {
			t.Errorf("the formula in the buyer's name is not defused:\n%s", body)
		}
		if n := len(webtest.AuditActions(t, d, "orders.exported")); n != 1 {
			t.Errorf("%d exports recorded, want 1", n)
		}
	})
}

// TestSalesReportPage: the month's sales by country and rate, the reverse
// charge per buyer, and the same as CSV.
func TestSalesReportPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		month := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		insertOrders(t, d, []testOrder{
			{number: "VAT1-0001", status: "paid", provider: "stripe", currency: "EUR", country: "DE", treatment: "eu_consumer", taxCountry: "DE",
				net: 10000, tax: 1900, rateBP: 1900, created: month.Add(time.Hour), paid: month.Add(2 * time.Hour)},
			{number: "VAT1-0002", status: "paid", provider: "manual", currency: "EUR", country: "FR", vatID: "FR12345678901", treatment: "reverse_charge",
				net: 50000, created: month.Add(3 * time.Hour), paid: month.Add(24 * time.Hour)},
			{number: "VAT1-0003", status: "paid", provider: "stripe", currency: "EUR", country: "DE", treatment: "eu_consumer", taxCountry: "DE",
				net: 777, tax: 148, rateBP: 1900, created: month.AddDate(0, 1, 0), paid: month.AddDate(0, 1, 0)}, // February
		})
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false))
		res, body := fin.Get(t, "/staff/reports/sales?month=2027-01")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Sales report January 2027", "eu_consumer", "19 %", "€100.00", "€19.00", "€119.00",
			"FR12345678901", "€500.00", "€600.00")
		webtest.MustNotContain(t, body, "€7.77")
		res, body = fin.Get(t, "/staff/reports/sales.csv?month=2027-01")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "sales,DE,eu_consumer,19,,EUR,100.00,19.00,119.00,1", "reverse_charge,FR,reverse_charge,0,FR12345678901,EUR,500.00,0.00,500.00,1",
			"total,,,,,EUR,600.00,19.00,619.00,2")
		res, body = fin.Get(t, "/staff/reports/sales?month=January")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
	})
}

// TestCustomersListPages: the customers list, 50 a page, gives every
// customer once, with the count of their orders; amounts for owners, not
// for support.
func TestCustomersListPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		ctx := context.Background()
		now := s.Clock.Now()
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			for i := range 105 {
				var id int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO customers (email, name, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
					fmt.Sprintf("c%03d@example.com", i), fmt.Sprintf("Customer %d", i), now.Add(-time.Duration(i/2)*time.Minute)).Scan(&id); err != nil {
					return err
				}
				if i == 3 {
					for k := range 2 {
						if _, err := tx.ExecContext(ctx, `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor, total_minor, billing_email, created_at, updated_at)
							VALUES ($1, $2, 'paid', 'manual', 'EUR', 2500, 2500, 'c003@example.com', $3, $3)`, fmt.Sprintf("CUST-000%d", k), id, now); err != nil {
							return err
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		emailRE := regexp.MustCompile(`>(c\d{3}@example\.com)</a>`)
		seen := map[string]int{}
		pages := followPages(t, owner, "/staff/customers", func(body string) {
			for _, m := range emailRE.FindAllStringSubmatch(body, -1) {
				seen[m[1]]++
			}
			if strings.Contains(body, "c003@example.com") {
				webtest.MustContain(t, body, `<td class="num">2</td><td class="num">€50.00</td>`)
			}
		})
		if len(seen) != 105 || pages != 3 {
			t.Errorf("%d customers over %d pages, want 105 over 3", len(seen), pages)
		}
		for e, n := range seen {
			if n != 1 {
				t.Errorf("%s listed %d times", e, n)
			}
		}
		sup := webtest.NewBrowser(s)
		sup.SignIn(t, webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false))
		res, body := sup.Get(t, "/staff/customers?"+url.Values{"q": {"c003@"}}.Encode())
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "c003@example.com", `<td class="num">2</td></tr>`)
		webtest.MustNotContain(t, body, "€50.00")
	})
}

var nextPageRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// followPages gets first and every page its rel="next" links lead to,
// each wanted 200 and handed to each; it returns how many pages there were.
func followPages(t *testing.T, b *webtest.Browser, first string, each func(body string)) int {
	t.Helper()
	pages := 0
	for next := first; next != ""; {
		res, body := b.Get(t, strings.ReplaceAll(next, "&amp;", "&"))
		webtest.WantStatus(t, res, body, 200)
		pages++
		each(body)
		next = ""
		if m := nextPageRE.FindStringSubmatch(body); m != nil {
			next = m[1]
		}
	}
	return pages
}
