// Package documents makes the invoices, credit notes and corrections that
// Storekeep issues, as PDF files and as the content the HTML view shows,
// from the stored records only: the order with its lines and taxation,
// the invoice or correction row, and the vendor's settings.
//
// A document is a pure function of those records (Build*, then PDF): it
// reads no clock, and the PDF's creation and modification dates are the
// document's issue time, so the same record gives the same bytes every
// time (TestSameRecordSameBytes). What is snapshotted with the order and
// what is read at generation time is listed in docs/invoices.md.
package documents

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/settings"
)

// Kind is the kind of a document.
type Kind string

// The kinds of document. All three share the gapless number sequence.
const (
	Invoice    Kind = "invoice"
	CreditNote Kind = "credit_note"
	Correction Kind = "correction"
)

// Party is the seller or the buyer as the document names them.
type Party struct {
	Name    string
	Company string
	Address []string // one entry per line
	Country string   // the country's name ("" when unknown)
	VATID   string
}

// Line is one line of a document, its amounts formatted.
type Line struct {
	Description string
	Quantity    int
	// UnitNet is the price of one unit before tax.
	UnitNet string
	Net     string
	Rate    string // "19 %"
	Tax     string
	Gross   string
	// Period is the service period the line pays for, in words ("" when
	// the line buys nothing that runs for a period).
	Period string
}

// TaxRow is the tax at one rate, in the totals.
type TaxRow struct {
	Rate string // "19 %"
	Net  string // the net amount taxed at the rate
	Tax  string
}

// Payment says how the document is paid.
type Payment struct {
	// Method in words ("Bank transfer", "Card (Stripe)").
	Method string
	// Status in words: "Paid on 3 March 2026", or "Due by 2 April 2026".
	Status string
	// Instructions are the bank details, one entry per line, for an
	// invoice paid by transfer; Reference is what the payer quotes.
	Instructions []string
	Reference    string
}

// Change is one corrected detail of a correction.
type Change struct {
	Field, Was, Now string
}

// Document is everything an invoice, credit note or correction shows.
type Document struct {
	Kind  Kind
	Title string // "Invoice", "Credit note", "Correction"
	// Number is the document's own number; IssuedAt its issue time.
	Number   string
	IssuedAt time.Time
	Date     string // IssuedAt in words
	// OrderNumber is the order the document belongs to.
	OrderNumber string
	Currency    string
	Seller      Party
	// SellerEmail is where the buyer asks about the document.
	SellerEmail string
	Buyer       Party
	Lines       []Line
	TaxRows     []TaxRow
	// ProcessorTax is the tax the payment processor computed for the
	// whole order (treatment "processor" without tax on the lines);
	// "" otherwise.
	ProcessorTax string
	TotalNet     string
	TotalTax     string
	TotalGross   string
	// Refers names the invoice a credit note credits or a correction
	// corrects ("" for an invoice): its number and date.
	Refers     string
	RefersDate string
	// Reason and Changes are a correction's: why, and the billing
	// details it corrects, as they were and as they are now.
	Reason  string
	Changes []Change
	// Notes are the statements the tax treatment requires (reverse
	// charge, export), in order.
	Notes   []string
	Payment Payment
}

// Filename is the name the document is downloaded and attached under.
func (d Document) Filename() string { return string(d.Kind) + "-" + d.Number + ".pdf" }

// The statements the treatments put on a document.
const (
	ReverseChargeNote = "Reverse charge: the recipient is liable for the VAT (Article 196 of Council Directive 2006/112/EC). No VAT is charged on this invoice."
	ExportNote        = "No VAT: export. The services are supplied to a customer outside the EU and are not subject to VAT in the EU."
	ProcessorNote     = "Tax, as charged by the payment provider."
)

// Inputs are the records a document is made from, beyond the order.
type Inputs struct {
	Vendor settings.Vendor
	// PaymentInstructions are the bank details for invoices paid by
	// transfer (the configuration's --payment-instructions).
	PaymentInstructions string
}

// with is in with the seller as the document kept it when it was issued
// (names, address, country, contact, bank details): a document says what
// it said then, whatever the settings say now. Documents issued before
// the seller was kept (nil) show the settings.
func (in Inputs) with(s *orders.Seller) Inputs {
	if s == nil {
		return in
	}
	in.Vendor.Name, in.Vendor.LegalName, in.Vendor.Address = s.Name, s.LegalName, s.Address
	in.Vendor.Country, in.Vendor.SupportEmail = s.Country, s.Email
	in.PaymentInstructions = s.PaymentInstructions
	return in
}

