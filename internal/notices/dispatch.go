package notices

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

// Rate is how fast notices go into the outbox, over all instances
// together: at most PerSecond messages in any second and PerHour in any
// hour (sliding windows over the time each recipient was queued).
type Rate struct {
	PerSecond int
	PerHour   int
}

// DefaultRate suits a small vendor's relay: 10 a second, 20,000 an hour
// (a security notice reaches 6,000 license holders in 10 minutes).
var DefaultRate = Rate{PerSecond: 10, PerHour: 20_000}

// Valid reports whether both limits are positive and agree.
func (r Rate) Valid() bool { return r.PerSecond > 0 && r.PerHour >= r.PerSecond }

// Sender starts scheduled notices and moves recipients of the notices
// being sent into the outbox. Run RunOnce every second on every instance
// (cmd/storekeep's periodic jobs): runs serialise on one locked row, so
// instances share the rate and never queue a recipient twice.
type Sender struct {
	DB    *db.DB
	Clock clock.Clock
	Rate  Rate
	// BaseURL is the site's https address, for the unsubscribe links.
	BaseURL *url.URL
	// Secret signs the unsubscribe links (settings.InstallSecret).
	Secret []byte
	// Site names the vendor in the mail's footer.
	Site string
	// Lists is the mailing lists' audience; nil when there are none.
	Lists ListAudience
	// Batch is the most recipients one transaction queues (default
	// 500): a run queues what the rate allows in transactions of this
	// size, so memory and lock times stay bounded at any rate.
	Batch int
}

// DefaultBatch is Sender.Batch's default.
const DefaultBatch = 500

// Outcome is what one run did.
type Outcome struct {
	Started int // scheduled notices started
	Queued  int // messages written to the outbox
	Skipped int // recipients whose choices no longer permit the mail
}

// unsubscribePlaceholder stands for each recipient's own link in a
// notice rendered once per run.
const unsubscribePlaceholder = "https://unsubscribe.invalid/placeholder"

// RunOnce starts the scheduled notices that are due, then queues as many
// waiting recipients as the rate allows now, security notices first.
func (s *Sender) RunOnce(ctx context.Context) (Outcome, error) {
	var out Outcome
	now := s.Clock.Now().UTC()
	started, err := s.startDue(ctx, now)
	out.Started = started
	if err != nil {
		return out, err
	}
	if !s.Rate.Valid() {
		return out, fmt.Errorf("notices: rate %d/s, %d/h is not valid", s.Rate.PerSecond, s.Rate.PerHour)
	}
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	for {
		q, sk, full, err := s.runBatch(ctx, now, batch)
		out.Queued += q
		out.Skipped += sk
		if err != nil || !full {
			return out, err
		}
	}
}

// runBatch queues at most batch recipients in one transaction; full
// reports that it queued or skipped a whole batch, so there may be more.
func (s *Sender) runBatch(ctx context.Context, now time.Time, batch int) (queuedN, skippedN int, full bool, err error) {
	var out Outcome
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		out.Queued, out.Skipped = 0, 0
		// The turnstile: on PostgreSQL the row lock makes a second
		// instance wait here until this run commits, so it counts what
		// this one queued; SQLite's one writer does the same.
		if _, err := tx.ExecContext(ctx, `UPDATE notice_dispatch SET last_run = $1 WHERE id = 1`, now); err != nil {
			return fmt.Errorf("notices: turnstile: %w", err)
		}
		budget, err := s.budget(ctx, tx, now)
		if err != nil || budget <= 0 {
			return err
		}
		budget = min(budget, batch)
		limit := budget
		ns, err := sendingNotices(ctx, tx)
		if err != nil {
			return err
		}
		for _, n := range ns {
			if budget <= 0 {
				break
			}
			q, sk, done, err := s.dispatch(ctx, tx, n, budget, now)
			if err != nil {
				return err
			}
			out.Queued += q
			out.Skipped += sk
			budget -= q + sk
			if done {
				if _, err := tx.ExecContext(ctx, `UPDATE notices SET status = 'sent', finished_at = $1, updated_at = $1 WHERE id = $2 AND status = 'sending'`, now, n.ID); err != nil {
					return err
				}
			}
		}
		if budget > 0 { // what the notices left, for policy change mail (policy.go)
			q, sk, err := s.dispatchPolicyMail(ctx, tx, budget, now)
			if err != nil {
				return err
			}
			out.Queued += q
			out.Skipped += sk
		}
		full = out.Queued+out.Skipped >= limit
		return nil
	})
	if err != nil {
		return 0, 0, false, err
	}
	return out.Queued, out.Skipped, full, nil
}

