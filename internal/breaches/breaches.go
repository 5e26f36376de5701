// Package breaches is the register of personal-data breaches (GDPR Art.
// 33(5)): what happened, when it happened and was discovered, the kinds
// and approximate numbers of people and records affected, the likely
// consequences and the measures taken, whether the supervisory authority
// must be told (within 72 hours of discovery, Art. 33(1)) and whether the
// people affected must be told (Art. 34), with their notice drafted and
// sent through the outbox.
//
// Every breach stays in the register whatever was decided: there is no
// delete, and every change keeps the version it replaced
// (breach_versions) and is audited.
package breaches

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
)

// AuthorityDeadline is how long after discovery the supervisory authority
// must be told of a breach that is likely to put people at risk (Art.
// 33(1) GDPR).
const AuthorityDeadline = 72 * time.Hour

// WarnBefore is how long before the deadline owners are warned by mail.
const WarnBefore = 24 * time.Hour

// Decision is whether someone must be told of a breach.
type Decision string

// The decisions.
const (
	Undecided   Decision = "undecided"
	Required    Decision = "required"
	NotRequired Decision = "not_required"
)

// Label is the decision in words.
func (d Decision) Label() string {
	switch d {
	case Required:
		return "must be told"
	case NotRequired:
		return "need not be told"
	}
	return "not decided yet"
}

func (d Decision) valid() bool { return d == Undecided || d == Required || d == NotRequired }

// Audience is whom a breach notice goes to.
type Audience string

// The audiences.
const (
	// EveryCustomer is every customer account (erased ones excepted).
	EveryCustomer Audience = "customers"
	// Addresses is the addresses an owner listed.
	Addresses Audience = "addresses"
)

// Facts are what an owner records about a breach: what happened, whom it
// touches, and the decisions on telling the authority and the people.
type Facts struct {
	Title            string
	WhatHappened     string
	OccurredAt       time.Time // zero when not known
	DiscoveredAt     time.Time
	Categories       []privacy.Category
	SubjectsAffected int64
	RecordsAffected  int64
	Consequences     string
	Measures         string

	Authority           Decision
	AuthorityReason     string
	AuthorityNotifiedAt time.Time
	AuthorityReference  string

	Subjects       Decision
	SubjectsReason string
}

