package checkout_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/app"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func germanVendor(t *testing.T, d *db.DB) {
	t.Helper()
	s := tax.Defaults()
	s.HomeCountry, s.SellerVATID = "DE", "DE123456789"
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, s, time.Now()); return err }); err != nil {
		t.Fatal(err)
	}
}

// TestCheckoutShowsTheTax: "Show the total" shows net, VAT and gross for
// the country and VAT number given (no JavaScript: the server computes
// it), bad details are refused at their field, a total the buyer did not
// see is shown before anything is placed, and the order keeps the tax
// the page showed.
func TestCheckoutShowsTheTax(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}))
		germanVendor(t, d)
		price := webtest.PriceID(t, d) // €490.00
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")

		res, body := b.Get(t, "/checkout?price="+price)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "plus VAT where it applies", `value="quote"`)

		quote := func(kv ...string) (*http.Response, string) {
			return b.Post(t, "/checkout", webtest.WithForm(webtest.BillingForm, append([]string{"price", price, "method", "manual", "action", "quote"}, kv...)...))
		}
		cases := []struct {
			country, vat string
			want         []string
		}{
			{"DE", "", []string{"19 % VAT (Germany)", "€93.10", "€583.10"}},
			{"DE", "DE 987654321", []string{"19 % VAT (Germany)", "€583.10"}},
			{"FR", "", []string{"20 % VAT (France)", "€98.00", "€588.00"}},
			{"HU", "", []string{"27 % VAT (Hungary)", "€132.30", "€622.30"}},
			{"FR", "FRAB123456789", []string{"Reverse charge", "VAT to be accounted for by the recipient", "€490.00"}},
			{"US", "", []string{"No VAT (outside the EU)", "€490.00"}},
		}
		for _, c := range cases {
			res, body := quote("country", c.country, "vat_id", c.vat)
			webtest.WantStatus(t, res, body, 200)
			webtest.MustContain(t, body, c.want...)
		}
		res, body = quote("country", "FR", "vat_id", "DE123456789")
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "from another country than the one given", `id="vat_id-error"`)
		res, body = quote("country", "FR", "vat_id", "FR123")
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, `id="vat_id-error"`)
		res, body = quote("country", "XX", "vat_id", "")
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Enter the country as a two-letter code", `id="country-error"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders placed by showing totals", n)
		}

		// The page showed the German total; the buyer changed the country
		// to France: the French total is shown, nothing is placed.
		place := webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual", "country", "FR", "vat_id", "", "quoted", "58310 EUR")
		res, body = b.Post(t, "/checkout", place)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "The total changed", "€588.00", `name="quoted" value="58800 EUR"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders placed with a total the buyer did not see", n)
		}
		res, _ = b.Post(t, "/checkout", webtest.WithForm(place, "quoted", "58800 EUR"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("placing answered %d", res.StatusCode)
		}
		var id int64
		if err := d.QueryRowContext(context.Background(), `SELECT id FROM orders`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		o, err := orders.ByID(context.Background(), d, id)
		if err != nil {
			t.Fatal(err)
		}
		if o.Tax.Treatment != orders.TaxEUConsumer || o.Tax.Country != "FR" || o.TaxMinor != 9800 || o.TotalMinor != 58800 || o.Lines[0].TaxRateBP != 2000 {
			t.Errorf("placed %+v, %d + %d = %d", o.Tax, o.SubtotalMinor, o.TaxMinor, o.TotalMinor)
		}
	})
}

// TestCheckoutWithVIES: with VIES on, the answer is kept with the order; a
// VIES that does not answer in time is said on the form and places
// nothing; a number VIES does not know is refused at the field.
func TestCheckoutWithVIES(t *testing.T) {
	release := make(chan struct{})
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		body := string(raw)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.Contains(body, `"111111111"`):
			_, _ = w.Write([]byte(`{"valid":true,"name":"Kunde GmbH","address":"Berlin","requestIdentifier":"WAPI42","requestDate":"2026-12-01T10:00:00Z"}`))
		case strings.Contains(body, `"222222222"`):
			_, _ = w.Write([]byte(`{"valid":false}`))
		default:
			select { // never answers: the client's timeout ends it
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	t.Cleanup(func() { close(release); fake.Close() })
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		vies := tax.VIES{URL: fake.URL, Timeout: 200 * time.Millisecond}
		s := webtest.NewSite(t, d, webtest.WithPayments(payments.Manual{}), func(o *app.Options) { o.VATChecker = vies })
		at := tax.Defaults()
		at.HomeCountry, at.SellerVATID = "AT", "ATU12345678"
		ctx := context.Background()
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, at, time.Now()); return err }); err != nil {
			t.Fatal(err)
		}
		price := webtest.PriceID(t, d)
		b, _ := webtest.SignedInCustomer(t, s, "bea@example.com")
		form := webtest.WithForm(webtest.BillingForm, "price", price, "method", "manual")

		res, body := b.Post(t, "/checkout", webtest.WithForm(form, "vat_id", "DE333333333"))
		webtest.WantStatus(t, res, body, http.StatusServiceUnavailable)
		webtest.MustContain(t, body, "did not answer", "nothing was ordered")
		res, body = b.Post(t, "/checkout", webtest.WithForm(form, "vat_id", "DE222222222"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "VIES service says this VAT number is not registered", `id="vat_id-error"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM orders`); n != 0 {
			t.Fatalf("%d orders placed", n)
		}
		res, _ = b.Post(t, "/checkout", webtest.WithForm(form, "vat_id", "DE111111111"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("placing answered %d", res.StatusCode)
		}
		var treatment, check string
		if err := d.QueryRowContext(ctx, `SELECT tax_treatment, vat_check FROM orders`).Scan(&treatment, &check); err != nil {
			t.Fatal(err)
		}
		if treatment != "reverse_charge" || !strings.Contains(check, `"request_id":"WAPI42"`) || !strings.Contains(check, `"name":"Kunde GmbH"`) {
			t.Errorf("order taxed %q with check %s", treatment, check)
		}
		// A business at home pays VAT whatever VIES says: its number is
		// checked for its format and sent nowhere (the fake would never
		// answer it, so asking would end in the timeout's 503).
		res, body = b.Post(t, "/checkout", webtest.WithForm(form, "vat_id", "ATU99999999", "country", "AT", "address", "Ring 1\n1010 Wien"))
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("a domestic business's order answered %d:\n%s", res.StatusCode, body)
		}
	})
}
