package support

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
)

// NewTicket is a ticket to open with its first message.
type NewTicket struct {
	Email   string // the customer's address
	Name    string
	Subject string
	Text    string
	HTML    string // sanitised HTML of a mail, if any
	Channel Channel
	// CustomerID links the ticket to an account; 0 looks the address up.
	CustomerID int64
	Uploads    []Upload
	// By opened the ticket: the customer (web form, account), a member of
	// staff (console, on the customer's behalf) or the system (mail).
	By audit.Actor
	// StaffID, for a ticket opened in the console, writes the first
	// message as the staff member's (a note of the phone call, say).
	StaffID int64
	// mail is the mail the ticket came from.
	mail *incoming
}

// incoming is what a message that came by mail adds to its row.
type incoming struct {
	mailID, dedupKey string
	raw              []byte
	problems         string
	attachments      []Upload
}

// Open opens a ticket with its first message.
func (d *Desk) Open(ctx context.Context, n NewTicket) (Ticket, error) {
	var t Ticket
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		t, err = d.open(ctx, tx, n)
		return err
	})
	return t, err
}

// normaliseNew checks a new ticket's fields, in words for its author.
func normaliseNew(n NewTicket) (NewTicket, error) {
	email, err := emailaddr.NormaliseEmail(n.Email)
	if err != nil {
		return n, refuse.Field("email", "enter your email address, such as name@example.com, so that we can answer")
	}
	n.Email = email
	n.Name = oneLine(n.Name, 100)
	n.Subject = oneLine(n.Subject, MaxSubjectRunes)
	if n.Subject == "" {
		if n.mail == nil {
			return n, refuse.Field("subject", "the subject is empty: say in a few words what it is about")
		}
		n.Subject = "(no subject)"
	}
	n.Text = cleanText(n.Text)
	if strings.TrimSpace(n.Text) == "" && n.mail == nil {
		return n, ErrEmpty
	}
	if err := checkUploads(n.Uploads); err != nil {
		return n, err
	}
	return n, nil
}

