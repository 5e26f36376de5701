package documents

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"
)

// The Go fonts (Bigelow & Holmes, BSD-style license in fonts/LICENSE) are
// embedded in the binary and in every PDF, subset to the characters the
// document uses. They cover Latin (with Latin Extended-A: Polish, Czech,
// Turkish, ...), Greek and Cyrillic and the euro and pound signs; a
// character outside them (Chinese, Arabic, ...) prints as an empty box
// but is still in the text layer (copy, search and pdftotext find it).
//
//go:embed fonts/Go-Regular.ttf fonts/Go-Bold.ttf
var fontFS embed.FS

var fontRegular, fontBold = mustFont("fonts/Go-Regular.ttf"), mustFont("fonts/Go-Bold.ttf")

func mustFont(name string) []byte {
	b, err := fontFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// Page geometry, in millimetres (A4).
const (
	margin  = 20.0
	width   = 210.0 - 2*margin
	lineH   = 5.0
	smallH  = 4.0
	family  = "go"
	textPt  = 9.5
	smallPt = 8.0
)

// The lines table's columns: description, quantity, unit price, net,
// rate, tax, gross.
var cols = [...]struct {
	head  string
	w     float64
	align string
}{
	{"Description", 56, "L"}, {"Qty", 10, "R"}, {"Unit price", 22, "R"}, {"Net", 23, "R"},
	{"Rate", 13, "R"}, {"Tax", 22, "R"}, {"Gross", 24, "R"},
}

// PDF renders the document. The bytes depend on d alone: the file's
// dates are d.IssuedAt, the catalogs are written in a fixed order, and an
// unencrypted fpdf file has no random document ID.
func (d Document) PDF() ([]byte, error) {
	f := newPDF(d.IssuedAt, d.Title+" "+d.Number, d.Seller.Name, d.Title+" "+d.Number)
	f.AddPage()
	w := writer{f}
	w.header(d)
	w.parties(d)
	w.facts(d)
	if d.Kind == Correction {
		w.correction(d)
	}
	w.lines(d)
	w.totals(d)
	w.notes(d)
	w.payment(d)
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("documents: %s %s as PDF: %w", d.Kind, d.Number, err)
	}
	return buf.Bytes(), nil
}

type writer struct{ f *fpdf.Fpdf }

func (w writer) font(style string, pt float64) { w.f.SetFont(family, style, pt) }

// text writes a paragraph across the page.
func (w writer) text(style string, pt float64, s string) {
	w.font(style, pt)
	w.f.MultiCell(width, lineH, s, "", "L", false)
}

func (w writer) heading(s string) {
	w.f.Ln(3)
	w.text("B", textPt+1, s)
}

func (w writer) header(d Document) {
	f := w.f
	w.font("B", 18)
	f.CellFormat(width, 9, d.Title+" "+d.Number, "", 1, "L", false, 0, "")
	f.Ln(2)
}

// party writes one block of an address at x.
func (w writer) party(x, y, colW float64, label string, p Party, email string) float64 {
	f := w.f
	f.SetXY(x, y)
	w.font("B", textPt)
	f.CellFormat(colW, lineH, label, "", 2, "L", false, 0, "")
	w.font("", textPt)
	rows := []string{p.Name}
	if p.Company != "" {
		rows = append(rows, p.Company)
	}
	rows = append(rows, p.Address...)
	if p.Country != "" {
		rows = append(rows, p.Country)
	}
	if p.VATID != "" {
		rows = append(rows, "VAT number: "+p.VATID)
	}
	if email != "" {
		rows = append(rows, email)
	}
	for _, r := range rows {
		f.SetX(x)
		f.MultiCell(colW, lineH, r, "", "L", false)
	}
	return f.GetY()
}

func (w writer) parties(d Document) {
	f := w.f
	y := f.GetY()
	colW := width/2 - 5
	y1 := w.party(margin, y, colW, "From", d.Seller, d.SellerEmail)
	y2 := w.party(margin+width/2+5, y, colW, "To", d.Buyer, "")
	f.SetXY(margin, max(y1, y2)+4)
}

func (w writer) facts(d Document) {
	f := w.f
	row := func(k, v string) {
		w.font("B", textPt)
		f.CellFormat(40, lineH, k, "", 0, "L", false, 0, "")
		w.font("", textPt)
		f.MultiCell(width-40, lineH, v, "", "L", false)
	}
	row(d.Title+" number", d.Number)
	row("Date", d.Date)
	row("Order", d.OrderNumber)
	switch d.Kind {
	case CreditNote:
		row("Credits invoice", d.Refers+" of "+d.RefersDate)
	case Correction:
		row("Corrects invoice", d.Refers+" of "+d.RefersDate)
	}
	row("Payment", d.Payment.Method)
}

