package documents

import (
	"context"
	"errors"
	"fmt"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/settings"
)

// ErrNotFound is returned when no document has the number.
var ErrNotFound = orders.ErrNotFound

// Source loads documents from the database.
type Source struct {
	DB db.Querier
	// PaymentInstructions are the bank details printed on invoices paid
	// by transfer.
	PaymentInstructions string
}

// Loaded is a document with the order it belongs to (callers check whose
// it is).
type Loaded struct {
	Document
	Order orders.Order
}

// ByNumber loads the invoice, credit note or correction with the number.
func (s Source) ByNumber(ctx context.Context, number string) (Loaded, error) {
	inv, err := orders.InvoiceByNumber(ctx, s.DB, number)
	if errors.Is(err, orders.ErrNotFound) {
		return s.Correction(ctx, number)
	}
	if err != nil {
		return Loaded{}, err
	}
	return s.invoice(ctx, inv)
}

// Invoice loads the invoice or credit note with the number.
func (s Source) Invoice(ctx context.Context, number string) (Loaded, error) {
	inv, err := orders.InvoiceByNumber(ctx, s.DB, number)
	if err != nil {
		return Loaded{}, err
	}
	return s.invoice(ctx, inv)
}

func (s Source) inputs(ctx context.Context) (Inputs, error) {
	v, err := settings.Load(ctx, s.DB)
	return Inputs{Vendor: v, PaymentInstructions: s.PaymentInstructions}, err
}

func (s Source) invoice(ctx context.Context, inv orders.Invoice) (Loaded, error) {
	in, err := s.inputs(ctx)
	if err != nil {
		return Loaded{}, err
	}
	o, err := orders.ByID(ctx, s.DB, inv.OrderID)
	if err != nil {
		return Loaded{}, fmt.Errorf("documents: the order of %s: %w", inv.Number, err)
	}
	if inv.Kind == orders.KindCreditNote {
		credited, err := invoiceOf(ctx, s.DB, o.ID)
		if err != nil {
			return Loaded{}, err
		}
		lines, err := creditedLines(ctx, s.DB, o, inv)
		if err != nil {
			return Loaded{}, err
		}
		return Loaded{Document: BuildCreditNote(in, o, inv, *credited, lines), Order: o}, nil
	}
	d, err := BuildInvoice(in, o, inv, nil)
	return Loaded{Document: d, Order: o}, err
}

// creditedLines are what a credit note credits: the lines of the refund
// that issued it (a refund of part of an order credits only those, with
// the amounts the refund returned), one line for a refund of an amount
// without lines (made in the processor's dashboard), or the whole order
// for a credit note no refund issued (an invoice reversed when its order
// was cancelled unpaid).
func creditedLines(ctx context.Context, q db.Querier, o orders.Order, note orders.Invoice) ([]orders.Line, error) {
	r, err := orders.RefundOfCreditNote(ctx, q, note.ID)
	if errors.Is(err, orders.ErrNotFound) {
		return o.Lines, nil
	}
	if err != nil {
		return nil, fmt.Errorf("documents: the refund of %s: %w", note.Number, err)
	}
	if len(r.Lines) == 0 {
		// At the order's rate (one for all its lines; the highest, as the
		// sales report counts such a refund, should they differ): the
		// amount is split into net and tax as the order's lines are.
		rate := 0
		for _, l := range o.Lines {
			rate = max(rate, l.TaxRateBP)
		}
		return []orders.Line{{Description: "Refund of " + r.Gross(), Quantity: 1, NetMinor: r.NetMinor, TaxMinor: r.TaxMinor, TaxRateBP: rate}}, nil
	}
	byID := map[int64]orders.Line{}
	for _, l := range o.Lines {
		byID[l.ID] = l
	}
	out := make([]orders.Line, 0, len(r.Lines))
	for _, rl := range r.Lines {
		l := byID[rl.OrderLineID] // the period and billing of the line it refunds
		l.Description, l.Quantity, l.TaxRateBP = rl.Description, rl.Quantity, rl.TaxRateBP
		l.NetMinor, l.TaxMinor = rl.NetMinor, rl.TaxMinor
		out = append(out, l)
	}
	return out, nil
}

// invoiceOf is the invoice of an order (a credit note credits it).
func invoiceOf(ctx context.Context, q db.Querier, orderID int64) (*orders.Invoice, error) {
	invs, err := orders.Invoices(ctx, q, orderID)
	if err != nil {
		return nil, err
	}
	for _, i := range invs {
		if i.Kind == orders.KindInvoice {
			return &i, nil
		}
	}
	return nil, fmt.Errorf("documents: order %d has a credit note but no invoice", orderID)
}

// Correction loads the correction with the number.
func (s Source) Correction(ctx context.Context, number string) (Loaded, error) {
	c, orderID, err := orders.CorrectionByNumber(ctx, s.DB, number)
	if err != nil {
		return Loaded{}, err
	}
	in, err := s.inputs(ctx)
	if err != nil {
		return Loaded{}, err
	}
	o, err := orders.ByID(ctx, s.DB, orderID)
	if err != nil {
		return Loaded{}, err
	}
	inv, err := orders.InvoiceByNumber(ctx, s.DB, c.InvoiceNumber)
	if err != nil {
		return Loaded{}, err
	}
	return Loaded{Document: BuildCorrection(in, o, inv, c), Order: o}, nil
}
