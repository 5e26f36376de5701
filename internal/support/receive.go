package support

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/mailmsg"
	"github.com/storekeep/storekeep/internal/ratelimit"
)

// Envelope is what the transport knows of one delivery.
type Envelope struct {
	Sender    string // the reverse path; "" for the null sender of reports
	Recipient string // the address it was delivered to
	Via       string // "lmtp", "smtp" or "pipe"
}

// OutcomeKind says what became of a message.
type OutcomeKind string

// The outcomes of Receive.
const (
	Opened    OutcomeKind = "opened"    // a new ticket
	Added     OutcomeKind = "added"     // added to a ticket's thread
	Parked    OutcomeKind = "parked"    // kept for a person to decide
	Ignored   OutcomeKind = "ignored"   // kept, by rule, without a ticket
	Duplicate OutcomeKind = "duplicate" // delivered before: nothing new
)

// Outcome is what Receive did with a message.
type Outcome struct {
	Kind     OutcomeKind
	TicketID int64
	ParkedID int64
	Reason   string // why parked or ignored, in words for staff
}

// FloodLimit parks mail beyond this many messages from one sender in an
// hour: a mail loop or a flood, for a person to look at.
var FloodLimit = ratelimit.Limit{Max: 30, Window: time.Hour}

// Reasons for parking and ignoring, as staff read them.
const (
	ReasonReport       = "delivery report (bounce) or other automatic report"
	ReasonAutoReply    = "automatic reply (out of office, vacation or similar)"
	ReasonOwn          = "our own message came back"
	ReasonSpam         = "marked as spam by the mail filter"
	ReasonFlood        = "more messages from this sender in an hour than the flood limit"
	ReasonUnreadable   = "the message cannot be read"
	ReasonUnknownReply = "the reply address names a ticket that does not exist"
	ReasonStranger     = "the sender is not part of the ticket it answers"
	ReasonRestricted   = "the customer has restricted the processing of their data"
)

// Accepts reports whether rcpt is the desk's address or a plus form of it.
func (d *Desk) Accepts(ctx context.Context, rcpt string) (bool, error) {
	addr, err := SupportAddress(ctx, d.DB)
	if err != nil {
		return false, err
	}
	_, ok := addr.Match(rcpt)
	return ok, nil
}

// Receive takes one message delivered to the desk and opens a ticket, adds
// to one, parks it for a person or ignores it by rule; whatever happens,
// the raw message is kept. An error means nothing was recorded (the
// transport answers "try again later").
func (d *Desk) Receive(ctx context.Context, env Envelope, raw []byte) (Outcome, error) {
	out, err := d.receive(ctx, env, raw)
	log := d.log()
	if err != nil {
		log.Error("support mail: cannot record the message; the sender will retry", "error", err.Error())
		return out, err
	}
	log.Info("support mail: received", "outcome", string(out.Kind), "ticket", out.TicketID, "parked", out.ParkedID, "reason", out.Reason, "via", env.Via)
	return out, nil
}