func (d *Desk) open(ctx context.Context, tx *sql.Tx, n NewTicket) (Ticket, error) {
	n, err := normaliseNew(n)
	if err != nil {
		return Ticket{}, err
	}
	now := d.now()
	set, err := LoadSettings(ctx, tx)
	if err != nil {
		return Ticket{}, err
	}
	if n.CustomerID == 0 {
		if c, err := customers.ByEmail(ctx, tx, n.Email); err == nil {
			n.CustomerID = c.ID
		} else if !errors.Is(err, customers.ErrNotFound) {
			return Ticket{}, err
		}
	}
	var customer any
	if n.CustomerID != 0 {
		customer = n.CustomerID
	}
	t := Ticket{Token: newToken(), CustomerID: n.CustomerID, Email: n.Email, Name: n.Name, Subject: n.Subject, State: New,
		Channel: n.Channel, CreatedAt: now, UpdatedAt: now, FirstResponseDue: now.Add(set.FirstResponse), ResolutionDue: now.Add(set.Resolution)}
	if n.StaffID != 0 {
		t.State = Open
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO support_tickets (token, customer_id, email, name, subject, state, channel,
		created_at, updated_at, first_response_due, resolution_due) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id`,
		t.Token, customer, t.Email, t.Name, t.Subject, string(t.State), string(t.Channel), now, t.FirstResponseDue, t.ResolutionDue).Scan(&t.ID)
	if err != nil {
		return Ticket{}, fmt.Errorf("support: open ticket: %w", err)
	}
	t.Tags = []string{}
	m := messageRow{ticketID: t.ID, author: ByCustomer, channel: n.Channel, fromAddr: n.Email, fromName: n.Name, text: n.Text, html: n.HTML,
		uploads: n.Uploads, mail: n.mail}
	if n.StaffID != 0 {
		m.author, m.staffID, m.fromAddr, m.fromName = ByStaff, n.StaffID, "", ""
		m.internal = true // the staff's account of what the customer asked: a note, not sent
	}
	if _, err := insertMessage(ctx, tx, m, now); err != nil {
		return Ticket{}, err
	}
	if err := auditTicket(ctx, tx, n.By, now, "support.ticket_opened", t.ID, "via "+string(n.Channel)); err != nil {
		return Ticket{}, err
	}
	return t, nil
}

// messageRow is a message to insert.
type messageRow struct {
	ticketID           int64
	author             Author
	staffID            int64
	internal           bool
	channel            Channel
	fromAddr, fromName string
	text, html         string
	mailID             string
	outboxID           int64
	uploads            []Upload
	mail               *incoming
}

func insertMessage(ctx context.Context, tx *sql.Tx, m messageRow, now time.Time) (int64, error) {
	var staff, outbox, dedup any
	var raw []byte
	var problems string
	if m.staffID != 0 {
		staff = m.staffID
	}
	if m.outboxID != 0 {
		outbox = m.outboxID
	}
	uploads := m.uploads
	if m.mail != nil {
		m.mailID, raw, problems = m.mail.mailID, m.mail.raw, m.mail.problems
		if m.mail.dedupKey != "" {
			dedup = m.mail.dedupKey
		}
		uploads = append(uploads, m.mail.attachments...)
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO support_messages (ticket_id, author, staff_id, internal, channel, from_addr, from_name,
		body_text, body_html, mail_id, dedup_key, outbox_id, raw, problems, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`,
		m.ticketID, string(m.author), staff, m.internal, string(m.channel), m.fromAddr, m.fromName, m.text, m.html, m.mailID, dedup,
		outbox, raw, problems, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("support: add message: %w", err)
	}
	for _, u := range uploads {
		sum := sha256.Sum256(u.Data)
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_attachments (message_id, filename, content_type, size, sha256, data)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, u.Filename, u.ContentType, int64(len(u.Data)), hex.EncodeToString(sum[:]), u.Data); err != nil {
			return 0, fmt.Errorf("support: add attachment: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE support_tickets SET updated_at = $2 WHERE id = $1`, m.ticketID, now); err != nil {
		return 0, fmt.Errorf("support: touch ticket: %w", err)
	}
	return id, nil
}

// lockTicket reads a ticket for a change in tx (locked on PostgreSQL).
func lockTicket(ctx context.Context, tx *sql.Tx, d db.Dialect, id int64) (Ticket, error) {
	t, err := scanTicket(tx.QueryRowContext(ctx, `SELECT `+ticketColumns+ticketFrom+` WHERE t.id = $1`+forUpdateOf(d), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, ErrNotFound
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("support: read ticket %d: %w", id, err)
	}
	return t, nil
}

// forUpdateOf locks the ticket's row only (not the joined staff row).
func forUpdateOf(d db.Dialect) string {
	if d.ForUpdate() == "" {
		return ""
	}
	return " FOR UPDATE OF t"
}

// restricted reports whether the ticket's customer has restricted the
// processing of their data: the ticket is kept, nothing more is done.
func restricted(ctx context.Context, q db.Querier, t Ticket) (bool, error) {
	if t.CustomerID == 0 {
		return false, nil
	}
	c, err := privacy.LoadChoices(ctx, q, t.CustomerID)
	if err != nil {
		return false, err
	}
	ok, _ := c.Permits(privacy.Declared, "support")
	return !ok, nil
}

// notRestricted refuses work on a restricted customer's ticket.
func notRestricted(ctx context.Context, q db.Querier, t Ticket) error {
	r, err := restricted(ctx, q, t)
	if err != nil {
		return err
	}
	if r {
		return ErrRestricted
	}
	return nil
}

// CustomerRestricted reports whether the customer with this account has
// restricted processing (the web form and account refuse new tickets).
func CustomerRestricted(ctx context.Context, q db.Querier, customerID int64) (bool, error) {
	return restricted(ctx, q, Ticket{CustomerID: customerID})
}

// workable loads a ticket that staff or the customer may add to: not
// merged, not closed, its customer not restricted.
func (d *Desk) workable(ctx context.Context, tx *sql.Tx, id int64) (Ticket, error) {
	t, err := lockTicket(ctx, tx, d.DB.Dialect, id)
	if err != nil {
		return t, err
	}
	if t.MergedInto != 0 {
		return t, ErrMerged
	}
	if t.State == Closed {
		return t, ErrClosed
	}
	if err := notRestricted(ctx, tx, t); err != nil {
		return t, err
	}
	return t, nil
}

// LinkCustomer gives the customer with this account the tickets opened
// from their address before the account existed (a visitor's question
// before they bought): the address is theirs, as their sign-in by it
// proved. It is idempotent; the account's support pages call it.
func (d *Desk) LinkCustomer(ctx context.Context, customerID int64, email string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if customerID == 0 || email == "" {
		return nil
	}
	// Cheap when there is nothing to link (the email index), so the
	// pages can call it on every view.
	var n int
	if err := d.DB.QueryRowContext(ctx, `SELECT count(*) FROM support_tickets WHERE email = $1 AND customer_id IS NULL`, email).Scan(&n); err != nil || n == 0 {
		return err
	}
	_, err := d.DB.Writer().ExecContext(ctx, `UPDATE support_tickets SET customer_id = $1 WHERE email = $2 AND customer_id IS NULL`, customerID, email)
	return err
}

// CustomerMessage adds the customer's message from their account to a
// ticket of theirs. A waiting or solved ticket is open again.
func (d *Desk) CustomerMessage(ctx context.Context, ticketID, customerID int64, text string, uploads []Upload) (Message, error) {
	text = cleanText(text)
	if strings.TrimSpace(text) == "" {
		return Message{}, ErrEmpty
	}
	if err := checkUploads(uploads); err != nil {
		return Message{}, err
	}
	var msg Message
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := d.workable(ctx, tx, ticketID)
		if err != nil {
			return err
		}
		if t.CustomerID != customerID {
			return ErrNotFound
		}
		now := d.now()
		id, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: ByCustomer, channel: Web, fromAddr: t.Email, fromName: t.Name,
			text: text, uploads: uploads}, now)
		if err != nil {
			return err
		}
		if err := reopen(ctx, tx, t, now); err != nil {
			return err
		}
		msg = Message{ID: id, TicketID: t.ID, Author: ByCustomer, Channel: Web, Text: text, CreatedAt: now}
		return auditTicket(ctx, tx, audit.Customer(customerID), now, "support.customer_replied", t.ID, "")
	})
	return msg, err
}

