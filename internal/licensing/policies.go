package licensing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Kind says whether a license runs out.
type Kind string

// The kinds of license.
const (
	Perpetual Kind = "perpetual"
	Term      Kind = "term"
)

// Policy is how an edition is licensed.
type Policy struct {
	EditionID int64
	Kind      Kind
	// TermMonths is the length of a term license bought at a one-time
	// price; a yearly price always buys a year.
	TermMonths int
	// UpdatesMonths is the updates window from issue: releases published
	// after it are not covered; 0 = no limit.
	UpdatesMonths int
	// GraceDays the product keeps working after expiry, with a warning.
	GraceDays int
	// MaxMachines per license bought (an order line's quantity multiplies
	// it); 0 = unlimited.
	MaxMachines  int
	Entitlements []string // sorted
	// CheckInDays > 0 requires machines to check in: a seat without a
	// check-in for that many days frees itself.
	CheckInDays int
	// Default is true when the edition has no policy of its own and this
	// is DefaultPolicy.
	Default   bool
	UpdatedAt time.Time
}

// MaxCheckInDays is the longest check-in interval: a machine's record is
// kept 90 days after it last reported (internal/privacy, license_machines).
const MaxCheckInDays = 90

// DefaultPolicy applies to an edition without a policy of its own: a
// perpetual license with a year of updates, three machines, 14 days'
// grace (for term licenses bought at a yearly price), no check-in.
var DefaultPolicy = Policy{Kind: Perpetual, UpdatesMonths: 12, GraceDays: 14, MaxMachines: 3, Entitlements: []string{}}

