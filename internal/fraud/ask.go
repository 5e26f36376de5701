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
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Refusals of questions and answers.
var (
	ErrNotPermitted = refuse.New(refuse.Conflict, "fraud_mail_not_permitted", "The customer restricted the processing of their data or objected to fraud checks, so no question was sent. Weigh their objection on the case and decide, or contact them another way.")
	ErrNoQuestion   = refuse.New(refuse.Conflict, "fraud_no_question", "There is nothing waiting for your answer on this review: your answer was received already. To add something, reply to our mail or write to us.")
)

// QuestionMail is the data of the mail "fraud_question".
type QuestionMail struct {
	SiteName  string
	Case      int64
	Question  string
	AnswerURL string
}

// AskRequest asks the case's customer for their view.
type AskRequest struct {
	CaseID   int64
	Question string
	Token    string // the form's one-time token (see DecideRequest)
	StaffID  int64
	Net      string
}

// Ask mails the case's customer a staff member's question, with a link to
// their case page where they answer, signed in. The case waits for the
// answer (status asked). The question goes through the outbox under the
// purpose "fraud": a customer who restricted processing or objected to
// fraud checks is not asked (ErrNotPermitted; nothing changes).
func (s Service) Ask(ctx context.Context, req AskRequest, now time.Time) error {
	now = now.UTC()
	q, err := input.Spec{Field: "question", Label: "The question", Max: 4000, Required: true, Multiline: true,
		Missing: "Write the question the customer is to answer."}.Clean(req.Question)
	if err != nil {
		return err
	}
	if req.Token == "" || len(req.Token) > 100 {
		return ErrNoToken
	}
	return s.DB.Tx(ctx, func(tx *sql.Tx) error {
		c, err := lockCase(ctx, tx, s.DB.Dialect, req.CaseID)
		if err != nil {
			return err
		}
		if c.Status == Closed {
			return ErrClosed
		}
		if c.CustomerID == 0 || Erased(c.CustomerEmail) {
			return ErrNoPerson
		}
		m, err := mail.Compose("fraud_question", c.CustomerEmail, QuestionMail{SiteName: s.SiteName, Case: c.ID, Question: q,
			AnswerURL: s.BaseURL + AnswerPath(c.ID)})
		if err != nil {
			return err
		}
		m.CustomerID, m.Purpose, m.DedupKey = c.CustomerID, Purpose, "fraud-ask:"+req.Token
		outbox, err := mail.Enqueue(ctx, tx, m, now)
		switch {
		case errors.Is(err, mail.ErrNotPermitted):
			return ErrNotPermitted
		case errors.Is(err, mail.ErrDuplicate):
			return ErrDuplicate
		case err != nil:
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fraud_messages (case_id, direction, body, staff_id, outbox_id, created_at)
			VALUES ($1, 'question', $2, $3, $4, $5)`, c.ID, q, req.StaffID, outbox, now); err != nil {
			return fmt.Errorf("record question: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fraud_cases SET status = 'asked', asked_at = $1, updated_at = $1 WHERE id = $2`, now, c.ID); err != nil {
			return fmt.Errorf("record question: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "fraud.asked", SubjectType: "fraud_case", SubjectID: strconv.FormatInt(c.ID, 10),
			Detail: "question mailed to the customer"}.By(audit.Staff(req.StaffID).From(req.Net)))
		return err
	})
}

// CustomerView is what the customer sees of a case about them: what was
// seen (the kinds, in words), what was asked and answered, and the
// decisions with their reasons. Facts stay on the staff side only where
// they would reveal how a pattern is counted; the kinds and the decision
// are theirs to know.
type CustomerView struct {
	Case      Case
	Kinds     []Kind
	Messages  []Message
	Decisions []Decision
}

// Waiting reports whether a question waits for the customer's answer.
func (v CustomerView) Waiting() bool { return v.Case.Status == Asked }

// CanContest reports whether the customer may contest the case's decision
// here: the case is closed with a decision that stands, and they have not
// written since it closed.
func (v CustomerView) CanContest() bool { return v.Case.contestable(v.Decisions) }

func (c Case) contestable(ds []Decision) bool {
	if c.Status != Closed || !c.ContestedAt.IsZero() {
		return false
	}
	for _, d := range ds {
		if !d.Reversed() && d.Action.affects() {
			return true
		}
	}
	return false
}

// Contested reports whether the customer wrote after the case closed: a
// person should look at the decision again.
func (c Case) Contested() bool { return c.Status == Closed && !c.ContestedAt.IsZero() }

