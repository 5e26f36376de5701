package orders

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Correction corrects the billing details of an issued invoice. It is a
// document of its own, numbered in the invoices' gapless sequence; the
// invoice it corrects is never rewritten.
type Correction struct {
	ID            int64
	Number        string
	Year, Seq     int
	InvoiceID     int64
	InvoiceNumber string
	IssuedAt      time.Time
	Reason        string
	Billing       Billing
	// Seller is the seller as the correction names it: the corrected
	// invoice's, kept with it (nil for documents issued before it was).
	Seller *Seller
}

// ErrNoReason is returned when a correction does not say why.
var ErrNoReason = refuse.Field("reason", "Say in a sentence what is corrected and why.")

// nextNumber takes the year's next document number in tx (see issue).
func nextNumber(ctx context.Context, tx *sql.Tx, now time.Time) (year, seq int, err error) {
	year = now.UTC().Year()
	if _, err = tx.ExecContext(ctx, `INSERT INTO invoice_counters (year, last_seq) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING`, year); err != nil {
		return 0, 0, fmt.Errorf("invoice counter: %w", err)
	}
	err = tx.QueryRowContext(ctx, `UPDATE invoice_counters SET last_seq = last_seq + 1 WHERE year = $1 RETURNING last_seq`, year).Scan(&seq)
	if err != nil {
		return 0, 0, fmt.Errorf("invoice counter: %w", err)
	}
	return year, seq, nil
}

// CorrectInvoice issues a correction of the invoice with number: the new
// billing details and the reason, in the same transaction as the number.
func CorrectInvoice(ctx context.Context, tx *sql.Tx, invoiceNumber string, b Billing, reason string, now time.Time) (Correction, error) {
	reason, err := input.Line("reason", "The reason", 500, reason)
	if err != nil {
		return Correction{}, ErrNoReason.With(err.Error())
	}
	if reason == "" {
		return Correction{}, ErrNoReason
	}
	b, probs := b.Check()
	if len(probs) > 0 {
		return Correction{}, ErrBadBilling.With(probs[0].Msg)
	}
	inv, err := InvoiceByNumber(ctx, tx, invoiceNumber)
	if err != nil {
		return Correction{}, err
	}
	if inv.Kind != KindInvoice {
		return Correction{}, ErrInvalidState.With("Only invoices are corrected; a credit note is reversed by another document.")
	}
	c := Correction{InvoiceID: inv.ID, InvoiceNumber: inv.Number, IssuedAt: now, Reason: reason, Billing: b, Seller: inv.Seller}
	if c.Seller == nil {
		if c.Seller, err = sellerNow(ctx, tx, ""); err != nil {
			return Correction{}, err
		}
	}
	seller, err := storedSeller(c.Seller)
	if err != nil {
		return Correction{}, err
	}
	if c.Year, c.Seq, err = nextNumber(ctx, tx, now); err != nil {
		return c, err
	}
	c.Number = fmt.Sprintf("%d-%06d", c.Year, c.Seq)
	err = tx.QueryRowContext(ctx, `INSERT INTO invoice_corrections (number, year, seq, invoice_id, issued_at, reason,
		billing_name, billing_company, billing_address, billing_country, billing_vat_id, seller)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
		c.Number, c.Year, c.Seq, c.InvoiceID, now, reason, b.Name, b.Company, b.Address, b.Country, b.VATID, seller).Scan(&c.ID)
	if err != nil {
		return c, fmt.Errorf("issue correction: %w", err)
	}
	return c, nil
}

const correctionColumns = `c.id, c.number, c.year, c.seq, c.invoice_id, i.number, c.issued_at, c.reason,
	c.billing_name, c.billing_company, c.billing_address, c.billing_country, c.billing_vat_id, c.seller`

// scanCorrection reads the correctionColumns, then into extra the columns
// selected after them.
func scanCorrection(row interface{ Scan(...any) error }, extra ...any) (Correction, error) {
	var c Correction
	var seller string
	b := &c.Billing
	err := row.Scan(append([]any{&c.ID, &c.Number, &c.Year, &c.Seq, &c.InvoiceID, &c.InvoiceNumber, &c.IssuedAt, &c.Reason,
		&b.Name, &b.Company, &b.Address, &b.Country, &b.VATID, &seller}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Seller, err = parseSeller(seller)
	return c, err
}

// Corrections lists the corrections of an order's invoices.
func Corrections(ctx context.Context, q db.Querier, orderID int64) ([]Correction, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+correctionColumns+` FROM invoice_corrections c JOIN invoices i ON i.id = c.invoice_id
		WHERE i.order_id = $1 ORDER BY c.seq`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list corrections: %w", err)
	}
	defer rows.Close()
	var out []Correction
	for rows.Next() {
		c, err := scanCorrection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CorrectionByNumber returns a correction and the order of its invoice.
func CorrectionByNumber(ctx context.Context, q db.Querier, number string) (Correction, int64, error) {
	var orderID int64
	row := q.QueryRowContext(ctx, `SELECT `+correctionColumns+`, i.order_id FROM invoice_corrections c JOIN invoices i ON i.id = c.invoice_id
		WHERE c.number = $1`, number)
	c, err := scanCorrection(row, &orderID)
	return c, orderID, err
}
