package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
)

// A refund returns a paid order's money, in full or for chosen lines (and
// quantities of them), whatever the provider: through the processor when
// it is a payments.Refunder, else recorded as returned outside Storekeep.
// Amounts come from the stored lines (net and tax as the order was
// placed), never from the request. Each refund is a row of refunds with
// the lines it returned (refund_lines) and issues a credit note of its own
// in the gapless sequence; it suspends the licenses of the lines it
// refunded completely, moves the order to refunded once nothing is left
// (otherwise the order stays paid and is "partly refunded"), and is
// audited, all in one transaction.
//
// Through a processor the refund is reserved first (state pending, in a
// transaction of its own), so that no second refund can return the same
// lines while the processor is asked; the processor's answer completes it,
// or its failure removes the reservation and nothing is changed.

// RefundState is where a refund stands.
type RefundState string

// The refund states.
const (
	RefundPending RefundState = "pending" // the processor is being asked
	RefundDone    RefundState = "done"    // the money went back; the credit note is issued
)

// Refund is one refund of an order.
type Refund struct {
	ID      int64
	OrderID int64
	State   RefundState
	// CreditNote is the credit note the refund issued (zero while
	// pending). Its total is minus GrossMinor.
	CreditNote Invoice
	Currency   string
	// NetMinor, TaxMinor and GrossMinor are the amounts returned. They
	// are the sum of Lines, except for a refund of money with no lines
	// (made in the processor's dashboard for an amount) and for a refund
	// of everything left when the order's total differs from its lines'
	// (tax the processor added, or an earlier refund of an amount only).
	NetMinor, TaxMinor, GrossMinor int64
	Provider                       string
	// ProviderRef is the processor's refund (Stripe's re_...); "" for a
	// refund recorded by hand.
	ProviderRef string
	Reason      string
	// Cause says who refunded, as order events do: "staff:3",
	// "stripe:evt_...".
	Cause     string
	CreatedAt time.Time
	Lines     []RefundLine
}

// Gross formats the amount returned.
func (r Refund) Gross() string { return catalog.FormatMoney(r.GrossMinor, r.Currency) }

// RefundLine is what a refund returned of one order line.
type RefundLine struct {
	OrderLineID int64
	// Description and TaxRateBP are the order line's, for documents.
	Description                    string
	TaxRateBP                      int
	Quantity                       int
	NetMinor, TaxMinor, GrossMinor int64
}

// LineRefund chooses a line to refund and how many of it.
type LineRefund struct {
	LineID int64
	// Quantity is how many to refund; 0 means all that is left.
	Quantity int
}

// RefundRequest says what to refund.
type RefundRequest struct {
	OrderID int64
	// Lines are the lines to refund; none means everything that is left.
	Lines []LineRefund
	// Reason says why, in a line (required): it is on the refund, in the
	// order's history and in the audit log.
	Reason string
	// By is who refunds, for the audit log and the order's history.
	By audit.Actor
}

// Refusals of refunds.
var (
	ErrRefundReason = refuse.Field("reason", "Say in a line why the money is returned.")
	ErrUnknownLine  = refuse.New(refuse.Invalid, "refund_unknown_line", "The order has no such line; choose from the lines listed.")
	ErrLineRefunded = refuse.New(refuse.Conflict, "refund_line_refunded", "This line is refunded already.")
	ErrRefundTooBig = refuse.New(refuse.Invalid, "refund_too_large", "This is more than is left to refund.")
	ErrNothingLeft  = refuse.New(refuse.Conflict, "refund_nothing_left", "Nothing of this order is left to refund.")
	ErrRefundBusy   = refuse.New(refuse.Conflict, "refund_underway",
		"A refund of this order is being made at the payment processor. Reload the page in a minute.")
	// ErrRefundNotMade wraps the processor's error: nothing was changed.
	ErrRefundNotMade = refuse.New(refuse.Conflict, "refund_not_made",
		"The payment processor did not make the refund, so nothing was changed. Try again later, or refund in the processor's dashboard (its event then records the refund here).")
)

