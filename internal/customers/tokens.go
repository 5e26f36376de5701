package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
)

// Purpose says what a one-time link is for.
type Purpose string

// The link purposes.
const (
	SignIn      Purpose = "signin"
	EmailChange Purpose = "email_change"
)

// How long links stay valid. A sign-in link is short-lived because it
// opens the account by itself; an email change waits a day for the new
// mailbox to be read.
const (
	SignInTTL      = 15 * time.Minute
	EmailChangeTTL = 24 * time.Hour
)

// Token is what a valid, unused link stands for.
type Token struct {
	Purpose Purpose
	// Email is where a sign-in link was sent; for an email change, the
	// account's address when the change was asked for.
	Email      string
	CustomerID int64  // 0 for a sign-in to an address without an account
	NewEmail   string // for an email change: the address it changes to
	ExpiresAt  time.Time
}

// RequestSignIn creates a sign-in link token for email and returns it, for
// the caller to mail in the same transaction. It does the same whether or
// not the address has an account; none is created until the link is used.
// Links requested one after another each stay valid until used or expired,
// so a slow delivery does not spoil a newer request.
func RequestSignIn(ctx context.Context, tx *sql.Tx, email string, now time.Time) (string, error) {
	email, err := emailaddr.NormaliseEmail(email)
	if err != nil {
		return "", err
	}
	var customer any
	var id int64
	switch err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE email = $1`, email).Scan(&id); {
	case err == nil:
		customer = id
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("request sign-in link: %w", err)
	}
	raw, hash := newToken()
	now = now.UTC()
	_, err = tx.ExecContext(ctx, `INSERT INTO customer_tokens (token_hash, purpose, email, customer_id, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, hash, string(SignIn), email, customer, now.Add(SignInTTL), now)
	if err != nil {
		return "", fmt.Errorf("request sign-in link: %w", err)
	}
	return raw, nil
}

