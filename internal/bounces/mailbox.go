package bounces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/inbound"
	"github.com/storekeep/storekeep/internal/mail"
)

// Defaults of Config.
const (
	DefaultSoftLimit  = 3
	DefaultSoftWindow = 30 * 24 * time.Hour
	// DefaultMaxBytes is the largest report taken: reports carry the
	// returned message, and a receipt's invoice PDF with it.
	DefaultMaxBytes = 4 << 20
)

// Config configures the bounces mailbox.
type Config struct {
	DB *db.DB
	// Secret is the installation secret: the key of the VERP tags and of
	// the suppression list's hashes, as the outbox worker uses them.
	Secret []byte
	// Local and Domain are the return path's (mail.Worker.BounceLocal,
	// BounceDomain): the mailbox takes Local@ and Local+tag@ addresses,
	// at Domain when one is set, at any domain otherwise (the mail server
	// routes only ours here; the tag's MAC decides).
	Local, Domain string
	Clock         clock.Clock // nil: the system clock
	// SoftLimit soft bounces within SoftWindow, with no delivery between,
	// suppress an address (defaults 3 and 30 days).
	SoftLimit  int
	SoftWindow time.Duration
	MaxBytes   int64
}

func (c Config) verp() mail.VERP {
	return mail.VERP{Secret: c.Secret, Local: c.Local, Domain: c.Domain}
}

func (c Config) now() time.Time {
	if c.Clock == nil {
		return time.Now().UTC()
	}
	return c.Clock.Now().UTC()
}

