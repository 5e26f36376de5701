// Package support is the support desk: tickets opened by mail (delivered
// by the vendor's Postfix over LMTP or SMTP, or piped to `storekeep
// support ingest`), by the web form and from the console; their threads
// of customer messages, staff replies and internal notes; states,
// assignment, tags, canned replies, response targets and merging; and the
// mail that opened no ticket, parked for a person with its reason.
//
// A staff reply goes out through the outbox with its own Message-ID,
// In-Reply-To and References, and a Reply-To of support+TOKEN@, so that
// the customer's answer finds its ticket again (Thread) whichever way
// their mail client threads. What arrives is kept: the raw message with
// every message that came by mail, and every message that opened no
// ticket in the parked list (docs/support.md).
//
// Personal data in these tables is declared in the privacy inventory
// (inventory_support.go): access, erasure, restriction and retention work
// on it without code of their own here. Nothing here logs an address,
// a subject or message text.
package support

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
)

// State is where a ticket stands.
type State string

// The states of a ticket. New until staff first act on it; Waiting while
// staff wait for the customer; Solved when staff think it is done (the
// customer's next message opens it again); Closed a week after it was
// solved, for good: a message to a closed ticket opens a follow-up.
const (
	New     State = "new"
	Open    State = "open"
	Waiting State = "waiting"
	Solved  State = "solved"
	Closed  State = "closed"
)

// States lists the states in their order of progress.
var States = []State{New, Open, Waiting, Solved, Closed}

// Valid reports whether s is a state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Label is the state in words.
func (s State) Label() string {
	switch s {
	case New:
		return "New"
	case Open:
		return "Open"
	case Waiting:
		return "Waiting for customer"
	case Solved:
		return "Solved"
	case Closed:
		return "Closed"
	}
	return string(s)
}

// Active reports whether the ticket still needs staff: it counts against
// the response targets.
func (s State) Active() bool { return s == New || s == Open }

// Channel is how a ticket or message arrived.
type Channel string

// The channels.
const (
	Email   Channel = "email"
	Web     Channel = "web"
	Console Channel = "console"
)

// Author is who wrote a message.
type Author string

// The authors of messages.
const (
	ByCustomer Author = "customer"
	ByStaff    Author = "staff"
	BySystem   Author = "system"
)

// Ticket is one support request and its state.
type Ticket struct {
	ID               int64
	Token            string // the reply token of support+TOKEN@ addresses
	CustomerID       int64  // 0 when the address has no account
	Email            string
	Name             string
	Subject          string
	State            State
	Channel          Channel
	AssigneeID       int64
	AssigneeName     string // filled by Get and List
	MergedInto       int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	FirstResponseAt  time.Time
	SolvedAt         time.Time
	ClosedAt         time.Time
	Tags             []string
}

// Number is the ticket's number as people see it.
func (t Ticket) Number() string { return "#" + strconv.FormatInt(t.ID, 10) }

// Tag is the ticket's tag in mail subjects, which threads a reply whose
// headers were lost (Thread, step 3).
func (t Ticket) Tag() string { return "[Support #" + strconv.FormatInt(t.ID, 10) + "]" }

// Overdue says which response target the ticket has missed at now: the
// first response (no staff reply yet, past FirstResponseDue) or the
// resolution (not solved, past ResolutionDue). Waiting, solved and
// closed tickets are never overdue.
func (t Ticket) Overdue(now time.Time) (firstResponse, resolution bool) {
	if !t.State.Active() {
		return false, false
	}
	return t.FirstResponseAt.IsZero() && now.After(t.FirstResponseDue), now.After(t.ResolutionDue)
}

// Message is one entry of a ticket's thread.
type Message struct {
	ID          int64
	TicketID    int64
	Author      Author
	StaffID     int64
	StaffName   string
	Internal    bool // an internal note: never shown to the customer
	Channel     Channel
	FromAddr    string
	FromName    string
	Text        string
	HTML        string // sanitised when it came by mail (internal/mailmsg)
	MailID      string // the Message-ID, for mail
	HasRaw      bool   // the raw message is kept
	Problems    string // what could not be read of a mail
	CreatedAt   time.Time
	Attachments []AttachmentInfo
}

