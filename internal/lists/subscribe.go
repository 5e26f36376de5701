package lists

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/token"
)

// Request is a request to join a list, as the subscription form sends it.
type Request struct {
	List  List
	Email string
	// Wording is the consent text the form showed (Wording).
	Wording string
	// PolicySeq is the privacy policy's version in force.
	PolicySeq int
	// SiteName and BaseURL make the confirmation mail and its link.
	SiteName, BaseURL string
}

// ConfirmPath is the confirmation link's page; the token is its t.
const ConfirmPath = "/newsletter/confirm"

// Subscribe records the request and queues its confirmation mail, in one
// transaction. It answers the same whether or not the address has an
// account or is on the list already; an address already on the list gets
// no mail. The caller limits how often it is called per address and per
// network: it sends mail.
func Subscribe(ctx context.Context, d *db.DB, r Request, now time.Time) error {
	email, err := emailaddr.NormaliseEmail(r.Email)
	if err != nil {
		return err
	}
	if r.Wording == "" {
		return errors.New("lists: a subscription without the consent's wording")
	}
	raw, hash := token.New()
	link := strings.TrimSuffix(r.BaseURL, "/") + ConfirmPath + "?t=" + url.QueryEscape(raw)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		listID, err := ensure(ctx, tx, r.List, now)
		if err != nil {
			return err
		}
		var customer sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE email = $1`, email).Scan(&customer); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("lists: find the account: %w", err)
		}
		var on int
		err = tx.QueryRowContext(ctx, `SELECT count(*) FROM list_members WHERE list_id = $1 AND ended_at IS NULL
			AND (customer_id = $2 OR (customer_id IS NULL AND email = $3))`, listID, customer.Int64, email).Scan(&on)
		if err != nil {
			return fmt.Errorf("lists: read the membership: %w", err)
		}
		if on > 0 {
			return nil
		}
		var cust any
		if customer.Valid {
			cust = customer.Int64
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO list_requests (list_id, customer_id, email, token_hash, wording, policy_seq, requested_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, listID, cust, email, hash, r.Wording, r.PolicySeq, now.UTC(), now.Add(ConfirmTTL).UTC()); err != nil {
			return fmt.Errorf("lists: record the request: %w", err)
		}
		m := mail.Message{Kind: mail.Transactional, Template: "list-confirm", To: email,
			Subject: "Confirm your subscription: " + r.List.Name,
			Text: fmt.Sprintf("Someone, probably you, asked on the %s website to receive\n\n  %s\n\nat this address. You agreed to:\n\n  %s\n\n"+
				"To confirm, open this link within %d hours and press the button:\n\n  %s\n\n"+
				"If it was not you, ignore this message: you will not be subscribed and hear nothing more from this list.\n",
				r.SiteName, r.List.Name, r.Wording, int(ConfirmTTL.Hours()), link)}
		m.CustomerID = customer.Int64
		_, err = mail.Enqueue(ctx, tx, m, now)
		return err
	})
}

// Pending is a confirmation link's request, for the page that asks the
// person to press the button.
type Pending struct {
	ListName string
	Email    string
	// Already: the link was used; the subscription stands.
	Already bool
}

// Check reads the request behind a confirmation token without changing
// anything: ErrInvalidLink, ErrExpired, or the request.
func Check(ctx context.Context, q db.Querier, raw string, now time.Time) (Pending, error) {
	if raw == "" || len(raw) > 100 {
		return Pending{}, ErrInvalidLink
	}
	var p Pending
	var expires time.Time
	var member sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT l.name, r.email, r.expires_at, r.member_id FROM list_requests r
		JOIN mailing_lists l ON l.id = r.list_id WHERE r.token_hash = $1`, token.Hash(raw)).Scan(&p.ListName, &p.Email, &expires, &member)
	if errors.Is(err, sql.ErrNoRows) {
		return Pending{}, ErrInvalidLink
	}
	if err != nil {
		return Pending{}, fmt.Errorf("lists: read the request: %w", err)
	}
	p.Already = member.Valid
	if !p.Already && !now.Before(expires) {
		return Pending{}, ErrExpired
	}
	return p, nil
}

// Confirm makes the request behind a confirmation token a subscription,
// once: a second use returns Already and changes nothing.
func Confirm(ctx context.Context, d *db.DB, raw string, now time.Time) (Pending, error) {
	if raw == "" || len(raw) > 100 {
		return Pending{}, ErrInvalidLink
	}
	var p Pending
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var id, listID int64
		var customer, member sql.NullInt64
		var email, wording string
		var seq int
		var requested, expires time.Time
		err := tx.QueryRowContext(ctx, `SELECT r.id, r.list_id, l.name, r.customer_id, r.email, r.wording, r.policy_seq, r.requested_at, r.expires_at, r.member_id
			FROM list_requests r JOIN mailing_lists l ON l.id = r.list_id WHERE r.token_hash = $1`+d.Dialect.ForUpdate(), token.Hash(raw)).
			Scan(&id, &listID, &p.ListName, &customer, &email, &wording, &seq, &requested, &expires, &member)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInvalidLink
		}
		if err != nil {
			return fmt.Errorf("lists: read the request: %w", err)
		}
		p.Email = email
		if member.Valid {
			p.Already = true
			return nil
		}
		if !now.Before(expires) {
			return ErrExpired
		}
		var cust any
		memberEmail := email
		if customer.Valid {
			cust, memberEmail = customer.Int64, ""
		}
		// Another request for the same list and person may have been
		// confirmed first: the unique indexes keep one membership, and
		// this request then points at it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO list_members (list_id, customer_id, email, wording, policy_seq, requested_at, confirmed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, listID, cust, memberEmail, wording, seq, requested.UTC(), now.UTC()); err != nil {
			return fmt.Errorf("lists: add the member: %w", err)
		}
		var mid int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM list_members WHERE list_id = $1 AND ended_at IS NULL
			AND (customer_id = $2 OR (customer_id IS NULL AND email = $3))`, listID, customer.Int64, memberEmail).Scan(&mid); err != nil {
			return fmt.Errorf("lists: read the member: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE list_requests SET member_id = $1 WHERE id = $2`, mid, id); err != nil {
			return fmt.Errorf("lists: mark the request used: %w", err)
		}
		if customer.Valid {
			return privacy.SetChoice(ctx, tx, privacy.Declared, customer.Int64, privacy.ChoiceConsent, Purpose, true, "mailing list: "+p.ListName, now)
		}
		return nil
	})
	return p, err
}