// Mailbox is the inbound mailbox of the return path: it reads each report
// and records it (Record).
func (c Config) Mailbox() inbound.Mailbox {
	if c.SoftLimit <= 0 {
		c.SoftLimit = DefaultSoftLimit
	}
	if c.SoftWindow <= 0 {
		c.SoftWindow = DefaultSoftWindow
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return mailbox{c}
}

type mailbox struct{ cfg Config }

func (m mailbox) Name() string    { return "bounces" }
func (m mailbox) MaxBytes() int64 { return m.cfg.MaxBytes }

// Accepts takes the return path's untagged address and its tagged ones
// with a genuine MAC; a forged or mistyped tag is no recipient here
// (550 5.1.1 at RCPT), so nothing is read or changed.
func (m mailbox) Accepts(_ context.Context, rcpt string) (bool, error) {
	v := m.cfg.verp()
	if !v.IsBounceAddress(rcpt) {
		return false, nil
	}
	local, _, _ := strings.Cut(rcpt, "@")
	if !strings.Contains(local, "+") {
		return true, nil
	}
	_, ok := v.Parse(rcpt)
	return ok, nil
}

var errUnreadable = &inbound.Reply{Code: 550, Enhanced: [3]int{5, 6, 0},
	Message: "The message is no delivery status notification or complaint report this address can read"}

// Deliver reads a report and records it. A report it cannot read is
// refused (550 5.6.0), changing nothing; one about no message of ours, or
// one recorded before, is accepted and changes nothing (refusing it would
// only make more mail).
func (m mailbox) Deliver(ctx context.Context, env inbound.Envelope, raw []byte) error {
	r, err := Parse(raw)
	if err != nil {
		inbound.LogAttrs(ctx, "detail", err.Error())
		return errUnreadable
	}
	id, _ := m.cfg.verp().Parse(env.Recipient)
	o, err := m.cfg.Record(ctx, id, r)
	if err != nil {
		return err
	}
	attrs := []any{"detail", string(o.Result), "report", r.Format, "kind", string(r.Kind)}
	if o.OutboxID != 0 {
		attrs = append(attrs, "outbox_id", o.OutboxID)
	}
	if o.Suppressed {
		attrs = append(attrs, "suppressed", true)
	}
	inbound.LogAttrs(ctx, attrs...)
	return nil
}

// Result is what recording a report did.
type Result string

// The results of Record.
const (
	Recorded      Result = "recorded"
	Duplicate     Result = "already recorded: nothing changed"
	UnknownMsg    Result = "no outbox message matches the report: nothing changed"
	NothingToMark Result = "not a failure or complaint (a delay warning or another feedback type): nothing changed"
)

// Outcome is what Record did with one report.
type Outcome struct {
	Result     Result
	OutboxID   int64
	Suppressed bool // the address was put on the suppression list now
	SoftCount  int  // for a soft bounce: the soft bounces counted
}

// Record applies a report to the outbox message it is about: outboxID
// from the VERP address it came to, or (0) the returned Message-ID. A
// hard bounce or a complaint marks the message and suppresses its
// address; a soft bounce marks it and suppresses the address once
// SoftLimit of them arrived within SoftWindow with no delivery between.
// The same report twice changes nothing the second time.
func (c Config) Record(ctx context.Context, outboxID int64, r Report) (Outcome, error) {
	if c.SoftLimit <= 0 {
		c.SoftLimit = DefaultSoftLimit
	}
	if c.SoftWindow <= 0 {
		c.SoftWindow = DefaultSoftWindow
	}
	if r.Kind == NotFailure {
		return Outcome{Result: NothingToMark, OutboxID: outboxID}, nil
	}
	now := c.now()
	var out Outcome
	err := c.DB.Tx(ctx, func(tx *sql.Tx) error {
		out = Outcome{}
		msg, ok, err := findMessage(ctx, tx, outboxID, r.MessageID)
		if err != nil {
			return err
		}
		if !ok {
			out.Result = UnknownMsg
			return nil
		}
		out.OutboxID = msg.id
		var res sql.Result
		if r.Kind == Complaint {
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET complained_at = $2 WHERE id = $1 AND complained_at IS NULL`, msg.id, now)
		} else {
			// A hard bounce may follow a soft one for the same message
			// (the server gave up); nothing else overwrites a bounce.
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET bounced_at = $2, bounce_kind = $3, bounce_detail = $4
				WHERE id = $1 AND (bounced_at IS NULL OR (bounce_kind = 'soft' AND $3 = 'hard'))`,
				msg.id, now, string(r.Kind), r.Detail())
		}
		if err != nil {
			return fmt.Errorf("bounces: mark outbox message: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			out.Result = Duplicate
			return nil
		}
		out.Result = Recorded
		reason := ""
		switch r.Kind {
		case Hard:
			reason = mail.ReasonHardBounce
		case Complaint:
			reason = mail.ReasonComplaint
		case Soft:
			out.SoftCount, err = softBounces(ctx, tx, msg.to, now.Add(-c.SoftWindow))
			if err != nil {
				return err
			}
			if out.SoftCount >= c.SoftLimit {
				reason = mail.ReasonSoftBounces
			}
		}
		if reason == "" {
			return nil
		}
		out.Suppressed, err = mail.NewSuppressions(c.Secret).Add(ctx, tx, msg.to,
			mail.Suppression{Reason: reason, Detail: r.Detail(), OutboxID: msg.id, CustomerID: msg.customer}, now)
		return err
	})
	if err != nil {
		return Outcome{}, err
	}
	return out, nil
}

type outboxMessage struct {
	id       int64
	to       string
	customer int64
}

// findMessage finds the outbox message by id, or else by its Message-ID:
// stored whole (the support desk's) or as the unique part before "@".
func findMessage(ctx context.Context, tx *sql.Tx, id int64, messageID string) (outboxMessage, bool, error) {
	var m outboxMessage
	var err error
	switch {
	case id != 0:
		err = tx.QueryRowContext(ctx, `SELECT id, to_addr, COALESCE(customer_id, 0) FROM outbox WHERE id = $1`, id).
			Scan(&m.id, &m.to, &m.customer)
	case messageID != "":
		local, _, _ := strings.Cut(messageID, "@")
		err = tx.QueryRowContext(ctx, `SELECT id, to_addr, COALESCE(customer_id, 0) FROM outbox
			WHERE message_id = $1 OR message_id = $2 ORDER BY id LIMIT 1`, messageID, local).
			Scan(&m.id, &m.to, &m.customer)
	default:
		return m, false, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("bounces: find the outbox message: %w", err)
	}
	return m, true, nil
}

// softBounces counts the soft-bounced messages to address sent since
// since, newest first, up to the newest message that arrived (sent, not
// bounced) before the newest soft-bounced one: a delivery between starts
// the count again. Messages sent after the newest soft-bounced one say
// nothing yet (their bounce may still come).
func softBounces(ctx context.Context, tx *sql.Tx, address string, since time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sent_at, bounce_kind FROM outbox
		WHERE to_addr = $1 AND sent_at IS NOT NULL ORDER BY sent_at DESC, id DESC`, address)
	if err != nil {
		return 0, fmt.Errorf("bounces: count soft bounces: %w", err)
	}
	defer rows.Close()
	n, seen := 0, false
	for rows.Next() {
		var sent time.Time
		var kind string
		if err := rows.Scan(&sent, &kind); err != nil {
			return 0, err
		}
		switch {
		case kind == "soft" && sent.Before(since):
			return n, rows.Err()
		case kind == "soft":
			n++
			seen = true
		case kind == "" && seen:
			return n, rows.Err() // delivered between: the count ends here
		}
	}
	return n, rows.Err()
}
