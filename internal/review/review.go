// Package review is the regular data review the privacy policy promises:
// the report an owner reads (per kind of data, what is held, the oldest,
// anything overdue for purge, the legal holds in force, recipients with
// problems, open breaches and privacy requests near their deadline), the
// record of each review done, and the monthly reminder to owners.
package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
)

// RecipientProblem is a recipient of personal data that the register of
// recipients finds wanting: data leaving the EEA without a safeguard, no
// agreement on file, a review date passed.
type RecipientProblem struct {
	Recipient string
	Problem   string
}

// Recipients is the hook for the recipients register (issue 17, part A):
// anything that can list the recipients with problems. The review shows
// its answer; with none configured, the review says the register is not
// available rather than that there are no problems.
type Recipients interface {
	RecipientProblems(ctx context.Context, q db.Querier) ([]RecipientProblem, error)
}

// Category is the review of one kind of data, over the tables holding it.
type Category struct {
	Category privacy.Category
	Label    string
	Tables   []string
	Rows     int64
	Oldest   time.Time
	Overdue  int64
}

// Report is the whole review.
type Report struct {
	At         time.Time
	Categories []Category
	Tables     []privacy.ReviewRow
	Holds      []privacy.Hold
	// RecipientsKnown is false when no recipients register is wired in.
	RecipientsKnown   bool
	RecipientProblems []RecipientProblem
	OpenBreaches      []breaches.Breach
	RequestsOverdue   []requests.Request
	RequestsDueSoon   []requests.Request
	Last              *Done
}

// Overdue is the number of rows past their retention, over all tables.
func (r Report) Overdue() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Expired
	}
	return n
}

// Build computes the review at now.
func Build(ctx context.Context, d *db.DB, inv privacy.Inventory, rec Recipients, now time.Time) (Report, error) {
	r := Report{At: now.UTC()}
	var err error
	if r.Tables, err = privacy.Review(ctx, d, inv, now); err != nil {
		return r, err
	}
	byCat := map[privacy.Category]*Category{}
	for _, row := range r.Tables {
		t, _ := inv.Table(row.Table)
		seen := map[privacy.Category]bool{}
		for _, c := range t.Columns {
			if !c.Personal || seen[c.Category] {
				continue
			}
			seen[c.Category] = true
			cc := byCat[c.Category]
			if cc == nil {
				cc = &Category{Category: c.Category, Label: c.Category.Label()}
				byCat[c.Category] = cc
			}
			cc.Tables = append(cc.Tables, row.Table)
			cc.Rows += row.Rows
			cc.Overdue += row.Expired
			if !row.Oldest.IsZero() && (cc.Oldest.IsZero() || row.Oldest.Before(cc.Oldest)) {
				cc.Oldest = row.Oldest
			}
		}
	}
	for _, cc := range byCat {
		r.Categories = append(r.Categories, *cc)
	}
	sort.Slice(r.Categories, func(i, j int) bool { return r.Categories[i].Category < r.Categories[j].Category })
	if r.Holds, err = privacy.LegalHolds(ctx, d, inv); err != nil {
		return r, err
	}
	if rec != nil {
		r.RecipientsKnown = true
		if r.RecipientProblems, err = rec.RecipientProblems(ctx, d); err != nil {
			return r, err
		}
	}
	if r.OpenBreaches, err = breaches.List(ctx, d, true); err != nil {
		return r, err
	}
	g, err := requests.Digest(ctx, d, now)
	if err != nil {
		return r, err
	}
	r.RequestsOverdue, r.RequestsDueSoon = g.Overdue, g.DueSoon
	if last, err := List(ctx, d, 1); err != nil {
		return r, err
	} else if len(last) > 0 {
		r.Last = &last[0]
	}
	return r, nil
}

// Summary is the review's figures in one line, kept with its record.
func (r Report) Summary() string {
	var rows int64
	for _, t := range r.Tables {
		rows += t.Rows
	}
	return fmt.Sprintf("%d rows of personal data in %d tables; %d past retention; %d legal hold(s); %d recipient problem(s); %d open breach(es); %d request(s) overdue, %d due within 7 days",
		rows, len(r.Tables), r.Overdue(), len(r.Holds), len(r.RecipientProblems), len(r.OpenBreaches), len(r.RequestsOverdue), len(r.RequestsDueSoon))
}

