package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// State is where a message is on its way out.
type State string

// The states of a message. Queued messages wait for their send_after (a
// first attempt, or a retry after a failure); sending ones are leased by a
// worker right now; failed ones were given up after MaxAttempts attempts
// or a permanent refusal.
const (
	StateQueued  State = "queued"
	StateSending State = "sending"
	StateSent    State = "sent"
	StateFailed  State = "failed"
)

// States lists the states staff can filter by.
var States = []State{StateQueued, StateSent, StateFailed}

// Entry is one outbox row as the consoles show it.
type Entry struct {
	ID          int64
	Kind        Kind
	Template    string
	To          string
	Subject     string
	Text, HTML  string // filled by Get only
	MessageID   string
	DedupKey    string
	CustomerID  int64
	StaffID     int64
	CreatedAt   time.Time
	SendAfter   time.Time
	Attempts    int
	LastError   string
	LockedUntil time.Time // zero when not leased
	SentAt      time.Time // zero until sent
	Transport   string
	State       State
}

// ErrNotFound is returned for an outbox id that does not exist.
var ErrNotFound = errors.New("mail: no such message")

// ErrBusy is returned by Resend for a message a worker is sending now.
var ErrBusy = errors.New("mail: the message is being sent right now")

// Filter selects outbox entries for List.
type Filter struct {
	State    State // empty: all
	BeforeID int64 // only entries with a smaller id (the next page)
	Limit    int   // default 100
}

const entryColumns = `id, kind, template, to_addr, subject, message_id, COALESCE(dedup_key, ''), COALESCE(customer_id, 0),
	COALESCE(staff_id, 0), created_at, send_after, attempts, last_error, locked_until, sent_at, transport`

func scanEntry(sc interface{ Scan(...any) error }, now time.Time, extra ...any) (Entry, error) {
	var e Entry
	var kind string
	var locked, sent sql.NullTime
	dest := append([]any{&e.ID, &kind, &e.Template, &e.To, &e.Subject, &e.MessageID, &e.DedupKey, &e.CustomerID,
		&e.StaffID, &e.CreatedAt, &e.SendAfter, &e.Attempts, &e.LastError, &locked, &sent, &e.Transport}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return e, err
	}
	e.Kind = Kind(kind)
	e.LockedUntil, e.SentAt = locked.Time, sent.Time
	switch {
	case sent.Valid:
		e.State = StateSent
	case e.Attempts >= MaxAttempts:
		e.State = StateFailed
	case locked.Valid && locked.Time.After(now):
		e.State = StateSending
	default:
		e.State = StateQueued
	}
	return e, nil
}

// List returns outbox entries, newest first, without their bodies.
// "queued" includes messages being sent.
func List(ctx context.Context, q db.Querier, f Filter, now time.Time) ([]Entry, error) {
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	switch f.State {
	case "":
	case StateQueued:
		arg("sent_at IS NULL AND attempts < ?", MaxAttempts)
	case StateSent:
		where = append(where, "sent_at IS NOT NULL")
	case StateFailed:
		arg("sent_at IS NULL AND attempts >= ?", MaxAttempts)
	default:
		return nil, fmt.Errorf("mail: unknown state %q", f.State)
	}
	if f.BeforeID > 0 {
		arg("id < ?", f.BeforeID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	query := `SELECT ` + entryColumns + ` FROM outbox`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("mail: list outbox: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows, now)
		if err != nil {
			return nil, fmt.Errorf("mail: list outbox: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Counts returns how many messages are in each state ("queued" includes
// those being sent).
func Counts(ctx context.Context, q db.Querier) (map[State]int, error) {
	var queued, sent, failed int
	err := q.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN sent_at IS NULL AND attempts < $1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at IS NULL AND attempts >= $1 THEN 1 ELSE 0 END), 0)
		FROM outbox`, MaxAttempts).Scan(&queued, &sent, &failed)
	if err != nil {
		return nil, fmt.Errorf("mail: count outbox: %w", err)
	}
	return map[State]int{StateQueued: queued, StateSent: sent, StateFailed: failed}, nil
}

// Get returns one entry with its text and HTML bodies.
func Get(ctx context.Context, q db.Querier, id int64, now time.Time) (Entry, error) {
	row := q.QueryRowContext(ctx, `SELECT `+entryColumns+`, text_body, html_body FROM outbox WHERE id = $1`, id)
	var text, html string
	e, err := scanEntry(row, now, &text, &html)
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("mail: read message %d: %w", id, err)
	}
	e.Text, e.HTML = text, html
	return e, nil
}

// Resend queues message id again, in tx. A message not yet sent (queued
// or failed) gets a fresh start: attempts reset, due now. A sent message
// is copied into a new message with a new Message-ID (it is a new email
// to the receiver, not a retry of the old one); its id is returned.
// Resend refuses a message that a worker is sending right now (ErrBusy).
func Resend(ctx context.Context, tx *sql.Tx, id int64, now time.Time) (newID int64, err error) {
	now = now.UTC()
	var sent bool
	err = tx.QueryRowContext(ctx, `SELECT sent_at IS NOT NULL FROM outbox WHERE id = $1`, id).Scan(&sent)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("mail: resend %d: %w", id, err)
	}
	if sent {
		err = tx.QueryRowContext(ctx, `INSERT INTO outbox (kind, template, to_addr, subject, text_body, html_body, message_id,
			customer_id, staff_id, created_at, send_after, unsubscribe_url, recipient_kind)
			SELECT kind, template, to_addr, subject, text_body, html_body, $2, customer_id, staff_id, $3, $3, unsubscribe_url, recipient_kind
			FROM outbox WHERE id = $1 RETURNING id`, id, NewMessageID(), now).Scan(&newID)
		if err != nil {
			return 0, fmt.Errorf("mail: resend %d: %w", id, err)
		}
		return newID, nil
	}
	// Only when no worker holds the lease: resetting a message in flight
	// would let a second worker send it alongside the first.
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = 0, last_error = '', send_after = $2, locked_until = NULL, locked_by = ''
		WHERE id = $1 AND sent_at IS NULL AND (locked_until IS NULL OR locked_until < $2)`, id, now)
	if err != nil {
		return 0, fmt.Errorf("mail: resend %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, ErrBusy
	}
	return id, nil
}