// PeekToken returns what a valid, unused link of purpose p stands for,
// without using it: the page a link opens shows a button, and only that
// button's POST uses the link (mail scanners fetch links, they do not
// submit forms).
func PeekToken(ctx context.Context, q db.Querier, raw string, p Purpose, now time.Time) (Token, error) {
	if !plausibleToken(raw) {
		return Token{}, ErrInvalidToken
	}
	t := Token{Purpose: p}
	var customer sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT email, customer_id, new_email, expires_at FROM customer_tokens
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`,
		hashToken(raw), string(p), now.UTC()).Scan(&t.Email, &customer, &t.NewEmail, &t.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("read link: %w", err)
	}
	t.CustomerID = customer.Int64
	return t, nil
}

// use marks a valid link used and returns what it stands for. The update is
// conditional, so of several requests racing with one link exactly one
// gets it.
func use(ctx context.Context, tx *sql.Tx, raw string, p Purpose, now time.Time) (Token, error) {
	if !plausibleToken(raw) {
		return Token{}, ErrInvalidToken
	}
	t := Token{Purpose: p}
	var customer sql.NullInt64
	now = now.UTC()
	err := tx.QueryRowContext(ctx, `UPDATE customer_tokens SET used_at = $1
		WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING email, customer_id, new_email, expires_at`,
		now, hashToken(raw), string(p)).Scan(&t.Email, &customer, &t.NewEmail, &t.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("use %s link: %w", p, err)
	}
	t.CustomerID = customer.Int64
	return t, nil
}

// CompleteSignIn uses a sign-in link and returns the account it opens,
// creating the account on the first sign-in of an address (created is then
// true). A link works once; a link sent for an account whose address has
// changed since is refused.
func CompleteSignIn(ctx context.Context, tx *sql.Tx, raw string, now time.Time) (c Customer, created bool, err error) {
	t, err := use(ctx, tx, raw, SignIn, now)
	if err != nil {
		return Customer{}, false, err
	}
	now = now.UTC()
	if t.CustomerID != 0 {
		c, err := ByID(ctx, tx, t.CustomerID)
		if errors.Is(err, ErrNotFound) || (err == nil && c.Email != t.Email) {
			return Customer{}, false, ErrInvalidToken
		}
		if err != nil {
			return Customer{}, false, err
		}
	}
	// Two links to a new address may be used at once: the unique email
	// makes one insert win, and the other reads its row.
	c, err = scanCustomer(tx.QueryRowContext(ctx, `INSERT INTO customers (email, created_at, updated_at, last_seen_at)
		VALUES ($1, $2, $2, $2) ON CONFLICT (email) DO NOTHING RETURNING `+customerColumns(""), t.Email, now))
	if err == nil {
		return c, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return Customer{}, false, fmt.Errorf("create customer: %w", err)
	}
	c, err = scanCustomer(tx.QueryRowContext(ctx, `UPDATE customers SET last_seen_at = $1 WHERE email = $2 RETURNING `+customerColumns(""), now, t.Email))
	if err != nil {
		return Customer{}, false, fmt.Errorf("sign in: %w", err)
	}
	return c, false, nil
}

// RequestEmailChange creates the link that confirms a change of the
// customer's address to newEmail, for the caller to mail to newEmail in the
// same transaction. The address changes only when that link is used. An
// earlier unconfirmed change of the account is cancelled.
//
// It does not check whether another account has newEmail: telling the
// person asking would reveal that account. ConfirmEmailChange refuses the
// change then, to the owner of newEmail, who may know.
func RequestEmailChange(ctx context.Context, tx *sql.Tx, id int64, newEmail string, now time.Time) (string, error) {
	newEmail, err := emailaddr.NormaliseEmail(newEmail)
	if err != nil {
		return "", err
	}
	c, err := ByID(ctx, tx, id)
	if err != nil {
		return "", err
	}
	if c.Email == newEmail {
		return "", ErrSameEmail
	}
	now = now.UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE customer_tokens SET used_at = $1 WHERE customer_id = $2 AND purpose = $3 AND used_at IS NULL`,
		now, id, string(EmailChange)); err != nil {
		return "", fmt.Errorf("request email change: %w", err)
	}
	raw, hash := newToken()
	_, err = tx.ExecContext(ctx, `INSERT INTO customer_tokens (token_hash, purpose, email, customer_id, new_email, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, hash, string(EmailChange), c.Email, id, newEmail, now.Add(EmailChangeTTL), now)
	if err != nil {
		return "", fmt.Errorf("request email change: %w", err)
	}
	return raw, nil
}

// ConfirmEmailChange uses an email change link and changes the account's
// address. It returns ErrInvalidToken for an unknown, used or expired link
// and for one made before another change of the account's address, and
// ErrEmailTaken when another account has the new address by now; in both
// cases nothing changes (the caller rolls tx back).
func ConfirmEmailChange(ctx context.Context, tx *sql.Tx, raw string, now time.Time) (Customer, error) {
	t, err := use(ctx, tx, raw, EmailChange, now)
	if err != nil {
		return Customer{}, err
	}
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM customers WHERE email = $1 AND id <> $2`, t.NewEmail, t.CustomerID).Scan(&taken); err != nil {
		return Customer{}, fmt.Errorf("confirm email change: %w", err)
	}
	if taken > 0 {
		return Customer{}, ErrEmailTaken
	}
	c, err := scanCustomer(tx.QueryRowContext(ctx, `UPDATE customers SET email = $1, updated_at = $2 WHERE id = $3 AND email = $4
		RETURNING `+customerColumns(""), t.NewEmail, now.UTC(), t.CustomerID, t.Email))
	switch {
	case errors.Is(err, ErrNotFound):
		// The account is gone or its address changed since the link was made.
		return Customer{}, ErrInvalidToken
	case err != nil && db.IsUniqueViolation(err):
		return Customer{}, ErrEmailTaken
	case err != nil:
		return Customer{}, fmt.Errorf("confirm email change: %w", err)
	}
	return c, nil
}