// RefundableLine is an order line with what is left of it to refund.
type RefundableLine struct {
	Line
	RefundedQuantity, LeftQuantity int
	// LeftNetMinor and LeftTaxMinor are what refunding all that is left
	// of the line returns.
	LeftNetMinor, LeftTaxMinor int64
}

// LeftGross is what refunding all that is left of the line returns.
func (l RefundableLine) LeftGross(currency string) string {
	return catalog.FormatMoney(l.LeftNetMinor+l.LeftTaxMinor, currency)
}

// RefundStatus is what an order has refunded and what is left, for the
// console and documents.
type RefundStatus struct {
	Order   Order
	Lines   []RefundableLine
	Refunds []Refund
	// RefundedMinor counts pending refunds too; LeftMinor is the order's
	// total less it.
	RefundedMinor, LeftMinor int64
	// Underway: a refund is being made at the processor.
	Underway bool
}

// PartlyRefunded reports an order of which some money went back and some
// is left.
func (s RefundStatus) PartlyRefunded() bool { return s.RefundedMinor > 0 && s.LeftMinor > 0 }

// Left formats what is left to refund.
func (s RefundStatus) Left() string { return catalog.FormatMoney(s.LeftMinor, s.Order.Currency) }

// Refunded formats what was refunded.
func (s RefundStatus) Refunded() string {
	return catalog.FormatMoney(s.RefundedMinor, s.Order.Currency)
}

// RefundStatusOf returns the order's refunds and what is left of each line.
func RefundStatusOf(ctx context.Context, q db.Querier, orderID int64) (RefundStatus, error) {
	o, err := ByID(ctx, q, orderID)
	if err != nil {
		return RefundStatus{}, err
	}
	return refundStatus(ctx, q, o)
}

func refundStatus(ctx context.Context, q db.Querier, o Order) (RefundStatus, error) {
	rs, err := RefundsOf(ctx, q, o.ID)
	if err != nil {
		return RefundStatus{}, err
	}
	st := RefundStatus{Order: o, Refunds: rs}
	done := map[int64]int{}
	for _, r := range rs {
		st.RefundedMinor += r.GrossMinor
		st.Underway = st.Underway || r.State == RefundPending
		for _, l := range r.Lines {
			done[l.OrderLineID] += l.Quantity
		}
	}
	st.LeftMinor = o.TotalMinor - st.RefundedMinor
	for _, l := range o.Lines {
		rl := RefundableLine{Line: l, RefundedQuantity: done[l.ID]}
		rl.LeftQuantity = l.Quantity - rl.RefundedQuantity
		rl.LeftNetMinor = share(l.NetMinor, l.Quantity, rl.RefundedQuantity, rl.LeftQuantity)
		rl.LeftTaxMinor = share(l.TaxMinor, l.Quantity, rl.RefundedQuantity, rl.LeftQuantity)
		st.Lines = append(st.Lines, rl)
	}
	return st, nil
}

// share is the part of a line's amount that refunding n more of its qty
// returns after done were refunded: the amounts of all partial refunds of
// a line add up to exactly its amount.
func share(amount int64, qty, done, n int) int64 {
	if qty <= 0 {
		return 0
	}
	return amount*int64(done+n)/int64(qty) - amount*int64(done)/int64(qty)
}

// plan is a refund worked out from the stored lines, before it is stored.
type plan struct {
	lines           []RefundLine
	net, tax, gross int64
	fullLines       []int64 // lines nothing is left of afterwards
	everything      bool    // nothing of the order is left afterwards
	currency        string
}

