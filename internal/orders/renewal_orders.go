package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
)

// ErrRenewalUnavailable refuses a renewal of a license whose edition is
// not sold by the year (any more).
var ErrRenewalUnavailable = refuse.New(refuse.Conflict, "renewal_unavailable",
	"This edition is not sold by the year any more, so the license cannot be renewed here. Write to us and we will find a way.")

// RenewalOffer returns the price a renewal of the license is placed at:
// the edition's active yearly price in the currency the license was
// bought in, or else in another currency the edition is sold in by the
// year. The amount always comes from the catalog as it is today.
// ErrRenewalUnavailable when the edition has no yearly price on sale.
func RenewalOffer(ctx context.Context, q db.Querier, lic Renewable) (Offer, error) {
	var currency string
	if lic.OrderLineID != 0 {
		err := q.QueryRowContext(ctx, `SELECT o.currency FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.id = $1`, lic.OrderLineID).Scan(&currency)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return Offer{}, fmt.Errorf("renewal price: %w", err)
		}
	}
	var o Offer
	err := q.QueryRowContext(ctx, `SELECT pr.id, pr.edition_id, pr.currency, pr.amount_minor, pr.billing, p.name, p.slug, e.name, e.slug
		FROM prices pr JOIN editions e ON e.id = pr.edition_id JOIN products p ON p.id = e.product_id
		WHERE pr.edition_id = $1 AND pr.billing = 'yearly' AND pr.active AND e.active AND p.active
		ORDER BY CASE WHEN pr.currency = $2 THEN 0 ELSE 1 END, pr.id LIMIT 1`, lic.EditionID, currency).
		Scan(&o.Price.ID, &o.Price.EditionID, &o.Price.Currency, &o.Price.AmountMinor, &o.Price.Billing, &o.Product, &o.ProductSlug, &o.Edition, &o.EditionSlug)
	if errors.Is(err, sql.ErrNoRows) {
		return Offer{}, ErrRenewalUnavailable
	}
	if err != nil {
		return Offer{}, fmt.Errorf("renewal price: %w", err)
	}
	o.Price.Active = true
	return o, nil
}

// RenewalQuantity is the quantity a renewal of the license is placed for:
// the license's own (the machine-limit multiple it was bought with), at
// least one.
func RenewalQuantity(lic Renewable) int {
	return max(lic.Quantity, 1)
}

// NewRenewal is a customer's renewal of one of their licenses.
type NewRenewal struct {
	CustomerID int64
	License    Renewable // from licensing.RenewableLicense
	Provider   string
	Billing    Billing
	// VATCheck is the check of the buyer's VAT number, as for NewOrder.
	VATCheck tax.Check
}

// PendingRenewal returns the customer's pending order that renews the
// license (row id), with its lines: ErrNotFound when there is none.
func PendingRenewal(ctx context.Context, q db.Querier, customerID, licenseID int64) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE customer_id = $1 AND status = 'pending'
		AND id IN (SELECT order_id FROM order_lines WHERE renews_license_id = $2) ORDER BY id LIMIT 1`, customerID, licenseID))
	if err != nil {
		return o, err
	}
	return o, loadLines(ctx, q, &o)
}

// PlaceRenewal places a pending order whose one line renews the license
// for a year, at the edition's yearly price of today (RenewalOffer, never
// an amount from the request), for the license's quantity, with the
// billing details checked as checkout checks them. It is IssueForOrder
// that renews, once the order is paid; the service period is fixed then.
//
// A pending renewal of the same license is returned instead of placing a
// second one (placed false): two open renewals could both be paid. The
// license row is locked first, so two requests at once on PostgreSQL
// queue on it and the second finds the first's order. The license must be
// the customer's (ErrNotFound otherwise).
func PlaceRenewal(ctx context.Context, tx *sql.Tx, n NewRenewal, now time.Time) (o Order, placed bool, err error) {
	if n.CustomerID == 0 || n.License.LicenseID == 0 {
		return Order{}, false, ErrNotFound
	}
	// An UPDATE that changes nothing takes the row lock on both databases.
	res, err := tx.ExecContext(ctx, `UPDATE licenses SET updated_at = updated_at WHERE id = $1 AND customer_id = $2`, n.License.LicenseID, n.CustomerID)
	if err != nil {
		return Order{}, false, fmt.Errorf("place renewal: %w", err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		return Order{}, false, ErrNotFound.With("There is no such license in your account.")
	}
	if existing, err := PendingRenewal(ctx, tx, n.CustomerID, n.License.LicenseID); err == nil {
		return existing, false, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Order{}, false, err
	}
	checked, err := checkedBilling(n.Billing)
	if err != nil {
		return Order{}, false, err
	}
	offer, err := RenewalOffer(ctx, tx, n.License)
	if err != nil {
		return Order{}, false, err
	}
	qty := RenewalQuantity(n.License)
	l := Line{PriceID: offer.Price.ID, Billing: catalog.Yearly, UnitMinor: offer.Price.AmountMinor, Quantity: qty,
		Product: offer.Product, Edition: offer.Edition, RenewsLicenseID: n.License.LicenseID,
		Description: renewalDescription(offer.Product + " " + offer.Edition)}
	o = Order{
		Number: newNumber(), CustomerID: n.CustomerID, Status: Pending, Provider: n.Provider, Currency: offer.Price.Currency,
		Billing: checked, CreatedAt: now, UpdatedAt: now, Lines: []Line{l},
	}
	// Taxed as a new order is: today's settings, the details given now.
	if err := applyTax(ctx, tx, &o, n.VATCheck); err != nil {
		return Order{}, false, err
	}
	o, err = insertOrder(ctx, tx, o, "customer", "placed with "+n.Provider+": renewal of "+n.License.Lic)
	return o, err == nil, err
}

// IsRenewal reports whether the order renews licenses rather than buying
// new ones.
func (o Order) IsRenewal() bool {
	for _, l := range o.Lines {
		if l.RenewsLicenseID != 0 {
			return true
		}
	}
	return false
}

// PaymentLines are the order's lines as a payment provider charges them:
// per unit the line's gross when Storekeep computed the tax (so the buyer
// pays exactly the order's total, line by line), the catalog's unit price
// otherwise (no tax computed, or the processor computes it). A yearly
// price that buys a license is Yearly (a Subscriber renews it by
// itself from then on); a line that renews a license is charged once: a
// renewal placed by the customer, paid by card, by invoice or in the
// demo, never starts a subscription.
func PaymentLines(o Order) []payments.Line {
	lines := make([]payments.Line, len(o.Lines))
	for i, l := range o.Lines {
		amount := l.UnitMinor
		if o.Tax.Computed() && l.Quantity > 0 {
			amount = l.GrossMinor() / int64(l.Quantity) // whole: tax.Compute rounds per unit
		}
		lines[i] = payments.Line{Name: l.Description, AmountMinor: amount, Currency: o.Currency, Quantity: l.Quantity,
			Yearly: l.Billing == catalog.Yearly && l.RenewsLicenseID == 0}
	}
	return lines
}