// reopen moves a ticket the customer wrote to back to staff: waiting and
// solved become open; new stays new.
func reopen(ctx context.Context, tx *sql.Tx, t Ticket, now time.Time) error {
	if t.State != Waiting && t.State != Solved {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE support_tickets SET state = 'open', solved_at = NULL, updated_at = $2 WHERE id = $1`, t.ID, now)
	return err
}

// Note adds an internal note by a member of staff: never shown to the
// customer, never mailed.
func (d *Desk) Note(ctx context.Context, ticketID, staffID int64, text string, uploads []Upload, by audit.Actor) (Message, error) {
	text = cleanText(text)
	if strings.TrimSpace(text) == "" {
		return Message{}, ErrEmpty
	}
	if err := checkUploads(uploads); err != nil {
		return Message{}, err
	}
	var msg Message
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := lockTicket(ctx, tx, d.DB.Dialect, ticketID)
		if err != nil {
			return err
		}
		if t.MergedInto != 0 {
			return ErrMerged
		}
		if err := notRestricted(ctx, tx, t); err != nil {
			return err
		}
		now := d.now()
		id, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: ByStaff, staffID: staffID, internal: true, channel: Console,
			text: text, uploads: uploads}, now)
		if err != nil {
			return err
		}
		msg = Message{ID: id, TicketID: t.ID, Author: ByStaff, StaffID: staffID, Internal: true, Channel: Console, Text: text, CreatedAt: now}
		return auditTicket(ctx, tx, by, now, "support.note_added", t.ID, "")
	})
	return msg, err
}

// SetState moves a ticket to a state by a member of staff's decision.
func (d *Desk) SetState(ctx context.Context, ticketID int64, to State, by audit.Actor) error {
	if !to.Valid() || to == New {
		return refuse.Field("state", "choose open, waiting for customer, solved or closed")
	}
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := lockTicket(ctx, tx, d.DB.Dialect, ticketID)
		if err != nil {
			return err
		}
		if t.MergedInto != 0 {
			return ErrMerged
		}
		if t.State == Closed {
			return ErrClosed
		}
		if t.State == to {
			return nil
		}
		// Closing a restricted customer's ticket is allowed (it stops
		// work); anything else would be further processing.
		if to != Closed {
			if err := notRestricted(ctx, tx, t); err != nil {
				return err
			}
		}
		now := d.now()
		if err := setState(ctx, tx, t.ID, to, now); err != nil {
			return err
		}
		return auditTicket(ctx, tx, by, now, "support.state_changed", t.ID, string(t.State)+" → "+string(to))
	})
}

func setState(ctx context.Context, tx *sql.Tx, id int64, to State, now time.Time) error {
	q := `UPDATE support_tickets SET state = $2, updated_at = $3`
	switch to {
	case Solved:
		q += `, solved_at = $3`
	case Closed:
		q += `, closed_at = $3, solved_at = COALESCE(solved_at, $3)`
	default:
		q += `, solved_at = NULL`
	}
	_, err := tx.ExecContext(ctx, q+` WHERE id = $1`, id, string(to), now)
	if err != nil {
		return fmt.Errorf("support: set state: %w", err)
	}
	return nil
}

// Assign gives a ticket to a member of staff with the support desk's
// permission (checked by the caller), or to no one with assignee 0.
func (d *Desk) Assign(ctx context.Context, ticketID, assignee int64, by audit.Actor) error {
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := lockTicket(ctx, tx, d.DB.Dialect, ticketID)
		if err != nil {
			return err
		}
		var to any
		detail := "unassigned"
		if assignee != 0 {
			// The permission table decides who works on the desk, as it
			// decides who may open it.
			a, err := staff.ByID(ctx, tx, assignee)
			if errors.Is(err, staff.ErrNotFound) || err == nil && (a.Disabled || !a.Role.Can(staff.PermSupportTickets)) {
				return refuse.Field("assignee", "choose an active member of staff who works on the support desk")
			}
			if err != nil {
				return fmt.Errorf("support: check the assignee: %w", err)
			}
			to, detail = assignee, "assigned to staff "+strconv.FormatInt(assignee, 10)
		}
		now := d.now()
		if _, err := tx.ExecContext(ctx, `UPDATE support_tickets SET assignee_id = $2, updated_at = $3 WHERE id = $1`, t.ID, to, now); err != nil {
			return fmt.Errorf("support: assign: %w", err)
		}
		return auditTicket(ctx, tx, by, now, "support.assigned", t.ID, detail)
	})
}

// SetTags replaces a ticket's tags: lower-case words of letters, digits
// and "-", at most MaxTags.
func (d *Desk) SetTags(ctx context.Context, ticketID int64, tags []string, by audit.Actor) ([]string, error) {
	clean, err := NormaliseTags(tags)
	if err != nil {
		return nil, err
	}
	err = d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := lockTicket(ctx, tx, d.DB.Dialect, ticketID)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM support_tags WHERE ticket_id = $1`, t.ID); err != nil {
			return err
		}
		for _, tag := range clean {
			if _, err := tx.ExecContext(ctx, `INSERT INTO support_tags (ticket_id, tag) VALUES ($1, $2)`, t.ID, tag); err != nil {
				return fmt.Errorf("support: tag: %w", err)
			}
		}
		now := d.now()
		if _, err := tx.ExecContext(ctx, `UPDATE support_tickets SET updated_at = $2 WHERE id = $1`, t.ID, now); err != nil {
			return err
		}
		return auditTicket(ctx, tx, by, now, "support.tagged", t.ID, strings.Join(clean, " "))
	})
	return clean, err
}