// planRefund works out what req refunds of the order in st, or refuses.
func planRefund(st RefundStatus, req []LineRefund) (plan, error) {
	p := plan{currency: st.Order.Currency}
	if st.LeftMinor <= 0 {
		return p, ErrNothingLeft
	}
	byID := map[int64]RefundableLine{}
	for _, l := range st.Lines {
		byID[l.ID] = l
	}
	want := map[int64]int{}
	var order []int64
	if len(req) == 0 {
		for _, l := range st.Lines {
			if l.LeftQuantity > 0 {
				want[l.ID] = l.LeftQuantity
				order = append(order, l.ID)
			}
		}
	}
	for _, r := range req {
		l, ok := byID[r.LineID]
		switch {
		case !ok:
			return p, ErrUnknownLine
		case r.Quantity < 0:
			return p, ErrRefundTooBig.With("Choose how many to refund: a number from 1 to what is left.")
		case l.LeftQuantity == 0:
			return p, ErrLineRefunded.Withf("%s is refunded already.", l.Description)
		}
		if _, seen := want[l.ID]; !seen {
			order = append(order, l.ID)
		}
		q := r.Quantity
		if q == 0 {
			q = l.LeftQuantity
		}
		want[l.ID] += q
		if want[l.ID] > l.LeftQuantity {
			return p, ErrRefundTooBig.Withf("Only %d of %s %s left to refund.", l.LeftQuantity, l.Description, isAre(l.LeftQuantity))
		}
	}
	for _, id := range order {
		l, q := byID[id], want[id]
		rl := RefundLine{OrderLineID: id, Description: l.Description, TaxRateBP: l.TaxRateBP, Quantity: q,
			NetMinor: share(l.NetMinor, l.Quantity, l.RefundedQuantity, q), TaxMinor: share(l.TaxMinor, l.Quantity, l.RefundedQuantity, q)}
		rl.GrossMinor = rl.NetMinor + rl.TaxMinor
		p.lines = append(p.lines, rl)
		p.net, p.tax, p.gross = p.net+rl.NetMinor, p.tax+rl.TaxMinor, p.gross+rl.GrossMinor
		if q == l.LeftQuantity {
			p.fullLines = append(p.fullLines, id)
		}
	}
	if len(req) == 0 && p.gross != st.LeftMinor {
		// Everything left, where the order's total and its lines differ
		// (an earlier refund of an amount without lines, tax a processor
		// added): the money left is returned, with what is left of the
		// order's net and tax when they add up to it (so that the credit
		// notes of the order add up to its invoice exactly), else split as
		// the lines split it. The lines listed share the refund's amounts,
		// so that they add up to it on the credit note and in reports.
		leftNet, leftTax := st.Order.SubtotalMinor, st.Order.TaxMinor
		for _, r := range st.Refunds {
			leftNet, leftTax = leftNet-r.NetMinor, leftTax-r.TaxMinor
		}
		switch {
		case leftNet >= 0 && leftTax >= 0 && leftNet+leftTax == st.LeftMinor:
			p.net = leftNet
		case p.gross > 0:
			p.net = st.LeftMinor * p.net / p.gross
		default:
			p.net = 0
		}
		p.gross = st.LeftMinor
		p.tax = p.gross - p.net
		spreadOver(p.lines, p.net, p.tax)
	}
	switch {
	case p.gross > st.LeftMinor:
		return p, ErrRefundTooBig.Withf("The lines chosen come to %s, but only %s of this order %s left to refund.",
			catalog.FormatMoney(p.gross, p.currency), st.Left(), "is")
	case p.gross <= 0:
		return p, ErrNothingLeft.With("The lines chosen cost nothing, so there is nothing to refund.")
	}
	p.everything = p.gross == st.LeftMinor
	return p, nil
}

