package fraud

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Status is where a case stands.
type Status string

// The statuses of a case.
const (
	Open   Status = "open"   // waiting for a staff member
	Asked  Status = "asked"  // the customer was asked for their view; waiting for the answer
	Closed Status = "closed" // decided (the decision says what, and may be reversed)
)

// Statuses lists the statuses, in the console's order.
var Statuses = []Status{Open, Asked, Closed}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == Open || s == Asked || s == Closed }

// Refusals on cases.
var (
	ErrNotFound  = refuse.New(refuse.NotFound, "fraud_case_not_found", "There is no such review case.")
	ErrClosed    = refuse.New(refuse.Conflict, "fraud_case_closed", "This case is closed: it was decided already. Reverse the decision first if it should be decided again.")
	ErrDuplicate = refuse.New(refuse.Conflict, "fraud_duplicate", "This form was submitted already: its decision is recorded once. Reload the case to see it.")
)

// Case is a review case as the console shows it.
type Case struct {
	ID         int64
	Status     Status
	SubjectKey string
	CustomerID int64
	OrderID    int64
	LicenseID  int64
	Signals    int
	LastKind   Kind
	FirstAt    time.Time
	LastAt     time.Time
	AskedAt    time.Time
	AnsweredAt time.Time
	ClosedAt   time.Time
	// ContestedAt is when the customer contested the decision that
	// closed the case; zero when they did not (reset when it reopens).
	ContestedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// CustomerEmail and CustomerName, read with the case; empty for a
	// case about no person (an order of an erased customer).
	CustomerEmail, CustomerName string
}

// Person is how the console names the case's subject.
func (c Case) Person() string {
	switch {
	case c.CustomerID == 0:
		return "no person (" + strings.ReplaceAll(c.SubjectKey, ":", " ") + ")"
	case c.CustomerName != "":
		return c.CustomerName + " <" + c.CustomerEmail + ">"
	}
	return c.CustomerEmail
}

const caseColumns = `c.id, c.status, c.subject_key, c.customer_id, c.order_id, c.license_id, c.signals, c.last_kind,
	c.first_at, c.last_at, c.asked_at, c.answered_at, c.closed_at, c.contested_at, c.created_at, c.updated_at,
	COALESCE(p.email, ''), COALESCE(p.name, '')`

func scanCase(row interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var cust, ord, lic sql.NullInt64
	var asked, answered, closed, contested sql.NullTime
	err := row.Scan(&c.ID, &c.Status, &c.SubjectKey, &cust, &ord, &lic, &c.Signals, &c.LastKind,
		&c.FirstAt, &c.LastAt, &asked, &answered, &closed, &contested, &c.CreatedAt, &c.UpdatedAt, &c.CustomerEmail, &c.CustomerName)
	if errors.Is(err, sql.ErrNoRows) {
		return Case{}, ErrNotFound
	}
	if err != nil {
		return Case{}, fmt.Errorf("read case: %w", err)
	}
	c.CustomerID, c.OrderID, c.LicenseID = cust.Int64, ord.Int64, lic.Int64
	c.AskedAt, c.AnsweredAt, c.ClosedAt, c.ContestedAt = asked.Time, answered.Time, closed.Time, contested.Time
	return c, nil
}

// Filter narrows the case list.
type Filter struct {
	Status Status // "" for all
	Kind   Kind   // cases with at least one signal of this kind; "" for all
	// Before continues a list after the case with this last signal time
	// and id (the previous page's last row).
	BeforeAt time.Time
	BeforeID int64
	Limit    int
}