// NormaliseTags splits, lower-cases and checks tags; duplicates go.
func NormaliseTags(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, field := range in {
		for _, tag := range strings.FieldsFunc(strings.ToLower(field), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
			if seen[tag] {
				continue
			}
			if utf8.RuneCountInString(tag) > maxTagRunes || strings.IndexFunc(tag, func(r rune) bool {
				return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_')
			}) >= 0 {
				return nil, refuse.Field("tags", fmt.Sprintf("a tag is a word of letters, digits and - (at most %d characters), such as install or license-key", maxTagRunes))
			}
			seen[tag] = true
			out = append(out, tag)
		}
	}
	if len(out) > MaxTags {
		return nil, refuse.Field("tags", fmt.Sprintf("at most %d tags", MaxTags))
	}
	return out, nil
}

// Merge merges ticket from into ticket into: from's messages move to
// into, in time order, with a note on each ticket; from is closed and
// points to into, so mail to it lands in into. Both must be the same
// customer's (by account or address).
func (d *Desk) Merge(ctx context.Context, from, into int64, by audit.Actor) error {
	if from == into {
		return refuse.Field("into", "a ticket cannot be merged into itself")
	}
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		// Lock in id order so two opposite merges cannot deadlock.
		lo, hi := min(from, into), max(from, into)
		a, err := lockTicket(ctx, tx, d.DB.Dialect, lo)
		if err != nil {
			return err
		}
		b, err := lockTicket(ctx, tx, d.DB.Dialect, hi)
		if err != nil {
			return err
		}
		src, dst := a, b
		if src.ID != from {
			src, dst = b, a
		}
		if src.MergedInto != 0 || dst.MergedInto != 0 {
			return ErrMerged
		}
		if dst.State == Closed {
			return refuse.Field("into", "the ticket to merge into is closed: merge the other way round")
		}
		same := src.Email == dst.Email || (src.CustomerID != 0 && src.CustomerID == dst.CustomerID)
		if !same {
			return refuse.Field("into", "only tickets of the same customer can be merged")
		}
		now := d.now()
		if _, err := tx.ExecContext(ctx, `UPDATE support_messages SET ticket_id = $2 WHERE ticket_id = $1`, src.ID, dst.ID); err != nil {
			return fmt.Errorf("support: merge messages: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO support_tags (ticket_id, tag) SELECT $2, tag FROM support_tags WHERE ticket_id = $1
			ON CONFLICT DO NOTHING`, src.ID, dst.ID); err != nil {
			return fmt.Errorf("support: merge tags: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE support_tickets SET merged_into = $2, state = 'closed', closed_at = $3,
			solved_at = COALESCE(solved_at, $3), updated_at = $3 WHERE id = $1`, src.ID, dst.ID, now); err != nil {
			return fmt.Errorf("support: merge: %w", err)
		}
		if _, err := insertMessage(ctx, tx, messageRow{ticketID: dst.ID, author: BySystem, internal: true, channel: Console,
			text: fmt.Sprintf("Ticket %s (%q) was merged into this one.", src.Number(), src.Subject)}, now); err != nil {
			return err
		}
		if err := reopen(ctx, tx, dst, now); err != nil {
			return err
		}
		return auditTicket(ctx, tx, by, now, "support.merged", src.ID, "into "+dst.Number())
	})
}

