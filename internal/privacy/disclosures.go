package privacy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Decision is what was done with an authority's request.
type Decision string

// The decisions.
const (
	DecisionPending   Decision = "pending"   // not decided yet
	DecisionDisclosed Decision = "disclosed" // everything asked was given
	DecisionPartly    Decision = "partly"    // some of it was given
	DecisionRefused   Decision = "refused"   // nothing was given
)

// Decisions lists the decisions a form offers.
var Decisions = []Decision{DecisionPending, DecisionDisclosed, DecisionPartly, DecisionRefused}

// Label is the decision in words.
func (d Decision) Label() string {
	switch d {
	case DecisionPending:
		return "Not decided yet"
	case DecisionDisclosed:
		return "Disclosed"
	case DecisionPartly:
		return "Partly disclosed"
	case DecisionRefused:
		return "Refused"
	}
	return string(d)
}

// Disclosure is one request from a public authority and what became of it.
type Disclosure struct {
	ID             int64
	Authority      string // who asked
	AuthorityRef   string // their file number
	LegalBasis     string // the law or order the request relies on
	RequestedAt    time.Time
	Asked          string
	Decision       Decision
	Disclosed      string // what was given
	DisclosedAt    time.Time
	DecidedBy      int64 // staff account; 0 while pending
	CustomerID     int64
	SubjectEmail   string
	Withheld       bool   // the law forbids telling the person
	WithheldReason string // which law or order
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// DisclosureInput is what the owner records.
type DisclosureInput struct {
	Authority, AuthorityRef, LegalBasis string
	RequestedAt                         time.Time
	Asked                               string
	Decision                            Decision
	Disclosed                           string
	DisclosedAt                         time.Time
	// CustomerID and SubjectEmail name the person the request is about,
	// when it is about one; the caller resolves the address to an account.
	CustomerID     int64
	SubjectEmail   string
	Withheld       bool
	WithheldReason string
}

func (in *DisclosureInput) check(now time.Time) error {
	for _, p := range []*string{&in.Authority, &in.AuthorityRef, &in.LegalBasis, &in.Asked, &in.Disclosed, &in.SubjectEmail, &in.WithheldReason} {
		*p = strings.TrimSpace(*p)
	}
	in.SubjectEmail = strings.ToLower(in.SubjectEmail)
	for _, f := range []struct{ field, v, what string }{{"authority", in.Authority, "which authority asked"},
		{"legal_basis", in.LegalBasis, "the law or order the request relies on"}, {"asked", in.Asked, "what the authority asked for"}} {
		if f.v == "" {
			return refuse.Field(f.field, "Write "+f.what+".")
		}
	}
	for _, f := range []struct{ field, v string }{{"authority", in.Authority}, {"authority_ref", in.AuthorityRef}, {"legal_basis", in.LegalBasis},
		{"asked", in.Asked}, {"disclosed", in.Disclosed}, {"subject_email", in.SubjectEmail}, {"withheld_reason", in.WithheldReason}} {
		if utf8.RuneCountInString(f.v) > 5000 || strings.ContainsRune(f.v, 0) {
			return refuse.Field(f.field, "Keep each field under 5000 characters.")
		}
	}
	if in.RequestedAt.IsZero() {
		return refuse.Field("requested_at", "Give the date the request arrived.")
	}
	if in.RequestedAt.After(now) {
		return refuse.Field("requested_at", "The request cannot have arrived in the future.")
	}
	if !slices.Contains(Decisions, in.Decision) {
		return refuse.Field("decision", "Choose what was decided.")
	}
	switch in.Decision {
	case DecisionDisclosed, DecisionPartly:
		if in.Disclosed == "" {
			return refuse.Field("disclosed", "Write what was disclosed.")
		}
		if in.DisclosedAt.IsZero() {
			return refuse.Field("disclosed_at", "Give the date it was disclosed.")
		}
		if in.DisclosedAt.Before(in.RequestedAt.Truncate(24*time.Hour)) || in.DisclosedAt.After(now) {
			return refuse.Field("disclosed_at", "The disclosure date must lie between the request and today.")
		}
	default:
		if in.Disclosed != "" || !in.DisclosedAt.IsZero() {
			return refuse.Field("disclosed", "Nothing is disclosed on a pending or refused request: clear what was disclosed, or change the decision.")
		}
	}
	if in.Withheld && in.WithheldReason == "" {
		return refuse.Field("withheld_reason", "Name the law or order that forbids telling the person.")
	}
	if in.Withheld && in.CustomerID == 0 && in.SubjectEmail == "" {
		return refuse.Field("withheld", "Keeping a disclosure from the person needs a person: give their email address.")
	}
	if !in.Withheld {
		in.WithheldReason = ""
	}
	return nil
}

// ErrNoDisclosure is the refusal for an unknown disclosure.
var ErrNoDisclosure = refuse.New(refuse.NotFound, "no_disclosure", "There is no such disclosure in the log.")

func deciderOf(in DisclosureInput, by audit.Actor) any {
	if in.Decision == DecisionPending {
		return nil
	}
	return byStaff(by)
}

// RecordDisclosure adds a request from an authority to the log.
func RecordDisclosure(ctx context.Context, d *db.DB, by audit.Actor, in DisclosureInput, now time.Time) (int64, error) {
	if err := in.check(now); err != nil {
		return 0, err
	}
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO disclosures (authority, authority_ref, legal_basis, requested_at, asked, decision, disclosed, disclosed_at,
			decided_by, customer_id, subject_email, withheld, withheld_reason, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id`,
			in.Authority, in.AuthorityRef, in.LegalBasis, in.RequestedAt.UTC(), in.Asked, string(in.Decision), in.Disclosed, nullDate(in.DisclosedAt),
			deciderOf(in, by), nullID(in.CustomerID), in.SubjectEmail, in.Withheld, in.WithheldReason, byStaff(by), now.UTC()).Scan(&id); err != nil {
			return fmt.Errorf("record disclosure: %w", err)
		}
		return recordDisclosure(ctx, tx, by, "disclosure.recorded", id, in, now)
	})
	return id, err
}

// UpdateDisclosure changes an entry of the log (a decision taken, a date
// corrected); the audit log keeps each change.
func UpdateDisclosure(ctx context.Context, d *db.DB, by audit.Actor, id int64, in DisclosureInput, now time.Time) error {
	if err := in.check(now); err != nil {
		return err
	}
	cur, err := DisclosureByID(ctx, d, id)
	if err != nil {
		return err
	}
	decider := deciderOf(in, by)
	if in.Decision == cur.Decision && cur.DecidedBy != 0 {
		decider = cur.DecidedBy // who decided stays who decided
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE disclosures SET authority = $1, authority_ref = $2, legal_basis = $3, requested_at = $4, asked = $5,
			decision = $6, disclosed = $7, disclosed_at = $8, decided_by = $9, customer_id = $10, subject_email = $11, withheld = $12, withheld_reason = $13,
			updated_at = $14 WHERE id = $15`,
			in.Authority, in.AuthorityRef, in.LegalBasis, in.RequestedAt.UTC(), in.Asked, string(in.Decision), in.Disclosed, nullDate(in.DisclosedAt),
			decider, nullID(in.CustomerID), in.SubjectEmail, in.Withheld, in.WithheldReason, now.UTC(), id); err != nil {
			return fmt.Errorf("update disclosure %d: %w", id, err)
		}
		return recordDisclosure(ctx, tx, by, "disclosure.updated", id, in, now)
	})
}