// ForCustomer returns case id when it is about customer; ErrNotFound
// otherwise (whether or not it exists).
func ForCustomer(ctx context.Context, q db.Querier, customerID, id int64) (CustomerView, error) {
	d, err := Load(ctx, q, id)
	if errors.Is(err, ErrNotFound) || err == nil && (d.CustomerID != customerID || customerID == 0) {
		return CustomerView{}, ErrNotFound
	}
	if err != nil {
		return CustomerView{}, err
	}
	v := CustomerView{Case: d.Case, Messages: d.Messages, Decisions: d.Decisions}
	seen := map[Kind]bool{}
	for _, s := range d.Signals {
		if !seen[s.Kind] {
			seen[s.Kind] = true
			v.Kinds = append(v.Kinds, s.Kind)
		}
	}
	return v, nil
}

// Answer attaches the customer's answer to their case, once per question:
// the case goes back to the staff (status open). On a closed case whose
// decision affects them, the answer contests the decision, once: the case
// stays closed (the decision stands until a person reverses it) and the
// console shows it as contested. Any other answer is ErrNoQuestion.
func Answer(ctx context.Context, d *db.DB, customerID, id int64, text, net string, now time.Time) error {
	now = now.UTC()
	body, err := input.Spec{Field: "answer", Label: "Your answer", Max: 8000, Required: true, Multiline: true,
		Missing: "Write your answer before sending it."}.Clean(text)
	if err != nil {
		return err
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		c, err := lockCase(ctx, tx, d.Dialect, id)
		if errors.Is(err, ErrNotFound) || err == nil && (c.CustomerID != customerID || customerID == 0) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		action, set := "fraud.answered", "status = 'open', answered_at = $1"
		switch {
		case c.Status == Asked:
		case c.Status == Closed:
			ds, err := decisionsOf(ctx, tx, c.ID)
			if err != nil {
				return err
			}
			if !c.contestable(ds) {
				return ErrNoQuestion
			}
			action, set = "fraud.contested", "contested_at = $1"
		default:
			return ErrNoQuestion
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fraud_messages (case_id, direction, body, created_at) VALUES ($1, 'answer', $2, $3)`,
			c.ID, body, now); err != nil {
			return fmt.Errorf("record answer: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE fraud_cases SET `+set+`, updated_at = $1 WHERE id = $2`, now, c.ID); err != nil {
			return fmt.Errorf("record answer: %w", err)
		}
		_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: action, SubjectType: "fraud_case", SubjectID: strconv.FormatInt(c.ID, 10),
			Detail: "the customer wrote"}.By(audit.Customer(customerID).From(net)))
		return err
	})
}

// OfCustomer lists the cases about a customer, newest first, for their
// account.
func OfCustomer(ctx context.Context, q db.Querier, customerID int64) ([]Case, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+caseColumns+` FROM fraud_cases c LEFT JOIN customers p ON p.id = c.customer_id
		WHERE c.customer_id = $1 ORDER BY c.created_at DESC, c.id DESC LIMIT 100`, customerID)
	if err != nil {
		return nil, fmt.Errorf("list cases of customer: %w", err)
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

// Holds: what a standing decision holds back. Downloads and repositories
// ask AccessHeld; checkout asks PurchaseBlocked.
var (
	ErrAccessHeld      = refuse.New(refuse.Forbidden, "fraud_access_held", "Downloads and repositories of this license are closed after a review of its use. Your account's review page says why and how to contest it.")
	ErrPurchaseBlocked = refuse.New(refuse.Forbidden, "fraud_purchase_blocked", "We cannot take a new order from this account after a review. Your account's review page says why and how to contest it.")
)

// AccessHeld returns ErrAccessHeld when a standing decision closed the
// downloads and repositories of license id.
func AccessHeld(ctx context.Context, q db.Querier, licenseID int64) error {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM fraud_holds WHERE license_id = $1 AND scope = 'access' AND lifted_at IS NULL`, licenseID).Scan(&n); err != nil {
		return fmt.Errorf("check hold: %w", err)
	}
	if n > 0 {
		return ErrAccessHeld
	}
	return nil
}

// PurchaseBlocked returns ErrPurchaseBlocked when a standing decision
// blocked customer id's purchases.
func PurchaseBlocked(ctx context.Context, q db.Querier, customerID int64) error {
	if customerID == 0 {
		return nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM fraud_holds WHERE customer_id = $1 AND scope = 'purchase' AND lifted_at IS NULL`, customerID).Scan(&n); err != nil {
		return fmt.Errorf("check hold: %w", err)
	}
	if n > 0 {
		return ErrPurchaseBlocked
	}
	return nil
}
