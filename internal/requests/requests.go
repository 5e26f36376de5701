// Package requests handles data-subject requests that arrive outside the
// self-service privacy center: by email to the privacy contact the policy
// names, by letter or by phone. Staff enter them in the console; each one
// then moves through explicit states with the deadline of Art. 12(3) GDPR
// (one month from receipt, extendable once, within that month, by up to two
// months with the reasons sent to the requester).
//
// Identity is checked with a code emailed to the address on file; staff
// ask for more only after recording why they doubt it. Every step, refused
// ones included, is written to request_events and to the audit log in the
// same transaction. A closed request keeps a summary of what was done
// (counts and categories, never the data) as proof that it was answered;
// the data inventory keeps that record under legal hold, so erasing the
// person does not erase the proof of the erasure.
//
// The real work is the privacy package's: Complete runs privacy.Collect
// for access and portability and privacy.Erase for erasure.
package requests

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Kind is the right a request exercises.
type Kind string

// The kinds of request.
const (
	Access        Kind = "access"        // Art. 15
	Portability   Kind = "portability"   // Art. 20
	Rectification Kind = "rectification" // Art. 16
	Erasure       Kind = "erasure"       // Art. 17
	Restriction   Kind = "restriction"   // Art. 18
	Objection     Kind = "objection"     // Art. 21
	Withdrawal    Kind = "withdrawal"    // Art. 7(3): withdrawal of consent
)

// Kinds lists every kind, in the order forms offer them.
var Kinds = []Kind{Access, Portability, Rectification, Erasure, Restriction, Objection, Withdrawal}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Label names the kind for staff, with its article.
func (k Kind) Label() string {
	switch k {
	case Access:
		return "Access (Art. 15)"
	case Portability:
		return "Portability (Art. 20)"
	case Rectification:
		return "Rectification (Art. 16)"
	case Erasure:
		return "Erasure (Art. 17)"
	case Restriction:
		return "Restriction (Art. 18)"
	case Objection:
		return "Objection (Art. 21)"
	case Withdrawal:
		return "Withdrawal of consent (Art. 7(3))"
	}
	return string(k)
}

// Wish says what the requester asked for, in words for the requester
// ("to erase your data").
func (k Kind) Wish() string {
	switch k {
	case Access:
		return "to see the personal data we hold about you"
	case Portability:
		return "to receive your personal data in a portable format"
	case Rectification:
		return "to correct your personal data"
	case Erasure:
		return "to erase your personal data"
	case Restriction:
		return "to restrict the processing of your personal data"
	case Objection:
		return "to object to the processing of your personal data"
	case Withdrawal:
		return "to withdraw your consent"
	}
	return string(k)
}

// Channel is how a request reached us.
type Channel string

// The channels.
const (
	Console     Channel = "console"      // told to staff (phone, letter, in person) and entered by them
	Email       Channel = "email"        // written to the privacy contact address
	SelfService Channel = "self_service" // made by the signed-in customer on the site
)

// Channels lists every channel.
var Channels = []Channel{Console, Email, SelfService}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return slices.Contains(Channels, c) }

// Label names the channel for staff.
func (c Channel) Label() string {
	switch c {
	case Console:
		return "told to staff"
	case Email:
		return "email to the privacy contact"
	case SelfService:
		return "privacy center (signed in)"
	}
	return string(c)
}

// State is where a request stands.
type State string

// The states. Completed and Refused are final.
const (
	Received   State = "received"    // entered; identity not yet checked
	Verifying  State = "verifying"   // a code was sent to the address on file
	InProgress State = "in_progress" // identity checked; the work is being done
	Extended   State = "extended"    // in progress, with the deadline extended
	Completed  State = "completed"   // done, with a record of what was done
	Refused    State = "refused"     // refused, with the reasons sent to the requester
)

// States lists every state, in the order a request passes them.
var States = []State{Received, Verifying, InProgress, Extended, Completed, Refused}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States, s) }

// Closed reports whether s is final.
func (s State) Closed() bool { return s == Completed || s == Refused }

// Label is the state in words.
func (s State) Label() string {
	switch s {
	case Received:
		return "received"
	case Verifying:
		return "verifying identity"
	case InProgress:
		return "in progress"
	case Extended:
		return "in progress, deadline extended"
	case Completed:
		return "completed"
	case Refused:
		return "refused"
	}
	return string(s)
}

