package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
)

// FreeMachine frees the seat machineID holds of the license with row id
// licenseID, for the customer who holds the license: the machine is
// deleted and license.machine_freed appended to the audit log as by, in
// one transaction. A license that is not the customer's, or a machine
// that is not the license's, is ErrNotFound and changes nothing. The
// product on that machine finds itself NOT_ACTIVATED at its next check and
// may activate again while a seat is free.
func FreeMachine(ctx context.Context, d *db.DB, by audit.Actor, customerID, licenseID, machineID int64, now time.Time) (Machine, error) {
	now = now.UTC()
	var m Machine
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		l, err := lockLicense(ctx, tx, d.Dialect, "id = $1", licenseID, now)
		if err != nil {
			return err
		}
		if customerID == 0 || l.CustomerID != customerID {
			return ErrNotFound
		}
		m, err = scanMachine(tx.QueryRowContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE id = $1 AND license_id = $2`, machineID, l.ID))
		if errors.Is(err, errNoMachine) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM license_machines WHERE id = $1`, m.ID); err != nil {
			return fmt.Errorf("free machine: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "license.machine_freed", SubjectType: "license", SubjectID: l.LicenseID,
			Detail: fmt.Sprintf("machine %d, activated %s", m.ID, m.ActivatedAt.Format(time.DateOnly))}.By(by))
		return err
	})
	if err != nil {
		return Machine{}, err
	}
	return m, nil
}
