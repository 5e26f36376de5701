package documents_test

import (
	"context"
	"testing"

	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// BenchmarkInvoicePDF renders one invoice (a line, domestic tax, bank
// details) from records in memory: the cost of the PDF alone.
func BenchmarkInvoicePDF(b *testing.B) {
	o := orders.Order{Number: "AB12-CD34", Currency: "EUR", Provider: "manual", Billing: domesticBuyer,
		Tax: orders.Taxation{Treatment: orders.TaxDomestic, Country: "DE", SellerVATID: sellerVAT},
		Lines: []orders.Line{{Description: "QuillGuard Milter Professional (yearly)", Quantity: 1, UnitMinor: 19000,
			NetMinor: 19000, TaxMinor: 3610, TaxRateBP: 1900, Billing: "yearly"}}}
	inv := orders.Invoice{Number: "2026-000001", Kind: orders.KindInvoice, IssuedAt: t0}
	in := documents.Inputs{Vendor: vendor, PaymentInstructions: bank}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		d, err := documents.BuildInvoice(in, o, inv, nil)
		if err != nil {
			b.Fatal(err)
		}
		pdf, err := d.PDF()
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(size), "bytes/pdf")
}

// BenchmarkInvoiceFromSQLite loads an invoice's records from SQLite
// (invoice, order, lines, settings) and renders it, as a download or the
// mail worker does.
func BenchmarkInvoiceFromSQLite(b *testing.B) {
	f := newFixture(b, testutil.SQLite(b))
	_, inv := f.byTransfer(b, f.once, domesticBuyer, domestic)
	b.ReportAllocs()
	for b.Loop() {
		l, err := f.src.ByNumber(context.Background(), inv.Number)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := l.PDF(); err != nil {
			b.Fatal(err)
		}
	}
}
