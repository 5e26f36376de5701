package support

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/mailmsg"
	"github.com/storekeep/storekeep/internal/refuse"
)

// ParkedMail is a message that opened no ticket.
type ParkedMail struct {
	ID         int64
	State      string // parked, ignored, released, discarded
	Reason     string
	From       string
	Subject    string
	Recipient  string
	TicketID   int64 // the ticket it seems to belong to, if any
	Size       int
	ReceivedAt time.Time
	DecidedAt  time.Time
}

// ErrDecided is refused for parked mail that a person already decided on.
var ErrDecided = &refuse.Error{Kind: refuse.Conflict, Code: "support_parked_decided", Msg: "this message was already released or discarded"}

// ListParked lists parked mail (state "parked", waiting for a person) or
// the ignored mail ("ignored"), newest first.
func (d *Desk) ListParked(ctx context.Context, state string, limit int) ([]ParkedMail, error) {
	if state != "ignored" && state != "released" && state != "discarded" {
		state = "parked"
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := d.DB.QueryContext(ctx, `SELECT id, state, reason, from_addr, subject, recipient, COALESCE(ticket_id, 0), length(raw), received_at, decided_at
		FROM support_parked WHERE state = $1 ORDER BY received_at DESC, id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("support: list parked mail: %w", err)
	}
	defer rows.Close()
	var out []ParkedMail
	for rows.Next() {
		p, err := scanParked(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func scanParked(row interface{ Scan(...any) error }) (ParkedMail, error) {
	var p ParkedMail
	var decided sql.NullTime
	err := row.Scan(&p.ID, &p.State, &p.Reason, &p.From, &p.Subject, &p.Recipient, &p.TicketID, &p.Size, &p.ReceivedAt, &decided)
	p.DecidedAt = decided.Time
	return p, err
}

// ParkedRaw reads one parked message and its raw mail.
func (d *Desk) ParkedRaw(ctx context.Context, id int64) (ParkedMail, []byte, error) {
	var raw []byte
	var p ParkedMail
	var decided sql.NullTime
	err := d.DB.QueryRowContext(ctx, `SELECT id, state, reason, from_addr, subject, recipient, COALESCE(ticket_id, 0), length(raw), received_at, decided_at, raw
		FROM support_parked WHERE id = $1`, id).Scan(&p.ID, &p.State, &p.Reason, &p.From, &p.Subject, &p.Recipient, &p.TicketID, &p.Size,
		&p.ReceivedAt, &decided, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil, ErrNotFound
	}
	p.DecidedAt = decided.Time
	return p, raw, err
}

// Release makes a parked message what it would have been: a message of
// ticket into (0: the ticket it seemed to belong to, or a new ticket).
// The person's decision overrides the rule that parked it (a stranger in
// the thread, spam that is not); a restricted customer's mail stays
// parked until the restriction is lifted.
func (d *Desk) Release(ctx context.Context, id, into, staffID int64, by audit.Actor) (int64, error) {
	p, raw, err := d.ParkedRaw(ctx, id)
	if err != nil {
		return 0, err
	}
	if p.State != "parked" && p.State != "ignored" {
		return 0, ErrDecided
	}
	m, perr := mailmsg.Parse(raw, mailmsg.Limits{MaxTextBytes: MaxTextBytes})
	if perr != nil {
		return 0, refuse.New(refuse.Conflict, "support_unreadable", "the message cannot be read ("+perr.Error()+"): download the raw message and answer from your mail client")
	}
	if into == 0 {
		into = p.TicketID
	}
	now := d.now()
	in := &incoming{mailID: m.MessageID, dedupKey: dedupKey(m), raw: raw, problems: strings.Join(m.Problems, "\n"), attachments: uploadsOf(m)}
	var ticket int64
	err = d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT state FROM support_parked WHERE id = $1`+d.DB.Dialect.ForUpdate(), id).Scan(&cur); err != nil {
			return err
		}
		if cur != "parked" && cur != "ignored" {
			return ErrDecided
		}
		if into != 0 {
			t, err := d.workable(ctx, tx, into)
			if err != nil {
				return err
			}
			if _, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: ByCustomer, channel: Email, fromAddr: m.From,
				fromName: m.FromName, text: m.Text, html: m.HTML, mail: in}, now); err != nil {
				return err
			}
			if err := reopen(ctx, tx, t, now); err != nil {
				return err
			}
			ticket = t.ID
		} else {
			var c int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM customers WHERE email = $1), 0)`, m.From).Scan(&c); err != nil {
				return err
			}
			if r, err := CustomerRestricted(ctx, tx, c); err != nil || r {
				if err == nil {
					err = ErrRestricted
				}
				return err
			}
			t, err := d.open(ctx, tx, NewTicket{Email: m.From, Name: m.FromName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
				Channel: Email, CustomerID: c, By: by, mail: in})
			if err != nil {
				return err
			}
			ticket = t.ID
		}
		if _, err := tx.ExecContext(ctx, `UPDATE support_parked SET state = 'released', ticket_id = $2, decided_at = $3, decided_by = $4 WHERE id = $1`,
			id, ticket, now, nullID(staffID)); err != nil {
			return err
		}
		return auditTicket(ctx, tx, by, now, "support.parked_released", ticket, "parked message "+strconv.FormatInt(id, 10))
	})
	return ticket, err
}

// Discard marks a parked message as discarded: it is kept (as the purge
// keeps decided mail for a while) but no longer waits for anyone.
func (d *Desk) Discard(ctx context.Context, id, staffID int64, by audit.Actor) error {
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := d.now()
		res, err := tx.ExecContext(ctx, `UPDATE support_parked SET state = 'discarded', decided_at = $2, decided_by = $3
			WHERE id = $1 AND state IN ('parked', 'ignored')`, id, now, nullID(staffID))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var s string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM support_parked WHERE id = $1`, id).Scan(&s); errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return ErrDecided
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "support.parked_discarded", SubjectType: "support_parked",
			SubjectID: strconv.FormatInt(id, 10)}.By(by))
		return err
	})
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
