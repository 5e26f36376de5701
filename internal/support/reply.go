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
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
)

// Address is the desk's mail address, split for plus addressing.
type Address struct {
	Local, Domain string // lower case
}

// SupportAddress reads the support address from the vendor settings.
func SupportAddress(ctx context.Context, q db.Querier) (Address, error) {
	v, err := settings.Load(ctx, q)
	if err != nil {
		return Address{}, err
	}
	return ParseAddress(v.SupportEmail)
}

// ParseAddress splits a support address.
func ParseAddress(s string) (Address, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " <>\r\n") {
		return Address{}, fmt.Errorf("support: the support address %q is not an email address: set it in the console's settings", s)
	}
	return Address{Local: s[:at], Domain: s[at+1:]}, nil
}

// String is the address itself.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Plus is the address with a reply token: support+TOKEN@domain.
func (a Address) Plus(token string) string { return a.Local + "+" + token + "@" + a.Domain }

// Match reports whether rcpt is the desk's (the address itself or a plus
// form of it, compared without regard to case) and returns the token of a
// plus form ("" for the plain address; the extension as given, checked by
// the caller).
func (a Address) Match(rcpt string) (token string, ok bool) {
	r := strings.ToLower(strings.Trim(strings.TrimSpace(rcpt), "<>"))
	at := strings.LastIndexByte(r, '@')
	if at <= 0 || r[at+1:] != a.Domain {
		return "", false
	}
	local := r[:at]
	if local == a.Local {
		return "", true
	}
	if ext, found := strings.CutPrefix(local, a.Local+"+"); found {
		return ext, true
	}
	return "", false
}

// messageID makes the Message-ID of a message we send for a ticket.
func (a Address) messageID() string { return mail.NewMessageID() + "@" + a.Domain }

// StaffReply is a reply from a member of staff, mailed to the customer.
type StaffReply struct {
	Text    string
	Uploads []Upload
	// Then is the ticket's state after the reply: Waiting (the default),
	// Open or Solved.
	Then State
}

// Reply adds a staff reply to a ticket and queues it for the customer in
// the same transaction, with threading headers: In-Reply-To the latest
// message of the thread that has a Message-ID, References the thread's
// first and latest, and a Reply-To of support+TOKEN@. It is a person's
// message: no Auto-Submitted header.
func (d *Desk) Reply(ctx context.Context, ticketID, staffID int64, r StaffReply, by audit.Actor) (Message, error) {
	text := cleanText(r.Text)
	if strings.TrimSpace(text) == "" {
		return Message{}, ErrEmpty
	}
	if err := checkUploads(r.Uploads); err != nil {
		return Message{}, err
	}
	then := r.Then
	if then == "" {
		then = Waiting
	}
	if then != Waiting && then != Open && then != Solved {
		return Message{}, refuse.Field("then", "after a reply the ticket is waiting for the customer, open or solved")
	}
	var msg Message
	err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		t, err := d.workable(ctx, tx, ticketID)
		if err != nil {
			return err
		}
		addr, err := SupportAddress(ctx, tx)
		if err != nil {
			return err
		}
		now := d.now()
		ids, err := threadIDs(ctx, tx, t.ID)
		if err != nil {
			return err
		}
		mailID := addr.messageID()
		mid, err := insertMessage(ctx, tx, messageRow{ticketID: t.ID, author: ByStaff, staffID: staffID, channel: Console, text: text,
			mailID: mailID, uploads: r.Uploads}, now)
		if err != nil {
			return err
		}
		m := mail.Message{Kind: mail.Transactional, Template: "support-reply", To: t.Email, Subject: replySubject(t),
			Text: replyText(t, text, d.BaseURL, len(r.Uploads)), CustomerID: t.CustomerID, Purpose: "support",
			MessageID: mailID, ReplyTo: addr.Plus(t.Token), AutoSubmitted: mail.Human, DedupKey: "support-reply:" + strconv.FormatInt(mid, 10)}
		if len(ids) > 0 {
			m.InReplyTo = ids[len(ids)-1]
			m.References = references(ids)
		}
		outID, err := mail.Enqueue(ctx, tx, m, now)
		if err != nil {
			if errors.Is(err, mail.ErrNotPermitted) {
				return ErrRestricted
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE support_messages SET outbox_id = $2 WHERE id = $1`, mid, outID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE support_tickets SET first_response_at = COALESCE(first_response_at, $2) WHERE id = $1`, t.ID, now); err != nil {
			return err
		}
		if t.State != then {
			if err := setState(ctx, tx, t.ID, then, now); err != nil {
				return err
			}
		}
		msg = Message{ID: mid, TicketID: t.ID, Author: ByStaff, StaffID: staffID, Channel: Console, Text: text, MailID: mailID, CreatedAt: now}
		return auditTicket(ctx, tx, by, now, "support.replied", t.ID, "then "+string(then))
	})
	return msg, err
}