// budget is how many messages may be queued now without passing either
// limit. Notices and policy change mail (policy.go) share the rate.
func (s *Sender) budget(ctx context.Context, tx *sql.Tx, now time.Time) (int, error) {
	var sec, hour int
	const count = `SELECT (SELECT COUNT(*) FROM notice_recipients WHERE dispatched_at > $1) + (SELECT COUNT(*) FROM policy_mail_recipients WHERE dispatched_at > $1)`
	if err := tx.QueryRowContext(ctx, count, now.Add(-time.Second)).Scan(&sec); err != nil {
		return 0, fmt.Errorf("notices: rate: %w", err)
	}
	if err := tx.QueryRowContext(ctx, count, now.Add(-time.Hour)).Scan(&hour); err != nil {
		return 0, fmt.Errorf("notices: rate: %w", err)
	}
	return min(s.Rate.PerSecond-sec, s.Rate.PerHour-hour), nil
}

func sendingNotices(ctx context.Context, tx *sql.Tx) ([]Notice, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+columns+` FROM notices WHERE status = 'sending' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("notices: sending: %w", err)
	}
	defer rows.Close()
	var ns []Notice
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	slices.SortStableFunc(ns, func(a, b Notice) int { return a.Kind.priority() - b.Kind.priority() })
	return ns, rows.Err()
}

type recipient struct {
	id, customer, subscriber int64
	email                    string
}

// dispatch queues up to budget waiting recipients of n; done reports that
// none is left waiting.
func (s *Sender) dispatch(ctx context.Context, tx *sql.Tx, n Notice, budget int, now time.Time) (queued, skipped int, done bool, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, customer_id, subscriber_id, email FROM notice_recipients
		WHERE notice_id = $1 AND state = 'waiting' ORDER BY id LIMIT $2`, n.ID, budget+1)
	if err != nil {
		return 0, 0, false, fmt.Errorf("notices: recipients: %w", err)
	}
	var rs []recipient
	for rows.Next() {
		var r recipient
		var c, sub sql.NullInt64
		if err := rows.Scan(&r.id, &c, &sub, &r.email); err != nil {
			return 0, 0, false, errors.Join(err, rows.Close())
		}
		r.customer, r.subscriber = c.Int64, sub.Int64
		rs = append(rs, r)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, 0, false, err
	}
	done = len(rs) <= budget
	if !done {
		rs = rs[:budget]
	}
	if len(rs) == 0 {
		return 0, 0, true, nil
	}
	if !mail.UnsubscribeBase(s.BaseURL) {
		return 0, 0, false, errors.New("notices: the site needs an https base URL for unsubscribe links")
	}
	c, err := Render(n, s.Site, unsubscribePlaceholder)
	if err != nil {
		return 0, 0, false, err
	}
	for _, r := range rs {
		if why, err := s.refusal(ctx, tx, n, r); err != nil {
			return 0, 0, false, err
		} else if why != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE notice_recipients SET state = 'skipped', skip_reason = $1 WHERE id = $2 AND state = 'waiting'`, why, r.id); err != nil {
				return 0, 0, false, err
			}
			skipped++
			continue
		}
		tok := unsubscribe.Token{Purpose: n.Kind.Purpose(), List: n.ListID, Notice: r.id}
		if r.subscriber != 0 {
			tok.Subscriber = r.subscriber
		} else {
			tok.Customer = r.customer
		}
		link := unsubscribe.URL(s.BaseURL, s.Secret, tok)
		m := mail.Message{Kind: mail.Bulk, Template: "notice", To: r.email, Subject: c.Subject,
			Text:       strings.ReplaceAll(c.Text, unsubscribePlaceholder, link),
			HTML:       strings.ReplaceAll(c.HTML, unsubscribePlaceholder, html.EscapeString(link)),
			DedupKey:   "notice-recipient:" + strconv.FormatInt(r.id, 10),
			CustomerID: r.customer, UnsubscribeURL: link}
		if n.Kind == ProductUpdate {
			// The outbox checks the choices again; see refusal for the
			// kinds that do not name their purpose to it.
			m.Purpose = "notices"
		}
		outboxID, err := mail.Enqueue(ctx, tx, m, now)
		switch {
		case errors.Is(err, mail.ErrNotPermitted):
			if _, err := tx.ExecContext(ctx, `UPDATE notice_recipients SET state = 'skipped', skip_reason = $1 WHERE id = $2 AND state = 'waiting'`,
				"their privacy choices do not permit it", r.id); err != nil {
				return 0, 0, false, err
			}
			skipped++
			continue
		case errors.Is(err, mail.ErrDuplicate):
			// Queued before (cannot happen through the turnstile; kept
			// honest anyway): point at that message.
			if err := tx.QueryRowContext(ctx, `SELECT id FROM outbox WHERE dedup_key = $1`, m.DedupKey).Scan(&outboxID); err != nil {
				return 0, 0, false, err
			}
		case err != nil:
			// An address the outbox refuses is this recipient's problem,
			// not the notice's: skip it and go on.
			if strings.HasPrefix(err.Error(), "mail: ") && !strings.Contains(err.Error(), "queue") {
				if _, err2 := tx.ExecContext(ctx, `UPDATE notice_recipients SET state = 'skipped', skip_reason = $1 WHERE id = $2 AND state = 'waiting'`,
					"the outbox refused the address", r.id); err2 != nil {
					return 0, 0, false, err2
				}
				skipped++
				continue
			}
			return 0, 0, false, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notice_recipients SET state = 'queued', outbox_id = $1, dispatched_at = $2 WHERE id = $3 AND state = 'waiting'`,
			outboxID, now, r.id); err != nil {
			return 0, 0, false, err
		}
		queued++
	}
	return queued, skipped, done, nil
}