// spreadOver shares net and tax among lines in proportion to the lines'
// own amounts (the last line takes what rounding leaves), so that the
// lines add up to them exactly.
func spreadOver(lines []RefundLine, net, tax int64) {
	if len(lines) == 0 {
		return
	}
	var sumNet, sumTax int64
	for _, l := range lines {
		sumNet, sumTax = sumNet+l.NetMinor, sumTax+l.TaxMinor
	}
	leftNet, leftTax := net, tax
	for i := range lines {
		l := &lines[i]
		if i == len(lines)-1 {
			l.NetMinor, l.TaxMinor = leftNet, leftTax
		} else {
			l.NetMinor, l.TaxMinor = part(net, l.NetMinor, sumNet), part(tax, l.TaxMinor, sumTax)
			leftNet, leftTax = leftNet-l.NetMinor, leftTax-l.TaxMinor
		}
		l.GrossMinor = l.NetMinor + l.TaxMinor
	}
}

// part is amount*n/of, 0 when of is 0.
func part(amount, n, of int64) int64 {
	if of == 0 {
		return 0
	}
	return amount * n / of
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// planAmount is a refund of an amount made at the processor (its
// dashboard), which names no lines: the amount left when it is all of
// it, else the amount alone, split into net and tax as what is left is.
func planAmount(st RefundStatus, amount int64) (plan, error) {
	if amount >= st.LeftMinor {
		return planRefund(st, nil)
	}
	p := plan{currency: st.Order.Currency, gross: amount}
	var net, gross int64
	for _, l := range st.Lines {
		net += l.LeftNetMinor
		gross += l.LeftNetMinor + l.LeftTaxMinor
	}
	if gross > 0 {
		p.net = amount * net / gross
	}
	p.tax = amount - p.net
	return p, nil
}

// RefundOrder refunds what req says of a paid order (see the comment at
// the top of this file) and returns the refund, done. A refusal changes
// nothing; so does a processor that does not make the refund
// (ErrRefundNotMade, wrapping its error).
func (s Shop) RefundOrder(ctx context.Context, req RefundRequest, now time.Time) (Refund, error) {
	reason, err := input.Line("reason", "The reason", 300, req.Reason)
	if err != nil {
		return Refund{}, err
	}
	if reason == "" {
		return Refund{}, ErrRefundReason
	}
	o, err := ByID(ctx, s.DB, req.OrderID)
	if err != nil {
		return Refund{}, err
	}
	cause := causeOf(req.By)
	rf, viaProcessor := s.provider(o.Provider).(payments.Refunder)
	if viaProcessor && o.ProcessorPayment == "" {
		return Refund{}, ErrNotPaid.With("The processor's payment of this order is unknown, so it cannot be refunded through the processor. Refund it in the processor's dashboard: its event records the refund here.")
	}
	var r Refund
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var p plan
		if o, p, err = s.lockAndPlan(ctx, tx, req.OrderID, req.Lines); err != nil {
			return err
		}
		if r, err = insertRefund(ctx, tx, o, p, "", reason, cause, now); err != nil {
			return err
		}
		if viaProcessor {
			return nil // reserved: the processor is asked outside the transaction
		}
		return s.completeRefund(ctx, tx, &o, &r, p, req.By, now)
	})
	if err != nil || !viaProcessor {
		return r, err
	}
	ref, perr := rf.Refund(ctx, payments.RefundRequest{PaymentRef: o.ProcessorPayment, AmountMinor: r.GrossMinor, Currency: o.Currency,
		Key: refundKey(o, r.ID), OrderNumber: o.Number})
	if perr != nil {
		if err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM refunds WHERE id = $1 AND state = 'pending'`, r.ID)
			return err
		}); err != nil {
			return Refund{}, fmt.Errorf("refund order %s: the processor failed (%v) and the reservation could not be removed: %w", o.Number, perr, err)
		}
		refusal := ErrRefundNotMade
		if errors.Is(perr, payments.ErrAlreadyRefunded) {
			refusal = ErrRefundNotMade.With("The payment processor has nothing left of this payment to refund (it was refunded in its dashboard?), so nothing was changed here. Its refund event records that refund.")
		}
		return Refund{}, fmt.Errorf("%w (order %s: %w)", refusal, o.Number, perr)
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if o, err = lockOrder(ctx, tx, s.DB.Dialect, "id = $1", req.OrderID); err != nil {
			return err
		}
		st, err := refundStatus(ctx, tx, o)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(st.Refunds, func(d Refund) bool { return d.ID == r.ID })
		if i < 0 {
			return fmt.Errorf("refund order %s: read the reservation: %w", o.Number, sql.ErrNoRows)
		}
		if st.Refunds[i].State == RefundDone {
			// The processor's refund event arrived first and completed
			// the reservation (applyRefunded): nothing more to record.
			r = st.Refunds[i]
			return nil
		}
		r.ProviderRef = ref
		return s.completeReservation(ctx, tx, &o, st, &r, req.By, now)
	})
	return r, err
}

// completeReservation completes the pending refund r of the locked order
// o, whose refund status is st: the processor made it. The reservation is
// counted in st already, so the plan of its own lines is what it was
// when it was made.
func (s Shop) completeReservation(ctx context.Context, tx *sql.Tx, o *Order, st RefundStatus, r *Refund, by audit.Actor, now time.Time) error {
	p := plan{currency: o.Currency, lines: r.Lines, net: r.NetMinor, tax: r.TaxMinor, gross: r.GrossMinor, everything: st.LeftMinor == 0}
	for _, l := range st.Lines {
		for _, rl := range r.Lines {
			if rl.OrderLineID == l.ID && l.LeftQuantity == 0 {
				p.fullLines = append(p.fullLines, l.ID)
			}
		}
	}
	return s.completeRefund(ctx, tx, o, r, p, by, now)
}

// completeReserved completes, from the processor's refund event, the
// refunds reserved here that the processor made but that were not
// recorded as made: the event arrived before the refunding request
// recorded the answer, or the process stopped in between. A reservation
// is made when the event lists it (by the idempotency key we sent), or,
// for an event that lists no refunds, when the amount the processor says
// it refunded covers everything counted here, reservations included. It
// returns how many it completed.
func (s Shop) completeReserved(ctx context.Context, tx *sql.Tx, o *Order, st RefundStatus, ev payments.Event, now time.Time) (int, error) {
	n := 0
	for _, r := range st.Refunds {
		if r.State != RefundPending {
			continue
		}
		key, ref, made := refundKey(*o, r.ID), "", false
		for _, er := range ev.Refunds {
			if er.Key == key {
				ref, made = er.Ref, true
			}
		}
		if len(ev.Refunds) == 0 && ev.AmountMinor > 0 && ev.AmountMinor >= st.RefundedMinor {
			made = true
		}
		if !made {
			continue
		}
		r.ProviderRef = ref
		if err := s.completeReservation(ctx, tx, o, st, &r, audit.System(), now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// lockAndPlan locks the paid order and plans the refund of lines.
func (s Shop) lockAndPlan(ctx context.Context, tx *sql.Tx, orderID int64, lines []LineRefund) (Order, plan, error) {
	o, err := lockOrder(ctx, tx, s.DB.Dialect, "id = $1", orderID)
	if err != nil {
		return o, plan{}, err
	}
	p, err := planPaid(ctx, tx, o, lines)
	return o, p, err
}

// planPaid plans the refund of lines of the paid order o, or refuses: an
// order not paid, a refund underway, or what planRefund refuses.
func planPaid(ctx context.Context, q db.Querier, o Order, lines []LineRefund) (plan, error) {
	if o.Status != Paid {
		return plan{}, ErrNotPaid.Withf("The order is %s; only a paid order can be refunded.", o.Status)
	}
	st, err := refundStatus(ctx, q, o)
	if err != nil {
		return plan{}, err
	}
	if st.Underway {
		return plan{}, ErrRefundBusy
	}
	return planRefund(st, lines)
}

// refundKey is the idempotency key the processor is asked with for the
// refund id of o, and by which its refund event names the refund.
func refundKey(o Order, id int64) string { return o.Number + "-" + strconv.FormatInt(id, 10) }

func causeOf(a audit.Actor) string {
	if a.Type == "" {
		return audit.ActorSystem
	}
	if a.ID == 0 {
		return a.Type
	}
	return a.Type + ":" + strconv.FormatInt(a.ID, 10)
}

// insertRefund stores the planned refund and its lines, pending until
// completeRefund issues its credit note.
func insertRefund(ctx context.Context, tx *sql.Tx, o Order, p plan, providerRef, reason, cause string, now time.Time) (Refund, error) {
	r := Refund{OrderID: o.ID, State: RefundPending, Currency: o.Currency, NetMinor: p.net, TaxMinor: p.tax, GrossMinor: p.gross,
		Provider: o.Provider, ProviderRef: providerRef, Reason: reason, Cause: cause, CreatedAt: now, Lines: p.lines}
	err := tx.QueryRowContext(ctx, `INSERT INTO refunds (order_id, state, currency, net_minor, tax_minor, gross_minor, provider, provider_ref, reason, cause, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
		o.ID, string(RefundPending), o.Currency, p.net, p.tax, p.gross, o.Provider, providerRef, reason, cause, now).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("record refund: %w", err)
	}
	for _, l := range p.lines {
		if _, err := tx.ExecContext(ctx, `INSERT INTO refund_lines (refund_id, order_line_id, quantity, net_minor, tax_minor, gross_minor)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, l.OrderLineID, l.Quantity, l.NetMinor, l.TaxMinor, l.GrossMinor); err != nil {
			return r, fmt.Errorf("record refund line: %w", err)
		}
	}
	return r, nil
}

// completeRefund finishes the stored refund r of the locked order o: its
// credit note, the licenses of the lines nothing is left of, the order's
// state and history, and the audit entry, in tx.
func (s Shop) completeRefund(ctx context.Context, tx *sql.Tx, o *Order, r *Refund, p plan, by audit.Actor, now time.Time) error {
	cn, err := issueDocument(ctx, tx, *o, KindCreditNote, -r.GrossMinor, "", now)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE refunds SET state = 'done', credit_note_id = $1, provider_ref = $2 WHERE id = $3 AND state = 'pending'`, cn.ID, r.ProviderRef, r.ID)
	if err != nil {
		if db.IsUniqueViolation(err) {
			return ErrRefundNotMade.With("The processor's refund is recorded already.")
		}
		return fmt.Errorf("complete refund: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("complete refund %d: it is gone or completed already", r.ID)
	}
	r.State, r.CreditNote = RefundDone, cn
	what := fmt.Sprintf("refund of %s (credit note %s): %s", r.Gross(), cn.Number, r.Reason)
	if p.everything {
		if err := move(ctx, tx, o, Refunded, r.Cause, what, now); err != nil {
			return err
		}
		if err := s.licensesFollow(ctx, tx, o, r, now); err != nil {
			return err
		}
	} else {
		if err := recordEvent(ctx, tx, o.ID, o.Status, o.Status, r.Cause, "partly refunded: "+what, now); err != nil {
			return err
		}
		if s.Licenses != nil && len(p.fullLines) > 0 && r.Reason != disputeLost {
			if err := s.Licenses.SuspendForLines(ctx, tx, *o, p.fullLines, now); err != nil {
				return err
			}
		}
	}
	var parts []string
	for _, l := range r.Lines {
		parts = append(parts, fmt.Sprintf("%d x line %d", l.Quantity, l.OrderLineID))
	}
	detail := fmt.Sprintf("refund %d, %s, credit note %s", r.ID, r.Gross(), cn.Number)
	if len(parts) > 0 {
		detail += ", " + strings.Join(parts, ", ")
	}
	if r.ProviderRef != "" {
		detail += ", " + r.Provider + " " + r.ProviderRef
	}
	detail += ": " + r.Reason
	_, err = audit.Append(ctx, tx, audit.Entry{At: now, Action: "refund.issued", SubjectType: "order", SubjectID: o.Number, Detail: detail}.By(by))
	return err
}

// disputeLost is the reason of the refund a lost dispute records.
const disputeLost = "dispute lost"

// applyRefunded records what the processor says it refunded of the
// order's payment (PaymentRefunded: refunded is the amount so far), and
// what a lost dispute took back (everything left), in tx. Refunds made
// through Storekeep are recorded (or reserved) before the processor is
// asked, so they are counted already: by their processor IDs when the
// event lists the refunds, else by the amount.
func (s Shop) applyRefunded(ctx context.Context, tx *sql.Tx, o *Order, ev payments.Event, now time.Time) (Outcome, string, error) {
	st, err := refundStatus(ctx, tx, *o)
	if err != nil {
		return "", "", err
	}
	completed := 0
	if ev.Type == payments.PaymentRefunded && st.Underway {
		if completed, err = s.completeReserved(ctx, tx, o, st, ev, now); err != nil {
			return "", "", err
		}
		if st, err = refundStatus(ctx, tx, *o); err != nil {
			return "", "", err
		}
	}
	reason := "refunded at " + ev.Provider
	var amounts []payments.RefundRef
	switch {
	case ev.Type == payments.DisputeLost:
		// The bank took the money back: recorded as a refund with its
		// credit note (bookkeeping), the licenses left for a person to
		// decide on (licensesFollow).
		if _, err := s.signal(ctx, tx, o, ev, now); err != nil {
			return "", "", err
		}
		reason = disputeLost
		amounts = []payments.RefundRef{{AmountMinor: st.LeftMinor}}
	case len(ev.Refunds) > 0:
		known := map[string]bool{}
		for _, r := range st.Refunds {
			known[r.ProviderRef] = r.ProviderRef != ""
		}
		for _, r := range ev.Refunds {
			if r.Key == "" && !known[r.Ref] {
				amounts = append(amounts, r)
			}
		}
	case ev.AmountMinor == 0:
		// An event that names no amount says the payment is refunded:
		// whatever is left.
		amounts = []payments.RefundRef{{AmountMinor: st.LeftMinor}}
	case ev.AmountMinor > st.RefundedMinor:
		amounts = []payments.RefundRef{{AmountMinor: ev.AmountMinor - st.RefundedMinor}}
	}
	sort.SliceStable(amounts, func(i, j int) bool { return amounts[i].Ref < amounts[j].Ref })
	n := 0
	for _, a := range amounts {
		if st.LeftMinor <= 0 || a.AmountMinor <= 0 {
			break
		}
		if ev.Type == payments.PaymentRefunded && ev.AmountMinor > 0 && st.RefundedMinor >= ev.AmountMinor {
			break // all the processor says it refunded is recorded
		}
		p, err := planAmount(st, a.AmountMinor)
		if err != nil {
			return "", "", err
		}
		r, err := insertRefund(ctx, tx, *o, p, a.Ref, reason, ev.Provider+":"+ev.ID, now)
		if err != nil {
			return "", "", err
		}
		if err := s.completeRefund(ctx, tx, o, &r, p, audit.System(), now); err != nil {
			return "", "", err
		}
		n++
		if st, err = refundStatus(ctx, tx, *o); err != nil {
			return "", "", err
		}
	}
	if n+completed == 0 {
		return Ignored, "refund recorded already", nil
	}
	return Applied, "", nil
}

const refundColumns = `r.id, r.order_id, r.state, COALESCE(r.credit_note_id, 0), r.currency, r.net_minor, r.tax_minor, r.gross_minor,
	r.provider, r.provider_ref, r.reason, r.cause, r.created_at`

// RefundsOf lists an order's refunds, oldest first, each with its lines
// (description and rate from the order line) and its credit note: what a
// credit note document shows.
func RefundsOf(ctx context.Context, q db.Querier, orderID int64) ([]Refund, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+refundColumns+` FROM refunds r WHERE r.order_id = $1 ORDER BY r.id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	var out []Refund
	var notes []int64
	for rows.Next() {
		var r Refund
		var cn int64
		if err := rows.Scan(&r.ID, &r.OrderID, &r.State, &cn, &r.Currency, &r.NetMinor, &r.TaxMinor, &r.GrossMinor,
			&r.Provider, &r.ProviderRef, &r.Reason, &r.Cause, &r.CreatedAt); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("list refunds: %w", err)
		}
		out = append(out, r)
		notes = append(notes, cn)
	}
	_ = rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	// The credit notes are the order's documents: read with one query.
	invs, err := Invoices(ctx, q, orderID)
	if err != nil {
		return nil, err
	}
	docs := map[int64]Invoice{}
	for _, inv := range invs {
		docs[inv.ID] = inv
	}
	byID := map[int64]*Refund{}
	for i := range out {
		byID[out[i].ID] = &out[i]
		if notes[i] != 0 {
			cn, ok := docs[notes[i]]
			if !ok {
				return nil, ErrNotFound
			}
			out[i].CreditNote = cn
		}
	}
	lines, err := q.QueryContext(ctx, `SELECT rl.refund_id, rl.order_line_id, l.description, l.tax_rate_bp, rl.quantity, rl.net_minor, rl.tax_minor, rl.gross_minor
		FROM refund_lines rl JOIN order_lines l ON l.id = rl.order_line_id JOIN refunds r ON r.id = rl.refund_id
		WHERE r.order_id = $1 ORDER BY rl.refund_id, rl.order_line_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list refund lines: %w", err)
	}
	defer lines.Close()
	for lines.Next() {
		var id int64
		var l RefundLine
		if err := lines.Scan(&id, &l.OrderLineID, &l.Description, &l.TaxRateBP, &l.Quantity, &l.NetMinor, &l.TaxMinor, &l.GrossMinor); err != nil {
			return nil, fmt.Errorf("list refund lines: %w", err)
		}
		if r := byID[id]; r != nil {
			r.Lines = append(r.Lines, l)
		}
	}
	return out, lines.Err()
}

