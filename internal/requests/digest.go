package requests

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
)

// DueList is what the daily digest reports: the open requests past their
// deadline and those due within NearDue, most urgent first.
type DueList struct {
	At      time.Time
	Overdue []Request
	DueSoon []Request
}

// Empty reports whether there is nothing to tell.
func (g DueList) Empty() bool { return len(g.Overdue) == 0 && len(g.DueSoon) == 0 }

// Digest lists the overdue and near-due requests at now.
func Digest(ctx context.Context, q db.Querier, now time.Time) (DueList, error) {
	open, err := openRequests(ctx, q)
	if err != nil {
		return DueList{}, err
	}
	return dueList(open, now), nil
}

// dueList picks the overdue and near-due requests at now out of open.
func dueList(open []Request, now time.Time) DueList {
	g := DueList{At: now.UTC()}
	for _, r := range open {
		switch {
		case r.Overdue(now):
			g.Overdue = append(g.Overdue, r)
		case r.DueSoon(now):
			g.DueSoon = append(g.DueSoon, r)
		}
	}
	return g
}

// DigestKey is the outbox dedup key of one owner's digest on the day of
// now: it makes the digest go out at most once a day per owner, however
// often and on however many instances SendDigest runs.
func DigestKey(now time.Time, staffID int64) string {
	return fmt.Sprintf("privacy-digest:%s:staff-%d", now.UTC().Format(time.DateOnly), staffID)
}

// SendDigest queues the digest to every active owner, when there is
// something to report and it was not sent today. It returns how many
// messages it queued (0 when there was nothing to report or all went out
// today already). Call it from a periodic job at any interval: the dedup
// key holds it to once a day.
func SendDigest(ctx context.Context, d *db.DB, now time.Time) (int, error) {
	now = now.UTC()
	g, err := Digest(ctx, d, now)
	if err != nil || g.Empty() {
		return 0, err
	}
	sent := 0
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		sent = 0
		v, err := vendor(ctx, tx)
		if err != nil {
			return err
		}
		data := DigestMail{SiteName: v.Name, Date: dateText(now)}
		for _, r := range g.Overdue {
			data.Overdue = append(data.Overdue, digestLine(r, -r.DaysLeft(now)))
		}
		for _, r := range g.DueSoon {
			data.DueSoon = append(data.DueSoon, digestLine(r, r.DaysLeft(now)))
		}
		owners, err := staff.ActiveOwners(ctx, tx)
		if err != nil {
			return err
		}
		for _, o := range owners {
			m, err := mail.Compose("privacy_digest", o.Email, data)
			if err != nil {
				return err
			}
			m.StaffID, m.DedupKey = o.ID, DigestKey(now, o.ID)
			_, err = mail.Enqueue(ctx, tx, m, now)
			switch {
			case errors.Is(err, mail.ErrDuplicate):
				continue
			case err != nil:
				return err
			}
			sent++
		}
		if sent == 0 {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "privacy_request.digest_sent",
			SubjectType: "privacy_request", Detail: fmt.Sprintf("%d overdue, %d due within 7 days, to %d owner(s)", len(g.Overdue), len(g.DueSoon), sent)}.By(audit.System()))
		return err
	})
	return sent, err
}

func digestLine(r Request, days int) DigestLine {
	return DigestLine{Number: r.ID, Kind: r.Kind.Label(), State: r.State.Label(), Due: dateText(r.Deadline()), Days: days}
}