// threadIDs are the Message-IDs of a ticket's messages that have one (mail
// in and replies out), oldest first.
func threadIDs(ctx context.Context, q db.Querier, ticketID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT mail_id FROM support_messages WHERE ticket_id = $1 AND mail_id <> '' AND internal = FALSE ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("support: read thread ids: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if mail.ValidMessageID(s) {
			out = append(out, s)
		}
	}
	return out, rows.Err()
}

// references keeps the first and the latest IDs of a long thread, as RFC
// 5322 suggests, within the outbox's limit.
func references(ids []string) []string {
	const keep = 10
	if len(ids) <= keep {
		return ids
	}
	return append([]string{ids[0]}, ids[len(ids)-keep+1:]...)
}

// replySubject is "Re: SUBJECT [Support #N]", without stacking "Re:".
func replySubject(t Ticket) string {
	s := t.Subject
	for {
		l := strings.ToLower(s)
		if !strings.HasPrefix(l, "re:") && !strings.HasPrefix(l, "aw:") && !strings.HasPrefix(l, "fwd:") {
			break
		}
		s = strings.TrimSpace(s[strings.IndexByte(s, ':')+1:])
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, t.Tag(), ""))
	return "Re: " + s + " " + t.Tag()
}

// replyText is the mail's text: the reply, then how to answer.
func replyText(t Ticket, text, base string, files int) string {
	var b strings.Builder
	b.WriteString(text)
	b.WriteString("\n\n")
	if files > 0 {
		fmt.Fprintf(&b, "(%d attached file(s): see them with the ticket in your account.)\n\n", files)
	}
	fmt.Fprintf(&b, "-- \nSupport ticket %s. Reply to this message to add to it", t.Number())
	if t.CustomerID != 0 {
		fmt.Fprintf(&b, ", or see it at %s/account/support/%d", strings.TrimSuffix(base, "/"), t.ID)
	}
	b.WriteString(".\n")
	return b.String()
}

// acknowledge mails the sender of a new ticket its number, once per sender
// a day, marked as an automatic reply (RFC 3834) so that their
// autoresponder does not answer it. It runs after the ticket's
// transaction (the limiter writes on a connection of its own); a failure
// loses only the acknowledgement, never the ticket.
func (d *Desk) acknowledge(ctx context.Context, t Ticket, addr Address, inReplyTo string, now time.Time) error {
	set, err := LoadSettings(ctx, d.DB)
	if err != nil || !set.AutoReply || d.Limiter == nil {
		return err
	}
	ok, err := d.Limiter.Allow(ctx, d.Limiter.Key("support-ack", t.Email), ratelimit.Limit{Max: 1, Window: 24 * time.Hour}, now)
	if err != nil || !ok {
		return err
	}
	m := mail.Message{Kind: mail.Transactional, Template: "support-received", To: t.Email, Subject: replySubject(t),
		Text: fmt.Sprintf("We have received your message and opened support ticket %s for it. We answer as soon as we can.\n\n"+
			"To add to it, reply to this message.\n", t.Number()),
		CustomerID: t.CustomerID, Purpose: "support", MessageID: addr.messageID(), ReplyTo: addr.Plus(t.Token),
		AutoSubmitted: mail.AutoReplied, DedupKey: "support-received:" + strconv.FormatInt(t.ID, 10)}
	if mail.ValidMessageID(inReplyTo) {
		m.InReplyTo, m.References = inReplyTo, []string{inReplyTo}
	}
	return d.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := mail.Enqueue(ctx, tx, m, now)
		if errors.Is(err, mail.ErrNotPermitted) || errors.Is(err, mail.ErrDuplicate) {
			return nil
		}
		return err
	})
}
