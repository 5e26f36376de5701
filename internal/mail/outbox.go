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
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/privacy"
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
	// UnsubscribeURL is required for Bulk mail: the address (https, or
	// mailto:) that ends the recipient's subscription. The sender puts it
	// in the List-Unsubscribe header; an https address also gets RFC 8058
	// one-click unsubscribing.
	UnsubscribeURL string
	// Purpose is the inventory purpose the message serves (privacy
	// package), e.g. "delivery" or "notices". With a CustomerID, Enqueue
	// refuses a message the customer's choices do not permit (restriction,
	// objection, missing consent). Empty for mail the person asked for
	// just now, such as a sign-in link.
	Purpose string
}

// ErrNotPermitted is returned by Enqueue when the recipient's choices
// (restriction, objection, withdrawn consent) forbid the message.
var ErrNotPermitted = errors.New("mail: the recipient's privacy choices do not permit this message")

// ErrDuplicate is returned by Enqueue when DedupKey was queued before.
var ErrDuplicate = errors.New("mail: a message with this dedup key is already queued")

// Enqueue writes m to the outbox in tx and returns its id. The message is
// sent only if tx commits: a change and the mail it causes happen together
// or not at all.
func Enqueue(ctx context.Context, tx *sql.Tx, m Message, now time.Time) (int64, error) {
	to, err := m.validate()
	if err != nil {
		return 0, err
	}
	if m.CustomerID != 0 && m.Purpose != "" {
		c, err := privacy.LoadChoices(ctx, tx, m.CustomerID)
		if err != nil {
			return 0, err
		}
		if ok, why := c.Permits(privacy.Declared, m.Purpose); !ok {
			return 0, fmt.Errorf("%w: %s", ErrNotPermitted, why)
		}
	}
	sendAfter := m.SendAfter
	if sendAfter.IsZero() {
		sendAfter = now
	}
	var dedup, customer, staff any
	if m.DedupKey != "" {
		dedup = m.DedupKey
	}
	if m.CustomerID != 0 {
		customer = m.CustomerID
	}
	if m.StaffID != 0 {
		staff = m.StaffID
	}
	// ON CONFLICT DO NOTHING rather than a check and an insert: two
	// transactions queueing the same key at once both pass a check, and on
	// PostgreSQL the loser's failed insert would abort the caller's whole
	// transaction. This way the loser waits for the winner to commit and
	// then gets no row: ErrDuplicate, with its transaction intact.
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, template, to_addr, subject, text_body, html_body, message_id, dedup_key,
		customer_id, staff_id, created_at, send_after, unsubscribe_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
		string(m.Kind), m.Template, to, m.Subject, m.Text, m.HTML, newMessageID(), dedup, customer, staff,
		now.UTC(), sendAfter.UTC(), m.UnsubscribeURL).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrDuplicate
	}
	if err != nil {
		return 0, fmt.Errorf("mail: queue %s: %w", m.Template, err)
	}
	return id, nil
}

// Limits on what Enqueue accepts.
const (
	maxAddress = 254 // RFC 5321's path limit, less the angle brackets
	maxSubject = 998 // RFC 5322's line limit
)

// validate checks m and returns the recipient's bare address. Everything
// that ends up in a header is checked here, once, so that no data can add
// headers of its own (header injection).
func (m Message) validate() (string, error) {
	if m.Kind != Transactional && m.Kind != Bulk {
		return "", fmt.Errorf("mail: unknown kind %q", m.Kind)
	}
	to, err := checkAddress(m.To)
	if err != nil {
		return "", err
	}
	if m.Subject == "" || m.Text == "" || m.Template == "" {
		return "", errors.New("mail: a message needs a template name, a subject and a text body")
	}
	if strings.ContainsAny(m.Subject, "\r\n") || len(m.Subject) > maxSubject {
		return "", errors.New("mail: the subject contains a line break or is too long")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return "", errors.New("mail: the message is not valid UTF-8")
	}
	if m.Kind == Bulk || m.UnsubscribeURL != "" {
		if err := checkUnsubscribeURL(m.UnsubscribeURL); err != nil {
			return "", err
		}
	}
	return to, nil
}

// checkAddress accepts one bare address (no display name, no comments, no
// line breaks) and returns it.
func checkAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > maxAddress || strings.ContainsAny(s, "\r\n") {
		// The address itself stays out of the error, which may be logged.
		return "", errors.New("mail: the recipient is not one email address")
	}
	// Stored in lower case, like every address in Storekeep, so that access
	// and erasure find a person's mail by an indexed equality.
	return strings.ToLower(a.Address), nil
}

// checkUnsubscribeURL accepts an absolute https or mailto URL without
// spaces, commas or angle brackets, which would break the header's syntax.
func checkUnsubscribeURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || strings.ContainsAny(s, " \t\r\n<>,") ||
		!((u.Scheme == "https" && u.Host != "") || (u.Scheme == "mailto" && u.Opaque != "")) {
		return errors.New("mail: bulk mail needs an unsubscribe address (https:// or mailto:)")
	}
	return nil
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
