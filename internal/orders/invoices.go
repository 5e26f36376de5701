package orders

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/settings"
)

// InvoiceKind is an invoice or a credit note that reverses one.
type InvoiceKind string

// The invoice kinds. Both draw from one number sequence per year.
const (
	KindInvoice    InvoiceKind = "invoice"
	KindCreditNote InvoiceKind = "credit_note"
)

// Invoice is an issued invoice or credit note. Issued documents are never
// rewritten: a correction is a credit note and, where needed, a new
// invoice.
type Invoice struct {
	ID         int64
	Number     string
	Year, Seq  int
	Kind       InvoiceKind
	OrderID    int64
	IssuedAt   time.Time
	Currency   string
	TotalMinor int64
	// Seller is what the document says of the seller, as it was when it
	// was issued; nil for documents issued before it was kept.
	Seller *Seller
}

// Seller is the vendor as an issued document names it, kept with the
// document so that regenerating it gives the same text whatever the
// settings say today.
type Seller struct {
	Name      string `json:"name"`
	LegalName string `json:"legal_name"`
	Address   string `json:"address"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	// PaymentInstructions are the bank details printed on an invoice paid
	// by transfer ("" otherwise).
	PaymentInstructions string `json:"payment_instructions,omitempty"`
}

// sellerNow is the seller as the settings say it now, in tx, with the
// bank details for an invoice paid by transfer.
func sellerNow(ctx context.Context, q db.Querier, instructions string) (*Seller, error) {
	v, err := settings.Load(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("the seller's details: %w", err)
	}
	return &Seller{Name: v.Name, LegalName: v.LegalName, Address: v.Address, Country: v.Country, Email: v.SupportEmail,
		PaymentInstructions: instructions}, nil
}

// storedSeller is the seller as a document's row keeps it.
func storedSeller(s *Seller) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

func parseSeller(s string) (*Seller, error) {
	if s == "" {
		return nil, nil
	}
	var out Seller
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("stored seller: %w", err)
	}
	return &out, nil
}

// issue gives an order its invoice (or the credit note reversing it in
// full, when the order is cancelled unpaid) with the next number
// of the year. The counter row is updated in the caller's transaction, so
// the number is used exactly when the transaction commits: a rolled-back
// order leaves no hole, and concurrent issues queue on the row.
func issue(ctx context.Context, tx *sql.Tx, o Order, kind InvoiceKind, instructions string, now time.Time) (Invoice, error) {
	if existing, err := invoiceFor(ctx, tx, o.ID, kind); err == nil {
		return existing, nil // issued before: one invoice, and one credit note reversing it unpaid
	} else if !errors.Is(err, ErrNotFound) {
		return Invoice{}, err
	}
	total := o.TotalMinor
	if kind == KindCreditNote {
		total = -o.TotalMinor
	}
	return issueDocument(ctx, tx, o, kind, total, instructions, now)
}

// issueDocument issues a document of kind for the order with total and
// the year's next number. An order has one invoice (a unique index says
// so) and a credit note per refund. The seller's details are kept with
// it (with instructions, the bank details of an invoice paid by
// transfer).
func issueDocument(ctx context.Context, tx *sql.Tx, o Order, kind InvoiceKind, total int64, instructions string, now time.Time) (Invoice, error) {
	inv := Invoice{Kind: kind, OrderID: o.ID, IssuedAt: now, Currency: o.Currency, TotalMinor: total}
	var err error
	if inv.Seller, err = sellerNow(ctx, tx, instructions); err != nil {
		return Invoice{}, err
	}
	seller, err := storedSeller(inv.Seller)
	if err != nil {
		return Invoice{}, err
	}
	if inv.Year, inv.Seq, err = nextNumber(ctx, tx, now); err != nil {
		return Invoice{}, err
	}
	inv.Number = fmt.Sprintf("%d-%06d", inv.Year, inv.Seq)
	err = tx.QueryRowContext(ctx, `INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor, seller)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		inv.Number, inv.Year, inv.Seq, string(kind), o.ID, now, inv.Currency, inv.TotalMinor, seller).Scan(&inv.ID)
	if err != nil {
		return Invoice{}, fmt.Errorf("issue %s: %w", kind, err)
	}
	return inv, nil
}

const invoiceColumns = `id, number, year, seq, kind, order_id, issued_at, currency, total_minor, seller`

func scanInvoice(row interface{ Scan(...any) error }) (Invoice, error) {
	var inv Invoice
	var seller string
	err := row.Scan(&inv.ID, &inv.Number, &inv.Year, &inv.Seq, &inv.Kind, &inv.OrderID, &inv.IssuedAt, &inv.Currency, &inv.TotalMinor, &seller)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, ErrNotFound
	}
	if err != nil {
		return inv, fmt.Errorf("read invoice: %w", err)
	}
	inv.Seller, err = parseSeller(seller)
	return inv, err
}

func invoiceFor(ctx context.Context, q db.Querier, orderID int64, kind InvoiceKind) (Invoice, error) {
	return scanInvoice(q.QueryRowContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE order_id = $1 AND kind = $2`, orderID, string(kind)))
}

// Invoices lists an order's invoice and credit notes (one per refund, or
// the reversal of an invoice never paid), in the order they were issued.
func Invoices(ctx context.Context, q db.Querier, orderID int64) ([]Invoice, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE order_id = $1 ORDER BY seq`, orderID)
	if err != nil {
		return nil, fmt.Errorf("list invoices: %w", err)
	}
	defer rows.Close()
	var out []Invoice
	for rows.Next() {
		inv, err := scanInvoice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// InvoiceByNumber returns an issued document by its number.
func InvoiceByNumber(ctx context.Context, q db.Querier, number string) (Invoice, error) {
	return scanInvoice(q.QueryRowContext(ctx, `SELECT `+invoiceColumns+` FROM invoices WHERE number = $1`, number))
}

// CheckSequence reports the first gap or duplicate in the year's document
// numbers (invoices, credit notes and corrections share them), or nil. Tests and the console use it to prove the numbering.
func CheckSequence(ctx context.Context, q db.Querier, year int) error {
	rows, err := q.QueryContext(ctx, `SELECT seq FROM invoices WHERE year = $1
		UNION ALL SELECT seq FROM invoice_corrections WHERE year = $1 ORDER BY 1`, year)
	if err != nil {
		return fmt.Errorf("check invoice numbers: %w", err)
	}
	defer rows.Close()
	want := 1
	for rows.Next() {
		var seq int
		if err := rows.Scan(&seq); err != nil {
			return err
		}
		if seq != want {
			return fmt.Errorf("invoice numbers of %d: expected %d, found %d", year, want, seq)
		}
		want++
	}
	return rows.Err()
}

// instructionsFor are the bank details an invoice of o prints: the shop's
// payment instructions for an order paid by transfer, none otherwise.
func (s Shop) instructionsFor(o Order) string {
	if o.Provider == "manual" {
		return s.PaymentInstructions
	}
	return ""
}
