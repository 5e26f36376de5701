package support

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
)

// PendingTTL is how long a visitor has to confirm their address before
// the message from the web form lapses (the purge removes it later).
const PendingTTL = 48 * time.Hour

// PendingLimit caps confirmation mails per address and per network a
// day: the form sends mail to any address typed into it.
var PendingLimit = ratelimit.Limit{Max: 5, Window: 24 * time.Hour}

// Refusals of the web form's confirmation.
var (
	ErrPendingLimited = &refuse.Error{Kind: refuse.Limited, Code: "support_pending_limited",
		Msg: "too many messages from this address or network today: try again tomorrow, or write to us by email"}
	ErrPendingUsed = &refuse.Error{Kind: refuse.Gone, Code: "support_pending_gone",
		Msg: "this confirmation link has been used or has expired: send your message again from the support page"}
)

// Submit holds a visitor's message from the web form and mails a link to
// their address; the ticket opens when they follow it (Confirm), so that a
// ticket is never opened under someone else's address. network is the
// visitor's network (audit.Network), counted by the rate limit.
// It answers the same whether or not the address has an account.
func (d *Desk) Submit(ctx context.Context, n NewTicket, network string) error {
	n.mail = nil
	n, err := normaliseNew(n)
	if err != nil {
		return err
	}
	if len(n.Uploads) > 0 {
		return refuse.Field("files", "files can be attached once your address is confirmed: sign in, or reply to our answer by mail")
	}
	now := d.now()
	if d.Limiter != nil {
		for _, b := range []string{d.Limiter.Key("support-form", n.Email), d.Limiter.Key("support-form-net", network)} {
			ok, err := d.Limiter.Allow(ctx, b, PendingLimit, now)
			if err != nil {
				return err
			}
			if !ok {
				return ErrPendingLimited
			}
		}
	}
	token := make([]byte, 24)
	if _, err := rand.Read(token); err != nil {
		return err
	}
	raw := base64.RawURLEncoding.EncodeToString(token)
	link := strings.TrimSuffix(d.BaseURL, "/") + "/support/confirm?t=" + url.QueryEscape(raw)
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO support_pending (token_hash, email, name, subject, body, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, hashToken(raw), n.Email, n.Name, n.Subject, n.Text, now, now.Add(PendingTTL)).Scan(&id)
		if err != nil {
			return fmt.Errorf("support: hold the message: %w", err)
		}
		_, err = mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "support-confirm", To: n.Email,
			Subject: "Confirm your support request",
			Text: fmt.Sprintf("Someone, probably you, sent us a support request from our website with this address:\n\n  %s\n\n"+
				"To send it, confirm your address within 48 hours:\n\n  %s\n\n"+
				"If it was not you, ignore this message: nothing is sent and the request is deleted.\n", n.Subject, link)}, now)
		return err
	})
}

// Confirm opens the ticket of a confirmed web-form message. A link works
// once; a second click after success shows the ticket it opened.
func (d *Desk) Confirm(ctx context.Context, raw string) (Ticket, error) {
	if raw == "" || len(raw) > 100 {
		return Ticket{}, ErrPendingUsed
	}
	var t Ticket
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var ticket sql.NullInt64
		var n NewTicket
		var expires time.Time
		err := tx.QueryRowContext(ctx, `SELECT id, email, name, subject, body, expires_at, ticket_id FROM support_pending WHERE token_hash = $1`+
			d.DB.Dialect.ForUpdate(), hashToken(raw)).Scan(&id, &n.Email, &n.Name, &n.Subject, &n.Text, &expires, &ticket)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrPendingUsed
		}
		if err != nil {
			return fmt.Errorf("support: read the held message: %w", err)
		}
		if ticket.Valid {
			t, err = loadTicket(ctx, tx, ticket.Int64)
			return err
		}
		if !d.now().Before(expires) {
			return ErrPendingUsed
		}
		n.Channel, n.By = Web, audit.System()
		t, err = d.open(ctx, tx, n)
		if err != nil {
			return err
		}
		if r, err := CustomerRestricted(ctx, tx, t.CustomerID); err != nil || r {
			if err == nil {
				err = ErrRestricted
			}
			return err
		}
		// The held copy has done its work: only the link to the ticket stays.
		_, err = tx.ExecContext(ctx, `UPDATE support_pending SET ticket_id = $2, body = '', subject = '', name = '' WHERE id = $1`, id, t.ID)
		return err
	})
	return t, err
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte("support-pending\x00" + raw))
	return hex.EncodeToString(sum[:])
}
