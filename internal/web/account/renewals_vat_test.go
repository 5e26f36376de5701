package account_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/app"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestRenewalAsksVIESAsCheckoutDoes: with VIES configured, a renewal by
// a business in another member state confirms its VAT number: one VIES
// says is not registered is refused at the field and nothing is placed,
// VIES not answering is said on the form, and a valid one renews under
// reverse charge with VIES's answer kept. A buyer at home is not asked
// about.
func TestRenewalAsksVIESAsCheckoutDoes(t *testing.T) {
	var asked atomic.Int32
	release := make(chan struct{})
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		raw, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch body := string(raw); {
		case strings.Contains(body, `"111111111"`):
			_, _ = w.Write([]byte(`{"valid":true,"name":"Kunde GmbH","address":"Berlin","requestIdentifier":"WAPI7","requestDate":"2026-12-01T10:00:00Z"}`))
		case strings.Contains(body, `"222222222"`):
			_, _ = w.Write([]byte(`{"valid":false}`))
		default:
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	t.Cleanup(func() { close(release); fake.Close() })
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		vies := tax.VIES{URL: fake.URL, Timeout: 200 * time.Millisecond}
		s := webtest.NewSite(t, d, webtest.WithPayments(webtest.NewDemoProvider(t), payments.Manual{}), webtest.WithDemo(),
			webtest.WithLicenseKeys(webtest.LicenseKeys), func(o *app.Options) { o.VATChecker = vies })
		b, c := webtest.SignedInCustomer(t, s, "kunde@example.com")
		l := buyYearly(t, s, b, c) // bought before tax was set up
		at := tax.Defaults()
		at.HomeCountry, at.SellerVATID = "AT", "ATU12345678"
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, at, time.Now()); return err }); err != nil {
			t.Fatal(err)
		}
		renew := "/account/licenses/" + l.LicenseID + "/renew"
		form := webtest.WithForm(webtest.BillingForm, "method", "manual", "country", "DE", "address", "Hauptstr. 1\n10115 Berlin")

		asked.Store(0)
		res, body := b.Post(t, renew, webtest.WithForm(form, "vat_id", "DE222222222"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "not registered", `id="vat_id-error"`)
		res, body = b.Post(t, renew, webtest.WithForm(form, "vat_id", "DE333333333"))
		webtest.WantStatus(t, res, body, http.StatusServiceUnavailable)
		webtest.MustContain(t, body, "did not answer")
		if n := webtest.Count(t, d, `SELECT count(*) FROM order_lines WHERE renews_license_id = $1`, l.ID); n != 0 {
			t.Fatalf("%d renewal lines placed by refused renewals", n)
		}
		res, _ = b.Post(t, renew, webtest.WithForm(form, "vat_id", "DE111111111"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("the renewal answered %d", res.StatusCode)
		}
		var treatment, check string
		if err := d.QueryRowContext(ctx, `SELECT o.tax_treatment, o.vat_check FROM orders o JOIN order_lines l ON l.order_id = o.id
			WHERE l.renews_license_id = $1`, l.ID).Scan(&treatment, &check); err != nil {
			t.Fatal(err)
		}
		if treatment != "reverse_charge" || !strings.Contains(check, "WAPI7") {
			t.Fatalf("renewed under %q with check %s", treatment, check)
		}
		if asked.Load() != 3 {
			t.Fatalf("VIES was asked %d times, want 3", asked.Load())
		}
	})
}
