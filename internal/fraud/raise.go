package fraud

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Refusals of Raise, for the sources to tell apart.
var (
	// ErrNoSubject: the signal names no customer, order or license that
	// still exists with a person or a purchase behind it (an erased
	// customer and nothing else, or rows that were deleted). No case is
	// opened about nobody; the source records what it saw in its own
	// bookkeeping and goes on.
	ErrNoSubject = refuse.New(refuse.Gone, "fraud_no_subject", "the signal is about no customer, order or license that still exists: no case was opened")
	// ErrBadSignal: the signal is malformed (unknown kind, no source, no
	// time) or its evidence holds more than figures.
	ErrBadSignal = refuse.New(refuse.Invalid, "fraud_bad_signal", "the signal is malformed")
)

// Limits on a signal's text, so that a source cannot fill a case page.
const (
	maxSource  = 200
	maxSummary = 300
	maxFacts   = 12
	maxFactLen = 80
)

// Raise records s and opens a review case for its subject or adds s to the
// subject's open case, in tx: the transaction in which the source recorded
// what it saw, so that the observation and its signal commit together.
// dialect is tx's database dialect.
//
// Raising a signal whose Source is recorded already changes nothing and
// returns that signal's case with created false; so does a second
// instance raising it at the same moment (the unique source decides).
//
// Subjects are checked, not trusted: a customer that does not exist or was
// erased is dropped from the subject (the case is then about the order or
// license only, and names no person); an order or license that does not
// exist is dropped too. When nothing is left Raise returns ErrNoSubject
// and records nothing. A known order or license gives the case its
// customer when the signal did not name one, so that one person's signals
// from the shop, the processor and licensing meet in one case.
//
// Raise never changes anything but the fraud tables.
func Raise(ctx context.Context, tx *sql.Tx, dialect db.Dialect, s Signal) (caseID int64, created bool, err error) {
	if err := s.validate(); err != nil {
		return 0, false, err
	}
	var existing int64
	switch err := tx.QueryRowContext(ctx, `SELECT case_id FROM fraud_signals WHERE source = $1`, s.Source).Scan(&existing); {
	case err == nil:
		return existing, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return 0, false, fmt.Errorf("raise signal: %w", err)
	}
	subj, err := resolveSubject(ctx, tx, s.Subject)
	if err != nil {
		return 0, false, err
	}
	if subj == (Subject{}) {
		return 0, false, ErrNoSubject
	}
	facts, err := json.Marshal(factsJSON(s.Facts))
	if err != nil {
		return 0, false, fmt.Errorf("raise signal: %w", err)
	}
	at := s.At.UTC()
	key := subjectKey(subj)

	caseID, created, err = openCase(ctx, tx, dialect, key, subj, s.Kind, at)
	if err != nil {
		return 0, false, err
	}
	var signalID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO fraud_signals (case_id, kind, source, summary, facts, customer_id, order_id, license_id, observed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (source) DO NOTHING RETURNING id`,
		caseID, string(s.Kind), s.Source, s.Summary, string(facts), nullID(subj.CustomerID), nullID(subj.OrderID), nullID(subj.LicenseID), at).Scan(&signalID)
	if errors.Is(err, sql.ErrNoRows) {
		// Another transaction recorded the same source after our check:
		// its case is the answer, and a case we opened for it goes.
		if created {
			if _, err := tx.ExecContext(ctx, `DELETE FROM fraud_cases WHERE id = $1`, caseID); err != nil {
				return 0, false, fmt.Errorf("raise signal: %w", err)
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT case_id FROM fraud_signals WHERE source = $1`, s.Source).Scan(&existing); err != nil {
			return 0, false, fmt.Errorf("raise signal: %w", err)
		}
		return existing, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("raise signal: %w", err)
	}
	// The case's figures: one more signal, the latest kind and time (a
	// late-arriving older event does not move last_at back).
	if _, err := tx.ExecContext(ctx, `UPDATE fraud_cases SET signals = signals + 1,
		last_kind = CASE WHEN last_at <= $2 THEN $1 ELSE last_kind END,
		last_at = CASE WHEN last_at < $2 THEN $2 ELSE last_at END,
		first_at = CASE WHEN first_at > $2 THEN $2 ELSE first_at END,
		updated_at = CASE WHEN updated_at < $2 THEN $2 ELSE updated_at END
		WHERE id = $3`, string(s.Kind), at, caseID); err != nil {
		return 0, false, fmt.Errorf("raise signal: %w", err)
	}
	return caseID, created, nil
}