// refusal says why the recipient's current choices forbid the mail, ""
// when they permit it. A restriction of processing stops every kind; an
// objection to product notices stops product updates (the outbox checks
// that too) but not security notices; list mail rests on the consent the
// list holds (ListAudience only gives subscribers whose consent is in
// force), so only a restriction is checked here.
func (s *Sender) refusal(ctx context.Context, tx *sql.Tx, n Notice, r recipient) (string, error) {
	if r.customer == 0 {
		return "", nil
	}
	ch, err := privacy.LoadChoices(ctx, tx, r.customer)
	if err != nil {
		return "", err
	}
	if ch.Restricted {
		return "processing is restricted at the person's request", nil
	}
	if _, objected := ch.Objections["notices"]; objected && n.Kind == ProductUpdate {
		return "the person objected to product notices", nil
	}
	return "", nil
}

// startDue starts the scheduled notices whose time has come. One whose
// audience is empty by then goes back to draft with a note saying so.
func (s *Sender) startDue(ctx context.Context, now time.Time) (int, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id FROM notices WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at, id`, now)
	if err != nil {
		return 0, fmt.Errorf("notices: due: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return 0, errors.Join(err, rows.Close())
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("notices: due: %w", err)
	}
	started := 0
	for _, id := range ids {
		_, err := Start(ctx, s.DB, s.Lists, audit.System(), id, now)
		switch {
		case err == nil:
			started++
		case errors.Is(err, ErrEmptyAudience):
			if _, err := s.DB.ExecContext(ctx, `UPDATE notices SET status = 'draft', send_at = NULL, note = $1, updated_at = $2 WHERE id = $3 AND status = 'scheduled'`,
				"At the scheduled time no one was in the audience: nothing was sent.", now, id); err != nil {
				return started, err
			}
		case errors.Is(err, ErrState):
			// Another instance started it first.
		default:
			return started, err
		}
	}
	return started, rows.Err()
}
