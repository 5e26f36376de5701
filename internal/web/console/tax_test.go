package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestTaxSettingsPage: owners edit the tax settings, every save is
// audited, refusals name the field and change nothing, other roles are
// refused, and an order placed before a change keeps its tax.
func TestTaxSettingsPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		ctx := context.Background()
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		res, body := owner.Get(t, "/staff/settings/tax")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "None: tax off", `name="rate_DE"`, `value="19"`, `value="25.5"`, `href="/staff/settings/tax"`)

		form := url.Values{"home_country": {"DE"}, "seller_vat_id": {"DE 123 456 789"}, "prices_include_tax": {"no"}, "stripe_tax": {"no"},
			"rate_DE": {"19"}, "rate_FR": {"20"}}
		with := func(kv ...string) url.Values {
			v := url.Values{}
			for k, vs := range form {
				v[k] = append([]string(nil), vs...)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		bad := []struct {
			form  url.Values
			field string
			says  string
		}{
			{with("home_country", "XX"), "home_country", "must be an EU member state"},
			{with("home_country", "US"), "home_country", "must be an EU member state"},
			{with("seller_vat_id", "DE123"), "seller_vat_id", "not the format"},
			{with("seller_vat_id", "FR12345678901"), "seller_vat_id", "another country"},
			{with("rate_FR", "101"), "rate_FR", "between 0 and 100"},
			{with("rate_FR", "-5"), "rate_FR", "between 0 and 100"},
			{with("rate_FR", "abc"), "rate_FR", "between 0 and 100"},
			{with("stripe_tax", ""), "stripe_tax", "Stripe Tax"},
			{url.Values{}, "home_country", "Choose the EU member state"},
		}
		for _, b := range bad {
			res, body := owner.Post(t, "/staff/settings/tax", b.form)
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
			webtest.MustContain(t, body, "Nothing was saved", b.says)
			if b.field != "" && !strings.Contains(body, `id="`+b.field) {
				t.Errorf("%s: the field is not on the page", b.field)
			}
		}
		if got, _ := tax.Load(ctx, d); got.Enabled() {
			t.Fatalf("refused saves changed the settings: %+v", got)
		}
		if n := len(webtest.AuditActions(t, d, "settings.tax_changed")); n != 0 {
			t.Fatalf("%d refused saves audited", n)
		}

		// Before tax is on, an order carries none.
		buyer, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		price := webtest.PriceID(t, d)
		place := webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "country", "FR", "vat_id", "")
		res, _ = buyer.Post(t, "/checkout", place)
		webtest.WantRedirect(t, res, "/account/orders/")

		res, _ = owner.Post(t, "/staff/settings/tax", with("rate_FR", "5,5"))
		webtest.WantRedirect(t, res, "/staff/settings/tax?done=saved")
		got, err := tax.Load(ctx, d)
		if err != nil || got.HomeCountry != "DE" || got.SellerVATID != "DE123456789" || got.Rate("FR") != 550 || got.Rate("IT") != 2200 {
			t.Fatalf("saved %+v, %v", got, err)
		}
		entries := webtest.AuditActions(t, d, "settings.tax_changed")
		if len(entries) != 1 || !strings.Contains(entries[0].Detail, "home DE") || !strings.Contains(entries[0].Detail, "FR 5.5 %") {
			t.Errorf("audit %+v", entries)
		}
		res, body = owner.Get(t, "/staff/settings/tax?done=saved")
		webtest.MustContain(t, body, "The tax settings are saved", `value="5.5"`, `<option value="DE" selected>`)

		res, _ = buyer.Post(t, "/checkout", place)
		webtest.WantRedirect(t, res, "/account/orders/")
		var totals []int64
		rows, err := d.QueryContext(ctx, `SELECT total_minor FROM orders ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			totals = append(totals, n)
		}
		rows.Close()
		if len(totals) != 2 || totals[0] != 49000 || totals[1] != 51695 { // 490.00 + 5.5 %
			t.Errorf("order totals %v, want 49000 (before) and 51695 (after)", totals)
		}

		// Turning tax off is a choice of its own.
		res, _ = owner.Post(t, "/staff/settings/tax", with("home_country", "none", "seller_vat_id", ""))
		webtest.WantRedirect(t, res, "/staff/settings/tax?done=saved")
		if got, _ := tax.Load(ctx, d); got.Enabled() {
			t.Errorf("tax still on: %+v", got)
		}

		for _, role := range []staff.Role{staff.Finance, staff.Support, staff.Analyst} {
			b := webtest.NewBrowser(s)
			b.SignIn(t, webtest.AddStaff(t, s, string(role)+"@milterworks.example", role, true))
			res, body := b.Get(t, "/staff/settings/tax")
			webtest.WantStatus(t, res, body, http.StatusForbidden)
			res, body = b.Post(t, "/staff/settings/tax", form)
			webtest.WantStatus(t, res, body, http.StatusForbidden)
		}
	})
}
