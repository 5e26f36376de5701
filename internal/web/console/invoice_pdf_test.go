package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestFinanceDownloadsDocumentPDFs: finance (billing.view) downloads an
// invoice and its correction as PDF, each view recorded; support, whose
// role does not cover billing, does not.
func TestFinanceDownloadsDocumentPDFs(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}), webtest.WithPaymentInstructions("IBAN: DE89 3704 0044 0532 0130 00"))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		fb := webtest.NewBrowser(s)
		fb.SignIn(t, fin)
		res, _ = fb.Post(t, "/staff/invoices/2026-000001/correct", url.Values{"name": {"Bea Buyer"}, "company": {"Buyer AG"},
			"address": {"Neue Str. 1\r\n10115 Berlin"}, "country": {"de"}, "reason": {"company renamed"}})
		webtest.WantRedirect(t, res, "/staff/orders/")

		res, page := fb.Get(t, "/staff/corrections/2026-000002")
		webtest.WantStatus(t, res, page, http.StatusOK)
		webtest.MustContain(t, page, `href="../invoices/2026-000002/pdf"`, "Company", "Buyer GmbH", "Buyer AG")

		for number, want := range map[string][]string{
			"2026-000001": {"Invoice 2026-000001", "Buyer GmbH", "IBAN: DE89 3704 0044 0532 0130 00", "Payment reference: 2026-000001"},
			"2026-000002": {"Correction 2026-000002", "Corrects invoice 2026-000001", "company renamed", "Company Buyer GmbH Buyer AG", "Neue Str. 1"},
		} {
			res, pdf := fb.Get(t, "/staff/invoices/"+number+"/pdf")
			webtest.WantStatus(t, res, pdf, http.StatusOK)
			if res.Header.Get("Content-Type") != "application/pdf" || res.Header.Get("Cache-Control") != "no-store" ||
				res.Header.Get("Content-Disposition") == "" {
				t.Errorf("%s: headers %v", number, res.Header)
			}
			webtest.MustContain(t, testutil.PDFText(t, []byte(pdf)), want...)
		}
		res, body := fb.Get(t, "/staff/invoices/2026-000009/pdf")
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		sb := webtest.NewBrowser(s)
		sb.SignIn(t, sup)
		res, body = sb.Get(t, "/staff/invoices/2026-000001/pdf")
		if res.StatusCode == http.StatusOK {
			t.Fatalf("support downloaded an invoice: %d", res.StatusCode)
		}
		webtest.MustNotContain(t, body, "%PDF")
	})
}
