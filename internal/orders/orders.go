// Package orders turns a chosen price into an order, moves orders through
// their states as payments arrive, and numbers invoices without gaps.
//
// Every state change is recorded with its cause (order_events). Payment
// events are processed once: the event's ID is inserted into payment_events
// in the same transaction as its effect, so a duplicate delivery finds the
// row and changes nothing, and two instances racing on one event serialise
// on that key. Only processor references are stored, never card data.
package orders

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
)

// Status is where an order stands.
type Status string

// The order states.
const (
	Pending   Status = "pending"   // waiting for payment
	Paid      Status = "paid"      // paid; fulfilled
	Refunded  Status = "refunded"  // money returned
	Disputed  Status = "disputed"  // the buyer's bank contests the payment
	Cancelled Status = "cancelled" // never paid (checkout expired, or cancelled by staff)
)

// allowed lists the transitions; anything else is refused.
var allowed = map[Status][]Status{
	Pending:  {Paid, Cancelled},
	Paid:     {Refunded, Disputed},
	Disputed: {Paid, Refunded},
	// A checkout paid at the processor before its order's cancellation
	// reached it: Apply records the money taken (only Apply does this;
	// MarkPaid wants a pending order).
	Cancelled: {Paid},
}

// CanMove reports whether an order may go from one state to another.
func CanMove(from, to Status) bool {
	for _, s := range allowed[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Errors callers tell apart.
var (
	ErrNotFound     = refuse.New(refuse.NotFound, "order_not_found", "There is no such order.")
	ErrUnavailable  = refuse.New(refuse.NotFound, "price_unavailable", "This edition or price is not on sale any more. Choose another on the pricing page.")
	ErrBadBilling   = refuse.New(refuse.Invalid, "bad_billing", "The billing details are incomplete: give the name, address and country for the invoice.")
	ErrInvalidState = refuse.New(refuse.Conflict, "order_state", "The order is not in a state that allows this.")
)

// Billing is the buyer's billing details, copied into the order when it is
// placed: an invoice shows what was true then, whatever changes later.
type Billing struct {
	Email, Name, Company, Address, Country, VATID string
}

// Lengths of billing fields, in characters.
const (
	maxBillingName    = 200
	maxBillingAddress = 1000
)

// Check returns the details as they are stored (trimmed, line breaks of
// the address as LF; the country and VAT ID in canonical form) and the
// refusals, one per field at fault (refuse.Field, named by the checkout
// form's fields: name, company, address, country, vat_id). Every text goes
// through package input, so no control, line-break (but in the address) or
// direction-changing character, and nothing that is not UTF-8, reaches the
// database or a staff list. Checkout and invoice corrections share it, and
// it checks country and VAT ID as the customer's profile does.
func (b Billing) Check() (Billing, []*refuse.Error) {
	var p input.Problems
	p.Clean(input.Spec{Field: "name", Label: "The name to put on the invoice", Max: maxBillingName, Required: true,
		Missing: "Enter the name to put on the invoice (at most 200 characters)."}, &b.Name)
	p.Clean(input.Spec{Field: "company", Label: "The company name", Max: maxBillingName}, &b.Company)
	p.Clean(input.Spec{Field: "address", Label: "The billing address", Max: maxBillingAddress, Multiline: true, Required: true,
		Missing: "Enter the billing address."}, &b.Address)
	if country, err := input.Line("country", "The country", 100, b.Country); err != nil {
		p.Add(err)
		b.Country = ""
	} else if b.Country = strings.ToUpper(country); customers.CountryName(b.Country) == "" {
		p.Addf("country", "Enter the country as a two-letter code, such as DE or US.")
	}
	if vat, err := input.Line("vat_id", "The VAT ID", 100, b.VATID); err != nil {
		p.Add(err)
		b.VATID = ""
	} else {
		var problem string
		if b.VATID, problem = customers.NormaliseVATID(vat); problem != "" {
			p.Addf("vat_id", problem)
		} else if b.VATID != "" && b.Country != "" && customers.CountryName(b.Country) != "" {
			// The number must be one of the billing country: reverse
			// charge is decided by the country the buyer is in.
			p.Add(tax.CheckVATID(b.Country, b.VATID, "vat_id"))
		}
	}
	return b, p.List()
}

// Clean is Check with the refusals as messages, for a form's list of
// problems.
func (b Billing) Clean() (Billing, []string) {
	b, probs := b.Check()
	var msgs []string
	for _, e := range probs {
		msgs = append(msgs, e.Msg)
	}
	return b, msgs
}

// Line is one item of an order.
type Line struct {
	ID      int64 // the order line's row id (refunds name lines by it)
	PriceID int64
	// Description is what was bought, as the invoice says it (product,
	// edition and billing period when the order was placed).
	Description string
	// Product and Edition are the catalog's names of the line's price
	// today; "" when the price is no longer in the catalog.
	Product, Edition string
	Billing          catalog.Billing
	UnitMinor        int64
	Quantity         int
	// RenewsLicenseID is the license (row id) a renewal line extends
	// instead of issuing one; 0 for a line that buys a new license.
	RenewsLicenseID int64
	// PeriodStart and PeriodEnd are the service period a renewal line
	// paid for (set when it is paid); zero otherwise.
	PeriodStart, PeriodEnd time.Time
	// NetMinor, TaxMinor and TaxRateBP are the line's amount before tax,
	// its tax and the rate in basis points (1900 = 19 %), as computed
	// when the order was placed; the gross is their sum (GrossMinor).
	NetMinor, TaxMinor int64
	TaxRateBP          int
}

// GrossMinor is the line's amount with tax.
func (l Line) GrossMinor() int64 { return l.NetMinor + l.TaxMinor }

// TaxTreatment is how an order was taxed.
type TaxTreatment string

// The treatments (see migration 00022).
const (
	TaxUnset         TaxTreatment = ""               // placed before tax was computed
	TaxDomestic      TaxTreatment = "domestic"       // the seller's country's rate
	TaxReverseCharge TaxTreatment = "reverse_charge" // EU business buyer, valid VAT number: no tax, the statement
	TaxEUConsumer    TaxTreatment = "eu_consumer"    // the buyer's EU country's rate
	TaxExport        TaxTreatment = "export"         // buyer outside the EU: no tax
	TaxProcessor     TaxTreatment = "processor"      // computed by the payment processor (Stripe Tax)
)

// Taxation is what an order was taxed under, as stored with it.
type Taxation struct {
	Treatment TaxTreatment
	// Country is the country whose rate applied ("" when none did).
	Country string
	// SellerVATID and PricesIncludeTax are the vendor's settings when the
	// order was placed.
	SellerVATID      string
	PricesIncludeTax bool
	// VATCheck is the check of the buyer's VAT number as JSON ("" when
	// none was given).
	VATCheck string
}

// Order is a purchase.
type Order struct {
	ID                int64
	Number            string
	CustomerID        int64
	Status            Status
	Provider          string
	Currency          string
	SubtotalMinor     int64
	TaxMinor          int64
	TotalMinor        int64
	ProcessorSession  string
	ProcessorPayment  string
	ProcessorCustomer string
	// ProcessorInvoice is the processor's invoice a renewal order records
	// (one order per paid invoice); "" otherwise.
	ProcessorInvoice string
	Billing          Billing
	CreatedAt        time.Time
	UpdatedAt        time.Time
	PaidAt           time.Time
	Lines            []Line
	// Tax is how the order was taxed.
	Tax Taxation
}

// Total formats the order's total.
func (o Order) Total() string { return catalog.FormatMoney(o.TotalMinor, o.Currency) }

// TaxText formats the order's tax.
func (o Order) TaxText() string { return catalog.FormatMoney(o.TaxMinor, o.Currency) }

// Amount formats a line's amount.
func (l Line) Amount(currency string) string {
	return catalog.FormatMoney(l.UnitMinor*int64(l.Quantity), currency)
}

// NewOrder is what a buyer chose at checkout.
type NewOrder struct {
	CustomerID int64
	PriceID    int64
	Provider   string
	Billing    Billing
	// VATCheck is the check of the buyer's VAT number (tax.Verify, done
	// before the transaction: VIES is a network call); the zero value
	// when VIES is off.
	VATCheck tax.Check
}

// Create places a pending order for one active price. The amount and
// currency come from the catalog, never from the request, so a tampered
// form cannot change what is charged; the tax comes from the vendor's tax
// settings and the billing details (applyTax).
func Create(ctx context.Context, tx *sql.Tx, n NewOrder, now time.Time) (Order, error) {
	o, err := build(ctx, tx, n, now)
	if err != nil {
		return Order{}, err
	}
	return insertOrder(ctx, tx, o, "customer", "placed with "+n.Provider)
}

// Preview is the order Create would place, with its tax, without placing
// it: what the checkout page shows before the buyer pays.
func Preview(ctx context.Context, q db.Querier, n NewOrder, now time.Time) (Order, error) {
	return build(ctx, q, n, now)
}

// checkedBilling is b checked as an order stores it (Billing.Check, and
// an email address to send the invoice to), or ErrBadBilling. Checked
// again here, whatever the caller did: nothing unchecked is stored.
func checkedBilling(b Billing) (Billing, error) {
	if strings.TrimSpace(b.Email) == "" {
		return Billing{}, ErrBadBilling.With("The order has no email address to send the invoice to.")
	}
	checked, probs := b.Check()
	if len(probs) > 0 {
		return Billing{}, ErrBadBilling.With(probs[0].Msg)
	}
	checked.Email = strings.TrimSpace(b.Email)
	return checked, nil
}

func build(ctx context.Context, q db.Querier, n NewOrder, now time.Time) (Order, error) {
	var err error
	if n.Billing, err = checkedBilling(n.Billing); err != nil {
		return Order{}, err
	}
	offer, err := FindOffer(ctx, q, n.PriceID)
	if err != nil {
		return Order{}, err
	}
	l := Line{PriceID: offer.Price.ID, Billing: offer.Price.Billing, UnitMinor: offer.Price.AmountMinor, Product: offer.Product, Edition: offer.Edition}
	currency, product, edition := offer.Price.Currency, offer.Product, offer.Edition
	l.Quantity = 1
	l.Description = product + " " + edition
	if l.Billing == catalog.Yearly {
		l.Description += " (yearly)"
	}
	o := Order{
		Number: newNumber(), CustomerID: n.CustomerID, Status: Pending, Provider: n.Provider, Currency: currency,
		Billing: n.Billing, CreatedAt: now, UpdatedAt: now, Lines: []Line{l},
	}
	if err := applyTax(ctx, q, &o, n.VATCheck); err != nil {
		return Order{}, err
	}
	return o, nil
}

// numberAlphabet avoids characters people confuse when reading a number
// out on the phone.
const numberAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newNumber makes a public order reference such as "Q7K2-M9PX". It is not
// sequential, so it tells nobody how much the vendor sells.
func newNumber() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = numberAlphabet[int(b[i])%len(numberAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func recordEvent(ctx context.Context, tx *sql.Tx, orderID int64, from, to Status, cause, detail string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO order_events (order_id, at, from_status, to_status, cause, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		orderID, now, string(from), string(to), cause, detail)
	if err != nil {
		return fmt.Errorf("record order event: %w", err)
	}
	return nil
}

// SetSession stores the processor's checkout session of a pending order.
func SetSession(ctx context.Context, tx *sql.Tx, orderID int64, sessionRef string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE orders SET processor_session = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'`,
		sessionRef, now, orderID)
	if err != nil {
		return fmt.Errorf("store checkout session: %w", err)
	}
	return nil
}

// move changes o's state to to, recording why, and refuses transitions the
// state machine does not allow. It locks nothing itself: callers hold the
// order row (lockOrder) when racing is possible.
func move(ctx context.Context, tx *sql.Tx, o *Order, to Status, cause, detail string, now time.Time) error {
	if !CanMove(o.Status, to) {
		return ErrInvalidState.Withf("The order is %s, which does not allow this (it cannot become %s).", o.Status, to)
	}
	var paidAt any
	if to == Paid && o.PaidAt.IsZero() {
		paidAt = now
	}
	res, err := tx.ExecContext(ctx, `UPDATE orders SET status = $1, updated_at = $2, paid_at = COALESCE(paid_at, $3) WHERE id = $4 AND status = $5`,
		string(to), now, paidAt, o.ID, string(o.Status))
	if err != nil {
		return fmt.Errorf("change order state: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrInvalidState.With("The order changed meanwhile; reload the page to see it.")
	}
	if err := recordEvent(ctx, tx, o.ID, o.Status, to, cause, detail, now); err != nil {
		return err
	}
	o.Status = to
	if paidAt != nil {
		o.PaidAt = now
	}
	return nil
}

const orderColumns = `id, number, COALESCE(customer_id, 0), status, provider, currency, subtotal_minor, tax_minor, total_minor,
	COALESCE(processor_session, ''), processor_payment, processor_customer, processor_invoice,
	billing_email, billing_name, billing_company, billing_address, billing_country, billing_vat_id, created_at, updated_at, paid_at,
	tax_treatment, tax_country, seller_vat_id, prices_include_tax, vat_check`

func scanOrder(row interface{ Scan(...any) error }) (Order, error) {
	var o Order
	var paid sql.NullTime
	b := &o.Billing
	err := row.Scan(&o.ID, &o.Number, &o.CustomerID, &o.Status, &o.Provider, &o.Currency, &o.SubtotalMinor, &o.TaxMinor, &o.TotalMinor,
		&o.ProcessorSession, &o.ProcessorPayment, &o.ProcessorCustomer, &o.ProcessorInvoice,
		&b.Email, &b.Name, &b.Company, &b.Address, &b.Country, &b.VATID, &o.CreatedAt, &o.UpdatedAt, &paid,
		&o.Tax.Treatment, &o.Tax.Country, &o.Tax.SellerVATID, &o.Tax.PricesIncludeTax, &o.Tax.VATCheck)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("read order: %w", err)
	}
	if paid.Valid {
		o.PaidAt = paid.Time
	}
	return o, nil
}

const lineColumns = `l.order_id, l.id, COALESCE(l.price_id, 0), l.description, l.billing, l.unit_minor, l.quantity,
	COALESCE(p.name, ''), COALESCE(e.name, ''), COALESCE(l.renews_license_id, 0), l.period_start, l.period_end,
	l.net_minor, l.tax_minor, l.tax_rate_bp`

const lineJoins = `order_lines l LEFT JOIN prices pr ON pr.id = l.price_id LEFT JOIN editions e ON e.id = pr.edition_id
	LEFT JOIN products p ON p.id = e.product_id`

func scanLine(rows *sql.Rows) (int64, Line, error) {
	var l Line
	var orderID int64
	var start, end sql.NullTime
	err := rows.Scan(&orderID, &l.ID, &l.PriceID, &l.Description, &l.Billing, &l.UnitMinor, &l.Quantity, &l.Product, &l.Edition,
		&l.RenewsLicenseID, &start, &end, &l.NetMinor, &l.TaxMinor, &l.TaxRateBP)
	if err != nil {
		return 0, l, fmt.Errorf("read order lines: %w", err)
	}
	if start.Valid {
		l.PeriodStart = start.Time.UTC()
	}
	if end.Valid {
		l.PeriodEnd = end.Time.UTC()
	}
	return orderID, l, nil
}

func loadLines(ctx context.Context, q db.Querier, o *Order) error {
	rows, err := q.QueryContext(ctx, `SELECT `+lineColumns+` FROM `+lineJoins+` WHERE l.order_id = $1 ORDER BY l.id`, o.ID)
	if err != nil {
		return fmt.Errorf("read order lines: %w", err)
	}
	defer rows.Close()
	o.Lines = nil
	for rows.Next() {
		_, l, err := scanLine(rows)
		if err != nil {
			return err
		}
		o.Lines = append(o.Lines, l)
	}
	return rows.Err()
}

// loadListLines fills in the lines of listed orders with one query, so a
// list shows what each order bought.
func loadListLines(ctx context.Context, q db.Querier, list []Order) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[int64]*Order, len(list))
	ids := make([]string, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
		ids[i] = strconv.FormatInt(list[i].ID, 10) // integers of ours: safe in the text
	}
	rows, err := q.QueryContext(ctx, `SELECT `+lineColumns+` FROM `+lineJoins+` WHERE l.order_id IN (`+strings.Join(ids, ", ")+`) ORDER BY l.id`)
	if err != nil {
		return fmt.Errorf("read order lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		orderID, l, err := scanLine(rows)
		if err != nil {
			return err
		}
		if o := byID[orderID]; o != nil {
			o.Lines = append(o.Lines, l)
		}
	}
	return rows.Err()
}

// Summary names what the order bought, for lists: the lines'
// descriptions, such as "QuillGuard Milter Professional (yearly)".
func (o Order) Summary() string {
	names := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		names[i] = l.Description
	}
	return strings.Join(names, ", ")
}

// ByNumber returns the order with the public number, with its lines.
func ByNumber(ctx context.Context, q db.Querier, number string) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE number = $1`, number))
	if err != nil {
		return o, err
	}
	return o, loadLines(ctx, q, &o)
}

// ByID returns the order with id, with its lines.
func ByID(ctx context.Context, q db.Querier, id int64) (Order, error) {
	o, err := scanOrder(q.QueryRowContext(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
	if err != nil {
		return o, err
	}
	return o, loadLines(ctx, q, &o)
}

// lockOrder reads an order for update inside tx. On SQLite the write
// transaction already holds the database lock; on PostgreSQL FOR UPDATE
// makes concurrent changes to one order queue.
func lockOrder(ctx context.Context, tx *sql.Tx, d db.Dialect, where string, arg any) (Order, error) {
	q := `SELECT ` + orderColumns + ` FROM orders WHERE ` + where + d.ForUpdate()
	o, err := scanOrder(tx.QueryRowContext(ctx, q, arg))
	if err != nil {
		return o, err
	}
	return o, loadLines(ctx, tx, &o)
}

// ForCustomer lists a customer's orders, newest first, with their lines
// (Summary names what each bought).
func ForCustomer(ctx context.Context, q db.Querier, customerID int64) ([]Order, error) {
	return list(ctx, q, `WHERE customer_id = $1 ORDER BY created_at DESC, id DESC`, customerID)
}

// Filter selects orders for the console.
type Filter struct {
	Status Status // "" for all
	Limit  int
}

// List returns orders for the console, newest first, with their lines.
func List(ctx context.Context, q db.Querier, f Filter) ([]Order, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	if f.Status != "" {
		return list(ctx, q, fmt.Sprintf(`WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT %d`, limit), string(f.Status))
	}
	return list(ctx, q, fmt.Sprintf(`ORDER BY created_at DESC, id DESC LIMIT %d`, limit))
}

func list(ctx context.Context, q db.Querier, tail string, args ...any) ([]Order, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+orderColumns+` FROM orders `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	defer rows.Close()
	var out []Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	_ = rows.Close()
	return out, loadListLines(ctx, q, out)
}

// Event is one recorded state change.
type Event struct {
	At       time.Time
	From, To Status
	Cause    string
	Detail   string
}

// Events returns an order's history, oldest first.
func Events(ctx context.Context, q db.Querier, orderID int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, from_status, to_status, cause, detail FROM order_events WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order history: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.At, &e.From, &e.To, &e.Cause, &e.Detail); err != nil {
			return nil, fmt.Errorf("order history: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
