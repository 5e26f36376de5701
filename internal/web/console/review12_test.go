package console_test

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestHostileSearchesAndMonths: the orders search and the sales report
// answer hostile query strings (huge, NUL, control characters, dates and
// months outside the calendar or at its edges, damaged page links) with a
// 400 or a page, never a server error.
func TestHostileSearchesAndMonths(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false))
		huge := strings.Repeat("A", 100_000)
		for _, q := range []string{
			"number=" + huge, "customer=" + huge, "customer=ab%00cd", "number=%00", "customer=%E2%80%AEabc", "customer=%FF%FE%FD",
			"from=0000-01-01", "to=0000-01-01", "from=9999-12-31", "to=9999-12-31", "from=0001-01-01&to=9999-12-31",
			"from=2027-02-30", "from=-2027-01-01", "from=2027-1-1", "product=-1", "product=99999999999999999999",
			"after=", "after=%00", "after=" + huge, "after=0-0", "after=-1.-1", "after=9999999999999999999.1", "status=%00",
			"customer=%25%25%25", "customer=___", "customer=%27%3B--",
		} {
			for _, path := range []string{"/staff/orders?", "/staff/orders.csv?"} {
				res, body := fin.Get(t, path+q)
				if res.StatusCode >= 500 {
					t.Errorf("%s%.80s: %d %.300s", path, q, res.StatusCode, body)
				}
			}
		}
		for _, m := range []string{"0000-01", "0001-01", "9999-12", "2027-13", "2027-00", "-001-01", "10000-01", "2027-1", huge, "%00"} {
			for _, path := range []string{"/staff/reports/sales?month=", "/staff/reports/sales.csv?month="} {
				res, body := fin.Get(t, path+m)
				if res.StatusCode >= 500 {
					t.Errorf("%s%.40s: %d %.300s", path, m, res.StatusCode, body)
				}
			}
		}
	})
}

// TestExportDefusesEveryFormula: whatever a buyer types as name or
// company, and whatever staff name a product, the accountant's
// spreadsheet reads text: every trigger (= + - @ tab CR LF and their
// full-width forms) gets the apostrophe.
func TestExportDefusesEveryFormula(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		now := s.Clock.Now()
		hostile := []string{"=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", "\n=1+1", "\uff1d1+1", "\uff0b1+1", "\uff0d1+1", "\uff201"}
		var list []testOrder
		for i, h := range hostile {
			list = append(list, testOrder{number: "FX" + string(rune('A'+i)) + "-0000", status: "paid", provider: "manual", currency: "EUR",
				name: h, net: 1000, created: now.Add(-time.Hour), paid: now.Add(-time.Hour)})
		}
		insertOrders(t, d, list)
		fin := webtest.NewBrowser(s)
		fin.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false))
		res, body := fin.Get(t, "/staff/orders.csv")
		webtest.WantStatus(t, res, body, 200)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, r := range recs[1:] {
			names[r[11]] = true
		}
		for _, h := range hostile {
			if !names["'"+h] {
				t.Errorf("buyer name %q is not defused in the export", h)
			}
		}
	})
}

// TestNewRoutesNeedTheirRoles: support and analysts reach none of the
// billing routes of issue 12 (orders search and export, the sales report,
// document PDFs, refunds); analysts see no customer.
func TestNewRoutesNeedTheirRoles(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		now := s.Clock.Now()
		insertOrders(t, d, []testOrder{{number: "ROLE-0001", status: "paid", provider: "manual", currency: "EUR", name: "Rita Role",
			net: 1000, created: now.Add(-time.Hour), paid: now.Add(-time.Hour)}})
		for _, role := range []staff.Role{staff.Support, staff.Analyst} {
			b := webtest.NewBrowser(s)
			b.SignIn(t, webtest.AddStaff(t, s, string(role)+"@milterworks.example", role, false))
			for _, p := range []string{"/staff/orders", "/staff/orders.csv", "/staff/reports/sales", "/staff/reports/sales.csv",
				"/staff/orders/ROLE-0001", "/staff/orders/ROLE-0001/refund-lines", "/staff/invoices/2026-000001/pdf", "/staff/settings/tax"} {
				res, body := b.Get(t, p)
				if res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusNotFound {
					t.Errorf("%s GET %s: %d", role, p, res.StatusCode)
				}
				webtest.MustNotContain(t, body, "Rita Role", "€10.00")
			}
			res, body := b.Post(t, "/staff/orders/ROLE-0001/refund-lines", url.Values{"reason": {"x"}, "confirm": {"yes"}})
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST refund-lines: %d", role, res.StatusCode)
			}
			_ = body
		}
		an := webtest.NewBrowser(s)
		an.SignIn(t, webtest.AddStaff(t, s, "analyst2@milterworks.example", staff.Analyst, false))
		res, body := an.Get(t, "/staff/customers")
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("analyst GET /staff/customers: %d", res.StatusCode)
		}
		webtest.MustNotContain(t, body, "Rita Role")
	})
}
