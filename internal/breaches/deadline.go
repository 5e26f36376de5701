package breaches

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/storekeep/storekeep/internal/staff"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/settings"
)

// DeadlineMail is the data of the breach_deadline template.
type DeadlineMail struct {
	SiteName   string
	Number     int64
	Title      string
	Discovered string
	Deadline   string
	Hours      int  // whole hours left, or past when Overdue
	Overdue    bool // the deadline has passed
	Link       string
}

// DeadlineKey is the outbox dedup key of the warning about breach id to
// owner: one per breach and owner, whichever instance or run queues it.
func DeadlineKey(id, owner int64) string { return fmt.Sprintf("breach-deadline:%d:%d", id, owner) }

// SendDeadlineWarnings warns every owner by mail, once per breach, when
// the authority must (or may have to) be told of a breach and the 72
// hours from its discovery end within WarnBefore or have ended. The
// periodic job runs it on every instance: the dedup key makes the
// warning go once, and only the run that queued it audits it.
func SendDeadlineWarnings(ctx context.Context, d *db.DB, baseURL string, now time.Time) (int, error) {
	now = now.UTC()
	due, err := dueForWarning(ctx, d, now)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sent := 0
	for _, b := range due {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			v, err := settings.Load(ctx, tx)
			if err != nil {
				return err
			}
			site := v.Name
			left := b.Left(now)
			data := DeadlineMail{SiteName: site, Number: b.ID, Title: b.Title, Discovered: stamp(b.DiscoveredAt), Deadline: stamp(b.Deadline()),
				Hours: int(left.Hours()), Overdue: left < 0, Link: fmt.Sprintf("%s/staff/breaches/%d", baseURL, b.ID)}
			if left < 0 {
				data.Hours = int(-left.Hours())
			}
			owners, err := Owners(ctx, tx)
			if err != nil {
				return err
			}
			n := 0
			for _, o := range owners {
				m, err := mail.Compose("breach_deadline", o.Email, data)
				if err != nil {
					return err
				}
				m.StaffID, m.DedupKey = o.ID, DeadlineKey(b.ID, o.ID)
				switch _, err := mail.Enqueue(ctx, tx, m, now); {
				case errors.Is(err, mail.ErrDuplicate):
					continue
				case err != nil:
					return err
				}
				n++
			}
			if n == 0 {
				return nil
			}
			sent += n
			_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "breach.deadline_warned", SubjectType: "breach", SubjectID: fmt.Sprint(b.ID),
				Detail: fmt.Sprintf("authority deadline %s, to %d owner(s)", b.Deadline().Format(time.RFC3339), n)}.By(audit.System()))
			return err
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// dueForWarning lists the open breaches whose authority deadline ends
// within WarnBefore (or has ended) while telling the authority is open.
func dueForWarning(ctx context.Context, q db.Querier, now time.Time) ([]Breach, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM breaches WHERE closed_at IS NULL AND authority <> 'not_required'
		AND authority_notified_at IS NULL AND discovered_at <= $1 ORDER BY id`, now.Add(WarnBefore-AuthorityDeadline))
	if err != nil {
		return nil, fmt.Errorf("breach deadlines: %w", err)
	}
	defer rows.Close()
	var due []Breach
	for rows.Next() {
		b, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("breach deadlines: %w", err)
		}
		due = append(due, b)
	}
	return due, rows.Err()
}

func stamp(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }

// Owner is an owner's account, to whom warnings and reminders go.
type Owner = staff.Contact

// Owners lists the active owners.
func Owners(ctx context.Context, q db.Querier) ([]Owner, error) { return staff.ActiveOwners(ctx, q) }
