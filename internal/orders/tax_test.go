package orders_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/testutil"
)

// setTax stores the vendor's tax settings: a German seller, prices as
// inclusive says, Stripe Tax as stripeTax says.
func setTax(t *testing.T, d *db.DB, inclusive, stripeTax bool) {
	t.Helper()
	s := tax.Defaults()
	s.HomeCountry, s.SellerVATID, s.PricesIncludeTax, s.StripeTax = "DE", "DE123456789", inclusive, stripeTax
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, s, now); return err }); err != nil {
		t.Fatal(err)
	}
}

func create(t *testing.T, d *db.DB, n orders.NewOrder) (orders.Order, error) {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		o, err = orders.Create(ctx, tx, n, now)
		return err
	})
	if err != nil {
		return o, err
	}
	return orders.ByID(ctx, d, o.ID)
}

func TestOrdersStoreTheirTax(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		price := catalogWithPrice(t, d) // EUR 490.00
		withVAT := func(country, vat string) orders.Billing {
			b := buyer
			b.Country, b.VATID = country, vat
			return b
		}
		// Tax off (no home country): as before tax was computed.
		o, err := create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: withVAT("FR", "")})
		if err != nil {
			t.Fatal(err)
		}
		if o.Tax != (orders.Taxation{}) || o.SubtotalMinor != 49000 || o.TaxMinor != 0 || o.TotalMinor != 49000 || o.Lines[0].NetMinor != 49000 {
			t.Errorf("tax off: %+v %+v", o.Tax, o)
		}

		setTax(t, d, false, false)
		cases := []struct {
			name            string
			billing         orders.Billing
			treatment       orders.TaxTreatment
			country         string
			rate            int
			net, taxed, sum int64
		}{
			{"consumer at home", withVAT("DE", ""), orders.TaxDomestic, "DE", 1900, 49000, 9310, 58310},
			{"business at home", withVAT("DE", "DE987654321"), orders.TaxDomestic, "DE", 1900, 49000, 9310, 58310},
			{"consumer in France", withVAT("FR", ""), orders.TaxEUConsumer, "FR", 2000, 49000, 9800, 58800},
			{"consumer in Hungary", withVAT("HU", ""), orders.TaxEUConsumer, "HU", 2700, 49000, 13230, 62230},
			{"business in France", withVAT("FR", "FR AB 123456789"), orders.TaxReverseCharge, "FR", 0, 49000, 0, 49000},
			{"buyer in the US", withVAT("US", ""), orders.TaxExport, "", 0, 49000, 0, 49000},
		}
		for _, c := range cases {
			o, err := create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: c.billing})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			l := o.Lines[0]
			if o.Tax.Treatment != c.treatment || o.Tax.Country != c.country || o.Tax.SellerVATID != "DE123456789" || o.Tax.PricesIncludeTax {
				t.Errorf("%s: taxation %+v", c.name, o.Tax)
			}
			if l.NetMinor != c.net || l.TaxMinor != c.taxed || l.TaxRateBP != c.rate || l.GrossMinor() != c.sum {
				t.Errorf("%s: line %+v", c.name, l)
			}
			if o.SubtotalMinor != c.net || o.TaxMinor != c.taxed || o.TotalMinor != c.sum {
				t.Errorf("%s: order %d + %d = %d", c.name, o.SubtotalMinor, o.TaxMinor, o.TotalMinor)
			}
			if (o.ReverseChargeStatement() != "") != (c.treatment == orders.TaxReverseCharge) {
				t.Errorf("%s: statement %q", c.name, o.ReverseChargeStatement())
			}
			if pl := orders.PaymentLines(o); pl[0].AmountMinor != c.sum {
				t.Errorf("%s: the processor is asked for %d, want the gross %d", c.name, pl[0].AmountMinor, c.sum)
			}
		}

		// The VAT number's check is kept with the order.
		check := tax.Check{Number: "FRAB123456789", FormatOK: true, VIES: &tax.VIESResult{Valid: true, Name: "Client SARL", RequestID: "WAPI1", At: now}}
		o, err = create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: withVAT("FR", "FRAB123456789"), VATCheck: check})
		if err != nil {
			t.Fatal(err)
		}
		var stored tax.Check
		if err := json.Unmarshal([]byte(o.Tax.VATCheck), &stored); err != nil || stored.VIES == nil || stored.VIES.RequestID != "WAPI1" || !stored.VIES.At.Equal(now) {
			t.Errorf("stored check %q", o.Tax.VATCheck)
		}
		// VIES says the number is unknown: refused, nothing placed.
		before := count(t, d, `SELECT count(*) FROM orders`)
		check.VIES.Valid = false
		_, err = create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: withVAT("FR", "FRAB123456789"), VATCheck: check})
		if !errors.Is(err, tax.ErrVATInvalid) {
			t.Errorf("unregistered number: %v", err)
		}
		// A number of another country than the billing country.
		_, err = create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: withVAT("FR", "DE123456789")})
		if rf, ok := refuse.As(err); !ok || !errors.Is(err, orders.ErrBadBilling) {
			t.Errorf("German number, French address: %v (%+v)", err, rf)
		}
		if n := count(t, d, `SELECT count(*) FROM orders`); n != before {
			t.Errorf("%d orders placed by refused checkouts", n-before)
		}

		// Prices with tax: the catalog price is the gross.
		first := o
		setTax(t, d, true, false)
		o, err = create(t, d, orders.NewOrder{PriceID: price, Provider: "manual", Billing: withVAT("DE", "")})
		if err != nil {
			t.Fatal(err)
		}
		// 49000 / 1.19 = 41176.47: net 41176, tax 7824.
		if l := o.Lines[0]; l.NetMinor != 41176 || l.TaxMinor != 7824 || o.TotalMinor != 49000 || !o.Tax.PricesIncludeTax {
			t.Errorf("inclusive price: %+v, order %+v", l, o.Tax)
		}
		// The earlier order keeps what it was taxed under.
		if again, err := orders.ByID(context.Background(), d, first.ID); err != nil || again.Tax != first.Tax || again.TotalMinor != first.TotalMinor {
			t.Errorf("earlier order changed: %+v", again.Tax)
		}
	})
}

