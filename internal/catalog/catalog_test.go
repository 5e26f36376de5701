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
