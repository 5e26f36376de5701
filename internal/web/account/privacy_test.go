package account_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestPrivacyCenterAccessChoicesAndErasure(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")

		res, body := b.Get(t, "/account/privacy")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Orders: what was bought", "Purchase and invoice records", "7 years after the end of the calendar year",
			"Restrict processing", "Erase my account", "data protection authority",
			"Before you erase", `href="/account/privacy/export.zip" download`)
		// Choices are offered for what the code does: the usage analytics
		// ("improvement", a legitimate interest) can be objected to; no
		// purpose declared for a capability that does not exist is offered
		// for objection or consent, just as the policy does not claim them. Newsletters are
		// subscribed to on the newsletter page (double opt-in), not by a
		// button here.
		webtest.MustContain(t, body, "Improving the site and products", "Object to this")
		// Product updates by mail exist now (issue 15): their objection is
		// offered beside the analytics' (security notices still come, as
		// the notice's footer says).
		webtest.MustContain(t, body, "Product updates and security notices")
		// Fraud review exists (issue 16): its objection is offered too,
		// saying that a person weighs it rather than that it stops; and
		// mail about significant policy changes, with the record of the
		// version last read (issue 17, docs/policy-archive.md).
		webtest.MustContain(t, body, "Fraud prevention", "must weigh your objection", "Telling you about changes to this policy")
		if strings.Count(body, "Object to this") != 4 {
			t.Errorf("%d objections offered, want the analytics', the product updates', fraud review's and the policy changes'", strings.Count(body, "Object to this"))
		}
		webtest.MustNotContain(t, body, "I agree", "Licenses you bought")

		res, zipBody := b.Get(t, "/account/privacy/export.zip")
		webtest.WantStatus(t, res, "", 200)
		zr, err := zip.NewReader(bytes.NewReader([]byte(zipBody)), int64(len(zipBody)))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "csv/orders.csv") {
			t.Fatalf("export ZIP holds %v", names)
		}

		for _, form := range []url.Values{
			{"choice": {"restriction"}, "on": {"1"}},
			{"choice": {"objection"}, "purpose": {"notices"}, "on": {"1"}},
			{"choice": {"objection"}, "purpose": {"improvement"}, "on": {"1"}},
			{"choice": {"consent"}, "purpose": {"marketing"}, "on": {"1"}},
		} {
			res, _ := b.Post(t, "/account/privacy/choices", form)
			webtest.WantRedirect(t, res, "/account/privacy?done=choices")
		}
		ch, _ := privacy.LoadChoices(ctx, d, c.ID)
		if !ch.Restricted || ch.Objections["notices"].IsZero() || ch.Objections["improvement"].IsZero() || ch.Consents["marketing"].IsZero() {
			t.Fatalf("choices not saved: %+v", ch)
		}
		res, body = b.Post(t, "/account/privacy/choices", url.Values{"choice": {"objection"}, "purpose": {"delivery"}, "on": {"1"}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = b.Get(t, "/account/privacy")
		webtest.MustContain(t, body, "is <strong>restricted</strong>")
		// Staff see the restriction where they handle the customer's order.
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)
		var number string
		d.QueryRowContext(ctx, `SELECT number FROM orders WHERE customer_id = $1`, c.ID).Scan(&number)
		res, body = fb.Get(t, "/staff/orders/"+number)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Processing restricted")

		// Erasure needs confirmation; then it tells what was kept.
		res, body = b.Post(t, "/account/privacy/erase", url.Values{"confirm": {"yes"}, "email": {"someone@else.example"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE email = 'bea@example.com'`); n != 1 {
			t.Fatal("a refused erasure changed the account")
		}
		res, body = b.Post(t, "/account/privacy/erase", url.Values{"confirm": {"yes"}, "email": {"Bea@Example.com"}})
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Your account is erased", "What we must keep, why, and until when", "tax and accounting records", "31 December 2033",
			"our staff ask them to delete what they hold about you: Email delivery provider")
		webtest.MustNotContain(t, body, "unit_minor", "processor_session", "billing_name")
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE email = 'bea@example.com'`); n != 0 {
			t.Fatal("the address is still on the account after erasure")
		}
		res, _ = b.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")
		for _, a := range []string{"privacy.exported", "privacy.restriction", "privacy.objection", "privacy.consent", "privacy.erased"} {
			if len(webtest.AuditActions(t, d, a)) == 0 {
				t.Errorf("no audit entry %s", a)
			}
		}
	})
}