func (d *Desk) receive(ctx context.Context, env Envelope, raw []byte) (Outcome, error) {
	addr, err := SupportAddress(ctx, d.DB)
	if err != nil {
		return Outcome{}, err
	}
	now := d.now()
	m, perr := mailmsg.Parse(raw, mailmsg.Limits{MaxTextBytes: MaxTextBytes})
	if perr != nil {
		return d.park(ctx, Parked, ReasonUnreadable+": "+perr.Error(), nil, env, raw, 0, now)
	}
	// Loops and noise first: none of these opens a ticket or gets a reply.
	own, err := d.ourMessage(ctx, addr, m)
	if err != nil {
		return Outcome{}, err
	}
	if own {
		return d.park(ctx, Ignored, ReasonOwn, m, env, raw, 0, now)
	}
	if env.Sender == "" || m.Report {
		ticket, err := d.reportedTicket(ctx, addr, m, raw)
		if err != nil {
			return Outcome{}, err
		}
		out, err := d.park(ctx, Ignored, ReasonReport, m, env, raw, ticket, now)
		if err == nil && ticket != 0 {
			err = d.noteReport(ctx, ticket, out.ParkedID, now)
		}
		return out, err
	}
	if m.AutoReply {
		ticket, _, err := d.threaded(ctx, addr, env, m)
		if err != nil {
			return Outcome{}, err
		}
		return d.park(ctx, Ignored, ReasonAutoReply, m, env, raw, ticket, now)
	}
	dedup := dedupKey(m)
	if dedup != "" {
		var ticket int64
		err := d.DB.QueryRowContext(ctx, `SELECT ticket_id FROM support_messages WHERE dedup_key = $1`, dedup).Scan(&ticket)
		if err == nil {
			return Outcome{Kind: Duplicate, TicketID: ticket}, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Outcome{}, fmt.Errorf("support: look for a duplicate: %w", err)
		}
	}
	if m.Spam.Flagged {
		return d.park(ctx, Parked, ReasonSpam+" ("+m.Spam.Reason+")", m, env, raw, 0, now)
	}
	if d.Limiter != nil {
		ok, err := d.Limiter.Allow(ctx, d.Limiter.Key("support-flood", m.From), FloodLimit, now)
		if err != nil {
			return Outcome{}, err
		}
		if !ok {
			return d.park(ctx, Parked, ReasonFlood, m, env, raw, 0, now)
		}
	}
	ticket, problem, err := d.threaded(ctx, addr, env, m)
	if err != nil {
		return Outcome{}, err
	}
	if problem != "" {
		return d.park(ctx, Parked, problem, m, env, raw, ticket, now)
	}
	in := &incoming{mailID: m.MessageID, dedupKey: dedup, raw: raw, problems: strings.Join(m.Problems, "\n"), attachments: uploadsOf(m)}
	var out Outcome
	var opened Ticket
	err = d.DB.Tx(ctx, func(tx *sql.Tx) error {
		out, opened = Outcome{}, Ticket{}
		if ticket != 0 {
			t, err := lockTicket(ctx, tx, d.DB.Dialect, ticket)
			if err != nil {
				return err
			}
			if r, err := restricted(ctx, tx, t); err != nil || r {
				if err == nil {
					out = Outcome{Kind: Parked, Reason: ReasonRestricted, TicketID: t.ID}
				}
				return err
			}
			if t.State != Closed {
				if _, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: ByCustomer, channel: Email, fromAddr: m.From,
					fromName: m.FromName, text: m.Text, html: m.HTML, mail: in}, now); err != nil {
					return err
				}
				out = Outcome{Kind: Added, TicketID: t.ID}
				if err := reopen(ctx, tx, t, now); err != nil {
					return err
				}
				return auditTicket(ctx, tx, audit.System(), now, "support.mail_added", t.ID, "via "+env.Via)
			}
			// A closed ticket stays closed: the message opens a follow-up.
		}
		if c, err := customers.ByEmail(ctx, tx, m.From); err == nil {
			if r, err := CustomerRestricted(ctx, tx, c.ID); err != nil || r {
				if err == nil {
					out = Outcome{Kind: Parked, Reason: ReasonRestricted}
				}
				return err
			}
		} else if !errors.Is(err, customers.ErrNotFound) {
			return err
		}
		t, err := d.open(ctx, tx, NewTicket{Email: m.From, Name: m.FromName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
			Channel: Email, By: audit.System(), mail: in})
		if err != nil {
			return err
		}
		if ticket != 0 {
			if _, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: BySystem, internal: true, channel: Email,
				text: fmt.Sprintf("Follow-up to the closed ticket #%d.", ticket)}, now); err != nil {
				return err
			}
		}
		opened, out = t, Outcome{Kind: Opened, TicketID: t.ID}
		return nil
	})
	if err != nil {
		return Outcome{}, err
	}
	if out.Kind == Parked { // restricted: kept, not processed
		return d.park(ctx, Parked, out.Reason, m, env, raw, out.TicketID, now)
	}
	if out.Kind == Opened {
		if err := d.acknowledge(ctx, opened, addr, m.MessageID, now); err != nil {
			d.log().Warn("support mail: the acknowledgement could not be queued", "ticket", opened.ID, "error", err.Error())
		}
	}
	return out, nil
}