// transitions lists the state changes the machine allows; every other one
// is refused. A step that changes no state (a resent code, a wrong code, a
// recorded doubt) is an event from a state to itself.
var transitions = map[State][]State{
	Received:   {Verifying, InProgress, Refused},
	Verifying:  {Verifying, InProgress, Refused},
	InProgress: {Extended, Completed, Refused},
	Extended:   {Completed, Refused},
}

// CanMove reports whether a request may go from one state to another.
func CanMove(from, to State) bool { return slices.Contains(transitions[from], to) }

// Deadlines and limits.
const (
	// NearDue is how close to its deadline an open request is flagged.
	NearDue = 7 * 24 * time.Hour
	// MaxExtensionMonths is the longest extension Art. 12(3) allows.
	MaxExtensionMonths = 2
	// RetentionYears is how long a closed request is kept as proof that
	// it was answered (the inventory declares the same).
	RetentionYears = 3
)

// AddMonths adds n calendar months to t. When the day does not exist in
// the target month, the period ends on that month's last day (31 January
// plus one month is 28 or 29 February, never 2 or 3 March), as periods
// expressed in months end under Regulation 1182/71.
func AddMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// DueDate is the deadline for answering a request received at received:
// one calendar month later.
func DueDate(received time.Time) time.Time { return AddMonths(received.UTC(), 1) }

// Request is one data-subject request.
type Request struct {
	ID         int64
	Kind       Kind
	Email      string
	CustomerID int64 // 0 when the address had no account
	Channel    Channel
	State      State

	ReceivedAt      time.Time
	DueAt           time.Time
	ExtendedDueAt   time.Time // zero unless extended
	ExtensionReason string

	CodeExpiresAt time.Time // zero when no code was sent
	CodeAttempts  int
	CodeUsedAt    time.Time
	CodePending   bool // a code was sent and not yet used
	VerifiedAt    time.Time

	DoubtReason   string
	RefusalReason string
	Note          string
	Outcome       string

	CreatedAt   time.Time
	UpdatedAt   time.Time
	CompletedAt time.Time // when it was closed (completed or refused)
}

// Deadline is the date by which the request must be answered: the
// extended date when there is one.
func (r Request) Deadline() time.Time {
	if !r.ExtendedDueAt.IsZero() {
		return r.ExtendedDueAt
	}
	return r.DueAt
}

// Open reports whether the request still needs an answer.
func (r Request) Open() bool { return !r.State.Closed() }

// Overdue reports whether an open request is past its deadline.
func (r Request) Overdue(now time.Time) bool { return r.Open() && now.After(r.Deadline()) }

// DueSoon reports whether an open request's deadline is within NearDue
// and not yet past.
func (r Request) DueSoon(now time.Time) bool {
	return r.Open() && !r.Overdue(now) && r.Deadline().Sub(now) <= NearDue
}

// DaysLeft counts the calendar days from now to the deadline: 0 on the
// day itself, negative when overdue.
func (r Request) DaysLeft(now time.Time) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(r.Deadline()).Sub(day(now)).Hours() / 24)
}

// Verified reports whether the requester's identity was checked.
func (r Request) Verified() bool { return !r.VerifiedAt.IsZero() }

// CanExtend says why the request cannot be extended now, or nil: only a
// request in progress, only once, and only within the first month.
func (r Request) CanExtend(now time.Time) error {
	switch {
	case !r.ExtendedDueAt.IsZero() || r.State == Extended:
		return refusal(codeExtension, "The deadline was extended once already; it cannot be extended again.")
	case r.State != InProgress:
		return refusal(codeState, "Only a request in progress can be extended: check the requester's identity and start the work first.")
	case now.After(r.DueAt):
		return refusal(codeExtension, "The first month is over: an extension had to be sent to the requester before "+r.DueAt.Format("2 January 2006")+". Answer the request now.")
	}
	return nil
}

// Actions lists the steps staff may take now, by the names the console
// uses: send-code, verify, doubt, start, extend, complete, refuse.
func (r Request) Actions(now time.Time) []string {
	var out []string
	switch r.State {
	case Received, Verifying:
		out = append(out, "send-code")
		if r.State == Verifying && r.CodePending {
			out = append(out, "verify")
		}
		out = append(out, "doubt")
		if r.Verified() {
			out = append(out, "start")
		}
		out = append(out, "refuse")
	case InProgress:
		if r.CanExtend(now) == nil {
			out = append(out, "extend")
		}
		out = append(out, "complete", "refuse")
	case Extended:
		out = append(out, "complete", "refuse")
	}
	return out
}

