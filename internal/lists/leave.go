package lists

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// The ways an unsubscribe arrives (unsubscribes.via, list_members.ended_via).
const (
	ViaOneClick = "one-click" // RFC 8058: the mailbox provider's POST
	ViaPage     = "page"      // the button on the link's page
	ViaAccount  = "account"   // the account's privacy page
)

// Membership is one of a customer's subscriptions, for their privacy page.
type Membership struct {
	ID            int64
	ListName      string
	Wording       string
	ConfirmedAt   time.Time
	RequestedAt   time.Time
	PolicyVersion int
}

// OfCustomer returns the customer's subscriptions in force.
func OfCustomer(ctx context.Context, q db.Querier, customerID int64) ([]Membership, error) {
	rows, err := q.QueryContext(ctx, `SELECT m.id, l.name, m.wording, m.confirmed_at, m.requested_at, m.policy_seq
		FROM list_members m JOIN mailing_lists l ON l.id = m.list_id
		WHERE m.customer_id = $1 AND m.ended_at IS NULL ORDER BY m.id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("lists: read the subscriptions: %w", err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.ID, &m.ListName, &m.Wording, &m.ConfirmedAt, &m.RequestedAt, &m.PolicyVersion); err != nil {
			return nil, fmt.Errorf("lists: read the subscriptions: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Outcome is what an unsubscribe did.
type Outcome struct {
	// What is what the person no longer receives: a list's name or a
	// purpose's.
	What string
	// Already: nothing was in force any more; nothing changed and nothing
	// was recorded.
	Already bool
}

// ErrUnknown: the link was signed by us but names nothing that exists
// (a list or member since deleted by the retention purge).
var ErrUnknown = refuse.New(refuse.NotFound, "unsubscribe_unknown", "This unsubscribe link is no longer valid: there is nothing left to unsubscribe from.")

// Unsubscribe applies a verified unsubscribe token, in one transaction:
//   - a subscriber's: their membership ends;
//   - a customer's for a list: their membership of it ends, and their
//     consent to Purpose is withdrawn when no other list remains;
//   - a customer's for no list: the consent its purpose rests on is
//     withdrawn (and every list membership ends), or for a
//     legitimate-interest purpose such as "notices" an objection is
//     recorded (privacy.SetChoice).
//
// Each change is recorded in unsubscribes with via and the time now it
// was processed. When nothing was in force it returns Already and
// records nothing.
func Unsubscribe(ctx context.Context, d *db.DB, t unsubscribe.Token, via string, now time.Time) (Outcome, error) {
	var out Outcome
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var changed bool
		var err error
		switch {
		case t.Subscriber != 0:
			changed, out.What, err = endSubscriber(ctx, tx, d, t, via, now)
		case t.List != 0:
			changed, out.What, err = endCustomerList(ctx, tx, d, t, via, now)
		default:
			changed, out.What, err = customerPurpose(ctx, tx, t, via, now)
		}
		if err != nil || !changed {
			out.Already = err == nil
			return err
		}
		return record(ctx, tx, t, via, now)
	})
	return out, err
}

func record(ctx context.Context, tx *sql.Tx, t unsubscribe.Token, via string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO unsubscribes (processed_at, customer_id, subscriber_id, purpose, list_id, notice_recipient_id, via)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, now.UTC(), nullID(t.Customer), nullID(t.Subscriber), t.Purpose, nullID(t.List), nullID(t.Notice), via)
	if err != nil {
		return fmt.Errorf("lists: record the unsubscribe: %w", err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func listName(ctx context.Context, tx *sql.Tx, id int64) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM mailing_lists WHERE id = $1`, id).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnknown
	}
	return name, err
}

func endSubscriber(ctx context.Context, tx *sql.Tx, d *db.DB, t unsubscribe.Token, via string, now time.Time) (bool, string, error) {
	var list int64
	var ended sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT list_id, ended_at FROM list_members WHERE id = $1 AND customer_id IS NULL`+d.Dialect.ForUpdate(), t.Subscriber).Scan(&list, &ended)
	if errors.Is(err, sql.ErrNoRows) || err == nil && t.List != 0 && t.List != list {
		return false, "", ErrUnknown
	}
	if err != nil {
		return false, "", fmt.Errorf("lists: read the member: %w", err)
	}
	name, err := listName(ctx, tx, list)
	if err != nil || ended.Valid {
		return false, name, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE list_members SET ended_at = $1, ended_via = $2 WHERE id = $3 AND ended_at IS NULL`, now.UTC(), via, t.Subscriber)
	return err == nil, name, err
}

