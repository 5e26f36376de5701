package notices

import (
	"context"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// MessageStatus is what became of one recipient's message, derived from
// the recipient row, its outbox row (sent, bounced, complained: the
// bounce handling sets those) and the unsubscribes its link caused.
type MessageStatus string

// The statuses, in the order a later one overrides an earlier one.
const (
	StatusWaiting      MessageStatus = "waiting"      // not yet in the outbox (the rate, or paused)
	StatusSkipped      MessageStatus = "skipped"      // their choices changed after the notice started
	StatusQueued       MessageStatus = "queued"       // in the outbox, not yet sent
	StatusFailed       MessageStatus = "failed"       // the outbox gave up (mail.MaxAttempts)
	StatusSent         MessageStatus = "sent"         // the relay accepted it
	StatusBounced      MessageStatus = "bounced"      // a delivery status notification came back
	StatusComplained   MessageStatus = "complained"   // the recipient reported it as spam
	StatusUnsubscribed MessageStatus = "unsubscribed" // the recipient followed its unsubscribe link
	StatusSuppressed   MessageStatus = "suppressed"   // not sent: the address is on the suppression list (internal/mail)
)

// MessageStatuses lists every status, for the totals' columns.
var MessageStatuses = []MessageStatus{StatusWaiting, StatusQueued, StatusSent, StatusBounced, StatusComplained, StatusUnsubscribed, StatusSuppressed, StatusFailed, StatusSkipped}

// statusSQL derives the status of recipient r with outbox row o.
const statusSQL = `CASE
	WHEN EXISTS (SELECT 1 FROM unsubscribes u WHERE u.notice_recipient_id = r.id) THEN 'unsubscribed'
	WHEN o.complained_at IS NOT NULL THEN 'complained'
	WHEN o.bounced_at IS NOT NULL THEN 'bounced'
	WHEN o.sent_at IS NOT NULL THEN 'sent'
	WHEN o.suppressed_at IS NOT NULL THEN 'suppressed'
	WHEN r.state = 'skipped' THEN 'skipped'
	WHEN r.state = 'waiting' THEN 'waiting'
	WHEN o.id IS NULL THEN 'queued'
	WHEN o.attempts >= 25 THEN 'failed'
	ELSE 'queued' END`

// Totals counts a notice's messages by status.
type Totals map[MessageStatus]int

// All is the number of recipients.
func (t Totals) All() int {
	n := 0
	for _, v := range t {
		n += v
	}
	return n
}

// Get is the count of one status (templates cannot index by a typed key).
func (t Totals) Get(s string) int { return t[MessageStatus(s)] }

// TotalsOf counts the notice's messages by status, in one query.
func TotalsOf(ctx context.Context, q db.Querier, noticeID int64) (Totals, error) {
	rows, err := q.QueryContext(ctx, `SELECT st, COUNT(*) FROM (SELECT `+statusSQL+` AS st
		FROM notice_recipients r LEFT JOIN outbox o ON o.id = r.outbox_id WHERE r.notice_id = $1) s GROUP BY st`, noticeID)
	if err != nil {
		return nil, fmt.Errorf("notice totals: %w", err)
	}
	defer rows.Close()
	t := Totals{}
	for rows.Next() {
		var s string
		var c int
		if err := rows.Scan(&s, &c); err != nil {
			return nil, err
		}
		t[MessageStatus(s)] = c
	}
	return t, rows.Err()
}

// Message is one recipient's message as the console lists it.
type Message struct {
	RecipientID int64
	Email       string
	Status      MessageStatus
	Reason      string    // why skipped
	QueuedAt    time.Time // zero while waiting
}

// Messages lists the notice's messages by recipient, at most limit from
// after (a recipient id, 0 for the first page), optionally of one status.
func Messages(ctx context.Context, q db.Querier, noticeID int64, status MessageStatus, after int64, limit int) ([]Message, error) {
	query := `SELECT id, email, st, skip_reason, dispatched_at FROM (SELECT r.id, r.email, ` + statusSQL + ` AS st, r.skip_reason, r.dispatched_at
		FROM notice_recipients r LEFT JOIN outbox o ON o.id = r.outbox_id WHERE r.notice_id = $1 AND r.id > $2) s`
	a := []any{noticeID, after}
	if status != "" {
		query += ` WHERE st = $3`
		a = append(a, string(status))
	}
	query += fmt.Sprintf(` ORDER BY id LIMIT %d`, limit)
	rows, err := q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("notice messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var st string
		var at *time.Time
		if err := rows.Scan(&m.RecipientID, &m.Email, &st, &m.Reason, &at); err != nil {
			return nil, err
		}
		m.Status = MessageStatus(st)
		if at != nil {
			m.QueuedAt = at.UTC()
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