// recordDisclosure audits a change; the detail names the authority and the
// decision, never the person.
func recordDisclosure(ctx context.Context, tx *sql.Tx, by audit.Actor, action string, id int64, in DisclosureInput, now time.Time) error {
	detail := in.Authority + ": " + string(in.Decision)
	if in.Withheld {
		detail += ", kept from the person"
	}
	_, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "disclosure", SubjectID: strconv.FormatInt(id, 10), Detail: detail}.By(by))
	return err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

const disclosureCols = `id, authority, authority_ref, legal_basis, requested_at, asked, decision, disclosed, disclosed_at, decided_by,
	customer_id, subject_email, withheld, withheld_reason, created_by, created_at, updated_at`

func scanDisclosure(row interface{ Scan(...any) error }) (Disclosure, error) {
	var x Disclosure
	var decision string
	var disclosedAt sql.NullTime
	var decidedBy, customerID, createdBy sql.NullInt64
	err := row.Scan(&x.ID, &x.Authority, &x.AuthorityRef, &x.LegalBasis, &x.RequestedAt, &x.Asked, &decision, &x.Disclosed, &disclosedAt, &decidedBy,
		&customerID, &x.SubjectEmail, &x.Withheld, &x.WithheldReason, &createdBy, &x.CreatedAt, &x.UpdatedAt)
	x.Decision = Decision(decision)
	if disclosedAt.Valid {
		x.DisclosedAt = disclosedAt.Time.UTC()
	}
	x.DecidedBy, x.CustomerID, x.CreatedBy = decidedBy.Int64, customerID.Int64, createdBy.Int64
	x.RequestedAt, x.CreatedAt, x.UpdatedAt = x.RequestedAt.UTC(), x.CreatedAt.UTC(), x.UpdatedAt.UTC()
	return x, err
}

// DisclosureByID returns one entry of the log.
func DisclosureByID(ctx context.Context, q db.Querier, id int64) (Disclosure, error) {
	x, err := scanDisclosure(q.QueryRowContext(ctx, `SELECT `+disclosureCols+` FROM disclosures WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return x, ErrNoDisclosure
	}
	if err != nil {
		return x, fmt.Errorf("read disclosure %d: %w", id, err)
	}
	return x, nil
}

// Disclosures lists the log, newest request first, at most limit entries.
func Disclosures(ctx context.Context, q db.Querier, limit int) ([]Disclosure, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+disclosureCols+` FROM disclosures ORDER BY requested_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list disclosures: %w", err)
	}
	defer rows.Close()
	var out []Disclosure
	for rows.Next() {
		x, err := scanDisclosure(rows)
		if err != nil {
			return nil, fmt.Errorf("list disclosures: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