// RefundOfCreditNote returns the refund that issued the credit note with
// id, with its lines; ErrNotFound for a credit note no refund issued (the
// reversal of an invoice whose order was cancelled unpaid).
func RefundOfCreditNote(ctx context.Context, q db.Querier, creditNoteID int64) (Refund, error) {
	var orderID int64
	err := q.QueryRowContext(ctx, `SELECT order_id FROM refunds WHERE credit_note_id = $1`, creditNoteID).Scan(&orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return Refund{}, ErrNotFound
	}
	if err != nil {
		return Refund{}, fmt.Errorf("refund of credit note: %w", err)
	}
	rs, err := RefundsOf(ctx, q, orderID)
	if err != nil {
		return Refund{}, err
	}
	for _, r := range rs {
		if r.CreditNote.ID == creditNoteID {
			return r, nil
		}
	}
	return Refund{}, ErrNotFound
}

// PreviewRefund works out what RefundOrder would refund of the order for
// lines (none: everything left), without storing anything, for a
// confirmation step; it refuses as RefundOrder does.
func PreviewRefund(ctx context.Context, q db.Querier, orderID int64, lines []LineRefund) (Refund, error) {
	o, err := ByID(ctx, q, orderID)
	if err != nil {
		return Refund{}, err
	}
	p, err := planPaid(ctx, q, o, lines)
	if err != nil {
		return Refund{}, err
	}
	return Refund{OrderID: o.ID, Currency: o.Currency, NetMinor: p.net, TaxMinor: p.tax, GrossMinor: p.gross, Provider: o.Provider, Lines: p.lines}, nil
}