// Resolve follows merges from a ticket to the one that holds its thread.
func resolve(ctx context.Context, q db.Querier, id int64) (int64, error) {
	for range 10 {
		var next sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT merged_into FROM support_tickets WHERE id = $1`, id).Scan(&next)
		if err != nil {
			return 0, err
		}
		if !next.Valid {
			return id, nil
		}
		id = next.Int64
	}
	return id, nil
}

// CloseSolved closes the tickets solved longer than the settings' CloseAfter
// ago: a periodic job; running it twice or on two instances does no harm.
func (d *Desk) CloseSolved(ctx context.Context) (int64, error) {
	set, err := LoadSettings(ctx, d.DB)
	if err != nil {
		return 0, err
	}
	now := d.now()
	var n int64
	err = d.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE support_tickets SET state = 'closed', closed_at = $1, updated_at = $1
			WHERE state = 'solved' AND solved_at < $2`, now, now.Add(-set.CloseAfter))
		if err != nil {
			return fmt.Errorf("support: close solved tickets: %w", err)
		}
		n, _ = res.RowsAffected()
		if n == 0 {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "support.closed_solved", Detail: fmt.Sprintf("%d solved tickets closed", n)}.By(audit.System()))
		return err
	})
	return n, err
}

func auditTicket(ctx context.Context, tx *sql.Tx, by audit.Actor, now time.Time, action string, id int64, detail string) error {
	if by.Type == "" {
		by = audit.System()
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "support_ticket",
		SubjectID: strconv.FormatInt(id, 10), Detail: detail}.By(by))
	return err
}

// checkUploads refuses more files, or larger, than a form may attach.
func checkUploads(us []Upload) error {
	if len(us) > MaxUploads {
		return refuse.Field("files", fmt.Sprintf("attach at most %d files", MaxUploads))
	}
	for _, u := range us {
		if len(u.Data) > MaxUploadBytes {
			return refuse.Field("files", fmt.Sprintf("%s is larger than %d MiB: attach a smaller file, or a compressed one", u.Filename, MaxUploadBytes>>20))
		}
		if u.Filename == "" || strings.ContainsAny(u.Filename, "/\\\x00") || u.ContentType == "" {
			return refuse.Field("files", "a file has no usable name or type")
		}
	}
	return nil
}

// cleanText keeps valid UTF-8, LF line ends, no control characters other
// than tab and line feed, at most MaxTextBytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
	if len(s) > MaxTextBytes {
		cut := MaxTextBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "\n[…]"
	}
	return strings.TrimRight(s, " \n\t")
}

// oneLine joins s onto one line and caps it at n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))), " ")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}
