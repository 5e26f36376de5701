package fraud

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Action is what a decision does.
type Action string

// The decisions staff can make on a case.
const (
	NoAction       Action = "no_action"       // nothing is wrong: the case is closed
	Refund         Action = "refund"          // return what is left of an order's payment
	SuspendLicense Action = "suspend_license" // the license stops working until reinstated
	RevokeAccess   Action = "revoke_access"   // the license's downloads and repositories close; the product keeps running
	BlockPurchase  Action = "block_purchase"  // the customer cannot buy again until the block is lifted
)

// Actions lists the decisions, in the form's order.
var Actions = []Action{NoAction, Refund, SuspendLicense, RevokeAccess, BlockPurchase}

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	for _, x := range Actions {
		if x == a {
			return true
		}
	}
	return false
}

// Describe says what the action does, for the form and the mail.
func (a Action) Describe() string {
	return map[Action]string{
		NoAction:       "No action: nothing changes and the case is closed.",
		Refund:         "Refund what is left of the order's payment.",
		SuspendLicense: "Suspend the license: it stops working until it is reinstated.",
		RevokeAccess:   "Revoke the license's download and repository access; installed software keeps working.",
		BlockPurchase:  "Block further purchases by this customer.",
	}[a]
}

// affects says whether the action changes something of the customer's,
// so that they are told.
func (a Action) affects() bool { return a != NoAction }

// Refusals of decisions.
var (
	ErrAction    = refuse.Field("action", "Choose one of the decisions offered.")
	ErrTarget    = refuse.New(refuse.Invalid, "fraud_target", "Choose an order or license of this case: the one given is not part of it.")
	ErrNoPerson  = refuse.New(refuse.Conflict, "fraud_no_person", "This case is about no person (the customer was erased or is unknown), so nothing can be asked or blocked for them; decide on the order or license, or take no action.")
	ErrObjection = refuse.Field("weighed", "The customer objected to fraud checks: confirm that you weighed their objection before deciding.")
	ErrNoRefunds = refuse.New(refuse.Conflict, "fraud_no_refunds", "Refunds cannot be made from here: no shop is configured.")
	ErrReversed  = refuse.New(refuse.Conflict, "fraud_reversed", "This decision was reversed already.")
	ErrNoToken   = refuse.New(refuse.Invalid, "fraud_no_token", "The form is incomplete: reload the case and decide again.")
)

// Refunder makes refunds: orders.Shop.
type Refunder interface {
	RefundOrder(ctx context.Context, req orders.RefundRequest, now time.Time) (orders.Refund, error)
}

// Service applies staff decisions and sends the mail they cause.
type Service struct {
	DB *db.DB
	// Refunds makes refund decisions; nil refuses them.
	Refunds  Refunder
	SiteName string
	BaseURL  string // the site's address, for the links in mail
}

// Decision is a recorded decision.
type Decision struct {
	ID            int64
	CaseID        int64
	Action        Action
	OrderID       int64
	LicenseID     int64
	Reason        string
	StaffID       int64
	ObjectionSeen bool
	NoticeOutbox  int64
	NoticeNote    string
	CreatedAt     time.Time
	ReversedAt    time.Time
	ReversedBy    int64
	ReverseReason string
	// StaffName and ReversedByName name the staff members, for the
	// console (empty for an account without a name).
	StaffName, ReversedByName string
}

// Reversed reports whether the decision was taken back.
func (d Decision) Reversed() bool { return !d.ReversedAt.IsZero() }

