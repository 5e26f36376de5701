package console_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestStaffEditsTheCatalog(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)
		b.SignIn(t, owner)
		res, body := b.Get(t, "/staff/catalog")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Mailguard", "Professional")
		var productID, editionID, price string
		d.QueryRowContext(context.Background(), `SELECT id FROM products WHERE slug = 'mailguard'`).Scan(&productID)
		d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&editionID)
		price = webtest.PriceID(t, d)

		res, _ = b.Post(t, "/staff/catalog/product", url.Values{"id": {productID}, "name": {"Mailguard 2"}, "tagline": {"New"}, "description": {"**Better**"}, "active": {"on"}})
		webtest.WantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.Post(t, "/staff/catalog/price", url.Values{"id": {price}, "amount": {"1,290.00"}, "active": {"on"}})
		webtest.WantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.Post(t, "/staff/catalog/price", url.Values{"edition_id": {editionID}, "currency": {"usd"}, "amount": {"540"}, "billing": {"one_time"}})
		webtest.WantRedirect(t, res, "/staff/catalog?done=saved")
		res, _ = b.Post(t, "/staff/catalog/edition", url.Values{"product_id": {productID}, "slug": {"enterprise"}, "name": {"Enterprise"}, "features": {"All\r\nof it"}})
		webtest.WantRedirect(t, res, "/staff/catalog?done=saved")
		_, page := s.Get(t, "/products/mailguard")
		webtest.MustContain(t, page, "Mailguard 2", "€1,290.00", "$540.00", "Enterprise")

		for _, bad := range []url.Values{
			{"id": {price}, "amount": {"12.345"}},
			{"id": {price}, "amount": {"-5"}},
			{"edition_id": {editionID}, "currency": {"EURO"}, "amount": {"5"}, "billing": {"one_time"}},
			{"edition_id": {editionID}, "currency": {"USD"}, "amount": {"5"}, "billing": {"one_time"}},
		} {
			res, body := b.Post(t, "/staff/catalog/price", bad)
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		}
		res, body = b.Post(t, "/staff/catalog/edition", url.Values{"product_id": {productID}, "slug": {"Bad Slug"}, "name": {"X"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = b.Post(t, "/staff/catalog/price", url.Values{"id": {"99999"}, "amount": {"1"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		// Taking the price off sale removes it from the page and from checkout.
		res, _ = b.Post(t, "/staff/catalog/price", url.Values{"id": {price}, "amount": {"1290"}})
		webtest.WantRedirect(t, res, "/staff/catalog?done=saved")
		_, page = s.Get(t, "/products/mailguard")
		webtest.MustNotContain(t, page, "€1,290.00")
		if len(webtest.AuditActions(t, d, "catalog.")) < 4 {
			t.Fatal("catalog changes were not recorded")
		}
	})
}

// TestFinanceCorrectsAnInvoice: finance issues a correction from the order
// page; the customer sees both documents; the invoice is unchanged.
func TestFinanceCorrectsAnInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		orderURL := res.Header.Get("Location")
		number := strings.TrimPrefix(strings.SplitN(orderURL, "?", 2)[0], "/account/orders/")
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)
		res, body := fb.Get(t, "/staff/orders/"+number)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Correct the billing details of 2026-000001")
		res, body = fb.Post(t, "/staff/invoices/2026-000001/correct", url.Values{"name": {"Bea Buyer"}, "address": {"x"}, "country": {"DE"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = fb.Post(t, "/staff/invoices/2026-000001/correct", url.Values{"name": {"Bea Buyer"}, "company": {"Buyer AG"},
			"address": {"Neue Str. 1\r\n10115 Berlin"}, "country": {"de"}, "reason": {"company renamed"}})
		webtest.WantRedirect(t, res, "/staff/orders/"+number+"?done=corrected")
		res, body = fb.Get(t, "/staff/corrections/2026-000002")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Correction 2026-000002", "corrects invoice 2026-000001", "Buyer AG", "Neue Str. 1",
			"a correction is a document of its own")
		webtest.MustNotContain(t, body, "corrections are issued as credit notes", "A document of the demo")

		res, body = b.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Buyer GmbH")
		webtest.MustNotContain(t, body, "Buyer AG")
		res, body = b.Get(t, orderURL)
		webtest.MustContain(t, body, "Correction 2026-000002")
		res, body = b.Get(t, "/account/corrections/2026-000002")
		webtest.WantStatus(t, res, body, 200)
		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		res, body = other.Get(t, "/account/corrections/2026-000002")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		if len(webtest.AuditActions(t, d, "invoice.corrected")) != 1 {
			t.Fatal("the correction was not recorded in the audit log")
		}
	})
}

// TestStaffLookUpACustomer: support finds a customer by address and sees
// contact data but no billing details; finance sees those too; every
// search and view is in the audit log.
func TestStaffLookUpACustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		_, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		err := d.Tx(context.Background(), func(tx *sql.Tx) error {
			_, err := customers.UpdateProfile(context.Background(), tx, c.ID, customers.Profile{Name: "Bea Buyer",
				AddressLine1: "Hauptstr. 5", PostalCode: "10115", City: "Berlin", Country: "DE"}, s.Clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		sb.SignIn(t, sup)
		// The list shows every customer now (issue 12), with the orders'
		// count and, for support, no amounts.
		res, body := sb.Get(t, "/staff/customers")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "bea@example.com", "Customers, newest first")
		webtest.MustNotContain(t, body, ">Paid<")
		res, body = sb.Get(t, "/staff/customers?q=be")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = sb.Get(t, "/staff/customers?q=BEA@")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "bea@example.com", "/staff/customers/"+webtest.Itoa(c.ID))
		res, body = sb.Get(t, "/staff/customers/"+webtest.Itoa(c.ID))
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Bea Buyer", "bea@example.com")
		webtest.MustNotContain(t, body, "Hauptstr. 5")

		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)
		res, body = fb.Get(t, "/staff/customers/"+webtest.Itoa(c.ID))
		webtest.WantStatus(t, res, body, http.StatusForbidden) // finance has no customers.view
		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(s)
		ob.SignIn(t, owner)
		res, body = ob.Get(t, "/staff/customers/"+webtest.Itoa(c.ID))
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "Hauptstr. 5")
		res, body = ob.Get(t, "/staff/customers/999999")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		views := 0
		for _, e := range webtest.AuditActions(t, d, "personal_data.view") {
			if e.SubjectID == webtest.Itoa(c.ID) || e.SubjectType == "customers" {
				views++
			}
		}
		if views < 3 {
			t.Fatalf("%d recorded views of the customer, want the search and each opening", views)
		}
	})
}
