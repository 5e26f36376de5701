package breaches

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/refuse"
)

// NoticeInput is the draft of the notice to the people affected.
type NoticeInput struct {
	Subject  string
	Body     string // Markdown, no HTML
	Audience Audience
	// Addresses, for the Addresses audience, one per line or separated by
	// commas.
	Addresses string
}

// maxAddresses bounds a pasted list; a breach affecting more people is
// told through the EveryCustomer audience.
const maxAddresses = 10000

// script finds what the notice's Markdown may not hold: HTML elements that
// run or embed code, and script links. The renderer leaves raw HTML out and
// bluemonday strips the rest anyway (as internal/notices does), but an
// owner who typed them meant them to do something; they are told instead
// of finding them silently gone from the mail.
var script = regexp.MustCompile(`(?i)<\s*/?\s*(script|iframe|object|embed|style|form)\b|\bon[a-z]+\s*=|javascript\s*:|vbscript\s*:|data\s*:\s*text/html`)

// DraftNotice saves the notice to the people affected: subject, Markdown
// text and whom it goes to. Nothing is sent until an owner sends it
// (SendNotice). A listed address becomes a pending recipient at once, so
// the draft shows whom it will reach.
func DraftNotice(ctx context.Context, d *db.DB, by audit.Actor, id int64, in NoticeInput, now time.Time) error {
	in.Subject = strings.TrimSpace(in.Subject)
	switch {
	case in.Subject == "":
		return refuse.Field("notice_subject", "Write the notice's subject, such as “A security incident affected your account”.")
	case len(in.Subject) > maxTitle || strings.ContainsAny(in.Subject, "\r\n"):
		return refuse.Field("notice_subject", "The subject must be one line of at most 200 characters.")
	case strings.TrimSpace(in.Body) == "":
		return refuse.Field("notice_body", "Write the notice: what happened, what it means for the reader, what we did and what they can do.")
	case len(in.Body) > maxText*5:
		return refuse.Field("notice_body", "The notice is too long.")
	case script.MatchString(in.Body) || script.MatchString(in.Subject):
		return refuse.Field("notice_body", "The notice contains HTML that runs code (a script, an event handler or a javascript: link). Write it in Markdown only: **bold**, lists, [links](https://example.com).")
	case in.Audience != EveryCustomer && in.Audience != Addresses:
		return refuse.Field("notice_audience", "Choose whom the notice goes to: every customer, or the addresses you list.")
	}
	var addrs []string
	if in.Audience == Addresses {
		seen := map[string]bool{}
		for _, f := range strings.FieldsFunc(in.Addresses, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' || r == ' ' || r == '\t' }) {
			a, err := emailaddr.NormaliseEmail(f)
			if err != nil {
				return refuse.Field("notice_addresses", fmt.Sprintf("%q is not an email address; list one address per line.", f))
			}
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		switch {
		case len(addrs) == 0:
			return refuse.Field("notice_addresses", "List the addresses of the people affected, one per line.")
		case len(addrs) > maxAddresses:
			return refuse.Field("notice_addresses", fmt.Sprintf("At most %d addresses; for more, send to every customer.", maxAddresses))
		}
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		b, err := lock(ctx, tx, d.Dialect, id)
		if err != nil {
			return err
		}
		if b.NoticeSent() {
			return ErrSent
		}
		if b.Subjects != Required {
			return refuse.New(refuse.Conflict, "breach_notice_undecided", "Record first that the people affected must be told (Art. 34); then draft their notice.")
		}
		if err := keepVersion(ctx, tx, b, by, "notice drafted", now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE breaches SET notice_subject = $1, notice_body = $2, notice_audience = $3,
			version = version + 1, updated_at = $4 WHERE id = $5`, in.Subject, in.Body, string(in.Audience), now.UTC(), id); err != nil {
			return fmt.Errorf("draft breach notice: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM breach_subjects WHERE breach_id = $1 AND state = 'pending'`, id); err != nil {
			return fmt.Errorf("draft breach notice: %w", err)
		}
		for _, a := range addrs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO breach_subjects (breach_id, email, customer_id, created_at)
				VALUES ($1, $2, (SELECT id FROM customers WHERE email = $2), $3)`, id, a, now.UTC()); err != nil {
				return fmt.Errorf("draft breach notice: %w", err)
			}
		}
		detail := "to every customer"
		if in.Audience == Addresses {
			detail = fmt.Sprintf("to %d listed address(es)", len(addrs))
		}
		return record(ctx, tx, by, "breach.notice_drafted", id, detail, now)
	})
}

// Site is what the notice's footer names.
type Site struct {
	Name string
}

// Outcome is what sending a notice did.
type Outcome struct {
	Queued, Skipped int
}

// SendNotice sends the drafted notice to the people affected, once: the
// breach is marked sent in the same transaction as every message is
// queued, so a second press (or a second instance) finds it sent and
// queues nothing. Each message goes through mail.Enqueue with the
// breach_notice purpose, so the customer's choices are checked as for
// any other mail; the purpose rests on a legal obligation (Art. 34), so a
// restriction does not stop it, as it does not stop an invoice.
func SendNotice(ctx context.Context, d *db.DB, by audit.Actor, id int64, site Site, now time.Time) (Outcome, error) {
	var out Outcome
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		out = Outcome{}
		b, err := lock(ctx, tx, d.Dialect, id)
		if err != nil {
			return err
		}
		switch {
		case b.NoticeSent():
			return ErrSent
		case b.Subjects != Required:
			return refuse.New(refuse.Conflict, "breach_notice_undecided", "Record first that the people affected must be told; nothing was sent.")
		case b.NoticeBody == "" || b.NoticeAudience == "":
			return refuse.New(refuse.Conflict, "breach_notice_missing", "Draft the notice first; nothing was sent.")
		}
		if err := keepVersion(ctx, tx, b, by, "notice sent", now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE breaches SET notice_sent_at = $1, notice_sent_by = $2, version = version + 1, updated_at = $1
			WHERE id = $3 AND notice_sent_at IS NULL`, now.UTC(), staffID(by), id)
		if err != nil {
			return fmt.Errorf("send breach notice: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return ErrSent
		}
		if b.NoticeAudience == EveryCustomer {
			if _, err := tx.ExecContext(ctx, `INSERT INTO breach_subjects (breach_id, email, customer_id, created_at)
				SELECT $1, email, id, $2 FROM customers WHERE email NOT LIKE '%@erased.invalid'
				ON CONFLICT (breach_id, email) DO NOTHING`, id, now.UTC()); err != nil {
				return fmt.Errorf("send breach notice: %w", err)
			}
		}
		ps, err := pendingRecipients(ctx, tx, id)
		if err != nil {
			return err
		}
		text, html, err := renderNotice(b, site)
		if err != nil {
			return err
		}
		for _, p := range ps {
			mid, err := mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "breach_notice", To: p.email,
				Subject: b.NoticeSubject, Text: text, HTML: html, CustomerID: p.customer, Purpose: "breach_notice",
				DedupKey: fmt.Sprintf("breach-notice:%d:%s", id, p.email)}, now)
			switch {
			case errors.Is(err, mail.ErrNotPermitted):
				out.Skipped++
				_, err = tx.ExecContext(ctx, `UPDATE breach_subjects SET state = 'skipped', skip_reason = $1 WHERE id = $2`,
					"the person's privacy choices do not permit this mail", p.id)
			case errors.Is(err, mail.ErrDuplicate):
				out.Queued++
				_, err = tx.ExecContext(ctx, `UPDATE breach_subjects SET state = 'queued', notified_at = $1 WHERE id = $2`, now.UTC(), p.id)
			case err != nil:
				return err
			default:
				out.Queued++
				_, err = tx.ExecContext(ctx, `UPDATE breach_subjects SET state = 'queued', outbox_id = $1, notified_at = $2 WHERE id = $3`, mid, now.UTC(), p.id)
			}
			if err != nil {
				return fmt.Errorf("send breach notice: %w", err)
			}
		}
		return record(ctx, tx, by, "breach.notice_sent", id, fmt.Sprintf("%d queued, %d skipped", out.Queued, out.Skipped), now)
	})
	return out, err
}

