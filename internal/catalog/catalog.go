// Package catalog holds what the vendor sells: products, their editions and
// the prices of each edition. It is read by the public site (product and
// pricing pages) and, later, by checkout.
package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// ErrNotFound is returned when no active product has the requested slug,
// and when the entry staff edit does not exist.
var ErrNotFound = refuse.New(refuse.NotFound, "catalog_not_found", "not found")

// ErrInvalid is the code of every refusal of catalog input; the message
// says what is wrong (errors.Is(err, ErrInvalid) holds for all of them).
var ErrInvalid = refuse.New(refuse.Invalid, "catalog_invalid", "the catalog entry is not valid")

// ErrExists is refused for a slug or price that exists already.
var ErrExists = refuse.New(refuse.Conflict, "catalog_exists", "this catalog entry exists already")

func invalidf(format string, args ...any) error { return ErrInvalid.Withf(format, args...) }

// Billing says whether a price is paid once or every year.
type Billing string

// The billing kinds.
const (
	OneTime Billing = "one_time"
	Yearly  Billing = "yearly"
)

// Product is something the vendor sells, such as a mail filter.
type Product struct {
	ID          int64
	Slug        string
	Name        string
	Tagline     string
	Description string // Markdown, written by staff
	Active      bool
	Position    int
	Editions    []Edition
}

// Edition is a variant of a product with its own features and prices
// (for example Standard, Professional, Enterprise).
type Edition struct {
	ID        int64
	ProductID int64
	Slug      string
	Name      string
	Summary   string
	Features  []string
	Active    bool
	Position  int
	Prices    []Price
}

// Price is what an edition costs in one currency and billing kind.
type Price struct {
	ID          int64
	EditionID   int64
	Currency    string // ISO 4217, upper case
	AmountMinor int64  // in the currency's minor unit (cents)
	Billing     Billing
	Active      bool
}

// Amount formats the price for people, e.g. "€290.00" or "CHF 290.00".
func (p Price) Amount() string { return FormatMoney(p.AmountMinor, p.Currency) }

// Per says what the price buys: "one-time" or "per year".
func (p Price) Per() string {
	if p.Billing == Yearly {
		return "per year"
	}
	return "one-time"
}

var symbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£"}

// zeroDecimal lists currencies without a minor unit.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true}

// HasMinorUnit reports whether the currency's amounts have a minor unit
// (cents): all but the zero-decimal currencies (JPY, KRW).
func HasMinorUnit(currency string) bool { return !zeroDecimal[currency] }