// threaded finds the ticket a message answers, in order: our Message-ID
// (or the sender's own earlier one) in In-Reply-To or References, the
// reply token of a support+TOKEN@ address, the ticket tag in the subject.
// It returns the ticket (merges followed) and, when the message may not
// go into it, the reason to park it instead; 0 and "" mean a new ticket.
func (d *Desk) threaded(ctx context.Context, addr Address, env Envelope, m *mailmsg.Message) (int64, string, error) {
	ids := slices.Concat(m.InReplyTo, reversed(m.References))
	if len(ids) > 0 {
		t, err := d.byMailIDs(ctx, ids, m.From)
		if err != nil || t != 0 {
			return d.admit(ctx, t, m.From, err)
		}
	}
	// Only an extension shaped like a token is one: support+billing@ and
	// the like are the plain address to us.
	tokens := []string{}
	for _, a := range slices.Concat([]string{env.Recipient}, m.To, m.Cc) {
		if tok, ok := addr.Match(a); ok && validToken(strings.ToLower(tok)) && !slices.Contains(tokens, strings.ToLower(tok)) {
			tokens = append(tokens, strings.ToLower(tok))
		}
	}
	for _, tok := range tokens {
		var id int64
		err := d.DB.QueryRowContext(ctx, `SELECT id FROM support_tickets WHERE token = $1`, tok).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, "", fmt.Errorf("support: look up a reply token: %w", err)
		}
		return d.admit(ctx, id, m.From, nil)
	}
	if len(tokens) > 0 {
		// A reply address we never gave out, or of a ticket long purged:
		// a person decides.
		return 0, ReasonUnknownReply, nil
	}
	if n := subjectTicket(m.Subject); n != 0 {
		var email string
		err := d.DB.QueryRowContext(ctx, `SELECT email FROM support_tickets WHERE id = $1`, n).Scan(&email)
		if err == nil {
			return d.admit(ctx, n, m.From, nil)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, "", err
		}
	}
	return 0, "", nil
}

