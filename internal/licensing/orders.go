package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/orders"
)

// ForOrders is the orders.Licenser that issues, suspends and reinstates
// the licenses of orders with keys.
func ForOrders(keys *Keyring) orders.Licenser { return orderLicenses{keys: keys} }

type orderLicenses struct{ keys *Keyring }

// IssueForOrder issues one license per line of the paid order, in the
// order's transaction: the edition's policy, a year's term for a yearly
// price, and the line's quantity multiplying the machine limit. A line
// issued before gets its license back, not a second one.
func (ol orderLicenses) IssueForOrder(ctx context.Context, tx *sql.Tx, o orders.Order, now time.Time) ([]orders.IssuedLicense, error) {
	now = now.UTC()
	type line struct {
		id, edition int64
		billing     string
		quantity    int
		description string
	}
	rows, err := tx.QueryContext(ctx, `SELECT l.id, COALESCE(pr.edition_id, 0), l.billing, l.quantity, l.description
		FROM order_lines l LEFT JOIN prices pr ON pr.id = l.price_id WHERE l.order_id = $1 ORDER BY l.id`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("order lines to license: %w", err)
	}
	var lines []line
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.id, &l.edition, &l.billing, &l.quantity, &l.description); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("order lines to license: %w", err)
		}
		lines = append(lines, l)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("order lines to license: %w", err)
	}
	var out []orders.IssuedLicense
	for _, ln := range lines {
		lic, err := scanLicense(tx.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE order_line_id = $1`, ln.id))
		if errors.Is(err, ErrNotFound) {
			if ln.edition == 0 {
				out = append(out, orders.IssuedLicense{Description: ln.description})
				continue
			}
			var product, edition string
			if product, edition, err = editionSlugs(ctx, tx, ln.edition); err != nil {
				return nil, err
			}
			var p Policy
			if p, err = PolicyFor(ctx, tx, ln.edition); err != nil {
				return nil, err
			}
			lic, err = issue(ctx, tx, ol.keys, newLicense{CustomerID: o.CustomerID, OrderID: o.ID, OrderLineID: ln.id, EditionID: ln.edition,
				Product: product, Edition: edition, Policy: p, Yearly: ln.billing == "yearly", Quantity: ln.quantity}, now)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, orders.IssuedLicense{Description: ln.description, Key: lic.Key, MaxMachines: lic.MaxMachines, Expires: lic.ExpiresAt})
	}
	return out, nil
}

// SuspendForOrder suspends the order's active licenses, marked as
// suspended by the order.
func (orderLicenses) SuspendForOrder(ctx context.Context, tx *sql.Tx, o orders.Order, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'suspended', suspended_by = 'order', updated_at = $1
		WHERE order_id = $2 AND status = 'active'`, now, o.ID)
	if err != nil {
		return fmt.Errorf("suspend the order's licenses: %w", err)
	}
	return nil
}

// ReinstateForOrder reinstates the licenses the order suspended; those
// staff suspended stay suspended.
func (orderLicenses) ReinstateForOrder(ctx context.Context, tx *sql.Tx, o orders.Order, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'active', suspended_by = '', updated_at = $1
		WHERE order_id = $2 AND status = 'suspended' AND suspended_by = 'order'`, now, o.ID)
	if err != nil {
		return fmt.Errorf("reinstate the order's licenses: %w", err)
	}
	return nil
}