// Allows reports whether action is among r.Actions(now).
func (r Request) Allows(action string, now time.Time) bool {
	return slices.Contains(r.Actions(now), action)
}

// Event is one step in a request's history.
type Event struct {
	At       time.Time
	From, To State // From is "" for the arrival; equal for steps that change no state
	Actor    string
	Note     string
}

// Actor is who takes a step: a member of staff, the requester (signed in
// to the privacy center) or the system (the command line, the digest).
type Actor struct {
	StaffID    int64
	CustomerID int64
	// Net is the actor's network for the audit log (audit.Network), ""
	// when there is none.
	Net string
}

// StaffActor is a member of staff working from network net.
func StaffActor(id int64, net string) Actor { return Actor{StaffID: id, Net: net} }

// RequesterActor is the signed-in customer making a request themselves.
func RequesterActor(customerID int64, net string) Actor {
	return Actor{CustomerID: customerID, Net: net}
}

// System is the actor of the command line and of periodic work.
var System = Actor{}

// String is how request_events names the actor.
func (a Actor) String() string {
	switch {
	case a.StaffID != 0:
		return "staff:" + strconv.FormatInt(a.StaffID, 10)
	case a.CustomerID != 0:
		return "requester"
	}
	return "system"
}

// Audit is the actor as the audit log records it.
func (a Actor) Audit() audit.Actor {
	switch {
	case a.StaffID != 0:
		return audit.Staff(a.StaffID).From(a.Net)
	case a.CustomerID != 0:
		return audit.Customer(a.CustomerID).From(a.Net)
	}
	return audit.System().From(a.Net)
}

// entry is the audit entry of a step on request id (0 for a request
// refused before it existed); the caller adds the actor.
func entry(now time.Time, action string, id int64) audit.Entry {
	e := audit.Entry{At: now, Action: "privacy_request." + action, SubjectType: "privacy_request"}
	if id != 0 {
		e.SubjectID = strconv.FormatInt(id, 10)
	}
	return e
}

// record appends e, done by by, inside tx.
func (by Actor) record(ctx context.Context, tx *sql.Tx, e audit.Entry) error {
	_, err := audit.Append(ctx, tx, e.By(by.Audit()))
	return err
}

// Refusal is a step refused for a reason the person at the console (or
// the requester) can act on: a refuse.Error, whose message says what to
// do. Other errors are failures of ours. The name stays for the callers
// that used it; new code uses refuse.Error and refuse.As.
type Refusal = refuse.Error

// refusal returns a refusal with one of the codes below, of the kind its
// code implies.
func refusal(code, msg string) *refuse.Error { return refuse.New(codeKinds[code], code, msg) }

// Refusal codes. They are also what the audit log records of a refused
// step (action_refused, detail = code).
const (
	codeNotFound      = "request_not_found"
	codeInvalid       = "request_invalid"
	codeState         = "request_state"
	codeDuplicate     = "request_duplicate"
	codeLimited       = "request_rate_limited"
	codeNotYours      = "request_not_yours"
	codeNoCode        = "request_no_code"
	codeWrongCode     = "request_wrong_code"
	codeCodeExpired   = "request_code_expired"
	codeCodeUsed      = "request_code_used"
	codeTooMany       = "request_too_many_attempts"
	codeExtension     = "request_extension"
	codeNeedsEvidence = "request_needs_evidence"
)

// codeKinds gives each code its kind, which decides the HTTP status.
var codeKinds = map[string]refuse.Kind{
	codeNotFound:      refuse.NotFound,
	codeInvalid:       refuse.Invalid,
	codeState:         refuse.Conflict,
	codeDuplicate:     refuse.Conflict,
	codeLimited:       refuse.Limited,
	codeNotYours:      refuse.Forbidden,
	codeNoCode:        refuse.Conflict,
	codeWrongCode:     refuse.Invalid,
	codeCodeExpired:   refuse.Gone,
	codeCodeUsed:      refuse.Gone,
	codeTooMany:       refuse.Limited,
	codeExtension:     refuse.Conflict,
	codeNeedsEvidence: refuse.Invalid,
}