// AttachmentInfo describes a stored attachment without its bytes.
type AttachmentInfo struct {
	ID          int64
	MessageID   int64
	Filename    string
	ContentType string
	Size        int64
	SHA256      string
}

// Upload is a file attached to a message from the web form, the account
// or the console.
type Upload struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Desk is the support desk.
type Desk struct {
	DB    *db.DB
	Clock clock.Clock
	// Limiter keeps one automatic reply per sender a day and parks a
	// flood; nil sends no automatic replies and parks nothing for volume.
	Limiter *ratelimit.Limiter
	// Log gets one line per received message: outcome and ticket number,
	// never an address or text.
	Log *slog.Logger
	// MaxBytes is the largest message taken by mail; 0 = DefaultMaxBytes.
	MaxBytes int64
	// BaseURL is the site's address, for links in mail ("" = relative).
	BaseURL string
}

// DefaultMaxBytes is the largest message taken by mail: big enough for
// logs and screenshots, refused beyond with 552 by the listener.
const DefaultMaxBytes = 25 << 20

func (d *Desk) now() time.Time {
	if d.Clock == nil {
		return time.Now().UTC()
	}
	return d.Clock.Now().UTC()
}

func (d *Desk) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// MaxMessageBytes is the largest message the desk takes by mail.
func (d *Desk) MaxMessageBytes() int64 {
	if d.MaxBytes > 0 {
		return d.MaxBytes
	}
	return DefaultMaxBytes
}

// Limits on what a ticket holds.
const (
	MaxSubjectRunes = 200
	MaxTextBytes    = 256 << 10
	MaxUploadBytes  = 10 << 20 // one file from a form
	MaxUploads      = 5
	MaxTags         = 10
	maxTagRunes     = 30
)

// Refusals.
var (
	ErrNotFound   = &refuse.Error{Kind: refuse.NotFound, Code: "support_not_found", Msg: "no such ticket"}
	ErrClosed     = &refuse.Error{Kind: refuse.Conflict, Code: "support_closed", Msg: "the ticket is closed: open a new one, or reply to it to open a follow-up"}
	ErrRestricted = &refuse.Error{Kind: refuse.Conflict, Code: "support_restricted",
		Msg: "the customer has restricted the processing of their data: the ticket is kept but cannot be worked on until the restriction is lifted"}
	ErrEmpty  = &refuse.Error{Kind: refuse.Invalid, Code: "support_empty", Field: "text", Msg: "the message is empty: write what you need help with"}
	ErrMerged = &refuse.Error{Kind: refuse.Conflict, Code: "support_merged", Msg: "the ticket was merged into another: work on that one"}
)

// newToken makes a reply token: 20 characters of base32 (100 bits).
func newToken() string {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
}

// validToken reports whether s looks like a reply token, before a lookup.
func validToken(s string) bool {
	if len(s) != 20 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return false
		}
	}
	return true
}

const ticketColumns = `t.id, t.token, COALESCE(t.customer_id, 0), t.email, t.name, t.subject, t.state, t.channel,
	COALESCE(t.assignee_id, 0), COALESCE(s.name, ''), COALESCE(t.merged_into, 0), t.created_at, t.updated_at,
	t.first_response_due, t.resolution_due, t.first_response_at, t.solved_at, t.closed_at`

const ticketFrom = ` FROM support_tickets t LEFT JOIN staff s ON s.id = t.assignee_id`

func scanTicket(row interface{ Scan(...any) error }) (Ticket, error) {
	var t Ticket
	var first, solved, closed sql.NullTime
	err := row.Scan(&t.ID, &t.Token, &t.CustomerID, &t.Email, &t.Name, &t.Subject, &t.State, &t.Channel,
		&t.AssigneeID, &t.AssigneeName, &t.MergedInto, &t.CreatedAt, &t.UpdatedAt,
		&t.FirstResponseDue, &t.ResolutionDue, &first, &solved, &closed)
	t.FirstResponseAt, t.SolvedAt, t.ClosedAt = first.Time, solved.Time, closed.Time
	return t, err
}