func TestStripeTaxIsRecordedFromTheProcessor(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		price := catalogWithPrice(t, d)
		setTax(t, d, false, true)
		// Paid by transfer: computed here, Stripe Tax or not.
		manual := place(t, d, price, "manual", "")
		if manual.Tax.Treatment != orders.TaxDomestic || manual.TotalMinor != 58310 {
			t.Errorf("bank transfer with Stripe Tax chosen: %+v, total %d", manual.Tax, manual.TotalMinor)
		}
		o := place(t, d, price, "stripe", "cs_tax")
		if o.Tax.Treatment != orders.TaxProcessor || o.TotalMinor != 49000 || o.TaxMinor != 0 {
			t.Fatalf("Stripe Tax order: %+v, total %d", o.Tax, o.TotalMinor)
		}
		if pl := orders.PaymentLines(o); pl[0].AmountMinor != 49000 {
			t.Errorf("Stripe Tax is sent %d, want the catalog's 49000", pl[0].AmountMinor)
		}
		shop := orders.Shop{DB: d, SiteName: "Shop", BaseURL: "https://shop.example"}
		ev := completed("evt_tax", "cs_tax")
		ev.AmountMinor, ev.TaxMinor, ev.TaxReported = 58310, 9310, true
		out, err := shop.Apply(context.Background(), ev, now.Add(time.Minute))
		if err != nil || out != orders.Applied {
			t.Fatalf("Apply = %s, %v", out, err)
		}
		got, err := orders.ByID(context.Background(), d, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != orders.Paid || got.SubtotalMinor != 49000 || got.TaxMinor != 9310 || got.TotalMinor != 58310 ||
			got.Lines[0].NetMinor != 49000 || got.Lines[0].TaxMinor != 9310 {
			t.Errorf("recorded %s %d + %d = %d, line %+v", got.Status, got.SubtotalMinor, got.TaxMinor, got.TotalMinor, got.Lines[0])
		}
		// A tax that does not fit the catalog's price is left to a person.
		o2 := place(t, d, price, "stripe", "cs_tax2")
		ev = completed("evt_tax2", "cs_tax2")
		ev.AmountMinor, ev.TaxMinor, ev.TaxReported = 50000, 9310, true
		if out, err := shop.Apply(context.Background(), ev, now.Add(time.Minute)); err != nil || out != orders.Mismatch {
			t.Errorf("unfitting tax: %s, %v", out, err)
		}
		if got, _ := orders.ByID(context.Background(), d, o2.ID); got.Status != orders.Pending || got.TotalMinor != 49000 {
			t.Errorf("mismatched order changed: %s %d", got.Status, got.TotalMinor)
		}
	})
}

