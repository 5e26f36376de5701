package notices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// Policy change mail (docs/policy-archive.md): when an owner marks a
// version of a policy as a significant change and chooses to mail it,
// every customer whose choices permit it gets one message about it. The
// recipients are written in one INSERT ... SELECT, like a notice's, and
// the Sender moves them into the outbox within the same rate as notices
// (budget counts both), after the notices waiting, so a security notice
// is never held up by a policy mailing.

// PolicyPurpose is the inventory purpose of the mail: an objection to it
// (the unsubscribe link records one) or a restriction stops it.
const PolicyPurpose = "policies"

// ErrAlreadyMailed refuses a second mailing of the same version: each
// customer hears of a change once.
var ErrAlreadyMailed = refuse.New(refuse.Conflict, "policy_already_mailed",
	"This version of the policy was already mailed to customers: each customer hears of a change once. Nothing more was queued.")

// PolicyMailing is a mailing of a significant change.
type PolicyMailing struct {
	ID         int64
	Document   privacy.Document
	Seq        int
	Status     string // sending, sent
	StartedAt  time.Time
	FinishedAt time.Time
	Recipients int
	Queued     int
	Skipped    int
}

// StartPolicyMail queues the mail of version seq of doc to every customer
// with an account (not erased) whose choices permit it now, in tx; the
// Sender checks the choices again for each message. It returns the number
// of recipients. A version mailed before is refused with
// ErrAlreadyMailed.
func StartPolicyMail(ctx context.Context, tx *sql.Tx, by audit.Actor, doc privacy.Document, seq int, now time.Time) (int64, error) {
	var startedBy any
	if by.Type == audit.ActorStaff {
		startedBy = by.ID
	}
	now = now.UTC()
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO policy_mailings (document, seq, status, started_by, started_at)
		VALUES ($1, $2, 'sending', $3, $4) ON CONFLICT (document, seq) DO NOTHING RETURNING id`,
		string(doc), seq, startedBy, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrAlreadyMailed
	}
	if err != nil {
		return 0, fmt.Errorf("start policy mailing: %w", err)
	}
	// Erased accounts keep a placeholder address (privacy inventory,
	// customers.email): they are no one to write to.
	res, err := tx.ExecContext(ctx, `INSERT INTO policy_mail_recipients (mailing_id, customer_id, email, created_at)
		SELECT CAST($1 AS BIGINT), c.id, c.email, $2 FROM customers c
		WHERE c.email NOT LIKE '%@erased.invalid'
		AND NOT EXISTS (SELECT 1 FROM subject_choices sc WHERE sc.customer_id = c.id AND sc.active
			AND (sc.choice = 'restriction' OR (sc.choice = 'objection' AND sc.purpose = $3)))`, id, now, PolicyPurpose)
	if err != nil {
		return 0, fmt.Errorf("queue policy mailing: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	q, a := `UPDATE policy_mailings SET recipients = $1 WHERE id = $2`, []any{n, id}
	if n == 0 {
		q, a = `UPDATE policy_mailings SET recipients = 0, status = 'sent', finished_at = $1 WHERE id = $2`, []any{now, id}
	}
	if _, err := tx.ExecContext(ctx, q, a...); err != nil {
		return 0, fmt.Errorf("start policy mailing: %w", err)
	}
	return n, nil
}

// PolicyMailingOf reads the mailing of version seq of doc; ok false when
// it was never mailed.
func PolicyMailingOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, doc privacy.Document, seq int) (m PolicyMailing, ok bool, err error) {
	var finished sql.NullTime
	err = q.QueryRowContext(ctx, `SELECT m.id, m.status, m.started_at, m.finished_at, m.recipients,
		(SELECT COUNT(*) FROM policy_mail_recipients r WHERE r.mailing_id = m.id AND r.state = 'queued'),
		(SELECT COUNT(*) FROM policy_mail_recipients r WHERE r.mailing_id = m.id AND r.state = 'skipped')
		FROM policy_mailings m WHERE m.document = $1 AND m.seq = $2`, string(doc), seq).
		Scan(&m.ID, &m.Status, &m.StartedAt, &finished, &m.Recipients, &m.Queued, &m.Skipped)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("read policy mailing: %w", err)
	}
	m.Document, m.Seq, m.StartedAt, m.FinishedAt = doc, seq, m.StartedAt.UTC(), finished.Time.UTC()
	return m, true, nil
}

type policyRecipient struct {
	id, mailing, customer int64
	email, document       string
	seq                   int
	note                  string
	publishedAt           time.Time
}

// dispatchPolicyMail queues up to budget waiting recipients of policy
// mailings in tx and marks the mailings that have none left as sent.
func (s *Sender) dispatchPolicyMail(ctx context.Context, tx *sql.Tx, budget int, now time.Time) (queued, skipped int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.id, r.mailing_id, r.customer_id, r.email, m.document, m.seq, v.change_note, v.published_at
		FROM policy_mail_recipients r
		JOIN policy_mailings m ON m.id = r.mailing_id
		JOIN policy_versions v ON v.document = m.document AND v.seq = m.seq
		WHERE r.state = 'waiting' AND m.status = 'sending' ORDER BY r.id LIMIT $1`, budget)
	if err != nil {
		return 0, 0, fmt.Errorf("notices: policy mail: %w", err)
	}
	var rs []policyRecipient
	for rows.Next() {
		var r policyRecipient
		if err := rows.Scan(&r.id, &r.mailing, &r.customer, &r.email, &r.document, &r.seq, &r.note, &r.publishedAt); err != nil {
			return 0, 0, errors.Join(err, rows.Close())
		}
		rs = append(rs, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, 0, err
	}
	if len(rs) == 0 {
		return 0, 0, nil
	}
	if !mail.UnsubscribeBase(s.BaseURL) {
		return 0, 0, errors.New("notices: the site needs an https base URL for unsubscribe links")
	}
	mailings := map[int64]bool{}
	for _, r := range rs {
		mailings[r.mailing] = true
		skip := func(why string) error {
			_, err := tx.ExecContext(ctx, `UPDATE policy_mail_recipients SET state = 'skipped', skip_reason = $1 WHERE id = $2 AND state = 'waiting'`, why, r.id)
			skipped++
			return err
		}
		ch, err := privacy.LoadChoices(ctx, tx, r.customer)
		if err != nil {
			return 0, 0, err
		}
		if ch.Restricted {
			if err := skip("processing is restricted at the person's request"); err != nil {
				return 0, 0, err
			}
			continue
		}
		if _, objected := ch.Objections[PolicyPurpose]; objected {
			if err := skip("the person objected to mail about policy changes"); err != nil {
				return 0, 0, err
			}
			continue
		}
		link := unsubscribe.URL(s.BaseURL, s.Secret, unsubscribe.Token{Purpose: PolicyPurpose, Customer: r.customer})
		c, err := s.renderPolicyMail(r, link)
		if err != nil {
			return 0, 0, err
		}
		m := mail.Message{Kind: mail.Bulk, Template: "policy_change", To: r.email, Subject: c.Subject, Text: c.Text, HTML: c.HTML,
			DedupKey:   "policy-mail:" + r.document + ":" + strconv.Itoa(r.seq) + ":" + strconv.FormatInt(r.customer, 10),
			CustomerID: r.customer, UnsubscribeURL: link, Purpose: PolicyPurpose}
		outboxID, err := mail.Enqueue(ctx, tx, m, now)
		switch {
		case errors.Is(err, mail.ErrNotPermitted):
			if err := skip("their privacy choices do not permit it"); err != nil {
				return 0, 0, err
			}
			continue
		case errors.Is(err, mail.ErrDuplicate):
			// This customer heard of this version before: point at
			// that message, send nothing more.
			if err := tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE dedup_key = $1`, m.DedupKey).Scan(&outboxID); err != nil {
				return 0, 0, err
			}
		case err != nil:
			if strings.HasPrefix(err.Error(), "mail: ") && !strings.Contains(err.Error(), "queue") {
				if err := skip("the outbox refused the address"); err != nil {
					return 0, 0, err
				}
				continue
			}
			return 0, 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE policy_mail_recipients SET state = 'queued', outbox_id = $1, dispatched_at = $2 WHERE id = $3 AND state = 'waiting'`,
			outboxID, now, r.id); err != nil {
			return 0, 0, err
		}
		queued++
	}
	for id := range mailings {
		if _, err := tx.ExecContext(ctx, `UPDATE policy_mailings SET status = 'sent', finished_at = $1
			WHERE id = $2 AND status = 'sending' AND NOT EXISTS (SELECT 1 FROM policy_mail_recipients WHERE mailing_id = $2 AND state = 'waiting')`, now, id); err != nil {
			return 0, 0, err
		}
	}
	return queued, skipped, nil
}

