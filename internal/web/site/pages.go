package site

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/yuin/goldmark"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/web"
)

// homePage is the content of home.html.
type homePage struct {
	Products []catalog.Product
}

// home lists the products on sale.
func (s *handler) home(w http.ResponseWriter, r *http.Request) error {
	return s.serveCached(w, r, "home", func() (rendered, bool, error) {
		products, err := catalog.Products(r.Context(), s.db)
		if err != nil {
			return rendered{}, false, fmt.Errorf("home: %w", err)
		}
		return rendered{name: "home.html", page: homePage{Products: products}}, true, nil
	})
}

// productPage is the content of product.html.
type productPage struct {
	Product     catalog.Product
	Description template.HTML
	// Trial is the product's newest email-gated release, if any: the page
	// links to its download form (internal/web/trials).
	Trial *releases.Release
}

// product shows one product with its editions and prices.
func (s *handler) product(w http.ResponseWriter, r *http.Request) error {
	slug := r.PathValue("slug")
	return s.serveCached(w, r, "product/"+slug, func() (rendered, bool, error) {
		p, err := catalog.ProductBySlug(r.Context(), s.db, slug)
		if errors.Is(err, catalog.ErrNotFound) {
			return rendered{}, false, web.NotFound("We have no product at this address. The list of our products is on the home page.")
		}
		if err != nil {
			return rendered{}, false, fmt.Errorf("product page: %w", err)
		}
		desc, err := markdown(p.Description)
		if err != nil {
			return rendered{}, false, fmt.Errorf("product page %s: %w", p.Slug, err)
		}
		page := productPage{Product: p, Description: desc}
		trial, ok, err := downloads.EmailOffer(r.Context(), s.db, p.Slug)
		if err != nil {
			return rendered{}, false, fmt.Errorf("product page %s: %w", p.Slug, err)
		}
		if ok {
			page.Trial = &trial
		}
		return rendered{name: "product.html", title: p.Name, page: page}, true, nil
	})
}

// markdown renders staff-written Markdown. goldmark's defaults leave raw
// HTML out and drop javascript: links, so the result is safe to embed even
// though its author is trusted less than the code.
//
// Results are cached by their source text: descriptions change rarely and
// converting them on every request halved the product page's throughput
// (docs/benchmarks.md). An edited description has a new text, so the cache
// never serves a stale page; its size is bounded by the catalog's.
func markdown(src string) (template.HTML, error) {
	if h, ok := markdownCache.Load(src); ok {
		return h.(template.HTML), nil
	}
	var buf bytes.Buffer
	if err := goldmark.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	h := template.HTML(buf.String()) // safe: see above
	if markdownCacheSize.Add(1) <= maxMarkdownCache {
		markdownCache.Store(src, h)
	}
	return h, nil
}

const maxMarkdownCache = 1000

var (
	markdownCache     sync.Map // source text -> template.HTML
	markdownCacheSize atomic.Int64
)

// pricingPage is the content of pricing.html.
type pricingPage struct {
	// Currency is the currency filter, "" for all.
	Currency string
	// Currencies lists every currency with a price, for the filter links.
	Currencies []string
	Tables     []pricingTable
}

// pricingTable compares the editions of one product: a row per edition, a
// column per currency and billing kind.
type pricingTable struct {
	Product catalog.Product
	Columns []priceColumn
	Rows    []pricingRow
}

type priceColumn struct {
	Currency string
	Billing  catalog.Billing
}

// Label is the column heading, such as "EUR, per year".
func (c priceColumn) Label() string {
	per := "one-time"
	if c.Billing == catalog.Yearly {
		per = "per year"
	}
	return c.Currency + ", " + per
}

type pricingRow struct {
	Edition catalog.Edition
	// Cells holds the formatted amount per column; "" where the edition
	// has no such price.
	Cells []string
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// pricing compares all products' editions and prices, optionally in one
// currency (?currency=EUR).
func (s *handler) pricing(w http.ResponseWriter, r *http.Request) error {
	currency := r.URL.Query().Get("currency")
	if currency != "" && !currencyRE.MatchString(currency) {
		return web.BadRequest("The currency must be a three-letter code in capital letters, such as EUR or USD. " +
			"Remove the currency from the address to see prices in all currencies.")
	}
	return s.serveCached(w, r, "pricing/"+currency, func() (rendered, bool, error) {
		products, err := catalog.Products(r.Context(), s.db)
		if err != nil {
			return rendered{}, false, fmt.Errorf("pricing: %w", err)
		}
		page := pricingPage{Currency: currency}
		for _, p := range products {
			for _, e := range p.Editions {
				for _, pr := range e.Prices {
					if !slices.Contains(page.Currencies, pr.Currency) {
						page.Currencies = append(page.Currencies, pr.Currency)
					}
				}
			}
			if t, ok := comparePrices(p, currency); ok {
				page.Tables = append(page.Tables, t)
			}
		}
		slices.Sort(page.Currencies)
		title := "Pricing"
		if currency != "" {
			title = "Pricing in " + currency
		}
		// Only currencies on sale are kept: any three letters are a valid
		// address, and the cache is for the pages people use.
		keep := currency == "" || slices.Contains(page.Currencies, currency)
		return rendered{name: "pricing.html", title: title, page: page}, keep, nil
	})
}

// comparePrices lays out the prices of p in currency ("" for all) as a
// table. It reports false when p has no such prices.
func comparePrices(p catalog.Product, currency string) (pricingTable, bool) {
	t := pricingTable{Product: p}
	for _, e := range p.Editions {
		for _, pr := range e.Prices {
			c := priceColumn{Currency: pr.Currency, Billing: pr.Billing}
			if (currency == "" || pr.Currency == currency) && !slices.Contains(t.Columns, c) {
				t.Columns = append(t.Columns, c)
			}
		}
	}
	if len(t.Columns) == 0 {
		return t, false
	}
	// Group by currency; within a currency, one-time before yearly.
	slices.SortFunc(t.Columns, func(a, b priceColumn) int {
		if c := strings.Compare(a.Currency, b.Currency); c != 0 {
			return c
		}
		return strings.Compare(string(a.Billing), string(b.Billing))
	})
	for _, e := range p.Editions {
		row := pricingRow{Edition: e, Cells: make([]string, len(t.Columns))}
		has := false
		for _, pr := range e.Prices {
			if i := slices.Index(t.Columns, priceColumn{pr.Currency, pr.Billing}); i >= 0 {
				row.Cells[i] = pr.Amount()
				has = true
			}
		}
		if has {
			t.Rows = append(t.Rows, row)
		}
	}
	return t, true
}