func TestComputedTaxRefusesOtherAmounts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		price := catalogWithPrice(t, d)
		setTax(t, d, false, false)
		o := place(t, d, price, "stripe", "cs_our")
		shop := orders.Shop{DB: d, SiteName: "Shop", BaseURL: "https://shop.example"}
		// More than our gross is not "the processor's tax": our tax was
		// sent in the amounts.
		ev := completed("evt_more", "cs_our")
		ev.AmountMinor = o.TotalMinor + 100
		if out, err := shop.Apply(context.Background(), ev, now); err != nil || out != orders.Mismatch {
			t.Errorf("paid more than our gross: %s, %v", out, err)
		}
		ev = completed("evt_exact", "cs_our")
		ev.AmountMinor = o.TotalMinor
		if out, err := shop.Apply(context.Background(), ev, now); err != nil || out != orders.Applied {
			t.Errorf("paid our gross: %s, %v", out, err)
		}
	})
}

// formRecorder keeps the form of the last request a Stripe client sends.
type formRecorder struct{ last url.Values }

func (r *formRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		r.last, _ = url.ParseQuery(string(b))
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestStripeCheckoutIsSentOurGross: the real Stripe client (against
// stripe-mock) is asked for the line's gross per unit, so the buyer pays
// exactly the total we computed; with Stripe Tax it is sent the catalog's
// price and asked to compute the tax.
func TestStripeCheckoutIsSentOurGross(t *testing.T) {
	mock := testutil.StartStripeMock(t)
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := catalogWithPrice(t, d)
		rec := &formRecorder{}
		st, err := payments.NewStripe(payments.StripeConfig{SecretKey: "sk_test_123", WebhookSecret: "whsec_x", Backend: mock,
			HTTPClient: &http.Client{Transport: rec}})
		if err != nil {
			t.Fatal(err)
		}
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://shop.example", Providers: []payments.Provider{st}}
		clk := clock.NewFixed(now)

		setTax(t, d, false, false)
		b := buyer
		b.Country = "FR" // a consumer in France: 20 %
		o, err := create(t, d, orders.NewOrder{PriceID: price, Provider: "stripe", Billing: b})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := shop.StartHosted(ctx, o, st, buyer.Email, clk.Now); err != nil {
			t.Fatal(err)
		}
		if got := rec.last.Get("line_items[0][price_data][unit_amount]"); got != "58800" || o.TotalMinor != 58800 {
			t.Errorf("Stripe asked for %s per unit, order total %d; want 58800", got, o.TotalMinor)
		}
		if rec.last.Has("automatic_tax[enabled]") {
			t.Error("automatic tax asked for with our own tax")
		}

		setTax(t, d, true, true)
		o = place(t, d, price, "stripe", "")
		if _, err := shop.StartHosted(ctx, o, st, buyer.Email, clk.Now); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"line_items[0][price_data][unit_amount]": "49000", "automatic_tax[enabled]": "true",
			"line_items[0][price_data][tax_behavior]": "inclusive", "tax_id_collection[enabled]": "true"} {
			if got := rec.last.Get(k); got != want {
				t.Errorf("Stripe Tax: %s = %q, want %q", k, got, want)
			}
		}
	})
}
