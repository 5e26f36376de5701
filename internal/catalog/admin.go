package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// All returns every product with every edition and price, on sale or
// not, for the staff console.
func All(ctx context.Context, q db.Querier) ([]Product, error) {
	return load(ctx, q, "", true)
}

// ProductChange is what staff may edit on a product.
type ProductChange struct {
	Name, Tagline, Description string
	Active                     bool
}

// UpdateProduct changes a product's texts and whether it is on sale.
func UpdateProduct(ctx context.Context, tx *sql.Tx, id int64, c ProductChange, now time.Time) error {
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 || len(c.Tagline) > 300 || len(c.Description) > 20000 {
		return invalidf("a product needs a name (at most 200 characters), a tagline of at most 300 and a description of at most 20,000")
	}
	res, err := tx.ExecContext(ctx, `UPDATE products SET name = $1, tagline = $2, description = $3, active = $4, updated_at = $5 WHERE id = $6`,
		strings.TrimSpace(c.Name), strings.TrimSpace(c.Tagline), c.Description, c.Active, now, id)
	return oneRow(res, err, "update product")
}

// EditionChange is what staff may edit on an edition.
type EditionChange struct {
	Name, Summary string
	Features      []string
	Active        bool
}

// UpdateEdition changes an edition's texts and whether it is on sale.
func UpdateEdition(ctx context.Context, tx *sql.Tx, id int64, c EditionChange, now time.Time) error {
	if strings.TrimSpace(c.Name) == "" || len(c.Name) > 200 || len(c.Summary) > 500 || len(c.Features) > 50 {
		return invalidf("an edition needs a name (at most 200 characters), a summary of at most 500 and at most 50 features")
	}
	res, err := tx.ExecContext(ctx, `UPDATE editions SET name = $1, summary = $2, features = $3, active = $4, updated_at = $5 WHERE id = $6`,
		strings.TrimSpace(c.Name), strings.TrimSpace(c.Summary), strings.Join(c.Features, "\n"), c.Active, now, id)
	return oneRow(res, err, "update edition")
}

// AddEdition adds an edition to a product.
func AddEdition(ctx context.Context, tx *sql.Tx, productID int64, e NewEdition, now time.Time) (int64, error) {
	np := NewProduct{Slug: "x", Name: "x", Editions: []NewEdition{e}}
	if err := np.validate(); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO editions (product_id, slug, name, summary, features, active, position, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, TRUE, $6, $7, $7) RETURNING id`,
		productID, e.Slug, e.Name, e.Summary, strings.Join(e.Features, "\n"), e.Position, now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, ErrExists.Withf("this product has an edition %q already; choose another slug", e.Slug)
	}
	if err != nil {
		return 0, fmt.Errorf("add edition %s: %w", e.Slug, err)
	}
	return id, nil
}

// AddPrice adds a price to an edition. An edition has one price per
// currency and billing kind; to change an amount, use SetPriceAmount
// (orders keep the amount they were placed with).
func AddPrice(ctx context.Context, tx *sql.Tx, editionID int64, p Price, now time.Time) (int64, error) {
	np := NewProduct{Slug: "x", Name: "x", Editions: []NewEdition{{Slug: "x", Name: "x", Prices: []Price{p}}}}
	if err := np.validate(); err != nil {
		return 0, err
	}
	// The unique (edition, currency, billing) decides, also between two
	// staff adding the same price at once.
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO prices (edition_id, currency, amount_minor, billing, active, created_at) VALUES ($1, $2, $3, $4, TRUE, $5) RETURNING id`,
		editionID, p.Currency, p.AmountMinor, string(p.Billing), now).Scan(&id)
	if db.IsUniqueViolation(err) {
		return 0, ErrExists.Withf("this edition has a %s %s price already; change its amount instead", p.Currency, p.Billing)
	}
	if err != nil {
		return 0, fmt.Errorf("add price: %w", err)
	}
	return id, nil
}

// SetPriceAmount changes what a price costs from now on. Placed orders are
// unaffected: they copied the amount.
func SetPriceAmount(ctx context.Context, tx *sql.Tx, id, amountMinor int64) error {
	if amountMinor < 0 || amountMinor > 100_000_000_00 {
		return invalidf("enter an amount between 0 and 100,000,000")
	}
	res, err := tx.ExecContext(ctx, `UPDATE prices SET amount_minor = $1 WHERE id = $2`, amountMinor, id)
	return oneRow(res, err, "change price")
}

// SetPriceActive puts a price on sale or takes it off.
func SetPriceActive(ctx context.Context, tx *sql.Tx, id int64, active bool) error {
	res, err := tx.ExecContext(ctx, `UPDATE prices SET active = $1 WHERE id = $2`, active, id)
	return oneRow(res, err, "change price")
}

func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrNotFound
	}
	return nil
}
