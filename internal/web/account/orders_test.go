package account_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestCustomerSeesOnlyTheirOrdersAndDocuments: the buyer opens their
// order and, once it is paid, its invoice; another customer, and anyone
// guessing numbers, finds nothing there.
func TestCustomerSeesOnlyTheirOrdersAndDocuments(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		res, _ := b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, "price", webtest.PriceID(t, d), "method", "manual"))
		webtest.WantRedirect(t, res, "/account/orders/")
		res, body := b.Get(t, res.Header.Get("Location"))
		webtest.WantStatus(t, res, body, http.StatusOK)
		number := regexp.MustCompile(`Order ([A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(body)[1]

		ctx := context.Background()
		o, err := orders.ByNumber(ctx, d, number)
		if err != nil {
			t.Fatal(err)
		}
		shop := orders.Shop{DB: d, SiteName: webtest.Vendor.Name, BaseURL: webtest.BaseURL, PaymentInstructions: "IBAN DE00",
			Providers: []payments.Provider{payments.Manual{}}}
		if _, err := shop.MarkPaid(ctx, o.ID, "test", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		res, body = b.Get(t, "/account/orders/"+number)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `<dd id="order-status">paid</dd>`, "/account/invoices/2026-000001")
		res, body = b.Get(t, "/account/invoices/2026-000001")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "2026-000001", "Bea Buyer", "Milterworks GmbH")
		res, _ = b.Get(t, "/account/invoices/2026-000001?download=1")
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="invoice-2026-000001.html"` {
			t.Errorf("download: Content-Disposition %q", cd)
		}

		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		for _, p := range []string{"/account/orders/" + number, "/account/invoices/2026-000001", "/account/orders/ZZZZ-ZZZZ",
			"/account/invoices/2026-999999", "/account/corrections/2026-000001"} {
			res, body := other.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustNotContain(t, body, "Bea Buyer")
		}
	})
}