// List returns cases, the latest activity first, Limit at most (50 when
// unset, 200 at most).
func List(ctx context.Context, q db.Querier, f Filter) ([]Case, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(string(f.Status)))
	}
	if f.Kind != "" {
		where = append(where, "EXISTS (SELECT 1 FROM fraud_signals s WHERE s.kind = "+arg(string(f.Kind))+" AND s.case_id = c.id)")
	}
	if !f.BeforeAt.IsZero() {
		at, id := arg(f.BeforeAt.UTC()), arg(f.BeforeID)
		where = append(where, fmt.Sprintf("(c.last_at < %s OR (c.last_at = %s AND c.id < %s))", at, at, id))
	}
	query := `SELECT ` + caseColumns + ` FROM fraud_cases c LEFT JOIN customers p ON p.id = c.customer_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY c.last_at DESC, c.id DESC LIMIT %d", f.Limit)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CountCap is where Counts stops counting: the list's tabs say "1000+"
// beyond it, so that counting costs the same at a hundred thousand cases
// as at a thousand.
const CountCap = 1000

// Counts are the number of cases by status, for the list's tabs, each
// counted up to CountCap+1.
func Counts(ctx context.Context, q db.Querier) (map[Status]int, error) {
	out := map[Status]int{}
	for _, s := range Statuses {
		var n int
		if err := q.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM fraud_cases WHERE status = $1 LIMIT %d) t`, CountCap+1),
			string(s)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count cases: %w", err)
		}
		out[s] = n
	}
	return out, nil
}