// admit follows merges and checks that the sender is part of the ticket:
// its requester or the sender of an earlier message in it. A stranger's
// message is parked with the ticket named, for staff to add or discard.
func (d *Desk) admit(ctx context.Context, id int64, from string, err error) (int64, string, error) {
	if err != nil {
		return 0, "", err
	}
	id, err = resolve(ctx, d.DB, id)
	if err != nil {
		return 0, "", fmt.Errorf("support: follow merges: %w", err)
	}
	var known bool
	err = d.DB.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM support_tickets WHERE id = $1 AND email = $2)
		OR EXISTS (SELECT 1 FROM support_messages WHERE ticket_id = $1 AND author = 'customer' AND from_addr = $2)`, id, from).Scan(&known)
	if err != nil {
		return 0, "", fmt.Errorf("support: check the sender: %w", err)
	}
	if !known {
		return id, ReasonStranger, nil
	}
	return id, "", nil
}

// byMailIDs finds the ticket of the first of ids that is ours (a staff
// reply) or the sender's own earlier message.
func (d *Desk) byMailIDs(ctx context.Context, ids []string, from string) (int64, error) {
	if len(ids) > 50 {
		ids = ids[:50]
	}
	for _, id := range ids {
		if id == "" {
			continue
		}
		var ticket int64
		err := d.DB.QueryRowContext(ctx, `SELECT ticket_id FROM support_messages WHERE mail_id = $1
			AND (author = 'staff' OR (author = 'customer' AND from_addr = $2)) ORDER BY id DESC LIMIT 1`, id, from).Scan(&ticket)
		if err == nil {
			return ticket, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("support: look up a thread: %w", err)
		}
	}
	return 0, nil
}

// ourMessage reports whether a message is one of ours coming back: sent
// from the desk's address, or carrying the Message-ID of a staff reply.
func (d *Desk) ourMessage(ctx context.Context, addr Address, m *mailmsg.Message) (bool, error) {
	if _, ok := addr.Match(m.From); ok {
		return true, nil
	}
	if m.MessageID == "" {
		return false, nil
	}
	var n int
	err := d.DB.QueryRowContext(ctx, `SELECT count(*) FROM support_messages WHERE mail_id = $1 AND author <> 'customer'`, m.MessageID).Scan(&n)
	return n > 0, err
}

// ourIDs finds the Message-IDs of our domain in a report: its
// references, and the original's headers that a delivery report quotes.
var ourIDs = regexp.MustCompile(`<?([a-z0-9]{32}@[a-z0-9.-]{1,200})>?`)

// reportedTicket finds the ticket of the reply a delivery report is about.
func (d *Desk) reportedTicket(ctx context.Context, addr Address, m *mailmsg.Message, raw []byte) (int64, error) {
	ids := slices.Concat(m.InReplyTo, m.References)
	scan := raw
	if len(scan) > 1<<20 {
		scan = scan[:1<<20]
	}
	for _, sub := range ourIDs.FindAllSubmatch(bytes.ToLower(scan), 20) {
		if id := string(sub[1]); strings.HasSuffix(id, "@"+addr.Domain) {
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		var ticket int64
		err := d.DB.QueryRowContext(ctx, `SELECT ticket_id FROM support_messages WHERE mail_id = $1 AND author = 'staff'`, id).Scan(&ticket)
		if err == nil {
			return resolve(ctx, d.DB, ticket)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	return 0, nil
}

// noteReport tells staff on the ticket that a reply bounced.
func (d *Desk) noteReport(ctx context.Context, ticket, parked int64, now time.Time) error {
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := insertMessage(ctx, tx, messageRow{ticketID: ticket, author: BySystem, internal: true, channel: Email,
			text: fmt.Sprintf("A delivery report came back for a reply on this ticket: the customer may not have received it. "+
				"The report is kept among the ignored mail (number %d).", parked)}, now)
		return err
	})
}

// park keeps a message that opened no ticket, with its reason.
func (d *Desk) park(ctx context.Context, kind OutcomeKind, reason string, m *mailmsg.Message, env Envelope, raw []byte, ticket int64, now time.Time) (Outcome, error) {
	state, decided := "parked", any(nil)
	if kind == Ignored {
		state, decided = "ignored", now
	}
	var from, subject string
	if m != nil {
		from, subject = m.From, m.Subject
	}
	var t any
	if ticket != 0 {
		t = ticket
	}
	var id int64
	err := d.DB.Writer().QueryRowContext(ctx, `INSERT INTO support_parked (state, reason, from_addr, subject, recipient, ticket_id, raw, received_at, decided_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		state, oneLine(reason, 300), from, oneLine(subject, MaxSubjectRunes), oneLine(strings.ToLower(env.Recipient), 254), t, raw, now, decided).Scan(&id)
	if err != nil {
		return Outcome{}, fmt.Errorf("support: park a message: %w", err)
	}
	return Outcome{Kind: kind, ParkedID: id, TicketID: ticket, Reason: reason}, nil
}

// dedupKey identifies a message by its sender and Message-ID, so that a
// message delivered twice is added once.
func dedupKey(m *mailmsg.Message) string {
	if m.MessageID == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(m.From + "\x00" + m.MessageID))
	return hex.EncodeToString(sum[:16])
}

var subjectTag = regexp.MustCompile(`\[Support #(\d{1,12})\]`)

// subjectTicket is the number in a subject's ticket tag, or 0.
func subjectTicket(s string) int64 {
	if sm := subjectTag.FindStringSubmatch(s); sm != nil {
		n, _ := strconv.ParseInt(sm[1], 10, 64)
		return n
	}
	return 0
}

func reversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// uploadsOf are a mail's kept attachments as uploads.
func uploadsOf(m *mailmsg.Message) []Upload {
	var out []Upload
	for _, a := range m.Attachments {
		out = append(out, Upload{Filename: a.Filename, ContentType: a.ContentType, Data: a.Data})
	}
	return out
}