// pending is a recipient the notice has not been queued for yet.
type pending struct {
	id       int64
	email    string
	customer int64
}

func pendingRecipients(ctx context.Context, tx *sql.Tx, id int64) ([]pending, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, email, COALESCE(customer_id, 0) FROM breach_subjects WHERE breach_id = $1 AND state = 'pending' ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("send breach notice: %w", err)
	}
	defer rows.Close()
	var ps []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.id, &p.email, &p.customer); err != nil {
			return nil, fmt.Errorf("send breach notice: %w", err)
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

var layout = template.Must(template.New("breach").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em; color: #222">
{{.Body}}
<hr style="border: none; border-top: 1px solid #ccc; margin-top: 2em">
<p style="font-size: 0.85em; color: #666">{{.Why}}</p>
</body></html>
`))

func footer(site Site) string {
	name := site.Name
	if name == "" {
		name = "us"
	}
	return "You receive this because a personal-data breach at " + name + " concerns your data, and the law asks us to tell you (Art. 34 GDPR)."
}

// renderNotice makes the notice's two parts: the Markdown as text, and
// the HTML sanitised as notices are (internal/notices.BodyHTML).
func renderNotice(b Breach, site Site) (text, html string, err error) {
	body, err := notices.BodyHTML(b.NoticeBody)
	if err != nil {
		return "", "", fmt.Errorf("render breach notice: %w", err)
	}
	var h bytes.Buffer
	if err := layout.Execute(&h, struct {
		Subject string
		Body    template.HTML
		Why     string
	}{b.NoticeSubject, body, footer(site)}); err != nil {
		return "", "", fmt.Errorf("render breach notice: %w", err)
	}
	text = strings.TrimSpace(strings.ReplaceAll(b.NoticeBody, "\r\n", "\n")) + "\n\n-- \n" + footer(site) + "\n"
	return text, h.String(), nil
}

// Preview is the draft as the people affected will read it (HTML part).
func Preview(b Breach) (template.HTML, error) { return notices.BodyHTML(b.NoticeBody) }

// Recipient is one person a notice went to or will go to.
type Recipient struct {
	Email      string
	CustomerID int64
	State      string
	SkipReason string
	NotifiedAt time.Time
}

// Recipients lists a notice's recipients (pending, queued or skipped).
func Recipients(ctx context.Context, q db.Querier, id int64, limit int) ([]Recipient, int, error) {
	var total int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM breach_subjects WHERE breach_id = $1`, id).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("breach recipients: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT email, COALESCE(customer_id, 0), state, skip_reason, notified_at FROM breach_subjects
		WHERE breach_id = $1 ORDER BY id LIMIT $2`, id, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("breach recipients: %w", err)
	}
	defer rows.Close()
	var out []Recipient
	for rows.Next() {
		var r Recipient
		var at sql.NullTime
		if err := rows.Scan(&r.Email, &r.CustomerID, &r.State, &r.SkipReason, &at); err != nil {
			return nil, 0, fmt.Errorf("breach recipients: %w", err)
		}
		r.NotifiedAt = utc(at)
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// Template is a first draft of the notice from the record, for the owner
// to edit: Art. 34(2) asks it to describe the breach in clear language,
// name a contact, the likely consequences and the measures taken.
func Template(b Breach, contact string) NoticeInput {
	var s strings.Builder
	s.WriteString("We are writing to tell you about a security incident that affected some of your personal data.\n\n")
	s.WriteString("**What happened.** " + strings.TrimSpace(b.WhatHappened) + "\n\n")
	if len(b.Categories) > 0 {
		s.WriteString("**Which data.** " + strings.Join(b.CategoryLabels(), ", ") + ".\n\n")
	}
	if c := strings.TrimSpace(b.Consequences); c != "" {
		s.WriteString("**What it may mean for you.** " + c + "\n\n")
	}
	if m := strings.TrimSpace(b.Measures); m != "" {
		s.WriteString("**What we have done.** " + m + "\n\n")
	}
	s.WriteString("**Who to ask.** Write to " + contact + " with any question about this incident.\n")
	return NoticeInput{Subject: "A security incident affected your data", Body: s.String(), Audience: Addresses}
}
