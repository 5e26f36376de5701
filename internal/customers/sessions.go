package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// Session lifetimes. A customer session ends after IdleTimeout without a
// request, and after AbsoluteTimeout whatever happens; signing in again is
// one emailed link away.
const (
	IdleTimeout     = 7 * 24 * time.Hour
	AbsoluteTimeout = 30 * 24 * time.Hour
	// touchEvery limits last-seen updates to one write a minute per session.
	touchEvery = time.Minute
)

// Session is a signed-in browser.
type Session struct {
	ID        int64
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Customer  Customer
}

// StartSession creates a session for the customer and returns the token
// for its cookie.
func StartSession(ctx context.Context, tx *sql.Tx, customerID int64, now time.Time) (string, error) {
	raw, hash := newToken()
	now = now.UTC()
	_, err := tx.ExecContext(ctx, `INSERT INTO customer_sessions (token_hash, customer_id, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $3, $4)`, hash, customerID, now, now.Add(AbsoluteTimeout))
	if err != nil {
		return "", fmt.Errorf("start customer session: %w", err)
	}
	return raw, nil
}

// LookupSession returns the live session for token, or ErrNoSession. It
// records activity at most once a minute, so most requests only read.
func LookupSession(ctx context.Context, d *db.DB, token string, now time.Time) (Session, error) {
	if !plausibleToken(token) {
		return Session{}, ErrNoSession
	}
	now = now.UTC()
	var s Session
	var revoked bool
	var seen sql.NullTime
	dest := append([]any{&s.ID, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &revoked}, customerDest(&s.Customer, &seen)...)
	err := d.QueryRowContext(ctx, `SELECT s.id, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at IS NOT NULL, `+customerColumns("c.")+`
		FROM customer_sessions s JOIN customers c ON c.id = s.customer_id WHERE s.token_hash = $1`, hashToken(token)).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up customer session: %w", err)
	}
	s.Customer.LastSeenAt = seen.Time
	if revoked || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeen) >= IdleTimeout {
		return Session{}, ErrNoSession
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if _, err := d.ExecContext(ctx, `UPDATE customer_sessions SET last_seen_at = $1 WHERE id = $2`, now, s.ID); err != nil {
			return Session{}, fmt.Errorf("touch customer session: %w", err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE customers SET last_seen_at = $1 WHERE id = $2`, now, s.Customer.ID); err != nil {
			return Session{}, fmt.Errorf("touch customer: %w", err)
		}
		s.LastSeen, s.Customer.LastSeenAt = now, now
	}
	return s, nil
}

// RevokeSession ends one session of the customer.
func RevokeSession(ctx context.Context, tx *sql.Tx, customerID, sessionID int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE customer_sessions SET revoked_at = $1 WHERE id = $2 AND customer_id = $3 AND revoked_at IS NULL`,
		now.UTC(), sessionID, customerID)
	if err != nil {
		return fmt.Errorf("revoke customer session: %w", err)
	}
	return nil
}

// Retention of the short-lived rows, as the data inventory declares it
// (internal/privacy/inventory_customers.go).
const (
	TokenRetention   = 7 * 24 * time.Hour
	SessionRetention = 60 * 24 * time.Hour
)