func (w writer) correction(d Document) {
	f := w.f
	w.heading("What this correction changes")
	w.text("", textPt, "This document corrects invoice "+d.Refers+" of "+d.RefersDate+": "+d.Reason+
		". The corrected details replace those on the invoice; the invoice itself is unchanged.")
	if len(d.Changes) == 0 {
		w.text("", textPt, "The billing details are as on the invoice.")
		return
	}
	f.Ln(1)
	w.font("B", textPt)
	f.CellFormat(30, lineH, "Detail", "B", 0, "L", false, 0, "")
	f.CellFormat(70, lineH, "On the invoice", "B", 0, "L", false, 0, "")
	f.CellFormat(70, lineH, "Corrected", "B", 1, "L", false, 0, "")
	w.font("", textPt)
	for _, c := range d.Changes {
		n := max(len(f.SplitText(c.Was, 70)), len(f.SplitText(c.Now, 70)), 1)
		y := f.GetY()
		if y+float64(n)*lineH > 297-margin {
			f.AddPage()
			y = f.GetY()
		}
		f.CellFormat(30, lineH, c.Field, "", 0, "L", false, 0, "")
		f.SetXY(margin+30, y)
		f.MultiCell(70, lineH, c.Was, "", "L", false)
		f.SetXY(margin+100, y)
		f.MultiCell(70, lineH, c.Now, "", "L", false)
		f.SetXY(margin, y+float64(n)*lineH)
	}
}

func (w writer) lines(d Document) {
	f := w.f
	w.heading("Items (" + d.Currency + ")")
	head := func() {
		w.font("B", textPt)
		for i, c := range cols {
			ln := 0
			if i == len(cols)-1 {
				ln = 1
			}
			f.CellFormat(c.w, lineH+1, c.head, "B", ln, c.align, false, 0, "")
		}
	}
	head()
	for _, l := range d.Lines {
		w.font("", textPt)
		desc := f.SplitText(l.Description, cols[0].w-1)
		var period []string
		if l.Period != "" {
			w.font("", smallPt)
			period = f.SplitText("Service period: "+l.Period, cols[0].w-1)
		}
		h := float64(len(desc))*lineH + float64(len(period))*smallH + 1.5
		if f.GetY()+h > 297-margin-8 {
			f.AddPage()
			head()
		}
		y := f.GetY()
		w.font("", textPt)
		for _, s := range desc {
			f.CellFormat(cols[0].w, lineH, s, "", 2, "L", false, 0, "")
		}
		w.font("", smallPt)
		for _, s := range period {
			f.CellFormat(cols[0].w, smallH, s, "", 2, "L", false, 0, "")
		}
		w.font("", textPt)
		f.SetXY(margin+cols[0].w, y)
		for i, v := range []string{strconv.Itoa(l.Quantity), l.UnitNet, l.Net, l.Rate, l.Tax, l.Gross} {
			f.CellFormat(cols[i+1].w, lineH, v, "", 0, cols[i+1].align, false, 0, "")
		}
		f.SetXY(margin, y+h)
		f.Line(margin, y+h-0.5, margin+width, y+h-0.5)
	}
}

func (w writer) totals(d Document) {
	f := w.f
	f.Ln(2)
	labelW, valW := width-35, 35.0
	row := func(style, k, v string) {
		w.font(style, textPt)
		f.CellFormat(labelW, lineH, k, "", 0, "R", false, 0, "")
		f.CellFormat(valW, lineH, v, "", 1, "R", false, 0, "")
	}
	row("", "Total net", d.TotalNet)
	for _, t := range d.TaxRows {
		row("", "Tax at "+t.Rate+" on "+t.Net, t.Tax)
	}
	if d.ProcessorTax != "" {
		row("", ProcessorNote[:len(ProcessorNote)-1], d.ProcessorTax)
	}
	row("", "Total tax", d.TotalTax)
	label := "Total (gross)"
	if d.Kind == CreditNote {
		label = "Total credited (gross)"
	}
	row("B", label, d.TotalGross)
}

func (w writer) notes(d Document) {
	if len(d.Notes) == 0 {
		return
	}
	w.f.Ln(2)
	for _, n := range d.Notes {
		w.text("B", textPt, n)
	}
}

func (w writer) payment(d Document) {
	p := d.Payment
	w.heading("Payment")
	w.text("", textPt, p.Method+". "+p.Status+".")
	if len(p.Instructions) > 0 {
		w.f.Ln(1)
		w.text("B", textPt, "Bank details")
		for _, l := range p.Instructions {
			w.text("", textPt, l)
		}
	}
	if p.Reference != "" {
		w.text("B", textPt, "Payment reference: "+p.Reference)
	}
	w.f.Ln(3)
	w.text("", smallPt, "This document was issued on "+d.Date+" and is never changed afterwards: a correction is a document of its own that names the invoice, and a credit note reverses it.")
}

// newPDF is an A4 document in the house style, reproducible from at (its
// dates): title and author in its properties, the embedded fonts, and a
// footer of footer and the page number on every page.
func newPDF(at time.Time, title, author, footer string) *fpdf.Fpdf {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCatalogSort(true)
	f.SetCreationDate(at.UTC())
	f.SetModificationDate(at.UTC())
	f.SetProducer("Storekeep", false)
	f.SetCreator("Storekeep", false)
	f.SetTitle(title, true)
	f.SetAuthor(author, true)
	f.SetLang("en")
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	f.AddUTF8FontFromBytes(family, "", fontRegular)
	f.AddUTF8FontFromBytes(family, "B", fontBold)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-margin + 5)
		f.SetFont(family, "", smallPt)
		f.CellFormat(width, smallH, footer+" · page "+strconv.Itoa(f.PageNo())+" of {nb}", "", 0, "C", false, 0, "")
	})
	return f
}
