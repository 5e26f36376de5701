package mail

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// Why an address is on the suppression list (mail_suppressions.reason).
const (
	ReasonHardBounce  = "hard_bounce"  // a permanent failure (5.x.x)
	ReasonComplaint   = "complaint"    // the recipient reported our mail as spam (ARF)
	ReasonSoftBounces = "soft_bounces" // temporary failures again and again, no delivery between
)

// Suppressions is the suppression list: addresses no bulk message goes to
// any more. It stores a keyed hash of each address, never the address
// (docs/mailing.md, "Bounces and complaints").
type Suppressions struct{ key []byte }

// NewSuppressions returns the list whose hashes are keyed by a key
// derived from the installation secret.
func NewSuppressions(secret []byte) Suppressions {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte("storekeep mail suppression v1"))
	return Suppressions{key: k.Sum(nil)}
}

// Hash is the stored form of an address: the HMAC of the address trimmed
// and lower-cased, as the outbox stores recipients.
func (s Suppressions) Hash(address string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(address))))
	return hex.EncodeToString(m.Sum(nil))
}

// Suppression is one entry of the list.
type Suppression struct {
	ID         int64
	Reason     string
	Detail     string // the report's status and diagnostic; no address, no text
	OutboxID   int64  // the message whose bounce or complaint put it there; 0 if unknown
	CustomerID int64
	CreatedAt  time.Time
}

// Lookup returns the entry for address, if it is suppressed.
func (s Suppressions) Lookup(ctx context.Context, q db.Querier, address string) (Suppression, bool, error) {
	var e Suppression
	err := q.QueryRowContext(ctx, `SELECT id, reason, detail, COALESCE(outbox_id, 0), COALESCE(customer_id, 0), created_at
		FROM mail_suppressions WHERE addr_hash = $1`, s.Hash(address)).
		Scan(&e.ID, &e.Reason, &e.Detail, &e.OutboxID, &e.CustomerID, &e.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Suppression{}, false, nil
	}
	if err != nil {
		return Suppression{}, false, fmt.Errorf("mail: look up the suppression list: %w", err)
	}
	return e, true, nil
}

// Add puts address on the list, unless it is there already (then it
// changes nothing and reports false).
func (s Suppressions) Add(ctx context.Context, tx *sql.Tx, address string, e Suppression, now time.Time) (bool, error) {
	switch e.Reason {
	case ReasonHardBounce, ReasonComplaint, ReasonSoftBounces:
	default:
		return false, fmt.Errorf("mail: unknown suppression reason %q", e.Reason)
	}
	var outbox, customer any
	if e.OutboxID != 0 {
		outbox = e.OutboxID
	}
	if e.CustomerID != 0 {
		customer = e.CustomerID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO mail_suppressions (addr_hash, reason, detail, outbox_id, customer_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (addr_hash) DO NOTHING`,
		s.Hash(address), e.Reason, e.Detail, outbox, customer, now.UTC())
	if err != nil {
		return false, fmt.Errorf("mail: add to the suppression list: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RemoveAddress lifts the suppression of address; false when it had none.
func (s Suppressions) RemoveAddress(ctx context.Context, tx *sql.Tx, address string) (Suppression, bool, error) {
	e, ok, err := s.Lookup(ctx, tx, address)
	if err != nil || !ok {
		return e, ok, err
	}
	_, err = RemoveSuppression(ctx, tx, e.ID)
	return e, err == nil, err
}

// RemoveSuppression lifts the entry with id; false when there is none.
func RemoveSuppression(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM mail_suppressions WHERE id = $1`, id)
	if err != nil {
		return false, fmt.Errorf("mail: lift a suppression: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ListSuppressions returns the list, newest first.
func ListSuppressions(ctx context.Context, q db.Querier) ([]Suppression, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, reason, detail, COALESCE(outbox_id, 0), COALESCE(customer_id, 0), created_at
		FROM mail_suppressions ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("mail: list suppressions: %w", err)
	}
	defer rows.Close()
	var out []Suppression
	for rows.Next() {
		var e Suppression
		if err := rows.Scan(&e.ID, &e.Reason, &e.Detail, &e.OutboxID, &e.CustomerID, &e.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// secret is the installation secret the worker's VERP tags and
// suppression hashes are keyed by: w.Secret, or the one in the database.
func (w *Worker) secret(ctx context.Context) ([]byte, error) {
	w.secretMu.Lock()
	defer w.secretMu.Unlock()
	if len(w.Secret) > 0 {
		return w.Secret, nil
	}
	s, err := settings.InstallSecret(ctx, w.DB, w.now())
	if err != nil {
		return nil, fmt.Errorf("mail: the installation secret: %w", err)
	}
	w.Secret = s
	return s, nil
}

// returnPath is the VERP envelope sender of message id sent as from:
// bounces+id-mac@ the bounce domain, or the From address's domain.
func (w *Worker) returnPath(secret []byte, from string, id int64) string {
	v := VERP{Secret: secret, Local: w.BounceLocal, Domain: w.BounceDomain}
	if v.Domain == "" {
		a, err := mail.ParseAddress(from)
		if err != nil {
			return ""
		}
		v.Domain = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	}
	return v.Address(id)
}

// skipSuppressed gives up a bulk message to a suppressed address without
// sending it: suppressed_at and a last error that says why, and attempts
// at MaxAttempts so it is never retried. It reports whether it did.
// Transactional mail is never held back.
func (w *Worker) skipSuppressed(ctx context.Context, secret []byte, m claimed) (bool, error) {
	if m.Kind != Bulk {
		return false, nil
	}
	e, ok, err := NewSuppressions(secret).Lookup(ctx, w.DB, m.To)
	if err != nil || !ok {
		return false, err
	}
	reason := "not sent: the address is on the suppression list (" + e.Reason + ")"
	_, err = w.DB.ExecContext(ctx, `UPDATE outbox SET suppressed_at = $3, attempts = $4, last_error = $5, locked_until = NULL
		WHERE id = $1 AND locked_by = $2 AND sent_at IS NULL`, m.ID, w.ID, w.now(), MaxAttempts, reason)
	if err != nil {
		return true, fmt.Errorf("mail: record suppressed message %d: %w", m.ID, err)
	}
	w.log().LogAttrs(ctx, slog.LevelInfo, "mail not sent: address suppressed", slog.Int64("outbox_id", m.ID),
		slog.String("template", m.Template), slog.String("reason", e.Reason))
	return true, nil
}
