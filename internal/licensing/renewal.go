package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Refusals of RenewableLicense.
var (
	ErrPerpetual = refuse.New(refuse.Conflict, "license_perpetual",
		"This license is perpetual: it never expires, so there is nothing to renew.")
	ErrNotRenewable = refuse.New(refuse.Conflict, "license_not_renewable",
		"This license is revoked and cannot be renewed. Write to us if you need a license again.")
	ErrSuspendedRenewal = refuse.New(refuse.Conflict, "license_suspended",
		"This license is suspended, so it cannot be renewed now. Write to us and we will sort it out.")
)

// RenewableLicense returns what a renewal order needs of the license with
// row id licenseRowID, which must be the customer's: ErrNotFound for
// another customer's license (or none), ErrPerpetual for a license that
// never expires, ErrNotRenewable for a revoked one and
// ErrSuspendedRenewal for a suspended one (paying for a license that does
// not work would help nobody). An expired license can be renewed: it runs
// a year from the payment then.
func RenewableLicense(ctx context.Context, q db.Querier, licenseRowID, customerID int64, now time.Time) (orders.Renewable, error) {
	l, err := getLicense(ctx, q, "id = $1", licenseRowID, now)
	if err != nil {
		return orders.Renewable{}, err
	}
	if customerID == 0 || l.CustomerID != customerID {
		return orders.Renewable{}, ErrNotFound
	}
	switch {
	case l.Perpetual():
		return orders.Renewable{}, ErrPerpetual
	case l.Status == Revoked:
		return orders.Renewable{}, ErrNotRenewable
	case l.Status == Suspended:
		return orders.Renewable{}, ErrSuspendedRenewal
	}
	return renewableOf(ctx, q, l)
}

// renewableOf says l as a renewal order needs it: the edition's names as
// the catalog has them (the license's slugs when it has left it) and the
// quantity its order line bought (1 without one).
func renewableOf(ctx context.Context, q db.Querier, l License) (orders.Renewable, error) {
	r := orders.Renewable{LicenseID: l.ID, Lic: l.LicenseID, OrderLineID: l.OrderLineID, EditionID: l.EditionID,
		Quantity: 1, Expires: l.ExpiresAt, GraceEnds: l.GraceEndsAt}
	var product, edition string
	err := q.QueryRowContext(ctx, `SELECT COALESCE(p.name, ''), COALESCE(e.name, '') FROM editions e JOIN products p ON p.id = e.product_id
		WHERE e.id = $1`, l.EditionID).Scan(&product, &edition)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return orders.Renewable{}, fmt.Errorf("license to renew: %w", err)
	}
	if product == "" {
		product, edition = l.Product, l.Edition
	}
	r.Name = product + " " + edition
	if l.OrderLineID != 0 {
		err := q.QueryRowContext(ctx, `SELECT quantity FROM order_lines WHERE id = $1`, l.OrderLineID).Scan(&r.Quantity)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return orders.Renewable{}, fmt.Errorf("license to renew: %w", err)
		}
	}
	r.Quantity = max(r.Quantity, 1)
	return r, nil
}

// RenewedUntil is when the license r runs to once a renewal paid at now
// extends it, as IssueForOrder does: a year from its expiry, or a year
// from now when it has expired and its grace period is over.
func RenewedUntil(r orders.Renewable, now time.Time) time.Time {
	return renewalStart(r.Expires, r.GraceEnds, now).AddDate(1, 0, 0)
}

// renewalStart is when a year's renewal paid at now begins: at the
// license's expiry, or at now once the license has expired and its grace
// period (graceEnds, zero for none) is over. IssueForOrder and the
// renewal page both count from it, so the date the page promises is the
// one the payment gives.
func renewalStart(expires, graceEnds, now time.Time) time.Time {
	end := graceEnds
	if end.IsZero() {
		end = expires
	}
	if !now.Before(end) {
		return now.UTC().Truncate(time.Second)
	}
	return expires
}

// Reminder steps: a reminder goes out this many days before a license
// expires, the nearer step replacing the farther when both are due.
var reminderSteps = []int{7, 30}

// ReminderSite is what the renewal reminders say of the site.
type ReminderSite struct {
	Name    string // the vendor's name, as mail signs it
	BaseURL string // e.g. https://shop.example.com, without a trailing slash
}

