package detect

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
)

// Processor turns the payment processor's events about an order into
// signals; orders.Shop.Apply calls it (orders.Signals) in the transaction
// that records the event, after the event's ID was found new, so a
// duplicate delivery raises nothing twice, and a forged one never gets
// here (the webhook's signature check refuses it first).
type Processor struct {
	Raise Raise
	// Thresholds, when set (a test's), are used instead of those in force
	// (LoadThresholds, read in the event's transaction).
	Thresholds Thresholds
}

// ProcessorEvent raises the signal the event carries, if any, and reports
// whether it did. It changes nothing of the order.
func (p Processor) ProcessorEvent(ctx context.Context, tx *sql.Tx, dialect db.Dialect, o orders.Order, ev payments.Event, now time.Time) (bool, error) {
	if p.Raise == nil {
		return false, nil
	}
	if p.Thresholds == (Thresholds{}) && ev.Type == payments.PaymentRisk {
		// Only the risk score has a threshold among the processor's
		// events: the others are read without a query.
		th, err := LoadThresholds(ctx, tx)
		if err != nil {
			return false, err
		}
		p.Thresholds = th
	}
	s, ok := p.signal(o, ev)
	if !ok {
		return false, nil
	}
	s.At = now
	if err := p.Raise(ctx, tx, dialect, s); err != nil {
		return false, err
	}
	return true, nil
}

// signal builds the signal of ev about o; ok is false when the event shows
// nothing to review (a normal risk outcome).
func (p Processor) signal(o orders.Order, ev payments.Event) (fraud.Signal, bool) {
	th := p.Thresholds.WithDefaults()
	s := fraud.Signal{Subject: fraud.Subject{CustomerID: o.CustomerID, OrderID: o.ID}, Source: ev.Provider + ":" + ev.ID}
	amount := func() string { return catalog.FormatMoney(ev.AmountMinor, strings.ToUpper(ev.Currency)) }
	add := func(name, value string) {
		if value != "" {
			s.Facts = append(s.Facts, fraud.Fact{Name: name, Value: value})
		}
	}
	switch ev.Type {
	case payments.PaymentRisk:
		r := ev.Risk
		high := r.Level == payments.RiskElevated || r.Level == payments.RiskHighest
		scored := r.Score > 0 && r.Score >= th.RiskScore
		review := r.Outcome == "manual_review"
		if !high && !scored && !review {
			return s, false
		}
		s.Kind = fraud.ProcessorRisk
		s.Summary = fmt.Sprintf("The processor rated the payment of order %s as %s risk.", o.Number, strings.ReplaceAll(r.Level, "_", " "))
		add("risk level", r.Level)
		if r.Score > 0 {
			add("risk score", strconv.FormatInt(r.Score, 10))
		}
		add("rule", r.Rule)
		add("outcome", r.Outcome)
	case payments.ReviewOpened, payments.ReviewClosed:
		s.Kind = fraud.ProcessorReview
		if ev.Type == payments.ReviewOpened {
			s.Summary = fmt.Sprintf("The processor opened a review of the payment of order %s.", o.Number)
		} else {
			s.Summary = fmt.Sprintf("The processor closed its review of the payment of order %s.", o.Number)
		}
		add("reason", ev.Reason)
	case payments.EarlyFraudWarning:
		s.Kind = fraud.EarlyWarning
		s.Summary = fmt.Sprintf("The card network sent an early fraud warning about the payment of order %s.", o.Number)
		add("fraud type", ev.Reason)
		if ev.Actionable {
			add("actionable", "yes: the payment can still be refunded before a dispute")
		}
	case payments.DisputeOpened, payments.DisputeWon, payments.DisputeLost:
		s.Kind = fraud.Dispute
		what := map[payments.EventType]string{payments.DisputeOpened: "opened", payments.DisputeWon: "won", payments.DisputeLost: "lost"}[ev.Type]
		s.Summary = fmt.Sprintf("A dispute of the payment of order %s was %s.", o.Number, what)
		add("dispute", what)
		add("amount", amount())
		add("reason", ev.Reason)
	default:
		return s, false
	}
	return s, true
}
