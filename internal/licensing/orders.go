package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
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
		renews      int64
		start, end  sql.NullTime
	}
	rows, err := tx.QueryContext(ctx, `SELECT l.id, COALESCE(pr.edition_id, 0), l.billing, l.quantity, l.description,
		COALESCE(l.renews_license_id, 0), l.period_start, l.period_end
		FROM order_lines l LEFT JOIN prices pr ON pr.id = l.price_id WHERE l.order_id = $1 ORDER BY l.id`, o.ID)
	if err != nil {
		return nil, fmt.Errorf("order lines to license: %w", err)
	}
	var lines []line
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.id, &l.edition, &l.billing, &l.quantity, &l.description, &l.renews, &l.start, &l.end); err != nil {
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
		if ln.renews != 0 {
			lic, err := renewLine(ctx, tx, ln.id, ln.renews, ln.start.Time, ln.end.Time, now)
			if err != nil {
				return nil, err
			}
			out = append(out, orders.IssuedLicense{Description: ln.description, Key: lic.Key, MaxMachines: lic.MaxMachines,
				Expires: lic.ExpiresAt, Renewed: true})
			continue
		}
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

// ofOrder selects the licenses an order ($2) issued or renewed.
const ofOrder = `(order_id = $2 OR id IN (SELECT renews_license_id FROM order_lines WHERE order_id = $2))`

// SuspendForOrder suspends the order's active licenses, marked as
// suspended by the order.
func (orderLicenses) SuspendForOrder(ctx context.Context, tx *sql.Tx, o orders.Order, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'suspended', suspended_by = 'order', updated_at = $1
		WHERE `+ofOrder+` AND status = 'active'`, now, o.ID)
	if err != nil {
		return fmt.Errorf("suspend the order's licenses: %w", err)
	}
	return nil
}

// SuspendForLines suspends the active licenses the order's lines lineIDs
// issued or renewed, marked as suspended by the order (a won dispute
// reinstates them with the rest); the other lines' licenses stay.
func (orderLicenses) SuspendForLines(ctx context.Context, tx *sql.Tx, o orders.Order, lineIDs []int64, now time.Time) error {
	for _, id := range lineIDs {
		_, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'suspended', suspended_by = 'order', updated_at = $1
			WHERE status = 'active' AND ((order_line_id = $2 AND order_id = $3) OR id = (SELECT renews_license_id FROM order_lines WHERE id = $2 AND order_id = $3))`,
			now, id, o.ID)
		if err != nil {
			return fmt.Errorf("suspend the licenses of order line %d: %w", id, err)
		}
	}
	return nil
}

// ReinstateForOrder reinstates the licenses the order suspended; those
// staff suspended stay suspended.
func (orderLicenses) ReinstateForOrder(ctx context.Context, tx *sql.Tx, o orders.Order, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE licenses SET status = 'active', suspended_by = '', updated_at = $1
		WHERE `+ofOrder+` AND status = 'suspended' AND suspended_by = 'order'`, now, o.ID)
	if err != nil {
		return fmt.Errorf("reinstate the order's licenses: %w", err)
	}
	return nil
}

// Renewable lists the term licenses the order bought at a yearly price,
// oldest line first: what the order's subscription renews.
func (orderLicenses) Renewable(ctx context.Context, tx *sql.Tx, orderID int64, now time.Time) ([]orders.Renewable, error) {
	rows, err := tx.QueryContext(ctx, `SELECT li.id FROM licenses li JOIN order_lines l ON l.id = li.order_line_id
		WHERE li.order_id = $1 AND l.billing = 'yearly' AND li.expires_at IS NOT NULL ORDER BY l.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("licenses to renew: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("licenses to renew: %w", err)
		}
		ids = append(ids, id)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("licenses to renew: %w", err)
	}
	var out []orders.Renewable
	for _, id := range ids {
		lic, err := getLicense(ctx, tx, "id = $1", id, now)
		if err != nil {
			return nil, err
		}
		r, err := renewableOf(ctx, tx, lic)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// renewLine extends the license a renewal line renews, in the order's
// transaction: to the end of the period the line says was paid (a
// subscription's invoice), or else by a year from its expiry, or from now
// when it expired and its grace period is over. The expiry and the updates
// window only grow: a renewal applied twice, or late, shortens nothing.
// The period is stored on the line, so the invoice can say it.
func renewLine(ctx context.Context, tx *sql.Tx, lineID, licenseID int64, start, end time.Time, now time.Time) (License, error) {
	// An UPDATE that changes nothing takes the row lock on both databases.
	if _, err := tx.ExecContext(ctx, `UPDATE licenses SET updated_at = updated_at WHERE id = $1`, licenseID); err != nil {
		return License{}, fmt.Errorf("renew license: %w", err)
	}
	l, err := scanLicense(tx.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE id = $1`, licenseID))
	if err != nil {
		return License{}, err
	}
	l = l.at(now)
	if l.Perpetual() {
		return l, nil // nothing runs out
	}
	if end.IsZero() {
		start = renewalStart(l.ExpiresAt, l.GraceEndsAt, now)
		end = start.AddDate(1, 0, 0)
	}
	end = end.UTC().Truncate(time.Second)
	until := l.ExpiresAt
	if end.After(until) {
		until = end
	}
	upd := l.UpdatesUntil
	if !upd.IsZero() && end.After(upd) {
		upd = end
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licenses SET expires_at = $1, updates_until = $2, updated_at = $3 WHERE id = $4`,
		until, nullTime(upd), now, l.ID); err != nil {
		return License{}, fmt.Errorf("renew license: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE order_lines SET period_start = COALESCE(period_start, $1), period_end = COALESCE(period_end, $2) WHERE id = $3`,
		nullTime(start.UTC().Truncate(time.Second)), end, lineID); err != nil {
		return License{}, fmt.Errorf("record the renewed period: %w", err)
	}
	if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: "license.renewed", SubjectType: "license", SubjectID: l.LicenseID,
		Detail: fmt.Sprintf("expiry %s -> %s by order line %d", l.ExpiresAt.Format(time.DateOnly), until.Format(time.DateOnly), lineID)}.
		By(audit.System())); err != nil {
		return License{}, err
	}
	l.ExpiresAt, l.UpdatesUntil, l.UpdatedAt = until, upd, now
	return l.at(now), nil
}