// BuildInvoice makes the document of an invoice or credit note. A credit
// note needs the invoice it credits (credited); today a credit note
// credits the whole order, so its lines are the order's lines with the
// amounts negated. BuildCreditNote takes the lines for a credit note of
// part of an order.
func BuildInvoice(in Inputs, o orders.Order, inv orders.Invoice, credited *orders.Invoice) (Document, error) {
	in = in.with(inv.Seller)
	if inv.Kind == orders.KindCreditNote {
		if credited == nil {
			return Document{}, fmt.Errorf("documents: credit note %s: the invoice it credits is unknown", inv.Number)
		}
		return BuildCreditNote(in, o, inv, *credited, o.Lines), nil
	}
	d := base(in, o, Invoice, "Invoice", inv.Number, inv.IssuedAt, o.Billing)
	d.addLines(o, o.Lines, inv.IssuedAt, 1)
	d.Payment = payment(in, o, inv)
	return d, nil
}

// BuildCreditNote makes the document of a credit note that credits lines
// of the order's invoice credited.
func BuildCreditNote(in Inputs, o orders.Order, note, credited orders.Invoice, lines []orders.Line) Document {
	in = in.with(note.Seller)
	d := base(in, o, CreditNote, "Credit note", note.Number, note.IssuedAt, o.Billing)
	d.Refers, d.RefersDate = credited.Number, longDate(credited.IssuedAt)
	d.addLines(o, lines, credited.IssuedAt, -1)
	d.Payment = Payment{Method: methodOf(o.Provider), Status: "Credited: the amount is returned the way it was paid, or set against what is due"}
	return d
}

// BuildCorrection makes the document of a correction of the invoice inv:
// the corrected billing details, the reason, and the invoice's lines and
// totals, unchanged.
func BuildCorrection(in Inputs, o orders.Order, inv orders.Invoice, c orders.Correction) Document {
	in = in.with(c.Seller)
	d := base(in, o, Correction, "Correction", c.Number, c.IssuedAt, c.Billing)
	d.Refers, d.RefersDate = inv.Number, longDate(inv.IssuedAt)
	d.Reason = c.Reason
	was := o.Billing
	for _, f := range []struct{ name, was, now string }{
		{"Name", was.Name, c.Billing.Name}, {"Company", was.Company, c.Billing.Company},
		{"Address", oneLine(was.Address), oneLine(c.Billing.Address)},
		{"Country", countryName(was.Country), countryName(c.Billing.Country)}, {"VAT number", was.VATID, c.Billing.VATID},
	} {
		if f.was != f.now {
			d.Changes = append(d.Changes, Change{Field: f.name, Was: orNone(f.was), Now: orNone(f.now)})
		}
	}
	d.addLines(o, o.Lines, inv.IssuedAt, 1)
	d.Payment = payment(in, o, inv)
	return d
}

// base fills in what every document has.
func base(in Inputs, o orders.Order, kind Kind, title, number string, issued time.Time, to orders.Billing) Document {
	v := in.Vendor
	d := Document{
		Kind: kind, Title: title, Number: number, IssuedAt: issued.UTC(), Date: longDate(issued),
		OrderNumber: o.Number, Currency: o.Currency, SellerEmail: v.SupportEmail,
		Seller: Party{Name: v.LegalName, Address: splitLines(v.Address), Country: countryName(v.Country), VATID: o.Tax.SellerVATID},
		Buyer:  Party{Name: to.Name, Company: to.Company, Address: splitLines(to.Address), Country: countryName(to.Country), VATID: to.VATID},
	}
	switch o.Tax.Treatment {
	case orders.TaxReverseCharge:
		d.Notes = append(d.Notes, ReverseChargeNote)
	case orders.TaxExport:
		d.Notes = append(d.Notes, ExportNote)
	}
	return d
}