// The refusals callers tell apart (compare with errors.Is, which matches
// by code whatever the message says).
var (
	ErrNotFound        = refusal(codeNotFound, "There is no such privacy request.")
	ErrInvalid         = refusal(codeInvalid, "The request is incomplete.")
	ErrState           = refusal(codeState, "The request is not in a state that allows this step.")
	ErrDuplicate       = refusal(codeDuplicate, "This address already has an open request of this kind.")
	ErrRateLimited     = refusal(codeLimited, "Too many requests for this address today.")
	ErrNotYours        = refusal(codeNotYours, "A request can only concern the requester's own data.")
	ErrNoCode          = refusal(codeNoCode, "No verification code is pending.")
	ErrWrongCode       = refusal(codeWrongCode, "The code is wrong.")
	ErrCodeExpired     = refusal(codeCodeExpired, "The code has expired.")
	ErrCodeUsed        = refusal(codeCodeUsed, "The code was used already.")
	ErrTooManyAttempts = refusal(codeTooMany, "Too many wrong codes.")
	ErrExtension       = refusal(codeExtension, "The deadline cannot be extended.")
	ErrNeedsEvidence   = refusal(codeNeedsEvidence, "Extra proof of identity is needed.")
)

// IsRefusal reports whether err is a refusal (of this package or any
// other), and returns it. It is refuse.As, kept for existing callers.
func IsRefusal(err error) (*Refusal, bool) { return refuse.As(err) }

const requestColumns = `id, kind, email, COALESCE(customer_id, 0), channel, state, received_at, due_at, extended_due_at,
	extension_reason, code_hash IS NOT NULL, code_expires_at, code_attempts, code_used_at, verified_at, doubt_reason, refusal_reason,
	note, outcome, created_at, updated_at, completed_at`

func scanRequest(row interface{ Scan(...any) error }) (Request, error) {
	var r Request
	var ext, exp, used, verified, completed sql.NullTime
	err := row.Scan(&r.ID, &r.Kind, &r.Email, &r.CustomerID, &r.Channel, &r.State, &r.ReceivedAt, &r.DueAt, &ext,
		&r.ExtensionReason, &r.CodePending, &exp, &r.CodeAttempts, &used, &verified, &r.DoubtReason, &r.RefusalReason,
		&r.Note, &r.Outcome, &r.CreatedAt, &r.UpdatedAt, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return Request{}, ErrNotFound
	}
	if err != nil {
		return Request{}, fmt.Errorf("read privacy request: %w", err)
	}
	r.ExtendedDueAt, r.CodeExpiresAt, r.CodeUsedAt, r.VerifiedAt, r.CompletedAt = ext.Time, exp.Time, used.Time, verified.Time, completed.Time
	for _, t := range []*time.Time{&r.ReceivedAt, &r.DueAt, &r.ExtendedDueAt, &r.CodeExpiresAt, &r.CodeUsedAt, &r.VerifiedAt,
		&r.CreatedAt, &r.UpdatedAt, &r.CompletedAt} {
		if !t.IsZero() {
			*t = t.UTC()
		}
	}
	return r, nil
}

