// Package notices is the mail a software vendor sends many people at once:
// security notices and product updates to license holders (service mail,
// purpose "notices"), release announcements and newsletters to the
// subscribers of a mailing list (purpose "marketing", consent). A notice is
// written in Markdown, previewed, test-sent to its author, scheduled or
// started; starting it writes its recipients in one INSERT ... SELECT, and
// the Dispatcher moves them into the outbox at the configured rate, so the
// relay and the sender's reputation survive a 100,000-recipient notice.
// Nothing is sent without a person pressing send: a release only starts a
// draft. docs/mailing.md, section "Notices".
package notices

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Kind is what a notice is, which decides whom it may go to and on what
// legal basis.
type Kind string

// The kinds of notice.
const (
	// Security notices are essential service mail to license holders: an
	// objection to product notices does not stop them (keeping the
	// software a customer runs safe is part of what was sold); a
	// restriction of processing does.
	Security Kind = "security"
	// ProductUpdate is a product update to license holders: service mail on
	// legitimate interest, which an objection stops.
	ProductUpdate Kind = "update"
	// Release and Newsletter go to a mailing list's confirmed subscribers
	// only (consent, double opt-in).
	Release    Kind = "release"
	Newsletter Kind = "newsletter"
)

// Kinds lists the kinds, as the compose form offers them.
var Kinds = []Kind{Security, ProductUpdate, Release, Newsletter}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	switch k {
	case Security, ProductUpdate, Release, Newsletter:
		return true
	}
	return false
}

// ToList reports whether the kind goes to a mailing list rather than to
// license holders.
func (k Kind) ToList() bool { return k == Release || k == Newsletter }

// Purpose is the inventory purpose its mail serves.
func (k Kind) Purpose() string {
	if k.ToList() {
		return "marketing"
	}
	return "notices"
}

// Essential reports whether an objection to product notices leaves the
// kind's mail going (security notices only).
func (k Kind) Essential() bool { return k == Security }

// Label names the kind for people.
func (k Kind) Label() string {
	switch k {
	case Security:
		return "Security notice"
	case ProductUpdate:
		return "Product update"
	case Release:
		return "Release announcement"
	case Newsletter:
		return "Newsletter"
	}
	return string(k)
}

// priority orders sending notices for the dispatcher: a security notice
// overtakes a newsletter in flight.
func (k Kind) priority() int {
	switch k {
	case Security:
		return 0
	case ProductUpdate:
		return 1
	case Release:
		return 2
	}
	return 3
}

// Status is where a notice is in its life.
type Status string

// The statuses.
const (
	Draft     Status = "draft"
	Scheduled Status = "scheduled" // starts by itself at SendAt
	Sending   Status = "sending"   // recipients written; the dispatcher is moving them into the outbox
	Paused    Status = "paused"    // as Sending, but the dispatcher leaves it alone
	Sent      Status = "sent"      // every recipient handed to the outbox (or skipped)
)

// Notice is one notice.
type Notice struct {
	ID       int64
	Kind     Kind
	Status   Status
	Subject  string
	Body     string // Markdown
	Audience Audience
	ListID   int64 // Release and Newsletter
	// ReleaseID is the release an announcement was started from, 0 when
	// none.
	ReleaseID  int64
	SendAt     time.Time // zero unless scheduled
	Note       string    // why a scheduled notice did not start
	CreatedBy  int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Recipients int
}

// Editable reports whether the notice's text and audience may change.
func (n Notice) Editable() bool { return n.Status == Draft || n.Status == Scheduled }

// Input is what a person writes: the notice before it has an ID.
type Input struct {
	Kind     Kind
	Subject  string
	Body     string
	Audience Audience
	ListID   int64
}

// Limits on what a notice holds.
const (
	MaxSubject = 200
	MaxBody    = 100_000
)

// The refusals.
var (
	ErrNotFound      = refuse.New(refuse.NotFound, "notice_not_found", "There is no such notice.")
	ErrState         = refuse.New(refuse.Conflict, "notice_state", "The notice cannot do that in its state.")
	ErrEmptyAudience = refuse.New(refuse.Conflict, "notice_empty_audience", "No one is in this notice's audience: nothing was queued. Widen the audience (product, editions, license states, version) or choose another list.")
	ErrNoList        = refuse.New(refuse.Invalid, "notice_no_list", "Choose the mailing list a release announcement or newsletter goes to.")
)

func (d Input) check() error {
	if !d.Kind.Valid() {
		return refuse.Field("kind", "Choose what kind of notice this is.")
	}
	s := strings.TrimSpace(d.Subject)
	switch {
	case s == "":
		return refuse.Field("subject", "Write a subject.")
	case utf8.RuneCountInString(s) > MaxSubject || strings.ContainsAny(s, "\r\n") || !utf8.ValidString(s):
		return refuse.Field("subject", fmt.Sprintf("The subject is one line of at most %d characters.", MaxSubject))
	}
	if strings.TrimSpace(d.Body) == "" {
		return refuse.Field("body", "Write the notice's text.")
	}
	if len(d.Body) > MaxBody || !utf8.ValidString(d.Body) {
		return refuse.Field("body", fmt.Sprintf("The text is at most %d bytes of UTF-8.", MaxBody))
	}
	if d.Kind.ToList() && d.ListID <= 0 {
		return ErrNoList
	}
	if !d.Kind.ToList() {
		return d.Audience.check()
	}
	return nil
}