// FormatMoney formats an amount in minor units.
func FormatMoney(minor int64, currency string) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	num := thousands(minor/100) + fmt.Sprintf(".%02d", minor%100)
	if zeroDecimal[currency] {
		num = thousands(minor)
	}
	if s, ok := symbols[currency]; ok {
		return sign + s + num
	}
	return sign + currency + " " + num
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprintf("%d", n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// ValidSlug reports whether s can name a product or edition in a URL.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Products returns the active products, each with its active editions and
// their active prices, in display order.
func Products(ctx context.Context, q db.Querier) ([]Product, error) {
	return load(ctx, q, "", false)
}

// ProductBySlug returns one active product with its active editions and
// prices, or ErrNotFound.
func ProductBySlug(ctx context.Context, q db.Querier, slug string) (Product, error) {
	if !ValidSlug(slug) {
		return Product{}, ErrNotFound
	}
	ps, err := load(ctx, q, slug, false)
	if err != nil {
		return Product{}, err
	}
	if len(ps) == 0 {
		return Product{}, ErrNotFound
	}
	return ps[0], nil
}

// load reads products (all active ones, or the one with slug; with
// inactive, also what is off sale) in three queries, whatever the size of
// the catalog.
func load(ctx context.Context, q db.Querier, slug string, inactive bool) ([]Product, error) {
	on := func(col string) string { // the "on sale" condition, or none
		if inactive {
			return "TRUE"
		}
		return col
	}
	where, args := on("p.active"), []any{}
	if slug != "" {
		where, args = where+" AND p.slug = $1", []any{slug}
	}
	rows, err := q.QueryContext(ctx, `SELECT p.id, p.slug, p.name, p.tagline, p.description, p.active, p.position
		FROM products p WHERE `+where+` ORDER BY p.position, p.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	var products []Product
	index := map[int64]int{}
	for rows.Next() {
		var p Product
		if err := rows.Scan(&p.ID, &p.Slug, &p.Name, &p.Tagline, &p.Description, &p.Active, &p.Position); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list products: %w", err)
		}
		index[p.ID] = len(products)
		products = append(products, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	if len(products) == 0 {
		return nil, nil
	}

	rows, err = q.QueryContext(ctx, `SELECT e.id, e.product_id, e.slug, e.name, e.summary, e.features, e.active, e.position
		FROM editions e JOIN products p ON p.id = e.product_id
		WHERE `+on("e.active")+` AND `+where+` ORDER BY e.position, e.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	edIndex := map[int64][2]int{}
	for rows.Next() {
		var e Edition
		var features string
		if err := rows.Scan(&e.ID, &e.ProductID, &e.Slug, &e.Name, &e.Summary, &features, &e.Active, &e.Position); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list editions: %w", err)
		}
		e.Features = splitLines(features)
		pi := index[e.ProductID]
		edIndex[e.ID] = [2]int{pi, len(products[pi].Editions)}
		products[pi].Editions = append(products[pi].Editions, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}

	rows, err = q.QueryContext(ctx, `SELECT pr.id, pr.edition_id, pr.currency, pr.amount_minor, pr.billing, pr.active
		FROM prices pr JOIN editions e ON e.id = pr.edition_id JOIN products p ON p.id = e.product_id
		WHERE `+on("pr.active AND e.active")+` AND `+where+` ORDER BY pr.currency, pr.billing`, args...)
	if err != nil {
		return nil, fmt.Errorf("list prices: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pr Price
		if err := rows.Scan(&pr.ID, &pr.EditionID, &pr.Currency, &pr.AmountMinor, &pr.Billing, &pr.Active); err != nil {
			return nil, fmt.Errorf("list prices: %w", err)
		}
		at := edIndex[pr.EditionID]
		products[at[0]].Editions[at[1]].Prices = append(products[at[0]].Editions[at[1]].Prices, pr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list prices: %w", err)
	}
	return products, nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// NewProduct describes a product to create, with its editions and prices.
type NewProduct struct {
	Slug, Name, Tagline, Description string
	Position                         int
	Editions                         []NewEdition
}

// NewEdition describes an edition to create.
type NewEdition struct {
	Slug, Name, Summary string
	Features            []string
	Position            int
	Prices              []Price // ID and EditionID are ignored
}

// Create validates np and stores it with its editions and prices in tx,
// returning the product's ID. Invalid input stores nothing.
func Create(ctx context.Context, tx *sql.Tx, np NewProduct, now time.Time) (int64, error) {
	if err := np.validate(); err != nil {
		return 0, err
	}
	var pid int64
	err := tx.QueryRowContext(ctx, `INSERT INTO products (slug, name, tagline, description, active, position, created_at, updated_at)
		VALUES ($1, $2, $3, $4, TRUE, $5, $6, $6) RETURNING id`,
		np.Slug, np.Name, np.Tagline, np.Description, np.Position, now).Scan(&pid)
	if err != nil {
		return 0, fmt.Errorf("create product %s: %w", np.Slug, err)
	}
	for _, ne := range np.Editions {
		var eid int64
		err := tx.QueryRowContext(ctx, `INSERT INTO editions (product_id, slug, name, summary, features, active, position, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7) RETURNING id`,
			pid, ne.Slug, ne.Name, ne.Summary, strings.Join(ne.Features, "\n"), ne.Position, now).Scan(&eid)
		if err != nil {
			return 0, fmt.Errorf("create edition %s/%s: %w", np.Slug, ne.Slug, err)
		}
		for _, p := range ne.Prices {
			_, err := tx.ExecContext(ctx, `INSERT INTO prices (edition_id, currency, amount_minor, billing, active, created_at)
				VALUES ($1, $2, $3, $4, TRUE, $5)`, eid, p.Currency, p.AmountMinor, p.Billing, now)
			if err != nil {
				return 0, fmt.Errorf("create price %s/%s %s: %w", np.Slug, ne.Slug, p.Currency, err)
			}
		}
	}
	return pid, nil
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func (np NewProduct) validate() error {
	if !ValidSlug(np.Slug) {
		return invalidf("product slug %q is not valid: use lower-case letters, digits and dashes", np.Slug)
	}
	if strings.TrimSpace(np.Name) == "" {
		return invalidf("product %s has no name", np.Slug)
	}
	seen := map[string]bool{}
	for _, e := range np.Editions {
		if !ValidSlug(e.Slug) {
			return invalidf("edition slug %q is not valid: use lower-case letters, digits and dashes", e.Slug)
		}
		if seen[e.Slug] {
			return invalidf("edition slug %q is used twice in product %s", e.Slug, np.Slug)
		}
		seen[e.Slug] = true
		if strings.TrimSpace(e.Name) == "" {
			return invalidf("edition %s has no name", e.Slug)
		}
		for _, p := range e.Prices {
			if !currencyRE.MatchString(p.Currency) {
				return invalidf("edition %s: currency %q is not an ISO 4217 code such as EUR", e.Slug, p.Currency)
			}
			if p.AmountMinor < 0 {
				return invalidf("edition %s: a price cannot be negative", e.Slug)
			}
			if p.Billing != OneTime && p.Billing != Yearly {
				return invalidf("edition %s: billing %q must be one_time or yearly", e.Slug, p.Billing)
			}
		}
	}
	return nil
}