func endCustomerList(ctx context.Context, tx *sql.Tx, d *db.DB, t unsubscribe.Token, via string, now time.Time) (bool, string, error) {
	name, err := listName(ctx, tx, t.List)
	if err != nil {
		return false, "", err
	}
	res, err := tx.ExecContext(ctx, `UPDATE list_members SET ended_at = $1, ended_via = $2 WHERE list_id = $3 AND customer_id = $4 AND ended_at IS NULL`,
		now.UTC(), via, t.List, t.Customer)
	if err != nil {
		return false, "", fmt.Errorf("lists: end the membership: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, name, nil
	}
	return true, name, withdrawIfLast(ctx, tx, t.Customer, via, now)
}

// withdrawIfLast withdraws the customer's consent to Purpose once no list
// membership rests on it.
func withdrawIfLast(ctx context.Context, tx *sql.Tx, customerID int64, via string, now time.Time) error {
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM list_members WHERE customer_id = $1 AND ended_at IS NULL`, customerID).Scan(&left); err != nil {
		return fmt.Errorf("lists: count the memberships: %w", err)
	}
	if left > 0 {
		return nil
	}
	return privacy.SetChoice(ctx, tx, privacy.Declared, customerID, privacy.ChoiceConsent, Purpose, false, "unsubscribed ("+via+")", now)
}

func customerPurpose(ctx context.Context, tx *sql.Tx, t unsubscribe.Token, via string, now time.Time) (bool, string, error) {
	p, ok := privacy.Declared.Purpose(t.Purpose)
	if !ok {
		return false, "", ErrUnknown
	}
	ch, err := privacy.LoadChoices(ctx, tx, t.Customer)
	if err != nil {
		return false, "", err
	}
	switch p.Basis {
	case privacy.Consent:
		_, given := ch.Consents[p.ID]
		var n int64
		if p.ID == Purpose {
			if n, err = EndAllOfCustomer(ctx, tx, t.Customer, via, now); err != nil {
				return false, "", err
			}
		}
		if !given && n == 0 {
			return false, p.Name, err
		}
		if given {
			err = privacy.SetChoice(ctx, tx, privacy.Declared, t.Customer, privacy.ChoiceConsent, p.ID, false, "unsubscribed ("+via+")", now)
		}
		return true, p.Name, err
	case privacy.LegitimateInterest:
		if _, objected := ch.Objections[p.ID]; objected {
			return false, p.Name, nil
		}
		return true, p.Name, privacy.SetChoice(ctx, tx, privacy.Declared, t.Customer, privacy.ChoiceObjection, p.ID, true, "unsubscribed ("+via+")", now)
	}
	// Mail the person cannot opt out of (contract, legal) carries no
	// unsubscribe link; a token for it names nothing to stop.
	return false, "", ErrUnknown
}

// EndAllOfCustomer ends every list membership of the customer (their
// consent to Purpose was withdrawn) and returns how many ended.
func EndAllOfCustomer(ctx context.Context, tx *sql.Tx, customerID int64, via string, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE list_members SET ended_at = $1, ended_via = $2 WHERE customer_id = $3 AND ended_at IS NULL`, now.UTC(), via, customerID)
	if err != nil {
		return 0, fmt.Errorf("lists: end the memberships: %w", err)
	}
	return res.RowsAffected()
}

// Leave ends one of the customer's memberships from their account's
// privacy page, recorded like an unsubscribe (via account).
func Leave(ctx context.Context, d *db.DB, customerID, memberID int64, now time.Time) (Outcome, error) {
	var list int64
	err := d.QueryRowContext(ctx, `SELECT list_id FROM list_members WHERE id = $1 AND customer_id = $2`, memberID, customerID).Scan(&list)
	if errors.Is(err, sql.ErrNoRows) {
		return Outcome{}, refuse.New(refuse.NotFound, "list_member_unknown", "This subscription is not one of yours. Reload the privacy page and try again.")
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("lists: read the membership: %w", err)
	}
	return Unsubscribe(ctx, d, unsubscribe.Token{Customer: customerID, Purpose: Purpose, List: list}, ViaAccount, now)
}

// Describe says what a verified token would stop, and whether that is in
// force still (Already when not), without changing anything: for the
// page the link opens.
func Describe(ctx context.Context, q db.Querier, t unsubscribe.Token) (Outcome, error) {
	var name string
	if t.List != 0 {
		err := q.QueryRowContext(ctx, `SELECT name FROM mailing_lists WHERE id = $1`, t.List).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return Outcome{}, ErrUnknown
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("lists: read the list: %w", err)
		}
	}
	var n int
	var err error
	switch {
	case t.Subscriber != 0:
		var list int64
		var ended sql.NullTime
		err = q.QueryRowContext(ctx, `SELECT list_id, ended_at FROM list_members WHERE id = $1 AND customer_id IS NULL`, t.Subscriber).Scan(&list, &ended)
		if errors.Is(err, sql.ErrNoRows) || err == nil && t.List != 0 && t.List != list {
			return Outcome{}, ErrUnknown
		}
		if err == nil && name == "" {
			err = q.QueryRowContext(ctx, `SELECT name FROM mailing_lists WHERE id = $1`, list).Scan(&name)
		}
		if err == nil && !ended.Valid {
			n = 1
		}
	case t.List != 0:
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM list_members WHERE list_id = $1 AND customer_id = $2 AND ended_at IS NULL`, t.List, t.Customer).Scan(&n)
	default:
		p, ok := privacy.Declared.Purpose(t.Purpose)
		if !ok || (p.Basis != privacy.Consent && p.Basis != privacy.LegitimateInterest) {
			return Outcome{}, ErrUnknown
		}
		name = p.Name
		ch, err := privacy.LoadChoices(ctx, q, t.Customer)
		if err != nil {
			return Outcome{}, err
		}
		_, given := ch.Consents[p.ID]
		_, objected := ch.Objections[p.ID]
		if p.Basis == privacy.Consent && given || p.Basis == privacy.LegitimateInterest && !objected {
			n = 1
		}
		if p.ID == Purpose && n == 0 {
			err = q.QueryRowContext(ctx, `SELECT count(*) FROM list_members WHERE customer_id = $1 AND ended_at IS NULL`, t.Customer).Scan(&n)
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("lists: read the memberships: %w", err)
		}
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("lists: read the subscription: %w", err)
	}
	return Outcome{What: name, Already: n == 0}, nil
}

// Withdrawn ends every list membership of a customer whose consent to
// Purpose was withdrawn on their privacy page, in the caller's
// transaction, and records it like an unsubscribe (via account) when
// anything ended.
func Withdrawn(ctx context.Context, tx *sql.Tx, customerID int64, now time.Time) error {
	n, err := EndAllOfCustomer(ctx, tx, customerID, ViaAccount, now)
	if err != nil || n == 0 {
		return err
	}
	return record(ctx, tx, unsubscribe.Token{Customer: customerID, Purpose: Purpose}, ViaAccount, now)
}