// Breach is one entry of the register.
type Breach struct {
	ID int64
	Facts

	NoticeSubject  string
	NoticeBody     string
	NoticeAudience Audience
	NoticeSentAt   time.Time
	NoticeSentBy   int64

	ClosedAt   time.Time
	Version    int
	RecordedBy int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Deadline is when the authority must have been told: 72 hours after the
// breach was discovered.
func (b Breach) Deadline() time.Time { return b.DiscoveredAt.Add(AuthorityDeadline) }

// AuthorityPending reports whether telling the authority is still open:
// not decided against, and not done.
func (b Breach) AuthorityPending() bool {
	return b.Authority != NotRequired && b.AuthorityNotifiedAt.IsZero()
}

// Overdue reports whether the authority deadline passed while telling it
// is still open.
func (b Breach) Overdue(now time.Time) bool { return b.AuthorityPending() && now.After(b.Deadline()) }

// Left is the time until the deadline (negative once it passed).
func (b Breach) Left(now time.Time) time.Duration { return b.Deadline().Sub(now) }

// Open reports whether the breach is still being handled.
func (b Breach) Open() bool { return b.ClosedAt.IsZero() }

// NoticeSent reports whether the people affected were sent their notice.
func (b Breach) NoticeSent() bool { return !b.NoticeSentAt.IsZero() }

// CategoryLabels are the affected categories in words.
func (b Breach) CategoryLabels() []string {
	var out []string
	for _, c := range b.Categories {
		out = append(out, c.Label())
	}
	return out
}

// Input is what an owner records or changes about a breach: its facts,
// and whether the entry is closed.
type Input struct {
	Facts
	Closed bool
}

// Refusals.
var (
	ErrNotFound = refuse.New(refuse.NotFound, "breach_not_found", "There is no such breach in the register.")
	ErrSent     = refuse.New(refuse.Conflict, "breach_notice_sent", "The notice to the people affected was sent already; it is sent once, and the register keeps it as it went.")
)

const (
	maxTitle = 200
	maxText  = 20000
	// skew is how far in the future a time may lie before it is refused
	// (clocks of browsers and servers differ a little).
	skew = 10 * time.Minute
)

func (in *Input) check(now time.Time) error {
	in.Title = strings.TrimSpace(in.Title)
	in.WhatHappened = strings.TrimSpace(in.WhatHappened)
	switch {
	case in.Title == "":
		return refuse.Field("title", "Give the breach a short title, such as “Backup copied by a former contractor”.")
	case len(in.Title) > maxTitle:
		return refuse.Field("title", fmt.Sprintf("The title is longer than %d characters.", maxTitle))
	case in.WhatHappened == "":
		return refuse.Field("what_happened", "Say what happened: which data, how it was exposed, how you found out.")
	case in.DiscoveredAt.IsZero():
		return refuse.Field("discovered_at", "Say when the breach was discovered: the 72 hours to tell the authority count from then. If you are not sure, give the earliest time someone knew.")
	case in.DiscoveredAt.After(now.Add(skew)):
		return refuse.Field("discovered_at", "The discovery time lies in the future; give the time someone first knew of the breach.")
	case !in.OccurredAt.IsZero() && in.OccurredAt.After(in.DiscoveredAt):
		return refuse.Field("occurred_at", "The breach cannot have happened after it was discovered; leave the time it happened empty if it is not known.")
	case in.SubjectsAffected < 0 || in.RecordsAffected < 0:
		return refuse.Field("subjects_affected", "The numbers of people and records affected cannot be negative; give your best estimate, or 0 if not known yet.")
	}
	for _, s := range []string{in.WhatHappened, in.Consequences, in.Measures, in.AuthorityReason, in.SubjectsReason} {
		if len(s) > maxText {
			return refuse.Field("what_happened", fmt.Sprintf("A text is longer than %d characters.", maxText))
		}
	}
	for _, c := range in.Categories {
		if !c.Known() {
			return refuse.Field("categories", fmt.Sprintf("%q is not a category of the data inventory.", c))
		}
	}
	if in.Authority == "" {
		in.Authority = Undecided
	}
	if in.Subjects == "" {
		in.Subjects = Undecided
	}
	switch {
	case !in.Authority.valid():
		return refuse.Field("authority", "Choose whether the authority must be told.")
	case !in.Subjects.valid():
		return refuse.Field("subjects", "Choose whether the people affected must be told.")
	case in.Authority == NotRequired && strings.TrimSpace(in.AuthorityReason) == "":
		return refuse.Field("authority_reason", "Say why the authority need not be told (for example: the data was encrypted and the key was not exposed); the register must show the reasoning.")
	case in.Subjects == NotRequired && strings.TrimSpace(in.SubjectsReason) == "":
		return refuse.Field("subjects_reason", "Say why the people affected need not be told; the register must show the reasoning.")
	case !in.AuthorityNotifiedAt.IsZero() && in.Authority != Required:
		return refuse.Field("authority_notified_at", "A time the authority was told is recorded only when the authority must be told.")
	case !in.AuthorityNotifiedAt.IsZero() && in.AuthorityNotifiedAt.After(now.Add(skew)):
		return refuse.Field("authority_notified_at", "The time the authority was told lies in the future.")
	case !in.AuthorityNotifiedAt.IsZero() && in.AuthorityNotifiedAt.Before(in.DiscoveredAt):
		return refuse.Field("authority_notified_at", "The authority cannot have been told before the breach was discovered.")
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func joinCategories(cs []privacy.Category) string {
	var s []string
	for _, c := range cs {
		s = append(s, string(c))
	}
	return strings.Join(s, ",")
}

// Record adds a breach to the register.
func Record(ctx context.Context, d *db.DB, by audit.Actor, in Input, now time.Time) (int64, error) {
	if err := in.check(now); err != nil {
		return 0, err
	}
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var closed any
		if in.Closed {
			closed = now.UTC()
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO breaches (title, what_happened, occurred_at, discovered_at, categories,
			subjects_affected, records_affected, consequences, measures, authority, authority_reason, authority_notified_at,
			authority_reference, subjects_notice, subjects_reason, closed_at, recorded_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) RETURNING id`,
			in.Title, in.WhatHappened, nullTime(in.OccurredAt), in.DiscoveredAt.UTC(), joinCategories(in.Categories),
			in.SubjectsAffected, in.RecordsAffected, in.Consequences, in.Measures, string(in.Authority), in.AuthorityReason,
			nullTime(in.AuthorityNotifiedAt), in.AuthorityReference, string(in.Subjects), in.SubjectsReason, closed, staffID(by), now.UTC()).Scan(&id); err != nil {
			return fmt.Errorf("record breach: %w", err)
		}
		return record(ctx, tx, by, "breach.recorded", id, fmt.Sprintf("discovered %s; authority %s; people %s",
			in.DiscoveredAt.UTC().Format(time.RFC3339), in.Authority.Label(), in.Subjects.Label()), now)
	})
	return id, err
}

// Update changes a breach's record. The version it replaces is kept in
// breach_versions, with the owner's note on why it changed.
func Update(ctx context.Context, d *db.DB, by audit.Actor, id int64, in Input, note string, now time.Time) error {
	if err := in.check(now); err != nil {
		return err
	}
	note = strings.TrimSpace(note)
	if len(note) > maxTitle*5 {
		return refuse.Field("note", "The note on the change is too long.")
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		b, err := lock(ctx, tx, d.Dialect, id)
		if err != nil {
			return err
		}
		if err := keepVersion(ctx, tx, b, by, note, now); err != nil {
			return err
		}
		closed := nullTime(b.ClosedAt)
		switch {
		case in.Closed && b.ClosedAt.IsZero():
			closed = now.UTC()
		case !in.Closed:
			closed = nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE breaches SET title = $1, what_happened = $2, occurred_at = $3, discovered_at = $4,
			categories = $5, subjects_affected = $6, records_affected = $7, consequences = $8, measures = $9, authority = $10,
			authority_reason = $11, authority_notified_at = $12, authority_reference = $13, subjects_notice = $14, subjects_reason = $15,
			closed_at = $16, version = version + 1, updated_at = $17 WHERE id = $18`,
			in.Title, in.WhatHappened, nullTime(in.OccurredAt), in.DiscoveredAt.UTC(), joinCategories(in.Categories),
			in.SubjectsAffected, in.RecordsAffected, in.Consequences, in.Measures, string(in.Authority), in.AuthorityReason,
			nullTime(in.AuthorityNotifiedAt), in.AuthorityReference, string(in.Subjects), in.SubjectsReason, closed, now.UTC(), id); err != nil {
			return fmt.Errorf("update breach: %w", err)
		}
		detail := fmt.Sprintf("version %d", b.Version+1)
		if note != "" {
			detail += ": " + note
		}
		return record(ctx, tx, by, "breach.updated", id, detail, now)
	})
}

// keepVersion writes b, as it is before a change, to breach_versions.
func keepVersion(ctx context.Context, tx *sql.Tx, b Breach, by audit.Actor, note string, now time.Time) error {
	snap, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("keep breach version: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO breach_versions (breach_id, version, snapshot, changed_by, changed_at, note)
		VALUES ($1, $2, $3, $4, $5, $6)`, b.ID, b.Version, string(snap), staffID(by), now.UTC(), note); err != nil {
		return fmt.Errorf("keep breach version: %w", err)
	}
	return nil
}

func staffID(by audit.Actor) any {
	if by.Type == audit.ActorStaff {
		return by.ID
	}
	return nil
}

func record(ctx context.Context, tx *sql.Tx, by audit.Actor, action string, id int64, detail string, now time.Time) error {
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "breach", SubjectID: fmt.Sprint(id), Detail: detail}.By(by))
	return err
}

const columns = `id, title, what_happened, occurred_at, discovered_at, categories, subjects_affected, records_affected, consequences, measures,
	authority, authority_reason, authority_notified_at, authority_reference, subjects_notice, subjects_reason, notice_subject, notice_body,
	notice_audience, notice_sent_at, notice_sent_by, closed_at, version, recorded_by, created_at, updated_at`

func scan(row interface{ Scan(...any) error }) (Breach, error) {
	var b Breach
	var occurred, notified, sent, closed sql.NullTime
	var sentBy, recBy sql.NullInt64
	var cats, auth, subj, aud string
	err := row.Scan(&b.ID, &b.Title, &b.WhatHappened, &occurred, &b.DiscoveredAt, &cats, &b.SubjectsAffected, &b.RecordsAffected,
		&b.Consequences, &b.Measures, &auth, &b.AuthorityReason, &notified, &b.AuthorityReference, &subj, &b.SubjectsReason,
		&b.NoticeSubject, &b.NoticeBody, &aud, &sent, &sentBy, &closed, &b.Version, &recBy, &b.CreatedAt, &b.UpdatedAt)
	if err != nil {
		return b, err
	}
	b.Authority, b.Subjects, b.NoticeAudience = Decision(auth), Decision(subj), Audience(aud)
	for _, c := range strings.Split(cats, ",") {
		if c != "" {
			b.Categories = append(b.Categories, privacy.Category(c))
		}
	}
	b.OccurredAt, b.AuthorityNotifiedAt, b.NoticeSentAt, b.ClosedAt = utc(occurred), utc(notified), utc(sent), utc(closed)
	b.NoticeSentBy, b.RecordedBy = sentBy.Int64, recBy.Int64
	b.DiscoveredAt, b.CreatedAt, b.UpdatedAt = b.DiscoveredAt.UTC(), b.CreatedAt.UTC(), b.UpdatedAt.UTC()
	return b, nil
}

func utc(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// ByID returns the breach with id.
func ByID(ctx context.Context, q db.Querier, id int64) (Breach, error) {
	b, err := scan(q.QueryRowContext(ctx, `SELECT `+columns+` FROM breaches WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("breach %d: %w", id, err)
	}
	return b, nil
}

func lock(ctx context.Context, tx *sql.Tx, d db.Dialect, id int64) (Breach, error) {
	b, err := scan(tx.QueryRowContext(ctx, `SELECT `+columns+` FROM breaches WHERE id = $1`+d.ForUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, ErrNotFound
	}
	if err != nil {
		return b, fmt.Errorf("lock breach %d: %w", id, err)
	}
	return b, nil
}

// List returns the register, newest discovery first; open only limits it
// to the breaches still being handled.
func List(ctx context.Context, q db.Querier, open bool) ([]Breach, error) {
	where := ""
	if open {
		where = ` WHERE closed_at IS NULL`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM breaches`+where+` ORDER BY discovered_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list breaches: %w", err)
	}
	defer rows.Close()
	var out []Breach
	for rows.Next() {
		b, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list breaches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Version is an earlier version of a breach's record.
type Version struct {
	Version   int
	Breach    Breach
	ChangedBy int64
	ChangedAt time.Time
	Note      string
}

// Versions returns the earlier versions of a breach, newest first.
func Versions(ctx context.Context, q db.Querier, id int64) ([]Version, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, snapshot, COALESCE(changed_by, 0), changed_at, note FROM breach_versions
		WHERE breach_id = $1 ORDER BY version DESC`, id)
	if err != nil {
		return nil, fmt.Errorf("breach versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var snap string
		if err := rows.Scan(&v.Version, &snap, &v.ChangedBy, &v.ChangedAt, &v.Note); err != nil {
			return nil, fmt.Errorf("breach versions: %w", err)
		}
		if err := json.Unmarshal([]byte(snap), &v.Breach); err != nil {
			return nil, fmt.Errorf("breach version %d: %w", v.Version, err)
		}
		v.ChangedAt = v.ChangedAt.UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}
