package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Session lifetimes. A session ends after IdleTimeout without a request,
// and after AbsoluteTimeout whatever happens.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	// touchEvery limits last-seen updates to one write a minute per session.
	touchEvery = time.Minute
)

// Session levels: a password-only session may do nothing but complete the
// second factor (or enrol one); a full session may use the console.
const (
	LevelPassword = "password"
	LevelFull     = "full"
)

// ErrNoSession is returned for unknown, expired, idle or revoked sessions.
var ErrNoSession = refuse.New(refuse.Forbidden, "staff_no_session", "your session has ended; please sign in again")

// ErrSessionNotFound is the refusal to end a session that is not a live
// session of the account asking: another member's, one already ended, or
// one that never existed. The three read the same.
var ErrSessionNotFound = refuse.New(refuse.NotFound, "staff_session_not_found",
	"You have no such session: it may have ended already. Reload your account page to see where you are signed in.")

// Session is a signed-in browser.
type Session struct {
	ID        int64
	Level     string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	Account   Account
}

// StartSession creates a session for the account and returns the token
// for its cookie.
func StartSession(ctx context.Context, tx *sql.Tx, staffID int64, level string, now time.Time) (string, error) {
	raw, hash := newToken()
	_, err := tx.ExecContext(ctx, `INSERT INTO staff_sessions (token_hash, staff_id, level, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $4, $5)`, hash, staffID, level, now, now.Add(AbsoluteTimeout))
	if err != nil {
		return "", fmt.Errorf("start session: %w", err)
	}
	return raw, nil
}

// LookupSession returns the live session for token, or ErrNoSession. It
// records activity at most once a minute, so most requests only read.
func LookupSession(ctx context.Context, d *db.DB, token string, now time.Time) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, ErrNoSession
	}
	var s Session
	var revoked bool
	row := d.QueryRowContext(ctx, `SELECT s.id, s.level, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at IS NOT NULL,
		a.id, a.email, a.name, a.role, a.password_hash, a.totp_secret, a.totp_last_step, a.disabled_at IS NOT NULL, a.created_at
		FROM staff_sessions s JOIN staff a ON a.id = s.staff_id WHERE s.token_hash = $1`, hashToken(token))
	a := &s.Account
	err := row.Scan(&s.ID, &s.Level, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &revoked,
		&a.ID, &a.Email, &a.Name, &a.Role, &a.passwordHash, &a.totpSecret, &a.totpLastStep, &a.Disabled, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("look up session: %w", err)
	}
	a.HasPassword, a.HasTOTP = a.passwordHash != "", a.totpSecret != ""
	if revoked || a.Disabled || !now.Before(s.ExpiresAt) || now.Sub(s.LastSeen) >= IdleTimeout {
		return Session{}, ErrNoSession
	}
	if now.Sub(s.LastSeen) >= touchEvery {
		if _, err := d.ExecContext(ctx, `UPDATE staff_sessions SET last_seen_at = $1 WHERE id = $2`, now, s.ID); err != nil {
			return Session{}, fmt.Errorf("touch session: %w", err)
		}
		s.LastSeen = now
	}
	return s, nil
}

// RevokeSession ends one live session of the account. It returns
// ErrSessionNotFound, and changes nothing, when sessionID is not a live
// session of staffID, so that callers record only revocations that
// happened.
func RevokeSession(ctx context.Context, tx *sql.Tx, staffID, sessionID int64, now time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE staff_sessions SET revoked_at = $1
		WHERE id = $2 AND staff_id = $3 AND revoked_at IS NULL AND expires_at > $1 AND last_seen_at > $4`,
		now, sessionID, staffID, now.Add(-IdleTimeout))
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n != 1 {
		return ErrSessionNotFound
	}
	return nil
}

// RevokeWithoutSecondFactor ends every session of accounts that have no
// second factor, when the requirement to have one is turned on: their
// holders enrol at the next sign-in. It returns how many sessions ended.
func RevokeWithoutSecondFactor(ctx context.Context, tx *sql.Tx, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE staff_sessions SET revoked_at = $1
		WHERE revoked_at IS NULL AND staff_id IN (SELECT id FROM staff WHERE totp_secret = '')`, now)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions without second factor: %w", err)
	}
	return res.RowsAffected()
}

// RevokeAll ends every session of the account except keep (0 for none):
// "sign out everywhere".
func RevokeAll(ctx context.Context, tx *sql.Tx, staffID, keep int64, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE staff_sessions SET revoked_at = $1 WHERE staff_id = $2 AND id <> $3 AND revoked_at IS NULL`, now, staffID, keep)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// ActiveSessions lists the account's live sessions, newest first.
func ActiveSessions(ctx context.Context, q db.Querier, staffID int64, now time.Time) ([]Session, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, level, created_at, last_seen_at, expires_at FROM staff_sessions
		WHERE staff_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3 ORDER BY created_at DESC`,
		staffID, now, now.Add(-IdleTimeout))
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		if err := rows.Scan(&s.ID, &s.Level, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
