package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
)

// ErrState refuses a staff action the license's state does not allow;
// tell it apart with errors.Is.
var ErrState = refuse.New(refuse.Conflict, "license_state", "The license's state does not allow this.")

// reason checks the reason every staff action gives.
func reason(why string) (string, error) {
	return input.Spec{Field: "reason", Label: "The reason", Max: 500, Required: true,
		Missing: "Say why: the reason is recorded in the audit log."}.Clean(why)
}

// ManualIssue is what staff fill in to issue a license without an order.
type ManualIssue struct {
	CustomerID int64
	EditionID  int64
	// Yearly issues a term of a year whatever the policy's kind, as a
	// yearly price would.
	Yearly bool
	// Quantity multiplies the policy's machine limit (at least 1).
	Quantity int
}

// Issue issues a license by hand (a replacement, a trial, a deal made
// outside the shop) under the edition's policy, for the customer, recorded
// in the audit log as done by staffID with the reason.
func Issue(ctx context.Context, d *db.DB, keys *Keyring, staffID int64, mi ManualIssue, why string, now time.Time) (License, error) {
	now = now.UTC()
	why, err := reason(why)
	if err != nil {
		return License{}, err
	}
	if mi.Quantity < 0 || mi.Quantity > 10000 {
		return License{}, refuse.Field("quantity", "The quantity is 1 to 10000.")
	}
	var l License
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if err := customerExists(ctx, tx, mi.CustomerID); err != nil {
			return err
		}
		product, edition, err := editionSlugs(ctx, tx, mi.EditionID)
		if err != nil {
			return err
		}
		p, err := PolicyFor(ctx, tx, mi.EditionID)
		if err != nil {
			return err
		}
		l, err = issue(ctx, tx, keys, newLicense{CustomerID: mi.CustomerID, EditionID: mi.EditionID, Product: product, Edition: edition,
			Policy: p, Yearly: mi.Yearly, Quantity: mi.Quantity}, now)
		if err != nil {
			return err
		}
		return record(ctx, tx, staffID, "license.issued", l, why, now)
	})
	return l, err
}

func customerExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse.New(refuse.NotFound, "customer_not_found", "There is no such customer.")
	}
	if err != nil {
		return fmt.Errorf("find customer: %w", err)
	}
	return nil
}

func record(ctx context.Context, tx *sql.Tx, staffID int64, action string, l License, detail string, now time.Time) error {
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "license", SubjectID: l.LicenseID, Detail: detail}.
		By(audit.Staff(staffID)))
	return err
}

// change runs one staff action on the locked license id.
func change(ctx context.Context, d *db.DB, staffID, id int64, action, why string, now time.Time,
	fn func(tx *sql.Tx, l *License) (detail string, err error)) (License, error) {
	var l License
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		l, err = changeIn(ctx, tx, d.Dialect, staffID, id, action, why, now, fn)
		return err
	})
	return l, err
}

// changeIn is change in the caller's transaction tx.
func changeIn(ctx context.Context, tx *sql.Tx, dialect db.Dialect, staffID, id int64, action, why string, now time.Time,
	fn func(tx *sql.Tx, l *License) (detail string, err error)) (License, error) {
	now = now.UTC()
	why, err := reason(why)
	if err != nil {
		return License{}, err
	}
	l, err := lockLicense(ctx, tx, dialect, "id = $1", id, now)
	if err != nil {
		return License{}, err
	}
	detail, err := fn(tx, &l)
	if err != nil {
		return License{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE licenses SET updated_at = $1 WHERE id = $2`, now, l.ID); err != nil {
		return License{}, fmt.Errorf("%s: %w", action, err)
	}
	l.UpdatedAt = now
	l = l.at(now)
	if detail != "" {
		why = detail + "; reason: " + why
	}
	return l, record(ctx, tx, staffID, action, l, why, now)
}

// Extend sets a term license's expiry to until (later or earlier), e.g. a
// renewal paid outside the shop. A perpetual license has nothing to
// extend; a revoked one stays revoked.
func Extend(ctx context.Context, d *db.DB, staffID, id int64, until time.Time, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.extended", why, now, func(tx *sql.Tx, l *License) (string, error) {
		switch {
		case l.Perpetual():
			return "", ErrState.With("This license is perpetual: it does not expire, so there is nothing to extend.")
		case l.Status == Revoked:
			return "", ErrState.With("This license is revoked; issue a new one instead.")
		case until.IsZero() || !until.After(l.IssuedAt):
			return "", refuse.Field("until", "The new expiry must be after the day the license was issued.")
		}
		until = until.UTC().Truncate(time.Second)
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET expires_at = $1 WHERE id = $2`, until, l.ID); err != nil {
			return "", fmt.Errorf("extend license: %w", err)
		}
		detail := fmt.Sprintf("expiry %s -> %s", l.ExpiresAt.Format(time.DateOnly), until.Format(time.DateOnly))
		l.ExpiresAt = until
		return detail, nil
	})
}