// addLines adds the lines and the totals; sign is -1 for a credit note.
// issued is when the invoice was issued: a service period is shown with
// dates only when it was known then (see period).
func (d *Document) addLines(o orders.Order, lines []orders.Line, issued time.Time, sign int64) {
	money := func(minor int64) string { return catalog.FormatMoney(sign*minor, o.Currency) }
	var net, tax int64
	type rateSum struct{ net, tax int64 }
	byRate := map[int]*rateSum{}
	var rates []int
	for _, l := range lines {
		unit := l.NetMinor
		if l.Quantity > 1 {
			unit = l.NetMinor / int64(l.Quantity)
		}
		d.Lines = append(d.Lines, Line{
			Description: l.Description, Quantity: l.Quantity, UnitNet: money(unit), Net: money(l.NetMinor),
			Rate: RateText(l.TaxRateBP), Tax: money(l.TaxMinor), Gross: money(l.GrossMinor()), Period: period(o, l, issued),
		})
		net += l.NetMinor
		tax += l.TaxMinor
		s, ok := byRate[l.TaxRateBP]
		if !ok {
			s = &rateSum{}
			byRate[l.TaxRateBP] = s
			rates = append(rates, l.TaxRateBP)
		}
		s.net += l.NetMinor
		s.tax += l.TaxMinor
	}
	// Rates in the order the lines first name them: deterministic, and
	// the usual case has one.
	for _, r := range rates {
		d.TaxRows = append(d.TaxRows, TaxRow{Rate: RateText(r), Net: money(byRate[r].net), Tax: money(byRate[r].tax)})
	}
	if o.Tax.Treatment == orders.TaxProcessor {
		d.Notes = append(d.Notes, ProcessorNote)
		if tax == 0 && o.TaxMinor != 0 {
			// The processor's tax is known for the order only.
			d.ProcessorTax = money(o.TaxMinor)
			tax = o.TaxMinor
			d.TaxRows = nil
		}
	}
	d.TotalNet, d.TotalTax, d.TotalGross = money(net), money(tax), money(net+tax)
}

// period is a line's service period in words. A renewal line's period is
// stored with it when it is paid; a new yearly license runs a year from
// the payment. Dates are shown only when the payment was made by the time
// the invoice was issued (a card payment: the invoice is issued with it);
// an invoice issued before payment (bank transfer) says how the period
// is set, so that the document stays the same after the payment arrives.
func period(o orders.Order, l orders.Line, issued time.Time) string {
	paidByIssue := !o.PaidAt.IsZero() && !o.PaidAt.After(issued)
	switch {
	case !l.PeriodEnd.IsZero() && paidByIssue:
		return longDate(l.PeriodStart) + " to " + longDate(l.PeriodEnd)
	case l.RenewsLicenseID != 0:
		return "one year, from the license's current expiry (or from the payment, if it has expired)"
	case l.Billing != catalog.Yearly:
		return ""
	case paidByIssue:
		return longDate(o.PaidAt) + " to " + longDate(o.PaidAt.AddDate(1, 0, 0))
	default:
		return "one year from the date of payment"
	}
}

// payment says how an invoice is paid. Bank transfers carry the bank
// details and the reference (the invoice number).
func payment(in Inputs, o orders.Order, inv orders.Invoice) Payment {
	p := Payment{Method: methodOf(o.Provider)}
	paidByIssue := !o.PaidAt.IsZero() && !o.PaidAt.After(inv.IssuedAt)
	if o.Provider == "manual" {
		p.Instructions = splitLines(in.PaymentInstructions)
		if len(p.Instructions) == 0 && in.Vendor.SupportEmail != "" {
			// As the shop's mail says when no bank details are configured.
			p.Instructions = []string{"Write to " + in.Vendor.SupportEmail + " for the bank details to pay to."}
		}
		p.Reference = inv.Number
	}
	switch {
	case paidByIssue:
		p.Status = "Paid on " + longDate(o.PaidAt)
	case o.Provider == "manual":
		p.Status = "Due by " + longDate(inv.IssuedAt.Add(orders.DefaultExpiry.Invoiced))
	default:
		p.Status = "Due"
	}
	return p
}

func methodOf(provider string) string {
	switch provider {
	case "manual":
		return "Bank transfer"
	case "stripe":
		return "Card (Stripe)"
	case "demo":
		return "Test payment (demo only, no money moved)"
	}
	return provider
}

// RateText formats a rate in basis points: 1900 is "19 %", 550 "5.5 %".
func RateText(bp int) string {
	s := strconv.Itoa(bp / 100)
	if frac := bp % 100; frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", frac), "0")
	}
	return s + " %"
}

func longDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 January 2006")
}

func splitLines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func oneLine(s string) string { return strings.Join(splitLines(s), ", ") }

func countryName(code string) string {
	if n := customers.CountryName(code); n != "" {
		return n
	}
	return code
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
