package licensing

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// ErrNotFound refuses a license that does not exist.
var ErrNotFound = refuse.New(refuse.NotFound, "license_not_found", "There is no such license.")

// random is where license ids come from; tests may replace it.
var random io.Reader = rand.Reader

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newLicenseID is lic_ and 26 base32 characters of 128 random bits.
func newLicenseID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("license id: %w", err)
	}
	return "lic_" + lowerBase32.EncodeToString(b[:]), nil
}

const licenseColumns = `id, lic, license_key, kid, COALESCE(customer_id, 0), COALESCE(order_id, 0), COALESCE(order_line_id, 0),
	COALESCE(edition_id, 0), product, edition, entitlements, status, suspended_by, issued_at, expires_at, updates_until,
	grace_days, max_machines, check_in_days, updated_at`

func scanLicense(row interface{ Scan(...any) error }) (License, error) {
	var l License
	var ent string
	var exp, upd sql.NullTime
	err := row.Scan(&l.ID, &l.LicenseID, &l.Key, &l.KID, &l.CustomerID, &l.OrderID, &l.OrderLineID, &l.EditionID,
		&l.Product, &l.Edition, &ent, &l.Status, &l.SuspendedBy, &l.IssuedAt, &exp, &upd,
		&l.GraceDays, &l.MaxMachines, &l.CheckInDays, &l.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("read license: %w", err)
	}
	l.Entitlements = splitEnt(ent)
	if exp.Valid {
		l.ExpiresAt = exp.Time.UTC()
	}
	if upd.Valid {
		l.UpdatesUntil = upd.Time.UTC()
	}
	l.IssuedAt, l.UpdatedAt = l.IssuedAt.UTC(), l.UpdatedAt.UTC()
	return l, nil
}

// at fills in the state at now.
func (l License) at(now time.Time) License {
	l.State, l.GraceEndsAt = l.stateAt(now)
	return l
}