var policyLayout = template.Must(template.New("policy").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em; margin: 0 auto; padding: 1em; color: #222">
<p>We changed our {{.Label}} on {{.Date}}.</p>
{{with .Note}}<p>{{.}}</p>{{end}}
<p><a href="{{.Changes}}">See what changed</a> · <a href="{{.Policy}}">Read the {{.Label}}</a></p>
<hr style="border: none; border-top: 1px solid #ccc; margin-top: 2em">
<p style="font-size: 0.85em; color: #666">{{.Why}} <a href="{{.Unsubscribe}}">No more mail about policy changes</a></p>
</body></html>
`))

// renderPolicyMail writes the message about one version for one customer.
func (s *Sender) renderPolicyMail(r policyRecipient, unsubscribeURL string) (Content, error) {
	label, path := "privacy policy", "/privacy"
	if r.document == string(privacy.CookiePolicy) {
		label, path = "cookie policy", "/cookies"
	}
	base := strings.TrimSuffix(s.BaseURL.String(), "/")
	site := s.Site
	if site == "" {
		site = "us"
	}
	date := r.publishedAt.UTC().Format("2 January 2006")
	changes := base + "/privacy/archive/" + r.document + "/" + strconv.Itoa(r.seq)
	why := "You receive this because you have a customer account with " + site + ", and we tell our customers when we change how we handle their data."
	data := struct {
		Subject, Label, Date, Note, Changes, Policy, Why, Unsubscribe string
	}{"Our " + label + " has changed", label, date, r.note, changes, base + path, why, unsubscribeURL}
	var h strings.Builder
	if err := policyLayout.Execute(&h, data); err != nil {
		return Content{}, err
	}
	var t strings.Builder
	fmt.Fprintf(&t, "We changed our %s on %s.\n\n", label, date)
	if r.note != "" {
		t.WriteString(r.note + "\n\n")
	}
	fmt.Fprintf(&t, "See what changed: %s\nRead the %s: %s\n\n-- \n%s\nNo more mail about policy changes: %s\n", changes, label, base+path, why, unsubscribeURL)
	return Content{Subject: data.Subject, Text: t.String(), HTML: h.String()}, nil
}