// Suspend stops the license working until it is reinstated.
func Suspend(ctx context.Context, d *db.DB, staffID, id int64, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.suspended", why, now, suspend(ctx))
}

// SuspendIn is Suspend in the caller's transaction, for a staff decision
// that records itself with the change (a fraud review decision).
func SuspendIn(ctx context.Context, tx *sql.Tx, dialect db.Dialect, staffID, id int64, why string, now time.Time) (License, error) {
	return changeIn(ctx, tx, dialect, staffID, id, "license.suspended", why, now, suspend(ctx))
}

func suspend(ctx context.Context) func(tx *sql.Tx, l *License) (string, error) {
	return func(tx *sql.Tx, l *License) (string, error) {
		if l.Status != Active {
			return "", ErrState.Withf("The license is %s; only an active license can be suspended.", l.Status)
		}
		return "", setStatus(ctx, tx, l, Suspended, "staff")
	}
}

// Reinstate makes a suspended license work again, whoever suspended it.
func Reinstate(ctx context.Context, d *db.DB, staffID, id int64, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.reinstated", why, now, reinstate(ctx))
}

// ReinstateIn is Reinstate in the caller's transaction (see SuspendIn).
func ReinstateIn(ctx context.Context, tx *sql.Tx, dialect db.Dialect, staffID, id int64, why string, now time.Time) (License, error) {
	return changeIn(ctx, tx, dialect, staffID, id, "license.reinstated", why, now, reinstate(ctx))
}

func reinstate(ctx context.Context) func(tx *sql.Tx, l *License) (string, error) {
	return func(tx *sql.Tx, l *License) (string, error) {
		if l.Status != Suspended {
			return "", ErrState.Withf("The license is %s; only a suspended license can be reinstated.", l.Status)
		}
		return "", setStatus(ctx, tx, l, Active, "")
	}
}

// Revoke ends the license for good and frees its seats; it cannot be
// reinstated.
func Revoke(ctx context.Context, d *db.DB, staffID, id int64, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.revoked", why, now, func(tx *sql.Tx, l *License) (string, error) {
		if l.Status == Revoked {
			return "", ErrState.With("The license is revoked already.")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM license_machines WHERE license_id = $1`, l.ID); err != nil {
			return "", fmt.Errorf("revoke license: %w", err)
		}
		return "", setStatus(ctx, tx, l, Revoked, "")
	})
}

// Transfer gives the license to another customer. Its key, machines and
// order line stay; only whose it is changes.
func Transfer(ctx context.Context, d *db.DB, staffID, id, toCustomer int64, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.transferred", why, now, func(tx *sql.Tx, l *License) (string, error) {
		if err := customerExists(ctx, tx, toCustomer); err != nil {
			return "", err
		}
		if l.CustomerID == toCustomer {
			return "", ErrState.With("The license belongs to that customer already.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET customer_id = $1 WHERE id = $2`, toCustomer, l.ID); err != nil {
			return "", fmt.Errorf("transfer license: %w", err)
		}
		detail := fmt.Sprintf("customer %d -> %d", l.CustomerID, toCustomer)
		l.CustomerID = toCustomer
		return detail, nil
	})
}

// SetMachineLimit changes how many machines may hold seats (0 =
// unlimited). Lowering it below the machines activated frees none: they
// keep their seats, and new activations wait until fewer remain.
func SetMachineLimit(ctx context.Context, d *db.DB, staffID, id int64, limit int, why string, now time.Time) (License, error) {
	return change(ctx, d, staffID, id, "license.machine_limit", why, now, func(tx *sql.Tx, l *License) (string, error) {
		if limit < 0 || limit > 100000 {
			return "", refuse.Field("max_machines", "The machine limit is 0 (unlimited) to 100000.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE licenses SET max_machines = $1 WHERE id = $2`, limit, l.ID); err != nil {
			return "", fmt.Errorf("change machine limit: %w", err)
		}
		detail := fmt.Sprintf("machine limit %d -> %d", l.MaxMachines, limit)
		l.MaxMachines = limit
		return detail, nil
	})
}

func setStatus(ctx context.Context, tx *sql.Tx, l *License, s Status, by string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE licenses SET status = $1, suspended_by = $2 WHERE id = $3`, string(s), by, l.ID); err != nil {
		return fmt.Errorf("change license state: %w", err)
	}
	l.Status, l.SuspendedBy = s, by
	return nil
}