// Get returns case id.
func Get(ctx context.Context, q db.Querier, id int64) (Case, error) {
	return scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM fraud_cases c LEFT JOIN customers p ON p.id = c.customer_id WHERE c.id = $1`, id))
}

// lockCase reads case id for a change (see db.Dialect.ForUpdate).
func lockCase(ctx context.Context, tx *sql.Tx, dialect db.Dialect, id int64) (Case, error) {
	lock := `SELECT id FROM fraud_cases WHERE id = $1`
	if dialect == db.Postgres {
		lock = `SELECT id FROM fraud_cases WHERE id = $1 FOR UPDATE` // SQLite's write transaction holds the database already
	}
	if _, err := tx.ExecContext(ctx, lock, id); err != nil {
		return Case{}, fmt.Errorf("lock case: %w", err)
	}
	return Get(ctx, tx, id)
}

// SignalRecord is one recorded signal of a case.
type SignalRecord struct {
	ID         int64
	Kind       Kind
	Summary    string
	Facts      []Fact
	OrderID    int64
	LicenseID  int64
	ObservedAt time.Time
}

// Message is a question to the customer or their answer.
type Message struct {
	ID        int64
	Direction string // "question" or "answer"
	Body      string
	StaffID   int64
	CreatedAt time.Time
}

// Detail is everything the case page shows.
type Detail struct {
	Case
	Signals   []SignalRecord
	Messages  []Message
	Decisions []Decision
	// Orders and Licenses are the ones the case's signals name and, for a
	// case about a customer, theirs: what a decision may act on.
	Orders   []OrderRef
	Licenses []LicenseRef
}

// OrderRef and LicenseRef name what a decision may act on.
type OrderRef struct {
	ID     int64
	Number string
	Status string
	Total  int64
	Curr   string
}

// LicenseRef is a license a decision may act on.
type LicenseRef struct {
	ID      int64
	Lic     string
	Product string
	Edition string
	Status  string
}

// Load returns case id with its signals, messages, decisions and what a
// decision may act on.
func Load(ctx context.Context, q db.Querier, id int64) (Detail, error) {
	c, err := Get(ctx, q, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Case: c}
	rows, err := q.QueryContext(ctx, `SELECT id, kind, summary, facts, order_id, license_id, observed_at FROM fraud_signals
		WHERE case_id = $1 ORDER BY observed_at, id`, id)
	if err != nil {
		return Detail{}, fmt.Errorf("read signals: %w", err)
	}
	for rows.Next() {
		var s SignalRecord
		var facts string
		var ord, lic sql.NullInt64
		if err := rows.Scan(&s.ID, &s.Kind, &s.Summary, &facts, &ord, &lic, &s.ObservedAt); err != nil {
			_ = rows.Close()
			return Detail{}, fmt.Errorf("read signals: %w", err)
		}
		var fs []factJSON
		if err := json.Unmarshal([]byte(facts), &fs); err != nil {
			_ = rows.Close()
			return Detail{}, fmt.Errorf("read signal %d: %w", s.ID, err)
		}
		for _, f := range fs {
			s.Facts = append(s.Facts, Fact(f))
		}
		s.OrderID, s.LicenseID = ord.Int64, lic.Int64
		d.Signals = append(d.Signals, s)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return Detail{}, err
	}
	if d.Messages, err = messagesOf(ctx, q, id); err != nil {
		return Detail{}, err
	}
	if d.Decisions, err = decisionsOf(ctx, q, id); err != nil {
		return Detail{}, err
	}
	if d.Orders, err = ordersOf(ctx, q, c); err != nil {
		return Detail{}, err
	}
	if d.Licenses, err = licensesOf(ctx, q, c); err != nil {
		return Detail{}, err
	}
	return d, nil
}

func messagesOf(ctx context.Context, q db.Querier, caseID int64) ([]Message, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, direction, body, staff_id, created_at FROM fraud_messages WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var staff sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Direction, &m.Body, &staff, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("read messages: %w", err)
		}
		m.StaffID = staff.Int64
		out = append(out, m)
	}
	return out, rows.Err()
}

// ordersOf lists the orders a decision on c may act on: the customer's,
// or those the case's signals name.
func ordersOf(ctx context.Context, q db.Querier, c Case) ([]OrderRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, number, status, total_minor, currency FROM orders
		WHERE (customer_id = $1 AND $1 <> 0) OR id = $2 OR id IN (SELECT order_id FROM fraud_signals WHERE case_id = $3)
		ORDER BY id DESC LIMIT 50`, c.CustomerID, c.OrderID, c.ID)
	if err != nil {
		return nil, fmt.Errorf("read orders of case: %w", err)
	}
	defer rows.Close()
	var out []OrderRef
	for rows.Next() {
		var o OrderRef
		if err := rows.Scan(&o.ID, &o.Number, &o.Status, &o.Total, &o.Curr); err != nil {
			return nil, fmt.Errorf("read orders of case: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// licensesOf lists the licenses a decision on c may act on.
func licensesOf(ctx context.Context, q db.Querier, c Case) ([]LicenseRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, lic, product, edition, status FROM licenses
		WHERE (customer_id = $1 AND $1 <> 0) OR id = $2 OR id IN (SELECT license_id FROM fraud_signals WHERE case_id = $3)
		OR (order_id = $4 AND $4 <> 0)
		ORDER BY id DESC LIMIT 50`, c.CustomerID, c.LicenseID, c.ID, c.OrderID)
	if err != nil {
		return nil, fmt.Errorf("read licenses of case: %w", err)
	}
	defer rows.Close()
	var out []LicenseRef
	for rows.Next() {
		var l LicenseRef
		if err := rows.Scan(&l.ID, &l.Lic, &l.Product, &l.Edition, &l.Status); err != nil {
			return nil, fmt.Errorf("read licenses of case: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// Describe says in plain words what a kind of signal means, for the case
// page and the privacy policy.
func (k Kind) Describe() string {
	return map[Kind]string{
		ProcessorRisk:        "The payment processor rated the payment's risk as elevated or highest.",
		ProcessorReview:      "The payment processor opened or closed a manual review of the payment.",
		EarlyWarning:         "The card network warned early that the payment may be fraudulent.",
		Dispute:              "The card holder disputed the payment (a chargeback), or a dispute was decided.",
		CheckoutBurstNetwork: "Many checkouts came from one network in a short time.",
		CheckoutBurstEmail:   "Many checkouts were made for one email address in a short time.",
		DisposableEmail:      "The email address is at a disposable-mail domain.",
		CountryMismatch:      "The billing country differs from the country of the network the checkout came from.",
		KeySharing:           "The license was used from many networks or machines in a short time.",
		ManyReplacements:     "More machines were replaced than the license's policy expects.",
		DownloadVolume:       "Far more downloads than the customer's licenses explain.",
		RepoCredentialWide:   "A package repository was opened with the same license key from many networks.",
	}[k]
}

// Words is the kind as a label ("key sharing").
func (k Kind) Words() string { return strings.ReplaceAll(string(k), "_", " ") }