// SendRenewalReminders queues a reminder for every active term license
// of a customer that expires within 30 days and that no automatic renewal
// covers (its order started no subscription, or the subscription ended or
// ends with its period): one 30 days before the expiry and one 7 days
// before (only the nearer, when the site was down for the first). Each is
// keyed by license, expiry date and step, so hourly runs, restarts and
// several instances send it once; a license renewed meanwhile has a new
// expiry date and so new reminders before it. Licenses whose edition is no
// longer sold by the year get none (the mail's link could not renew them).
// The mail serves delivery: a customer who restricted processing gets
// none. It returns the number of reminders queued.
func SendRenewalReminders(ctx context.Context, d *db.DB, site ReminderSite, now time.Time) (int, error) {
	now = now.UTC()
	horizon := now.AddDate(0, 0, reminderSteps[len(reminderSteps)-1])
	type due struct {
		id, customer int64
		email        string
	}
	rows, err := d.QueryContext(ctx, `SELECT li.id, li.customer_id, c.email FROM licenses li JOIN customers c ON c.id = li.customer_id
		WHERE li.status = 'active' AND li.expires_at IS NOT NULL AND li.expires_at > $1 AND li.expires_at <= $2
		AND NOT EXISTS (SELECT 1 FROM subscriptions s WHERE s.order_id = li.order_id AND s.status <> 'cancelled' AND NOT s.cancel_at_period_end)
		ORDER BY li.expires_at, li.id`, now, horizon)
	if err != nil {
		return 0, fmt.Errorf("renewal reminders: %w", err)
	}
	var list []due
	for rows.Next() {
		var x due
		if err := rows.Scan(&x.id, &x.customer, &x.email); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("renewal reminders: %w", err)
		}
		list = append(list, x)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("renewal reminders: %w", err)
	}
	sent := 0
	for _, x := range list {
		ok, err := remind(ctx, d, site, x.id, x.customer, x.email, now)
		if err != nil {
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// remind queues the reminder due now for one license, in a transaction of
// its own, and reports whether it queued one.
func remind(ctx context.Context, d *db.DB, site ReminderSite, licenseID, customerID int64, email string, now time.Time) (bool, error) {
	if strings.TrimSpace(email) == "" || strings.HasSuffix(email, "@erased.invalid") {
		return false, nil // erased meanwhile: nobody to tell
	}
	queued := false
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		r, err := RenewableLicense(ctx, tx, licenseID, customerID, now)
		if err != nil {
			if _, ok := refuse.As(err); ok {
				return nil // changed since the list was read
			}
			return err
		}
		if _, err := orders.RenewalOffer(ctx, tx, r); errors.Is(err, orders.ErrRenewalUnavailable) {
			return nil
		} else if err != nil {
			return err
		}
		left := r.Expires.Sub(now)
		days := int(math.Ceil(left.Hours() / 24))
		step := 0
		for _, s := range reminderSteps {
			if left <= time.Duration(s)*24*time.Hour {
				step = s
				break
			}
		}
		if step == 0 || left <= 0 {
			return nil
		}
		data := mail.RenewalReminderData{SiteName: site.Name, Days: days,
			License:  mail.RenewalLicense{Name: r.Name, License: r.Lic, Expires: r.Expires.Format(longDate)},
			RenewURL: site.BaseURL + "/account/licenses/" + r.Lic + "/renew"}
		if !r.GraceEnds.IsZero() {
			data.License.GraceEnds = r.GraceEnds.Format(longDate)
		}
		m, err := mail.Compose("renewal_reminder", email, data)
		if err != nil {
			return err
		}
		m.CustomerID, m.Purpose = customerID, "delivery"
		m.DedupKey = ReminderKey(r.Lic, r.Expires, step)
		_, err = mail.Enqueue(ctx, tx, m, now)
		switch {
		case errors.Is(err, mail.ErrDuplicate), errors.Is(err, mail.ErrNotPermitted):
			return nil
		case err != nil:
			return err
		}
		queued = true
		return nil
	})
	return queued, err
}

// ReminderKey is the dedup key of the reminder step days before the
// license lic expires at expires.
func ReminderKey(lic string, expires time.Time, step int) string {
	return fmt.Sprintf("renewal-reminder:%s:%s:%d", lic, expires.UTC().Format(time.DateOnly), step)
}

const longDate = "2 January 2006"