var entitlementName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// normaliseEntitlements sorts, deduplicates and checks feature names.
func normaliseEntitlements(ent []string) ([]string, error) {
	out := []string{}
	for _, e := range ent {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if !entitlementName.MatchString(e) {
			return nil, refuse.Field("entitlements", fmt.Sprintf("The entitlement %.70q is not a feature name: use lower-case letters, digits, dots, dashes and underscores (for example malware-scan).", e))
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func joinEnt(e []string) string { return strings.Join(e, ",") }

func splitEnt(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// Validate checks p and normalises its entitlements.
func (p *Policy) Validate() error {
	var err error
	if p.Entitlements, err = normaliseEntitlements(p.Entitlements); err != nil {
		return err
	}
	switch {
	case p.Kind != Perpetual && p.Kind != Term:
		return refuse.Field("kind", "Choose perpetual or term.")
	case p.Kind == Term && (p.TermMonths < 1 || p.TermMonths > 120):
		return refuse.Field("term_months", "A term license runs for 1 to 120 months.")
	case p.Kind == Perpetual && p.TermMonths != 0:
		return refuse.Field("term_months", "A perpetual license has no term: leave the length empty.")
	case p.UpdatesMonths < 0 || p.UpdatesMonths > 1200:
		return refuse.Field("updates_months", "The updates window is 0 (no limit) to 1200 months.")
	case p.GraceDays < 0 || p.GraceDays > 365:
		return refuse.Field("grace_days", "The grace period is 0 to 365 days.")
	case p.MaxMachines < 0 || p.MaxMachines > 100000:
		return refuse.Field("max_machines", "The machine limit is 0 (unlimited) to 100000.")
	case p.CheckInDays < 0 || p.CheckInDays > MaxCheckInDays:
		// A machine's record is deleted 90 days after it last reported
		// (the inventory's retention), so a longer interval could not hold.
		return refuse.Field("check_in_days", fmt.Sprintf("Check-ins are required every 1 to %d days, or 0 for not at all.", MaxCheckInDays))
	}
	return nil
}

// PolicyFor returns the edition's policy, or DefaultPolicy (Default set)
// when it has none.
func PolicyFor(ctx context.Context, q db.Querier, editionID int64) (Policy, error) {
	p := Policy{EditionID: editionID}
	var ent string
	err := q.QueryRowContext(ctx, `SELECT kind, term_months, updates_months, grace_days, max_machines, entitlements, check_in_days, updated_at
		FROM license_policies WHERE edition_id = $1`, editionID).Scan(&p.Kind, &p.TermMonths, &p.UpdatesMonths, &p.GraceDays,
		&p.MaxMachines, &ent, &p.CheckInDays, &p.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		d := DefaultPolicy
		d.EditionID, d.Default, d.Entitlements = editionID, true, slices.Clone(DefaultPolicy.Entitlements)
		return d, nil
	}
	if err != nil {
		return Policy{}, fmt.Errorf("read license policy: %w", err)
	}
	p.Entitlements = splitEnt(ent)
	return p, nil
}

// Policies returns every saved policy by edition id.
func Policies(ctx context.Context, q db.Querier) (map[int64]Policy, error) {
	rows, err := q.QueryContext(ctx, `SELECT edition_id, kind, term_months, updates_months, grace_days, max_machines, entitlements, check_in_days, updated_at
		FROM license_policies ORDER BY edition_id`)
	if err != nil {
		return nil, fmt.Errorf("read license policies: %w", err)
	}
	defer rows.Close()
	out := map[int64]Policy{}
	for rows.Next() {
		var p Policy
		var ent string
		if err := rows.Scan(&p.EditionID, &p.Kind, &p.TermMonths, &p.UpdatesMonths, &p.GraceDays, &p.MaxMachines, &ent, &p.CheckInDays, &p.UpdatedAt); err != nil {
			return nil, fmt.Errorf("read license policies: %w", err)
		}
		p.Entitlements = splitEnt(ent)
		out[p.EditionID] = p
	}
	return out, rows.Err()
}

// SavePolicy stores the edition's policy, recorded in the audit log as
// done by staff member staffID; it applies to licenses issued from now on.
// An unknown edition is refused as not found.
func SavePolicy(ctx context.Context, d *db.DB, staffID int64, p Policy, now time.Time) (Policy, error) {
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	p.Default, p.UpdatedAt = false, now
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM editions WHERE id = $1`, p.EditionID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse.New(refuse.NotFound, "edition_not_found", "There is no such edition.")
		}
		if err != nil {
			return fmt.Errorf("save license policy: %w", err)
		}
		if err := StorePolicy(ctx, tx, p, now); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "license.policy_saved", SubjectType: "edition",
			SubjectID: strconv.FormatInt(p.EditionID, 10), Detail: p.describe()}.By(audit.Staff(staffID)))
		return err
	})
	return p, err
}

func (p Policy) describe() string {
	s := string(p.Kind)
	if p.Kind == Term {
		s += fmt.Sprintf(" %d months", p.TermMonths)
	}
	return fmt.Sprintf("%s; updates %d months; grace %d days; machines %d; entitlements [%s]; check-in %d days",
		s, p.UpdatesMonths, p.GraceDays, p.MaxMachines, joinEnt(p.Entitlements), p.CheckInDays)
}

// StorePolicy writes the checked policy p in tx without an audit entry:
// for SavePolicy, and for seeding (the demo), where no one acts.
func StorePolicy(ctx context.Context, tx *sql.Tx, p Policy, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO license_policies (edition_id, kind, term_months, updates_months, grace_days, max_machines, entitlements, check_in_days, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (edition_id) DO UPDATE SET kind = excluded.kind, term_months = excluded.term_months,
			updates_months = excluded.updates_months, grace_days = excluded.grace_days, max_machines = excluded.max_machines,
			entitlements = excluded.entitlements, check_in_days = excluded.check_in_days, updated_at = excluded.updated_at`,
		p.EditionID, string(p.Kind), p.TermMonths, p.UpdatesMonths, p.GraceDays, p.MaxMachines, joinEnt(p.Entitlements), p.CheckInDays, now)
	if err != nil {
		return fmt.Errorf("save license policy: %w", err)
	}
	return nil
}