func (d Input) audienceJSON() string {
	if d.Kind.ToList() {
		return ""
	}
	b, _ := json.Marshal(d.Audience)
	return string(b)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// Create writes a new draft.
func Create(ctx context.Context, d *db.DB, by audit.Actor, dr Input, now time.Time) (int64, error) {
	dr.Subject = strings.TrimSpace(dr.Subject)
	if err := dr.check(); err != nil {
		return 0, err
	}
	return createTx(ctx, d, by, dr, 0, now)
}

func createTx(ctx context.Context, d *db.DB, by audit.Actor, dr Input, releaseID int64, now time.Time) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var createdBy any
		if by.Type == audit.ActorStaff {
			createdBy = by.ID
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO notices (kind, status, subject, body, audience, list_id, release_id, created_by, created_at, updated_at)
			VALUES ($1, 'draft', $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
			string(dr.Kind), dr.Subject, dr.Body, dr.audienceJSON(), nullID(dr.ListID), nullID(releaseID), createdBy, now.UTC()).Scan(&id); err != nil {
			return fmt.Errorf("create notice: %w", err)
		}
		detail := string(dr.Kind)
		if releaseID != 0 {
			detail += " from release " + fmt.Sprint(releaseID)
		}
		return record(ctx, tx, by, "notice.created", id, detail, now)
	})
	return id, err
}

// Update changes a draft's or scheduled notice's text and audience.
func Update(ctx context.Context, d *db.DB, by audit.Actor, id int64, dr Input, now time.Time) error {
	dr.Subject = strings.TrimSpace(dr.Subject)
	if err := dr.check(); err != nil {
		return err
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE notices SET kind = $1, subject = $2, body = $3, audience = $4, list_id = $5, updated_at = $6
			WHERE id = $7 AND status IN ('draft', 'scheduled')`,
			string(dr.Kind), dr.Subject, dr.Body, dr.audienceJSON(), nullID(dr.ListID), now.UTC(), id)
		if err != nil {
			return fmt.Errorf("update notice: %w", err)
		}
		if err := oneRow(ctx, tx, res, id); err != nil {
			return err
		}
		return record(ctx, tx, by, "notice.updated", id, "", now)
	})
}

// oneRow turns an UPDATE that matched no row into ErrNotFound or ErrState.
func oneRow(ctx context.Context, q db.Querier, res sql.Result, id int64) error {
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var st string
	if err := q.QueryRowContext(ctx, `SELECT status FROM notices WHERE id = $1`, id).Scan(&st); errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return ErrState.Withf("The notice is %s: that cannot be done now.", st)
}

func record(ctx context.Context, tx *sql.Tx, by audit.Actor, action string, id int64, detail string, now time.Time) error {
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "notice", SubjectID: fmt.Sprint(id), Detail: detail}.By(by))
	return err
}

const columns = `id, kind, status, subject, body, audience, list_id, release_id, send_at, note, created_by, created_at, updated_at, started_at, finished_at, recipients`

func scan(row interface{ Scan(...any) error }) (Notice, error) {
	var n Notice
	var kind, status, aud string
	var list, rel, by sql.NullInt64
	var sendAt, started, finished sql.NullTime
	err := row.Scan(&n.ID, &kind, &status, &n.Subject, &n.Body, &aud, &list, &rel, &sendAt, &n.Note, &by, &n.CreatedAt, &n.UpdatedAt, &started, &finished, &n.Recipients)
	if err != nil {
		return n, err
	}
	n.Kind, n.Status = Kind(kind), Status(status)
	n.ListID, n.ReleaseID, n.CreatedBy = list.Int64, rel.Int64, by.Int64
	n.SendAt, n.StartedAt, n.FinishedAt = sendAt.Time.UTC(), started.Time.UTC(), finished.Time.UTC()
	if !sendAt.Valid {
		n.SendAt = time.Time{}
	}
	if !started.Valid {
		n.StartedAt = time.Time{}
	}
	if !finished.Valid {
		n.FinishedAt = time.Time{}
	}
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	if aud != "" {
		if err := json.Unmarshal([]byte(aud), &n.Audience); err != nil {
			return n, fmt.Errorf("notice %d audience: %w", n.ID, err)
		}
	}
	return n, nil
}

// ByID reads a notice.
func ByID(ctx context.Context, q db.Querier, id int64) (Notice, error) {
	n, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM notices WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return n, ErrNotFound
	}
	return n, err
}

// List reads the newest notices first, at most limit.
func List(ctx context.Context, q db.Querier, limit int) ([]Notice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM notices ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list notices: %w", err)
	}
	defer rows.Close()
	var out []Notice
	for rows.Next() {
		n, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
