package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Offer is one price on sale, with its edition and product, as the
// checkout page shows it and as an order is placed from it.
type Offer struct {
	Price                catalog.Price // ID, EditionID, Currency, AmountMinor, Billing, Active
	Product, ProductSlug string
	Edition, EditionSlug string
}

// ErrBadPriceID refuses a checkout link whose price is not a number.
var ErrBadPriceID = refuse.Field("price", "Choose an edition on a product page; this checkout link is incomplete.")

// ParsePriceID reads the price of a checkout link or form ("12").
func ParsePriceID(raw string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadPriceID
	}
	return id, nil
}

// FindOffer returns the active price priceID with its active edition and
// product: ErrUnavailable (a NotFound refusal) when there is none or any of
// them is inactive; a database error is returned as it is, never as
// "not found".
func FindOffer(ctx context.Context, q db.Querier, priceID int64) (Offer, error) {
	var o Offer
	err := q.QueryRowContext(ctx, `SELECT pr.id, pr.edition_id, pr.currency, pr.amount_minor, pr.billing, p.name, p.slug, e.name, e.slug
		FROM prices pr JOIN editions e ON e.id = pr.edition_id JOIN products p ON p.id = e.product_id
		WHERE pr.id = $1 AND pr.active AND e.active AND p.active`, priceID).
		Scan(&o.Price.ID, &o.Price.EditionID, &o.Price.Currency, &o.Price.AmountMinor, &o.Price.Billing, &o.Product, &o.ProductSlug, &o.Edition, &o.EditionSlug)
	if errors.Is(err, sql.ErrNoRows) {
		return Offer{}, ErrUnavailable
	}
	if err != nil {
		return Offer{}, fmt.Errorf("find offer %d: %w", priceID, err)
	}
	o.Price.Active = true
	return o, nil
}

// BySession returns the order of provider's checkout session, with its
// lines: ErrNotFound when there is none (the demo's payment page looks up
// its order this way); a database error as it is.
func BySession(ctx context.Context, q db.Querier, provider, sessionRef string) (Order, error) {
	if sessionRef == "" {
		return Order{}, ErrNotFound
	}
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE processor_session = $1 AND provider = $2`, sessionRef, provider))
	if err != nil {
		return o, err
	}
	return o, loadLines(ctx, q, &o)
}