func getLicense(ctx context.Context, q db.Querier, where string, arg any, now time.Time) (License, error) {
	l, err := scanLicense(q.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE `+where, arg))
	return l.at(now), err
}

func lockLicense(ctx context.Context, tx *sql.Tx, d db.Dialect, where string, arg any, now time.Time) (License, error) {
	l, err := scanLicense(tx.QueryRowContext(ctx, `SELECT `+licenseColumns+` FROM licenses WHERE `+where+d.ForUpdate(), arg))
	return l.at(now), err
}

// ByID returns the license with row id id, its state at now.
func ByID(ctx context.Context, q db.Querier, id int64, now time.Time) (License, error) {
	return getLicense(ctx, q, "id = $1", id, now)
}

// ByLicenseID returns the license lic_..., its state at now.
func ByLicenseID(ctx context.Context, q db.Querier, lic string, now time.Time) (License, error) {
	return getLicense(ctx, q, "lic = $1", lic, now)
}

func list(ctx context.Context, q db.Querier, where string, now time.Time, args ...any) ([]License, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+licenseColumns+` FROM licenses `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list licenses: %w", err)
	}
	defer rows.Close()
	var out []License
	for rows.Next() {
		l, err := scanLicense(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l.at(now))
	}
	return out, rows.Err()
}

// ForCustomer lists the customer's licenses, newest first.
func ForCustomer(ctx context.Context, q db.Querier, customerID int64, now time.Time) ([]License, error) {
	return list(ctx, q, `WHERE customer_id = $1 ORDER BY issued_at DESC, id DESC`, now, customerID)
}

// ForOrder lists the licenses issued for the order, in the order of its lines.
func ForOrder(ctx context.Context, q db.Querier, orderID int64, now time.Time) ([]License, error) {
	return list(ctx, q, `WHERE order_id = $1 ORDER BY order_line_id, id`, now, orderID)
}

// Machines lists the machines holding seats of the license, oldest first,
// including seats that have lapsed for want of a check-in but were not yet
// freed (Machine.Lapsed tells).
func Machines(ctx context.Context, q db.Querier, licenseID int64) ([]Machine, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+machineColumns+` FROM license_machines WHERE license_id = $1 ORDER BY activated_at, id`, licenseID)
	if err != nil {
		return nil, fmt.Errorf("list machines: %w", err)
	}
	defer rows.Close()
	var out []Machine
	for rows.Next() {
		m, err := scanMachine(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const machineColumns = `id, license_id, fingerprint, hostname, platform, version, activated_at, last_check_in_at, last_seen_at`

func scanMachine(row interface{ Scan(...any) error }) (Machine, error) {
	var m Machine
	var ci sql.NullTime
	err := row.Scan(&m.ID, &m.LicenseID, &m.Fingerprint, &m.Hostname, &m.Platform, &m.Version, &m.ActivatedAt, &ci, &m.LastSeenAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, errNoMachine
	}
	if err != nil {
		return m, fmt.Errorf("read machine: %w", err)
	}
	if ci.Valid {
		m.LastCheckIn = ci.Time.UTC()
	}
	m.ActivatedAt, m.LastSeenAt = m.ActivatedAt.UTC(), m.LastSeenAt.UTC()
	return m, nil
}

var errNoMachine = errors.New("no such machine")

// Lapsed reports whether the machine's seat has freed itself at now: the
// license requires check-ins and none came for CheckInDays (activation
// counts as the first).
func (m Machine) Lapsed(l License, now time.Time) bool {
	if l.CheckInDays <= 0 {
		return false
	}
	last := m.ActivatedAt
	if m.LastCheckIn.After(last) {
		last = m.LastCheckIn
	}
	return !now.Before(last.AddDate(0, 0, l.CheckInDays))
}

// terms says what a license issued at now under p runs for.
type terms struct {
	expires, updates time.Time
	max              int
}

func termsFor(p Policy, yearly bool, quantity int, now time.Time) terms {
	var t terms
	switch {
	case yearly:
		t.expires = now.AddDate(1, 0, 0)
	case p.Kind == Term:
		t.expires = now.AddDate(0, p.TermMonths, 0)
	}
	if p.UpdatesMonths > 0 {
		t.updates = now.AddDate(0, p.UpdatesMonths, 0)
	}
	if quantity < 1 {
		quantity = 1
	}
	t.max = p.MaxMachines * quantity
	return t
}

// newLicense is what issuing needs to know.
type newLicense struct {
	CustomerID, OrderID, OrderLineID, EditionID int64
	Product, Edition                            string
	Policy                                      Policy
	Yearly                                      bool
	Quantity                                    int
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// issue signs and stores a license in tx.
func issue(ctx context.Context, tx *sql.Tx, keys *Keyring, n newLicense, now time.Time) (License, error) {
	if keys == nil {
		return License{}, errors.New("issue license: no license signing keys configured (--license-keys)")
	}
	now = now.UTC().Truncate(time.Second)
	t := termsFor(n.Policy, n.Yearly, n.Quantity, now)
	lic, err := newLicenseID()
	if err != nil {
		return License{}, err
	}
	s := keys.Signer()
	key, err := MakeKey(s, Payload{License: lic, Product: n.Product, Edition: n.Edition, Entitlements: n.Policy.Entitlements,
		IssuedAt: now.Unix(), Expires: unix(t.expires), UpdatesUntil: unix(t.updates), MaxMachines: t.max})
	if err != nil {
		return License{}, err
	}
	l := License{LicenseID: lic, Key: key, KID: s.KID, CustomerID: n.CustomerID, OrderID: n.OrderID, OrderLineID: n.OrderLineID,
		EditionID: n.EditionID, Product: n.Product, Edition: n.Edition, Entitlements: n.Policy.Entitlements, Status: Active,
		IssuedAt: now, ExpiresAt: t.expires, UpdatesUntil: t.updates, GraceDays: n.Policy.GraceDays, MaxMachines: t.max,
		CheckInDays: n.Policy.CheckInDays, UpdatedAt: now}
	if l.Entitlements == nil {
		l.Entitlements = []string{}
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO licenses (lic, license_key, kid, customer_id, order_id, order_line_id, edition_id,
		product, edition, entitlements, status, issued_at, expires_at, updates_until, grace_days, max_machines, check_in_days, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, $13, $14, $15, $16, $11) RETURNING id`,
		lic, key, s.KID, nullID(n.CustomerID), nullID(n.OrderID), nullID(n.OrderLineID), nullID(n.EditionID),
		n.Product, n.Edition, joinEnt(l.Entitlements), now, nullTime(t.expires), nullTime(t.updates),
		n.Policy.GraceDays, t.max, n.Policy.CheckInDays).Scan(&l.ID)
	if err != nil {
		return License{}, fmt.Errorf("issue license: %w", err)
	}
	return l.at(now), nil
}

// editionSlugs returns the product and edition slugs of an edition.
func editionSlugs(ctx context.Context, q db.Querier, editionID int64) (product, edition string, err error) {
	err = q.QueryRowContext(ctx, `SELECT p.slug, e.slug FROM editions e JOIN products p ON p.id = e.product_id WHERE e.id = $1`, editionID).
		Scan(&product, &edition)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", refuse.New(refuse.NotFound, "edition_not_found", "There is no such edition.")
	}
	if err != nil {
		return "", "", fmt.Errorf("read edition: %w", err)
	}
	return product, edition, nil
}

// Search finds licenses for staff: by license id or key (exact, the id
// case-insensitive) or by the customer's email address or name containing
// text (case-insensitive, db.FoldCase); an empty text lists the newest. At
// most limit, newest first.
func Search(ctx context.Context, q db.Querier, text string, limit int, now time.Time) ([]License, error) {
	lim := ` ORDER BY issued_at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	text = strings.TrimSpace(text)
	if text == "" {
		return list(ctx, q, lim, now)
	}
	return list(ctx, q, `WHERE lic = $1 OR license_key = $2 OR customer_id IN (SELECT id FROM customers
		WHERE email LIKE $3 ESCAPE '\' OR fold_case(name) LIKE $3 ESCAPE '\')`+lim, now,
		db.FoldCase(text), text, db.ContainsPattern(text))
}

// SeatsUsed counts the machines holding seats of each license id.
func SeatsUsed(ctx context.Context, q db.Querier, ids []int64) (map[int64]int, error) {
	out := map[int64]int{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	rows, err := q.QueryContext(ctx, `SELECT license_id, count(*) FROM license_machines WHERE license_id IN (`+strings.Join(ph, ", ")+`) GROUP BY license_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("count seats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("count seats: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}
