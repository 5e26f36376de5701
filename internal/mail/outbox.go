// Package mail is Storekeep's outgoing email: an outbox in the database,
// written in the same transaction as the change that causes a message, and
// a worker that sends what is due over SMTP with retries, marking each
// message sent once.
package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Kind separates transactional mail (receipts, keys, sign-in links: sent
// because of something the person did) from bulk mail (announcements).
type Kind string

// The kinds of mail.
const (
	Transactional Kind = "transactional"
	Bulk          Kind = "bulk"
)

// Message is one email to one recipient.
type Message struct {
	Kind     Kind
	Template string // the template it was made from, for the console and tests
	To       string
	Subject  string
	Text     string
	HTML     string // optional
	// DedupKey, when set, names the event the message is about (for example
	// "order-paid:42"); a second message with the same key is not queued.
	DedupKey string
	// CustomerID or StaffID link the message to its recipient for access
	// exports and erasure; 0 when there is none.
	CustomerID int64
	StaffID    int64
	// SendAfter delays the message; zero means now.
	SendAfter time.Time
}

// ErrDuplicate is returned by Enqueue when DedupKey was queued before.
var ErrDuplicate = errors.New("mail: a message with this dedup key is already queued")

// Enqueue writes m to the outbox in tx and returns its id. The message is
// sent only if tx commits: a change and the mail it causes happen together
// or not at all.
func Enqueue(ctx context.Context, tx *sql.Tx, m Message, now time.Time) (int64, error) {
	if m.Kind != Transactional && m.Kind != Bulk {
		return 0, fmt.Errorf("mail: unknown kind %q", m.Kind)
	}
	a, err := mail.ParseAddress(m.To)
	if err != nil || a.Address != strings.TrimSpace(m.To) {
		return 0, fmt.Errorf("mail: %q is not an email address", m.To)
	}
	if m.Subject == "" || m.Text == "" || m.Template == "" {
		return 0, errors.New("mail: a message needs a template name, a subject and a text body")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return 0, errors.New("mail: the subject contains a line break")
	}
	sendAfter := m.SendAfter
	if sendAfter.IsZero() {
		sendAfter = now
	}
	var dedup any
	if m.DedupKey != "" {
		dedup = m.DedupKey
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE dedup_key = $1`, m.DedupKey).Scan(&n); err != nil {
			return 0, fmt.Errorf("mail: check dedup key: %w", err)
		}
		if n > 0 {
			return 0, ErrDuplicate
		}
	}
	var customer, staff any
	if m.CustomerID != 0 {
		customer = m.CustomerID
	}
	if m.StaffID != 0 {
		staff = m.StaffID
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, template, to_addr, subject, text_body, html_body, message_id, dedup_key,
		customer_id, staff_id, created_at, send_after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		string(m.Kind), m.Template, a.Address, m.Subject, m.Text, m.HTML, newMessageID(), dedup, customer, staff, now, sendAfter).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("mail: queue %s: %w", m.Template, err)
	}
	return id, nil
}

// newMessageID makes the unique part of the RFC 5322 Message-ID a message
// keeps across retries (the sender adds "@" and the sender's domain), so
// that a receiver can recognise a message delivered twice.
func newMessageID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
