package licensing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
)

// ActionSeatLapsed is the history entry of a seat freed because its
// machine did not check in within the license's interval.
const ActionSeatLapsed = "license.seat_lapsed"

// FreeLapsedSeats frees, across all licenses whose machines must check
// in, the seats whose machine has not checked in (or, never having
// checked in, was activated) for the license's CheckInDays at now, in
// any state of the license. Each is recorded in the license's history
// as the system, the same way as when Activate or CheckIn free them on
// the way. It returns how many seats it freed.
//
// It is safe on several instances at once: each license is locked and
// its lapsed seats deleted by a conditional delete in a transaction of
// its own, and only the rows a delete removed are counted and recorded,
// so a seat is freed and recorded once whoever gets there first.
func FreeLapsedSeats(ctx context.Context, d *db.DB, now time.Time) (int, error) {
	now = now.UTC() // times are compared in SQL: one zone
	ids, err := lapsedLicenses(ctx, d, now)
	if err != nil {
		return 0, err
	}
	freed := 0
	for _, id := range ids {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			l, err := lockLicense(ctx, tx, d.Dialect, "id = $1", id, now)
			if err != nil {
				return err
			}
			n, err := freeLapsedSeats(ctx, tx, l, now)
			freed += n
			return err
		})
		if err != nil {
			return freed, fmt.Errorf("free lapsed seats of license %d: %w", id, err)
		}
	}
	return freed, nil
}

// lapsedLicenses lists the row ids of the licenses holding a lapsed seat
// at now. The query narrows by the shortest interval (a day); the
// license's own interval is applied in Go as Machine.Lapsed does, so
// there is no date arithmetic in SQL to keep alike in two dialects.
func lapsedLicenses(ctx context.Context, q db.Querier, now time.Time) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT l.id, l.check_in_days, m.activated_at, m.last_check_in_at
		FROM license_machines m JOIN licenses l ON l.id = m.license_id
		WHERE l.check_in_days > 0 AND COALESCE(m.last_check_in_at, m.activated_at) <= $1
		ORDER BY l.id`, now.AddDate(0, 0, -1))
	if err != nil {
		return nil, fmt.Errorf("find lapsed seats: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var l License
		var m Machine
		var ci sql.NullTime
		if err := rows.Scan(&l.ID, &l.CheckInDays, &m.ActivatedAt, &ci); err != nil {
			return nil, fmt.Errorf("find lapsed seats: %w", err)
		}
		m.ActivatedAt = m.ActivatedAt.UTC()
		if ci.Valid {
			m.LastCheckIn = ci.Time.UTC()
		}
		if m.Lapsed(l, now) && (len(ids) == 0 || ids[len(ids)-1] != l.ID) {
			ids = append(ids, l.ID)
		}
	}
	return ids, rows.Err()
}

// freeLapsed frees the lapsed seats of the license locked in tx; the
// lazy path (lockUsable, before Activate and CheckIn change machines)
// calls it.
func freeLapsed(ctx context.Context, tx *sql.Tx, l License, now time.Time) error {
	_, err := freeLapsedSeats(ctx, tx, l, now)
	return err
}

// freeLapsedSeats deletes the seats of l (locked in tx) that lapsed at
// now for want of a check-in and appends one history entry per seat,
// saying which machine, since when it was silent and the interval. It is
// the one implementation behind both the lazy path and FreeLapsedSeats.
// The delete is conditional and returns the rows it removed: a seat
// another transaction freed first is neither counted nor recorded again.
func freeLapsedSeats(ctx context.Context, tx *sql.Tx, l License, now time.Time) (int, error) {
	if l.CheckInDays <= 0 {
		return 0, nil
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM license_machines WHERE license_id = $1 AND COALESCE(last_check_in_at, activated_at) <= $2
		RETURNING `+machineColumns, l.ID, now.AddDate(0, 0, -l.CheckInDays))
	if err != nil {
		return 0, fmt.Errorf("free lapsed seats: %w", err)
	}
	var freed []Machine
	for rows.Next() {
		m, err := scanMachine(rows)
		if err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("free lapsed seats: %w", err)
		}
		freed = append(freed, m)
	}
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("free lapsed seats: %w", err)
	}
	for _, m := range freed {
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: ActionSeatLapsed, SubjectType: "license", SubjectID: l.LicenseID,
			Detail: lapsedDetail(l, m)}.By(audit.System())); err != nil {
			return 0, err
		}
	}
	return len(freed), nil
}

// lapsedDetail says why the seat was freed, in the words the console shows.
func lapsedDetail(l License, m Machine) string {
	host := m.Hostname
	if host == "" {
		host = "no host name"
	}
	since := "activated " + m.ActivatedAt.Format(time.DateOnly) + ", never checked in"
	if !m.LastCheckIn.IsZero() {
		since = "last check-in " + m.LastCheckIn.Format(time.DateOnly)
	}
	return fmt.Sprintf("machine %d (%s) freed its seat: %s; the license asks for a check-in every %d days", m.ID, host, since, l.CheckInDays)
}
