package catalog_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func sample(slug string, pos int) catalog.NewProduct {
	return catalog.NewProduct{
		Slug: slug, Name: "Product " + slug, Tagline: "tag", Description: "desc", Position: pos,
		Editions: []catalog.NewEdition{
			{Slug: "pro", Name: "Pro", Position: 2, Features: []string{"a", "b"}, Prices: []catalog.Price{
				{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime},
				{Currency: "EUR", AmountMinor: 9800, Billing: catalog.Yearly},
			}},
			{Slug: "std", Name: "Standard", Position: 1, Prices: []catalog.Price{
				{Currency: "EUR", AmountMinor: 19000, Billing: catalog.OneTime},
			}},
		},
	}
}

func create(t *testing.T, d *db.DB, np catalog.NewProduct) int64 {
	t.Helper()
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) (err error) {
		id, err = catalog.Create(context.Background(), tx, np, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestProductsInOrderWithEditionsAndPrices(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		create(t, d, sample("second", 2))
		create(t, d, sample("first", 1))
		hidden := create(t, d, sample("hidden", 0))
		if _, err := d.ExecContext(ctx, `UPDATE products SET active = FALSE WHERE id = $1`, hidden); err != nil {
			t.Fatal(err)
		}
		ps, err := catalog.Products(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].Slug != "first" || ps[1].Slug != "second" {
			t.Fatalf("products = %+v", ps)
		}
		eds := ps[0].Editions
		if len(eds) != 2 || eds[0].Slug != "std" || eds[1].Slug != "pro" {
			t.Fatalf("editions = %+v", eds)
		}
		if len(eds[1].Prices) != 2 || eds[1].Features[1] != "b" {
			t.Fatalf("pro edition = %+v", eds[1])
		}
		if _, err := catalog.ProductBySlug(ctx, d, "hidden"); !errors.Is(err, catalog.ErrNotFound) {
			t.Fatalf("inactive product: err = %v, want ErrNotFound", err)
		}
		p, err := catalog.ProductBySlug(ctx, d, "second")
		if err != nil || p.Name != "Product second" || len(p.Editions) != 2 {
			t.Fatalf("ProductBySlug = %+v, %v", p, err)
		}
	})
}

func TestCreateRefusesBadInputAndStoresNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		for name, mutate := range map[string]func(*catalog.NewProduct){
			"slug":     func(p *catalog.NewProduct) { p.Slug = "Bad Slug" },
			"currency": func(p *catalog.NewProduct) { p.Editions[0].Prices[0].Currency = "euro" },
			"negative": func(p *catalog.NewProduct) { p.Editions[0].Prices[0].AmountMinor = -1 },
			"billing":  func(p *catalog.NewProduct) { p.Editions[0].Prices[0].Billing = "monthly" },
			"dup":      func(p *catalog.NewProduct) { p.Editions[1].Slug = "pro" },
		} {
			np := sample("x", 0)
			mutate(&np)
			err := d.Tx(context.Background(), func(tx *sql.Tx) error {
				_, err := catalog.Create(context.Background(), tx, np, now)
				return err
			})
			if err == nil {
				t.Errorf("%s: Create accepted bad input", name)
			}
		}
		var n int
		d.QueryRowContext(context.Background(), `SELECT count(*) FROM products`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d products stored after refused input", n)
		}
	})
}

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{49000, "EUR", "€490.00"}, {5, "USD", "$0.05"}, {12345, "CHF", "CHF 123.45"}, {500, "JPY", "JPY 500"}, {-250, "GBP", "-£2.50"},
		{129000, "EUR", "€1,290.00"}, {123456789, "USD", "$1,234,567.89"}, {1500000, "JPY", "JPY 1,500,000"},
	} {
		if got := catalog.FormatMoney(tc.minor, tc.cur); got != tc.want {
			t.Errorf("FormatMoney(%d, %s) = %q, want %q", tc.minor, tc.cur, got, tc.want)
		}
	}
	if !strings.Contains(catalog.Price{Billing: catalog.Yearly}.Per(), "year") {
		t.Error("yearly price does not say per year")
	}
}

// TestCatalogRefusals: staff input the catalog will not take is refused
// (a refuse.Error saying what to do), duplicates included, which the
// unique constraints decide on both databases.
func TestCatalogRefusals(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		pid := create(t, d, sample("milter", 1))
		var eid int64
		if err := d.QueryRowContext(ctx, `SELECT id FROM editions WHERE product_id = $1 AND slug = 'pro'`, pid).Scan(&eid); err != nil {
			t.Fatal(err)
		}
		in := func(fn func(tx *sql.Tx) error) error { return d.Tx(ctx, fn) }
		for _, tc := range []struct {
			name string
			err  error
			code error
			kind refuse.Kind
			msg  string
		}{
			{"duplicate edition", in(func(tx *sql.Tx) error {
				_, err := catalog.AddEdition(ctx, tx, pid, catalog.NewEdition{Slug: "pro", Name: "Pro again"}, now)
				return err
			}), catalog.ErrExists, refuse.Conflict, `this product has an edition "pro" already`},
			{"duplicate price", in(func(tx *sql.Tx) error {
				_, err := catalog.AddPrice(ctx, tx, eid, catalog.Price{Currency: "EUR", AmountMinor: 1, Billing: catalog.Yearly}, now)
				return err
			}), catalog.ErrExists, refuse.Conflict, "this edition has a EUR yearly price already; change its amount instead"},
			{"bad currency", in(func(tx *sql.Tx) error {
				_, err := catalog.AddPrice(ctx, tx, eid, catalog.Price{Currency: "euro", AmountMinor: 1, Billing: catalog.Yearly}, now)
				return err
			}), catalog.ErrInvalid, refuse.Invalid, "is not an ISO 4217 code"},
			{"bad amount", in(func(tx *sql.Tx) error { return catalog.SetPriceAmount(ctx, tx, 1, -1) }),
				catalog.ErrInvalid, refuse.Invalid, "enter an amount between 0 and 100,000,000"},
			{"nameless product", in(func(tx *sql.Tx) error {
				return catalog.UpdateProduct(ctx, tx, pid, catalog.ProductChange{Name: " "}, now)
			}), catalog.ErrInvalid, refuse.Invalid, "a product needs a name"},
			{"missing product", in(func(tx *sql.Tx) error {
				return catalog.UpdateProduct(ctx, tx, 9999, catalog.ProductChange{Name: "x"}, now)
			}), catalog.ErrNotFound, refuse.NotFound, "not found"},
		} {
			rf, ok := refuse.As(tc.err)
			if !ok || !errors.Is(tc.err, tc.code) || rf.Kind != tc.kind || !strings.Contains(rf.Msg, tc.msg) {
				t.Errorf("%s: %v (%+v), want %v saying %q", tc.name, tc.err, rf, tc.code, tc.msg)
			}
		}
	})
}
