package orders_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestLookupsForTheWeb: the offer of a checkout, an order by its session
// and a customer's order by number; missing is a NotFound refusal, a
// failing database is not.
func TestLookupsForTheWeb(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		price := catalogWithPrice(t, d)
		if _, err := orders.ParsePriceID("12x"); !errors.Is(err, orders.ErrBadPriceID) {
			t.Fatalf("ParsePriceID of junk: %v", err)
		}
		o, err := orders.FindOffer(ctx, d, price)
		if err != nil || o.Product != "Milter" || o.Edition != "Pro" || o.ProductSlug != "milter" || o.EditionSlug != "pro" ||
			o.Price.Amount() != "€490.00" || o.Price.Billing != catalog.OneTime {
			t.Fatalf("FindOffer = %+v, %v", o, err)
		}
		if _, err := orders.FindOffer(ctx, d, price+100); !errors.Is(err, orders.ErrUnavailable) {
			t.Fatalf("missing offer: %v", err)
		}
		if r, ok := refuse.As(orders.ErrUnavailable); !ok || r.Kind != refuse.NotFound {
			t.Fatal("ErrUnavailable is not a NotFound refusal")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := orders.FindOffer(cancelled, d, price); err == nil || errors.Is(err, orders.ErrUnavailable) {
			t.Fatalf("a failing database read as %v", err)
		}
		if _, err := orders.ByNumber(cancelled, d, "X"); err == nil || errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("a failing database read as %v", err)
		}

		st := place(t, d, price, "demo", "demo_0123456789abcdef01234567")
		if got, err := orders.BySession(ctx, d, "demo", "demo_0123456789abcdef01234567"); err != nil || got.ID != st.ID || len(got.Lines) != 1 {
			t.Fatalf("BySession = %+v, %v", got, err)
		}
		if _, err := orders.BySession(ctx, d, "stripe", "demo_0123456789abcdef01234567"); !errors.Is(err, orders.ErrNotFound) {
			t.Fatalf("another provider's session: %v", err)
		}
	})
}

// TestCustomerOrderListNamesProducts: the customer's list carries each
// order's lines with the catalog's product and edition names.
func TestCustomerOrderListNamesProducts(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x", Providers: []payments.Provider{payments.Manual{}}}
		price := catalogWithPrice(t, d)
		c := newCustomer(t, d, buyer.Email)
		placeFor(t, d, shop, c, price, "manual", "")
		placeFor(t, d, shop, c, price, "stripe", "cs_list")
		list, err := orders.ForCustomer(ctx, d, c)
		if err != nil || len(list) != 2 {
			t.Fatalf("ForCustomer = %+v, %v", list, err)
		}
		for _, o := range list {
			if len(o.Lines) != 1 || o.Lines[0].Product != "Milter" || o.Lines[0].Edition != "Pro" || o.Summary() != "Milter Pro" {
				t.Fatalf("listed order %s: lines %+v, summary %q", o.Number, o.Lines, o.Summary())
			}
		}
		all, err := orders.List(ctx, d, orders.Filter{})
		if err != nil || len(all) != 2 || all[0].Summary() != "Milter Pro" {
			t.Fatalf("List = %+v, %v", all, err)
		}
	})
}

// TestSaveBillingToProfile: the details given at checkout become the
// profile when the buyer asks, the address split into its fields.
func TestSaveBillingToProfile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := newCustomer(t, d, buyer.Email)
		save := func(b orders.Billing) (customers.Customer, error) {
			var got customers.Customer
			err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
				got, err = orders.SaveToProfile(ctx, tx, c, b, now)
				return err
			})
			return got, err
		}
		got, err := save(orders.Billing{Name: "Bea Buyer", Company: "Buyer GmbH", Address: "Hauptstr. 1\nHinterhaus\n10115 Berlin", Country: "de", VATID: "DE 123456789"})
		want := customers.Profile{Name: "Bea Buyer", Company: "Buyer GmbH", AddressLine1: "Hauptstr. 1", AddressLine2: "Hinterhaus",
			PostalCode: "10115", City: "Berlin", Country: "DE", VATID: "DE123456789"}
		if err != nil || got.Profile != want {
			t.Fatalf("saved %+v, %v; want %+v", got.Profile, err, want)
		}
		if orders.ProfileAddress(got.Profile) != "Hauptstr. 1\nHinterhaus\n10115 Berlin" {
			t.Fatalf("ProfileAddress = %q", orders.ProfileAddress(got.Profile))
		}
		// The same address again keeps the fields (and a region) as they are.
		if _, err := d.ExecContext(ctx, `UPDATE customers SET region = 'Berlin-Mitte' WHERE id = $1`, c); err != nil {
			t.Fatal(err)
		}
		got, err = save(orders.Billing{Name: "Bea B.", Address: "Hauptstr. 1\nHinterhaus\n10115 Berlin\nBerlin-Mitte", Country: "DE"})
		if err != nil || got.Region != "Berlin-Mitte" || got.Name != "Bea B." || got.City != "Berlin" || got.Company != "" {
			t.Fatalf("saved again %+v, %v", got.Profile, err)
		}
		got, err = save(orders.Billing{Name: "Bea", Address: "1 Main St\nSpringfield, 62701", Country: "US"})
		if err != nil || got.PostalCode != "62701" || got.City != "Springfield" || got.AddressLine2 != "" {
			t.Fatalf("postal code last: %+v, %v", got.Profile, err)
		}
		for _, bad := range []orders.Billing{
			{Name: "Bea", Address: "one line only", Country: "DE"},
			{Name: "Bea\u202e", Address: "1 Main St\nTown", Country: "DE"},
		} {
			if _, err := save(bad); err == nil {
				t.Fatalf("saved %+v", bad)
			} else if r, ok := refuse.As(err); !ok || r.Kind != refuse.Invalid {
				t.Fatalf("refusal of %+v: %v", bad, err)
			}
		}
		if cu, _ := customers.ByID(ctx, d, c); cu.Name != "Bea" {
			t.Fatalf("a refused save changed the profile: %+v", cu.Profile)
		}
	})
}