func decisionsOf(ctx context.Context, q db.Querier, caseID int64) ([]Decision, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+decisionColumns+` FROM fraud_decisions WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	defer rows.Close()
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

const decisionColumns = `id, case_id, action, order_id, license_id, reason, staff_id, objection_seen, notice_outbox_id, notice_note,
	created_at, reversed_at, reversed_by, reverse_reason,
	COALESCE((SELECT s.name FROM staff s WHERE s.id = fraud_decisions.staff_id), ''),
	COALESCE((SELECT s.name FROM staff s WHERE s.id = fraud_decisions.reversed_by), '')`

func scanDecision(row interface{ Scan(...any) error }) (Decision, error) {
	var d Decision
	var ord, lic, outbox, revBy sql.NullInt64
	var rev sql.NullTime
	var seen int
	err := row.Scan(&d.ID, &d.CaseID, &d.Action, &ord, &lic, &d.Reason, &d.StaffID, &seen, &outbox, &d.NoticeNote,
		&d.CreatedAt, &rev, &revBy, &d.ReverseReason, &d.StaffName, &d.ReversedByName)
	if errors.Is(err, sql.ErrNoRows) {
		return Decision{}, refuse.New(refuse.NotFound, "fraud_decision_not_found", "There is no such decision.")
	}
	if err != nil {
		return Decision{}, fmt.Errorf("read decision: %w", err)
	}
	d.OrderID, d.LicenseID, d.NoticeOutbox, d.ReversedBy = ord.Int64, lic.Int64, outbox.Int64, revBy.Int64
	d.ReversedAt, d.ObjectionSeen = rev.Time, seen != 0
	return d, nil
}

// DecideRequest is a staff member's decision on a case, as submitted.
type DecideRequest struct {
	CaseID    int64
	Action    Action
	OrderID   int64 // for Refund
	LicenseID int64 // for SuspendLicense and RevokeAccess
	Reason    string
	// Weighed confirms that the staff member weighed the customer's
	// objection to fraud checks; required when there is one.
	Weighed bool
	// Token is the form's one-time token: a second submit of the same
	// form is ErrDuplicate and changes nothing.
	Token   string
	StaffID int64
	Net     string // the staff member's network, for the audit log
}

func cleanReason(why string) (string, error) {
	return input.Spec{Field: "reason", Label: "The reason", Max: 1000, Required: true, Multiline: true,
		Missing: "Say why: the reason is recorded with the decision, in the audit log and, where it affects the customer, in the mail that tells them."}.Clean(why)
}

// Decide records a staff member's decision on an open case and applies it
// through the domain that owns what it changes: licensing suspends,
// the shop refunds, the fraud holds close downloads and repositories or
// block a purchase. The case closes; the customer is told of a decision
// that affects them and how to contest it (the mail goes through the
// outbox, as all mail does). One audit entry records the decision; the
// domain's own entry records its change.
//
// A refusal (closed case, a target that is not the case's, a repeated
// form, a missing reason or an unweighed objection) changes nothing.
func (s Service) Decide(ctx context.Context, req DecideRequest, now time.Time) (Decision, error) {
	now = now.UTC()
	if !req.Action.Valid() {
		return Decision{}, ErrAction
	}
	if req.Token == "" || len(req.Token) > 100 {
		return Decision{}, ErrNoToken
	}
	why, err := cleanReason(req.Reason)
	if err != nil {
		return Decision{}, err
	}
	// Checks first, outside the refund: a refused decision must not have
	// moved money.
	c, err := s.check(ctx, s.DB, req)
	if err != nil {
		return Decision{}, err
	}
	if req.Action == Refund {
		if s.Refunds == nil {
			return Decision{}, ErrNoRefunds
		}
		if _, err := s.Refunds.RefundOrder(ctx, orders.RefundRequest{OrderID: req.OrderID,
			Reason: "fraud review case " + strconv.FormatInt(c.ID, 10) + ": " + firstLine(why),
			By:     audit.Staff(req.StaffID).From(req.Net)}, now); err != nil {
			return Decision{}, err
		}
	}
	var dec Decision
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c, err := lockCase(ctx, tx, s.DB.Dialect, req.CaseID)
		if err != nil {
			return err
		}
		if _, err := s.check(ctx, tx, req); err != nil {
			return err
		}
		switch req.Action {
		case SuspendLicense:
			if _, err := licensing.SuspendIn(ctx, tx, s.DB.Dialect, req.StaffID, req.LicenseID,
				"fraud review case "+strconv.FormatInt(c.ID, 10)+": "+why, now); err != nil {
				return err
			}
		}
		var objection int
		if req.Weighed {
			objection = 1
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO fraud_decisions (case_id, action, order_id, license_id, reason, staff_id, form_token,
			objection_seen, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (form_token) DO NOTHING RETURNING id`,
			c.ID, string(req.Action), nullID(req.OrderID), nullID(req.LicenseID), why, req.StaffID, req.Token, objection, now).Scan(&dec.ID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrDuplicate
			}
			return fmt.Errorf("record decision: %w", err)
		}
		if dec, err = scanDecision(tx.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM fraud_decisions WHERE id = $1`, dec.ID)); err != nil {
			return err
		}
		switch req.Action {
		case RevokeAccess:
			if _, err := tx.ExecContext(ctx, `INSERT INTO fraud_holds (decision_id, scope, license_id, created_at) VALUES ($1, 'access', $2, $3)`,
				dec.ID, req.LicenseID, now); err != nil {
				return fmt.Errorf("hold access: %w", err)
			}
		case BlockPurchase:
			if _, err := tx.ExecContext(ctx, `INSERT INTO fraud_holds (decision_id, scope, customer_id, created_at) VALUES ($1, 'purchase', $2, $3)`,
				dec.ID, c.CustomerID, now); err != nil {
				return fmt.Errorf("block purchase: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fraud_cases SET status = 'closed', open_key = NULL, closed_at = $1, updated_at = $1 WHERE id = $2`,
			now, c.ID); err != nil {
			return fmt.Errorf("close case: %w", err)
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: "fraud.decided", SubjectType: "fraud_case", SubjectID: strconv.FormatInt(c.ID, 10),
			Detail: decisionDetail(dec) + "; reason: " + why}.By(audit.Staff(req.StaffID).From(req.Net))); err != nil {
			return err
		}
		if req.Action.affects() {
			return s.tell(ctx, tx, c, &dec, "decision", now)
		}
		return nil
	})
	return dec, err
}