// openCase returns the subject's open case, opening it when there is none.
func openCase(ctx context.Context, tx *sql.Tx, dialect db.Dialect, key string, subj Subject, kind Kind, at time.Time) (int64, bool, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO fraud_cases (status, subject_key, open_key, customer_id, order_id, license_id,
		last_kind, first_at, last_at, created_at, updated_at)
		VALUES ('open', $1, $1, $2, $3, $4, $5, $6, $6, $6, $6) ON CONFLICT (open_key) DO NOTHING RETURNING id`,
		key, nullID(subj.CustomerID), nullID(subj.OrderID), nullID(subj.LicenseID), string(kind), at).Scan(&id)
	if err == nil {
		return id, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("open case: %w", err)
	}
	// Lock the open case so that a decision closing it now waits for this
	// signal, or this signal waits and then sees it closed.
	if err := tx.QueryRowContext(ctx, `SELECT id FROM fraud_cases WHERE open_key = $1`+dialect.ForUpdate(), key).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			// Closed between the insert and the select: open a new one.
			return openCase(ctx, tx, dialect, key, subj, kind, at)
		}
		return 0, false, fmt.Errorf("open case: %w", err)
	}
	return id, false, nil
}

// resolveSubject checks the signal's subject against the database (see
// Raise) and returns what is left of it.
func resolveSubject(ctx context.Context, q db.Querier, in Subject) (Subject, error) {
	var out Subject
	var fromOrder, fromLicense sql.NullInt64
	if in.LicenseID != 0 {
		var order sql.NullInt64
		err := q.QueryRowContext(ctx, `SELECT customer_id, order_id FROM licenses WHERE id = $1`, in.LicenseID).Scan(&fromLicense, &order)
		switch {
		case err == nil:
			out.LicenseID = in.LicenseID
			if in.OrderID == 0 && order.Valid {
				in.OrderID = order.Int64
			}
		case !errors.Is(err, sql.ErrNoRows):
			return Subject{}, fmt.Errorf("raise signal: license: %w", err)
		}
	}
	if in.OrderID != 0 {
		err := q.QueryRowContext(ctx, `SELECT customer_id FROM orders WHERE id = $1`, in.OrderID).Scan(&fromOrder)
		switch {
		case err == nil:
			out.OrderID = in.OrderID
		case !errors.Is(err, sql.ErrNoRows):
			return Subject{}, fmt.Errorf("raise signal: order: %w", err)
		}
	}
	for _, c := range []int64{in.CustomerID, fromOrder.Int64, fromLicense.Int64} {
		if c == 0 {
			continue
		}
		ok, err := customerPresent(ctx, q, c)
		if err != nil {
			return Subject{}, err
		}
		if ok {
			out.CustomerID = c
			break
		}
		if c == in.CustomerID {
			// The customer the source named is gone: do not fall
			// back to another one through the order.
			break
		}
	}
	return out, nil
}

// customerPresent says whether customer id exists and was not erased
// (erasure keeps the row with an address at erased.invalid).
func customerPresent(ctx context.Context, q db.Querier, id int64) (bool, error) {
	var email string
	err := q.QueryRowContext(ctx, `SELECT email FROM customers WHERE id = $1`, id).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("raise signal: customer: %w", err)
	}
	return !Erased(email), nil
}

// Erased says whether a customer's address is the one erasure leaves.
func Erased(email string) bool {
	return strings.TrimSpace(email) == "" || strings.HasSuffix(email, "@erased.invalid")
}

func subjectKey(s Subject) string {
	switch {
	case s.CustomerID != 0:
		return "customer:" + strconv.FormatInt(s.CustomerID, 10)
	case s.OrderID != 0:
		return "order:" + strconv.FormatInt(s.OrderID, 10)
	}
	return "license:" + strconv.FormatInt(s.LicenseID, 10)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// validate refuses a malformed signal, and evidence that holds more than
// figures: a fact or summary that contains an email address or a network
// address is refused, so that a source's mistake cannot put either into a
// case.
func (s Signal) validate() error {
	bad := func(why string) error {
		return refuse.New(refuse.Invalid, ErrBadSignal.Code, "the signal is malformed: "+why)
	}
	if !s.Kind.Known() {
		return bad("unknown kind " + strconv.Quote(string(s.Kind)))
	}
	if s.Source == "" || len(s.Source) > maxSource || !utf8.ValidString(s.Source) {
		return bad("a source of 1 to 200 bytes is needed")
	}
	if s.At.IsZero() {
		return bad("no time")
	}
	if s.Subject.CustomerID < 0 || s.Subject.OrderID < 0 || s.Subject.LicenseID < 0 ||
		s.Subject == (Subject{}) {
		return bad("no subject")
	}
	if s.Summary == "" || utf8.RuneCountInString(s.Summary) > maxSummary || !utf8.ValidString(s.Summary) {
		return bad("a summary of 1 to 300 characters is needed")
	}
	if len(s.Facts) > maxFacts {
		return bad("more than 12 facts")
	}
	if personal(s.Summary) {
		return bad("the summary holds an email or network address")
	}
	for _, f := range s.Facts {
		if f.Name == "" || utf8.RuneCountInString(f.Name) > maxFactLen || utf8.RuneCountInString(f.Value) > maxFactLen ||
			!utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			return bad("each fact needs a name and a value of at most 80 characters")
		}
		if personal(f.Name) || personal(f.Value) {
			return bad("fact " + strconv.Quote(f.Name) + " holds an email or network address")
		}
	}
	return nil
}

// personal reports whether s contains something evidence must not hold:
// an email address or a network address (or prefix).
func personal(s string) bool {
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == ',' || r == ';' || r == '(' || r == ')' || r == '"' || r == '\''
	}) {
		w = strings.TrimRight(w, ".:")
		if i := strings.IndexByte(w, '@'); i > 0 && i < len(w)-1 {
			return true
		}
		if _, err := netip.ParseAddr(w); err == nil {
			return true
		}
		if _, err := netip.ParsePrefix(w); err == nil {
			return true
		}
	}
	return false
}

// Known says whether k is one of Kinds.
func (k Kind) Known() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

type factJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func factsJSON(fs []Fact) []factJSON {
	out := make([]factJSON, 0, len(fs))
	for _, f := range fs {
		out = append(out, factJSON(f))
	}
	return out
}