// ByID returns the request with id.
func ByID(ctx context.Context, q db.Querier, id int64) (Request, error) {
	return scanRequest(q.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM privacy_requests WHERE id = $1`, id))
}

// lock reads a request for update inside tx, so concurrent steps on one
// request queue (db.Dialect.ForUpdate).
func lock(ctx context.Context, tx *sql.Tx, d db.Dialect, id int64) (Request, error) {
	return scanRequest(tx.QueryRowContext(ctx, `SELECT `+requestColumns+` FROM privacy_requests WHERE id = $1`+d.ForUpdate(), id))
}

// Filter selects requests for List.
type Filter struct {
	State State // "" for all
	// Overdue keeps only open requests past their deadline at Now.
	Overdue bool
	Now     time.Time
	Limit   int // 0 for 500
}

// List returns requests matching f: open ones first, the most urgent
// deadline first, then closed ones, the most recently closed first.
func List(ctx context.Context, q db.Querier, f Filter) ([]Request, error) {
	where, args := "1 = 1", []any{}
	if f.State != "" {
		args = append(args, string(f.State))
		where += fmt.Sprintf(" AND state = $%d", len(args))
	}
	if f.Overdue {
		args = append(args, f.Now.UTC())
		where += fmt.Sprintf(" AND state NOT IN ('completed', 'refused') AND COALESCE(extended_due_at, due_at) < $%d", len(args))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 500
	}
	rows, err := q.QueryContext(ctx, `SELECT `+requestColumns+` FROM privacy_requests WHERE `+where+`
		ORDER BY CASE WHEN state IN ('completed', 'refused') THEN 1 ELSE 0 END,
			CASE WHEN state IN ('completed', 'refused') THEN NULL ELSE COALESCE(extended_due_at, due_at) END,
			completed_at DESC, id DESC LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list privacy requests: %w", err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Urgency counts the open requests that are overdue and those due within
// NearDue.
func Urgency(ctx context.Context, q db.Querier, now time.Time) (overdue, dueSoon int, err error) {
	g, err := Digest(ctx, q, now)
	return len(g.Overdue), len(g.DueSoon), err
}

// Queue counts the open requests and, of them, those overdue and those
// due within NearDue: Urgency with the number open, from one read.
func Queue(ctx context.Context, q db.Querier, now time.Time) (open, overdue, dueSoon int, err error) {
	rs, err := openRequests(ctx, q)
	if err != nil {
		return 0, 0, 0, err
	}
	g := dueList(rs, now)
	return len(rs), len(g.Overdue), len(g.DueSoon), nil
}

func openRequests(ctx context.Context, q db.Querier) ([]Request, error) {
	var out []Request
	for _, s := range []State{Received, Verifying, InProgress, Extended} {
		rs, err := List(ctx, q, Filter{State: s, Limit: 100000})
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	slices.SortStableFunc(out, func(a, b Request) int { return a.Deadline().Compare(b.Deadline()) })
	return out, nil
}

// Events returns the request's history, oldest first.
func Events(ctx context.Context, q db.Querier, id int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, from_state, to_state, actor, note FROM request_events WHERE request_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("read request history: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.From, &e.To, &e.Actor, &e.Note); err != nil {
			return nil, fmt.Errorf("read request history: %w", err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func addEvent(ctx context.Context, tx *sql.Tx, id int64, from, to State, by Actor, note string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO request_events (request_id, at, from_state, to_state, actor, note) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, now.UTC(), string(from), string(to), by.String(), note)
	if err != nil {
		return fmt.Errorf("record request event: %w", err)
	}
	return nil
}

// result is what a step did: the state it left the request in and the
// notes for the history and the audit log.
type result struct {
	to     State
	note   string // for request_events (may name reasons)
	detail string // for the audit log: short, without the requester's data
}

// step runs fn on request id inside one transaction, with the request
// locked, and records the step (request_events and the audit log). A
// Refusal from fn is recorded too, as action_refused, and the changes fn
// made before refusing (a counted wrong code) are kept; the refusal is
// then returned.
func step(ctx context.Context, d *db.DB, id int64, action string, by Actor, now time.Time,
	fn func(tx *sql.Tx, r Request) (result, error)) (Request, error) {
	now = now.UTC()
	var refused error
	var out Request
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		r, err := lock(ctx, tx, d.Dialect, id)
		if err != nil {
			return err
		}
		res, err := fn(tx, r)
		if rf, ok := IsRefusal(err); ok {
			refused = err
			if err := addEvent(ctx, tx, id, r.State, r.State, by, action+" refused: "+rf.Msg, now); err != nil {
				return err
			}
			e := entry(now, action+"_refused", id)
			e.Detail = rf.Code
			return by.record(ctx, tx, e)
		}
		if err != nil {
			return err
		}
		if res.to == "" {
			res.to = r.State
		}
		if err := addEvent(ctx, tx, id, r.State, res.to, by, res.note, now); err != nil {
			return err
		}
		detail := res.detail
		if detail == "" && res.to != r.State {
			detail = string(r.State) + " -> " + string(res.to)
		}
		e := entry(now, action, id)
		e.Detail = detail
		if err := by.record(ctx, tx, e); err != nil {
			return err
		}
		out, err = lock(ctx, tx, d.Dialect, id)
		return err
	})
	if err != nil {
		return Request{}, err
	}
	if refused != nil {
		return Request{}, refused
	}
	return out, nil
}

// move changes the request's state inside tx, refusing changes the
// machine does not allow, and then runs also (when not "") with args and
// the request's ID as the last parameter: an UPDATE of the columns the
// step sets.
func move(ctx context.Context, tx *sql.Tx, r Request, to State, now time.Time, also string, args ...any) error {
	if !CanMove(r.State, to) {
		return refusal(codeState, fmt.Sprintf("A request that is %s cannot become %s.", r.State.Label(), to.Label()))
	}
	res, err := tx.ExecContext(ctx, `UPDATE privacy_requests SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4`,
		string(to), now.UTC(), r.ID, string(r.State))
	if err != nil {
		return fmt.Errorf("change request state: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return refusal(codeState, "The request changed meanwhile; reload the page.")
	}
	if also == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, also, append(args, r.ID)...); err != nil {
		return fmt.Errorf("change request: %w", err)
	}
	return nil
}