// Ticket reads one ticket with its tags.
func (d *Desk) Ticket(ctx context.Context, id int64) (Ticket, error) {
	return loadTicket(ctx, d.DB, id)
}

func loadTicket(ctx context.Context, q db.Querier, id int64) (Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("support: read ticket %d: %w", id, err)
	}
	t.Tags, err = tags(ctx, q, id)
	return t, err
}

func tags(ctx context.Context, q db.Querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM support_tags WHERE ticket_id = $1 ORDER BY tag`, id)
	if err != nil {
		return nil, fmt.Errorf("support: read tags: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Thread reads a ticket's messages, oldest first, with their attachments;
// internal notes only when withNotes.
func (d *Desk) Thread(ctx context.Context, ticketID int64, withNotes bool) ([]Message, error) {
	rows, err := d.DB.QueryContext(ctx, `SELECT m.id, m.ticket_id, m.author, COALESCE(m.staff_id, 0), COALESCE(s.name, ''), m.internal,
		m.channel, m.from_addr, m.from_name, m.body_text, m.body_html, m.mail_id, m.raw IS NOT NULL, m.problems, m.created_at
		FROM support_messages m LEFT JOIN staff s ON s.id = m.staff_id
		WHERE m.ticket_id = $1 AND (m.internal = FALSE OR $2) ORDER BY m.id`, ticketID, withNotes)
	if err != nil {
		return nil, fmt.Errorf("support: read thread: %w", err)
	}
	defer rows.Close()
	var out []Message
	byID := map[int64]int{}
	for rows.Next() {
		var m Message
		if err := rows.Scan(&m.ID, &m.TicketID, &m.Author, &m.StaffID, &m.StaffName, &m.Internal, &m.Channel, &m.FromAddr, &m.FromName,
			&m.Text, &m.HTML, &m.MailID, &m.HasRaw, &m.Problems, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("support: read thread: %w", err)
		}
		byID[m.ID] = len(out)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	arows, err := d.DB.QueryContext(ctx, `SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256
		FROM support_attachments a JOIN support_messages m ON m.id = a.message_id WHERE m.ticket_id = $1 ORDER BY a.id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("support: read attachments: %w", err)
	}
	defer arows.Close()
	for arows.Next() {
		var a AttachmentInfo
		if err := arows.Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256); err != nil {
			return nil, err
		}
		if i, ok := byID[a.MessageID]; ok {
			out[i].Attachments = append(out[i].Attachments, a)
		}
	}
	return out, arows.Err()
}

// Attachment reads one attachment of a ticket: its description and bytes.
// It refuses an attachment of another ticket, or of an internal note when
// !withNotes (the customer's view).
func (d *Desk) Attachment(ctx context.Context, ticketID, id int64, withNotes bool) (AttachmentInfo, []byte, error) {
	var a AttachmentInfo
	var data []byte
	err := d.DB.QueryRowContext(ctx, `SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.sha256, a.data
		FROM support_attachments a JOIN support_messages m ON m.id = a.message_id
		WHERE a.id = $1 AND m.ticket_id = $2 AND (m.internal = FALSE OR $3)`, id, ticketID, withNotes).
		Scan(&a.ID, &a.MessageID, &a.Filename, &a.ContentType, &a.Size, &a.SHA256, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil, ErrNotFound
	}
	if err != nil {
		return a, nil, fmt.Errorf("support: read attachment: %w", err)
	}
	return a, data, nil
}

// Raw reads the raw mail of a message, as it arrived.
func (d *Desk) Raw(ctx context.Context, ticketID, messageID int64) ([]byte, error) {
	var raw []byte
	err := d.DB.QueryRowContext(ctx, `SELECT raw FROM support_messages WHERE id = $1 AND ticket_id = $2 AND raw IS NOT NULL`,
		messageID, ticketID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("support: read raw message: %w", err)
	}
	return raw, nil
}
