package account_test

import (
	"net/http"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestCustomerDownloadsInvoicePDF: the buyer downloads their invoice as a
// PDF that says what the page says (bank details and reference for a
// transfer); nobody else gets it, and it is never cached.
func TestCustomerDownloadsInvoicePDF(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}), webtest.WithPaymentInstructions("IBAN: DE89 3704 0044 0532 0130 00\nBIC: COBADEFFXXX"))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")

		res, page := b.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, page, http.StatusOK)
		webtest.MustContain(t, page, `href="2026-000001/pdf"`, "Unit price", "Rate", "Gross", "Total net", "Total tax", "Total (gross)",
			"VAT number DE123456789", "IBAN: DE89 3704 0044 0532 0130 00", "Payment reference: 2026-000001")
		webtest.MustNotContain(t, page, "as charged by the payment provider")

		res, pdf := b.Get(t, "/account/invoices/2026-000001/pdf")
		webtest.WantStatus(t, res, pdf, http.StatusOK)
		for k, want := range map[string]string{"Content-Type": "application/pdf", "Cache-Control": "no-store",
			"Content-Disposition": `attachment; filename="invoice-2026-000001.pdf"`} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		text := testutil.PDFText(t, []byte(pdf))
		webtest.MustContain(t, text, "Invoice 2026-000001", "Milterworks GmbH", "Bea Buyer", "Buyer GmbH", "VAT number: DE123456789",
			"Bank transfer", "IBAN: DE89 3704 0044 0532 0130 00", "BIC: COBADEFFXXX", "Payment reference: 2026-000001")

		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		for _, p := range []string{"/account/invoices/2026-000001/pdf", "/account/invoices/2026-999999/pdf"} {
			res, body := other.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustNotContain(t, body, "Bea Buyer", "%PDF")
		}
		res, body := webtest.NewBrowser(s).Get(t, "/account/invoices/2026-000001/pdf")
		if res.StatusCode == http.StatusOK {
			t.Fatalf("a visitor who is not signed in got the invoice: %d %.60q", res.StatusCode, body)
		}
	})
}
