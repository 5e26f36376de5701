package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// hostile are texts no person types, each refused in any form field.
var hostile = map[string]string{
	"invalid UTF-8":      "Bea \xff\xfe Buyer",
	"NUL":                "Bea\x00Buyer",
	"escape":             "Bea\x1b[31mBuyer",
	"bidi override":      "Bea \u202eryuB",
	"bidi isolate":       "Bea \u2066Buyer\u2069",
	"right-to-left mark": "Bea\u200f Buyer",
	"C1 control":         "Bea\u0085Buyer",
	"line separator":     "Bea\u2028Buyer",
}

// TestHostileFormTextIsRefusedAtTheEdge posts each hostile text into the
// forms of every area (profile, checkout, staff sign-in, a console form)
// and in field names: every answer is a 422 saying what to change, and
// nothing is stored. PostgreSQL, which refuses invalid UTF-8 with an error,
// never sees such text.
func TestHostileFormTextIsRefusedAtTheEdge(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		buyer, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(s)
		ob.SignIn(t, owner)
		anon := webtest.NewBrowser(s)
		profile := url.Values{"name": {"Bea"}, "country": {"DE"}}
		checkout := webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual")
		for what, text := range hostile {
			for _, tc := range []struct {
				b    *webtest.Browser
				path string
				form url.Values
			}{
				{buyer, "/account/profile", webtest.WithForm(profile, "name", text)},
				{buyer, "/checkout", webtest.WithForm(checkout, "address", "Hauptstr. 5\n"+text)},
				{buyer, "/account/login", url.Values{"email": {text + "@example.com"}}},
				{anon, "/staff/login", url.Values{"email": {"owner@milterworks.example"}, "password": {text}}},
				{ob, "/staff/catalog/product", url.Values{"slug": {"new"}, "name": {text}}},
				{ob, "/staff/requests", url.Values{"kind": {"access"}, "email": {"x@example.com"}, "channel": {"email"}, "note": {text}}},
				{buyer, "/account/profile", url.Values{"name": {"Bea"}, "country": {"DE"}, text: {"x"}}},
			} {
				res, body := tc.b.Post(t, tc.path, tc.form)
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "nothing was changed") {
					t.Errorf("%s in %s: %d\n%.300s", what, tc.path, res.StatusCode, body)
				}
			}
		}
		for table, q := range map[string]string{
			"orders":           `SELECT count(*) FROM orders`,
			"products":         `SELECT count(*) FROM products WHERE slug = 'new'`,
			"privacy_requests": `SELECT count(*) FROM privacy_requests`,
			"customers":        `SELECT count(*) FROM customers WHERE name <> ''`,
		} {
			if n := webtest.Count(t, d, q); n != 0 {
				t.Errorf("%s: %d rows stored from refused forms", table, n)
			}
		}
		// What people do type passes: accents, other scripts, a multi-line
		// address with Windows line ends.
		res, _ := buyer.Post(t, "/checkout", webtest.WithForm(checkout, "name", "Zoë Ørsted-Öztürk 李", "address", "Hauptstr. 5\r\n10115 Berlin"))
		webtest.WantRedirect(t, res, "/account/orders/")
	})
}