// Done is the record of one review.
type Done struct {
	ID         int64
	ReviewedBy int64
	ByName     string
	At         time.Time
	Notes      string
	Summary    string
}

// Record records that an owner did the review, with their notes and the
// figures they saw.
func Record(ctx context.Context, d *db.DB, by audit.Actor, notes, summary string, now time.Time) (int64, error) {
	notes = strings.TrimSpace(notes)
	if len(notes) > 20000 {
		return 0, refuse.Field("notes", "The notes are longer than 20,000 characters.")
	}
	if by.Type != audit.ActorStaff {
		return 0, refuse.New(refuse.Forbidden, "review_by_staff", "A review is recorded by the owner who did it.")
	}
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO privacy_reviews (reviewed_by, reviewed_at, notes, summary) VALUES ($1, $2, $3, $4) RETURNING id`,
			by.ID, now.UTC(), notes, summary).Scan(&id); err != nil {
			return fmt.Errorf("record review: %w", err)
		}
		_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: "privacy.reviewed", SubjectType: "privacy_review", SubjectID: fmt.Sprint(id),
			Detail: summary}.By(by))
		return err
	})
	return id, err
}

// List returns the reviews done, newest first.
func List(ctx context.Context, q db.Querier, limit int) ([]Done, error) {
	rows, err := q.QueryContext(ctx, `SELECT r.id, COALESCE(r.reviewed_by, 0), COALESCE(s.name, ''), r.reviewed_at, r.notes, r.summary
		FROM privacy_reviews r LEFT JOIN staff s ON s.id = r.reviewed_by ORDER BY r.reviewed_at DESC, r.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	var out []Done
	for rows.Next() {
		var r Done
		if err := rows.Scan(&r.ID, &r.ReviewedBy, &r.ByName, &r.At, &r.Notes, &r.Summary); err != nil {
			return nil, fmt.Errorf("list reviews: %w", err)
		}
		r.At = r.At.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReminderMail is the data of the privacy_review_reminder template.
type ReminderMail struct {
	SiteName   string
	Month      string
	LastReview string
	Link       string
}

// ReminderKey is the outbox dedup key of the month's reminder to owner.
func ReminderKey(now time.Time, owner int64) string {
	return fmt.Sprintf("privacy-review:%s:%d", now.UTC().Format("2006-01"), owner)
}

// SendReminder mails every owner the month's review reminder, once a
// month: the dedup key names the month and the owner, so hourly runs on
// every instance queue it once. A month whose review is already recorded
// sends none.
func SendReminder(ctx context.Context, d *db.DB, baseURL string, now time.Time) (int, error) {
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	sent := 0
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		sent = 0
		var last sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT reviewed_at FROM privacy_reviews ORDER BY reviewed_at DESC LIMIT 1`).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("review reminder: %w", err)
		}
		if last.Valid && !last.Time.Before(month) {
			return nil
		}
		v, err := settings.Load(ctx, tx)
		if err != nil {
			return err
		}
		data := ReminderMail{SiteName: v.Name, Month: now.Format("January 2006"), Link: baseURL + "/staff/review"}
		if last.Valid {
			data.LastReview = last.Time.UTC().Format("2 January 2006")
		}
		owners, err := breaches.Owners(ctx, tx)
		if err != nil {
			return err
		}
		for _, o := range owners {
			m, err := mail.Compose("privacy_review_reminder", o.Email, data)
			if err != nil {
				return err
			}
			m.StaffID, m.DedupKey = o.ID, ReminderKey(now, o.ID)
			switch _, err := mail.Enqueue(ctx, tx, m, now); {
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
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "privacy.review_reminded", SubjectType: "privacy_review",
			Detail: fmt.Sprintf("%s, to %d owner(s)", data.Month, sent)}.By(audit.System()))
		return err
	})
	return sent, err
}