// check refuses a decision the case does not allow; q is the database or
// the decision's transaction.
func (s Service) check(ctx context.Context, q db.Querier, req DecideRequest) (Case, error) {
	d, err := Load(ctx, q, req.CaseID)
	if err != nil {
		return Case{}, err
	}
	var used int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM fraud_decisions WHERE form_token = $1`, req.Token).Scan(&used); err != nil {
		return Case{}, fmt.Errorf("check decision: %w", err)
	}
	if used > 0 {
		return Case{}, ErrDuplicate
	}
	if d.Status == Closed {
		return Case{}, ErrClosed
	}
	switch req.Action {
	case Refund:
		if !hasOrder(d.Orders, req.OrderID) {
			return Case{}, ErrTarget
		}
	case SuspendLicense, RevokeAccess:
		if !hasLicense(d.Licenses, req.LicenseID) {
			return Case{}, ErrTarget
		}
	case BlockPurchase:
		if d.CustomerID == 0 {
			return Case{}, ErrNoPerson
		}
	}
	if req.Action != Refund && req.OrderID != 0 || req.Action != SuspendLicense && req.Action != RevokeAccess && req.LicenseID != 0 {
		return Case{}, ErrTarget // a forged form: a target the action does not take
	}
	if d.CustomerID != 0 {
		ch, err := privacy.LoadChoices(ctx, q, d.CustomerID)
		if err != nil {
			return Case{}, err
		}
		if _, objected := ch.Objections[Purpose]; objected && !req.Weighed {
			return Case{}, ErrObjection
		}
	}
	return d.Case, nil
}

// Purpose is the inventory purpose of fraud review.
const Purpose = "fraud"

func hasOrder(os []OrderRef, id int64) bool {
	for _, o := range os {
		if o.ID == id && id != 0 {
			return true
		}
	}
	return false
}

func hasLicense(ls []LicenseRef, id int64) bool {
	for _, l := range ls {
		if l.ID == id && id != 0 {
			return true
		}
	}
	return false
}

func decisionDetail(d Decision) string {
	out := string(d.Action)
	if d.OrderID != 0 {
		out += " order " + strconv.FormatInt(d.OrderID, 10)
	}
	if d.LicenseID != 0 {
		out += " license " + strconv.FormatInt(d.LicenseID, 10)
	}
	if d.ObjectionSeen {
		out += " (the customer's objection weighed)"
	}
	return out
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\r' || i >= 200 {
			return s[:i]
		}
	}
	return s
}

// ReverseRequest takes a decision back.
type ReverseRequest struct {
	DecisionID int64
	Reason     string
	StaffID    int64
	Net        string
}

// Reverse takes a decision back, with who and why: a suspended license is
// reinstated, a hold lifted; a refund cannot take the money back, so its
// reversal records that the decision was withdrawn and the customer keeps
// the refund. The case opens again unless the subject has a newer open
// case, which then carries on. The customer is told when the decision
// had affected them. A reversed decision cannot be reversed again.
func (s Service) Reverse(ctx context.Context, req ReverseRequest, now time.Time) (Decision, error) {
	now = now.UTC()
	why, err := cleanReason(req.Reason)
	if err != nil {
		return Decision{}, err
	}
	var dec Decision
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var caseID int64
		if err := tx.QueryRowContext(ctx, `SELECT case_id FROM fraud_decisions WHERE id = $1`, req.DecisionID).Scan(&caseID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return refuse.New(refuse.NotFound, "fraud_decision_not_found", "There is no such decision.")
			}
			return fmt.Errorf("reverse decision: %w", err)
		}
		c, err := lockCase(ctx, tx, s.DB.Dialect, caseID)
		if err != nil {
			return err
		}
		if dec, err = scanDecision(tx.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM fraud_decisions WHERE id = $1`, req.DecisionID)); err != nil {
			return err
		}
		if dec.Reversed() {
			return ErrReversed
		}
		note := ""
		switch dec.Action {
		case SuspendLicense:
			_, err := licensing.ReinstateIn(ctx, tx, s.DB.Dialect, req.StaffID, dec.LicenseID,
				"fraud review case "+strconv.FormatInt(c.ID, 10)+", decision reversed: "+why, now)
			switch {
			case errors.Is(err, licensing.ErrState):
				note = "; the license was not suspended any more"
			case err != nil:
				return err
			}
		case RevokeAccess, BlockPurchase:
			if _, err := tx.ExecContext(ctx, `UPDATE fraud_holds SET lifted_at = $1 WHERE decision_id = $2 AND lifted_at IS NULL`, now, dec.ID); err != nil {
				return fmt.Errorf("lift hold: %w", err)
			}
		case Refund:
			note = "; the refund stays made"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fraud_decisions SET reversed_at = $1, reversed_by = $2, reverse_reason = $3 WHERE id = $4`,
			now, req.StaffID, why, dec.ID); err != nil {
			return fmt.Errorf("reverse decision: %w", err)
		}
		dec.ReversedAt, dec.ReversedBy, dec.ReverseReason = now, req.StaffID, why
		// Open the case again for a new decision, unless a newer case
		// about the subject is open (signals that came after).
		if c.Status == Closed {
			var newer int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM fraud_cases WHERE open_key = $1`, c.SubjectKey).Scan(&newer); err != nil {
				return fmt.Errorf("reverse decision: %w", err)
			}
			if newer == 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE fraud_cases SET status = 'open', open_key = subject_key, closed_at = NULL, contested_at = NULL, updated_at = $1 WHERE id = $2`,
					now, c.ID); err != nil {
					return fmt.Errorf("reopen case: %w", err)
				}
			} else {
				note += "; the case stays closed: a newer case about the same subject is open"
			}
		}
		if _, err := audit.Append(ctx, tx, audit.Entry{At: now, Action: "fraud.reversed", SubjectType: "fraud_case", SubjectID: strconv.FormatInt(c.ID, 10),
			Detail: "decision " + strconv.FormatInt(dec.ID, 10) + " (" + decisionDetail(dec) + ") reversed" + note + "; reason: " + why}.
			By(audit.Staff(req.StaffID).From(req.Net))); err != nil {
			return err
		}
		if dec.Action.affects() {
			return s.tell(ctx, tx, c, &dec, "reversal", now)
		}
		return nil
	})
	return dec, err
}

// DecisionMail is the data of the mail "fraud_decision": a decision that
// affects the customer, or its reversal, and how to contest it.
type DecisionMail struct {
	SiteName  string
	Case      int64
	Reversal  bool
	What      string // the action in words
	Reason    string
	Target    string // the order's number or the license's ID, if any
	AnswerURL string // their case page, where they can reply
}

// tell queues the mail that tells the customer of a decision (what
// "decision" or "reversal") and records what became of it on the
// decision. The mail's purpose is "legal": telling a person of a decision
// that affects them, and how to contest it, is owed to them whatever they
// chose, so it goes as the other mail the law requires does, also under a
// restriction of processing (privacy.Choices.Permits). Should the outbox
// still refuse it, the decision records that the customer was not told.
func (s Service) tell(ctx context.Context, tx *sql.Tx, c Case, dec *Decision, what string, now time.Time) error {
	note := ""
	var outbox int64
	switch {
	case c.CustomerID == 0 || Erased(c.CustomerEmail):
		note = "customer not told: the case names no person"
	default:
		target := ""
		if dec.OrderID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT number FROM orders WHERE id = $1`, dec.OrderID).Scan(&target); err != nil {
				return fmt.Errorf("tell customer: %w", err)
			}
			target = "order " + target
		}
		if dec.LicenseID != 0 {
			if err := tx.QueryRowContext(ctx, `SELECT lic FROM licenses WHERE id = $1`, dec.LicenseID).Scan(&target); err != nil {
				return fmt.Errorf("tell customer: %w", err)
			}
			target = "license " + target
		}
		m, err := mail.Compose("fraud_decision", c.CustomerEmail, DecisionMail{SiteName: s.SiteName, Case: c.ID, Reversal: what == "reversal",
			What: dec.Action.Describe(), Reason: map[bool]string{false: dec.Reason, true: dec.ReverseReason}[what == "reversal"],
			Target: target, AnswerURL: s.BaseURL + AnswerPath(c.ID)})
		if err != nil {
			return err
		}
		m.CustomerID, m.Purpose = c.CustomerID, "legal"
		m.DedupKey = fmt.Sprintf("fraud-%s:%d", what, dec.ID)
		outbox, err = mail.Enqueue(ctx, tx, m, now)
		switch {
		case errors.Is(err, mail.ErrNotPermitted):
			note, outbox = "customer not told by mail: their processing is restricted; tell them another way", 0
		case err != nil:
			return err
		default:
			note = "customer told by mail of the " + what
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE fraud_decisions SET notice_outbox_id = COALESCE($1, notice_outbox_id), notice_note = $2 WHERE id = $3`,
		nullID(outbox), note, dec.ID); err != nil {
		return fmt.Errorf("tell customer: %w", err)
	}
	if outbox != 0 {
		dec.NoticeOutbox = outbox
	}
	dec.NoticeNote = note
	return nil
}

// AnswerPath is the customer's page of case id in their account.
func AnswerPath(id int64) string { return "/account/reviews/" + strconv.FormatInt(id, 10) }
