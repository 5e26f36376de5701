package documents_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/settings"

	"github.com/storekeep/storekeep/internal/audit"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/testutil"
)

// has fails the test for every want missing from text, and every
// unwanted string present.
func has(t *testing.T, what, text string, want []string, unwanted ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	for _, u := range unwanted {
		if strings.Contains(text, u) {
			t.Errorf("%s has %q", what, u)
		}
	}
	if t.Failed() {
		t.Logf("%s reads: %s", what, text)
	}
}

// seller is what every document says of the vendor.
var seller = []string{"From", "Milterworks GmbH", "Hauptstraße 1", "10115 Berlin", "Germany", "VAT number: DE123456789", "billing@milterworks.example"}

func TestDomesticInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o, inv := f.paidByCard(t, f.once, domesticBuyer, domestic)
		text := testutil.PDFText(t, f.pdf(t, inv.Number))
		has(t, "the domestic invoice", text, append(seller,
			"Invoice "+inv.Number, "Invoice number "+inv.Number, "Date 2 March 2026", "Order "+o.Number,
			"To", "Zeynep Öztürk", "Königstraße 5", "70173 Stuttgart",
			"Description", "Qty", "Unit price", "Net", "Rate", "Tax", "Gross",
			"QuillGuard Milter Professional", "€490.00", "19 %", "€93.10", "€583.10",
			"Total net €490.00", "Tax at 19 % on €490.00 €93.10", "Total tax €93.10", "Total (gross) €583.10",
			"Card (Stripe). Paid on 2 March 2026."),
			"Reverse charge", "No VAT", "Bank details", "Service period", "as charged by the payment provider")
		if inv.TotalMinor != 58310 {
			t.Errorf("the invoice's total is %d, the document says €583.10", inv.TotalMinor)
		}
	})
}

func TestReverseChargeInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, inv := f.paidByCard(t, f.once, polishBuyer, reverseCharge)
		text := testutil.PDFText(t, f.pdf(t, inv.Number))
		has(t, "the reverse-charge invoice", text, append(seller,
			"Invoice "+inv.Number, "Łukasz Wójcik", "Wójcik Software sp. z o.o.", "ul. Piotrkowska 12", "90-001 Łódź", "Poland",
			"VAT number: PL5260250995", "0 %", "Tax at 0 % on €490.00 €0.00", "Total tax €0.00", "Total (gross) €490.00",
			documents.ReverseChargeNote),
			"19 %", "No VAT: export")
	})
}

func TestExportInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, inv := f.paidByCard(t, f.once, usBuyer, export)
		text := testutil.PDFText(t, f.pdf(t, inv.Number))
		has(t, "the export invoice", text, append(seller, "Sam Carter", "Carter Mail Inc.", "United States",
			documents.ExportNote, "Total tax €0.00", "Total (gross) €490.00"), "Reverse charge")
	})
}

func TestBankTransferInvoice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o, inv := f.byTransfer(t, f.once, domesticBuyer, domestic)
		before := f.pdf(t, inv.Number)
		text := testutil.PDFText(t, before)
		has(t, "the bank-transfer invoice", text, append(seller,
			"Invoice "+inv.Number, "Order "+o.Number, "Payment Bank transfer", "Bank transfer. Due by 1 April 2026.",
			"Bank details", "Account holder: Milterworks GmbH", "IBAN: DE89 3704 0044 0532 0130 00", "BIC: COBADEFFXXX",
			"Payment reference: "+inv.Number, "Total (gross) €583.10"), "Paid on")

		// Paying the order changes nothing in its invoice: the document
		// says what was known when it was issued.
		if _, err := f.shop.MarkPaid(context.Background(), o.ID, "staff:1", t0.Add(72*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if after := f.pdf(t, inv.Number); !bytes.Equal(before, after) {
			t.Error("the invoice changed when its order was paid")
		}
	})
}

func TestServicePeriods(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()

		// A renewal line: the period it paid for is stored with the line
		// when it is paid (licensing.renewLine).
		o := f.place(t, f.yearl, "stripe", domesticBuyer, domestic)
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE order_lines SET period_start = $1, period_end = $2 WHERE order_id = $3`,
				time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 10, 0, 0, 0, 0, time.UTC), o.ID)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		f.pay(t, o)
		inv := f.invoice(t, o, orders.KindInvoice)
		has(t, "the renewal invoice", testutil.PDFText(t, f.pdf(t, inv.Number)), append(seller,
			"QuillGuard Milter Professional", "(yearly)", "Service period: 10 January 2027 to 10 January 2028",
			"€190.00", "€36.10", "€226.10", "Total (gross) €226.10"))

		// A new yearly license runs a year from its payment.
		_, inv = f.paidByCard(t, f.yearl, domesticBuyer, domestic)
		has(t, "the new yearly license's invoice", testutil.PDFText(t, f.pdf(t, inv.Number)),
			[]string{"Service period: 2 March 2026 to 2 March 2027"})

		// Invoiced before payment, the period starts with the payment.
		_, inv = f.byTransfer(t, f.yearl, domesticBuyer, domestic)
		has(t, "the yearly license's invoice by transfer", testutil.PDFText(t, f.pdf(t, inv.Number)),
			[]string{"Service period: one year from the date of payment"})

		// A one-time license has no period.
		_, inv = f.paidByCard(t, f.once, domesticBuyer, domestic)
		has(t, "the perpetual license's invoice", testutil.PDFText(t, f.pdf(t, inv.Number)), nil, "Service period")
	})
}

// pay pays a pending card order by the processor's event.
func (f *fixture) pay(t *testing.T, o orders.Order) {
	t.Helper()
	ev := paidEvent(o)
	if out, err := f.shop.Apply(context.Background(), ev, t0); err != nil || out != orders.Applied {
		t.Fatalf("pay %s: %v, %v", o.Number, out, err)
	}
}

func TestCreditNote(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		o, inv := f.paidByCard(t, f.once, domesticBuyer, domestic)
		if out, err := f.shop.Refund(context.Background(), o.ID, "staff:1", "returned by bank", t0.Add(48*time.Hour)); err != nil || out != orders.RefundRecorded {
			t.Fatalf("refund: %v, %v", out, err)
		}
		note := f.invoice(t, o, orders.KindCreditNote)
		text := testutil.PDFText(t, f.pdf(t, note.Number))
		has(t, "the credit note", text, append(seller,
			"Credit note "+note.Number, "Credit note number "+note.Number, "Date 4 March 2026", "Order "+o.Number,
			"Credits invoice "+inv.Number+" of 2 March 2026", "Zeynep Öztürk", "QuillGuard Milter Professional",
			"-€490.00", "19 %", "-€93.10", "-€583.10", "Total net -€490.00", "Tax at 19 % on -€490.00 -€93.10",
			"Total credited (gross) -€583.10"), "Bank details", "Due by")
	})
}

func TestCorrection(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o, inv := f.paidByCard(t, f.once, domesticBuyer, domestic)
		corrected := domesticBuyer
		corrected.Company, corrected.VATID = "Öztürk Bilişim GmbH", "DE987654321"
		var c orders.Correction
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			c, err = orders.CorrectInvoice(ctx, tx, inv.Number, corrected, "the company and its VAT number were missing", t0.Add(24*time.Hour))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		text := testutil.PDFText(t, f.pdf(t, c.Number))
		has(t, "the correction", text, append(seller,
			"Correction "+c.Number, "Date 3 March 2026", "Order "+o.Number, "Corrects invoice "+inv.Number+" of 2 March 2026",
			"This document corrects invoice "+inv.Number+" of 2 March 2026: the company and its VAT number were missing.",
			"Detail On the invoice Corrected", "Company (none) Öztürk Bilişim GmbH", "VAT number (none) DE987654321",
			"Zeynep Öztürk", "VAT number: DE987654321", "Total (gross) €583.10", "Card (Stripe). Paid on 2 March 2026."),
			"Name Zeynep")
	})
}

// TestSameRecordSameBytes: a document is generated from the stored record
// alone, so every generation gives the same bytes, dated by its issue.
func TestSameRecordSameBytes(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, inv := f.byTransfer(t, f.yearl, polishBuyer, reverseCharge)
		first := f.pdf(t, inv.Number)
		for range 5 {
			if again := f.pdf(t, inv.Number); !bytes.Equal(first, again) {
				t.Fatalf("two generations of %s differ (%d and %d bytes)", inv.Number, len(first), len(again))
			}
		}
		for _, want := range []string{"/CreationDate (D:20260302093000)", "/ModDate (D:20260302093000)"} {
			if !bytes.Contains(first, []byte(want)) {
				t.Errorf("the PDF lacks %s", want)
			}
		}
		// And another record gives other bytes (the test can fail).
		_, other := f.byTransfer(t, f.yearl, polishBuyer, reverseCharge)
		if bytes.Equal(first, f.pdf(t, other.Number)) {
			t.Error("two invoices gave the same bytes")
		}
	})
}

// TestLongDocumentsBreakPages: a document with many lines goes on over
// pages, each numbered, with the table's head again.
func TestLongDocumentsBreakPages(t *testing.T) {
	o := orders.Order{Number: "AB12-CD34", Currency: "EUR", Provider: "manual", Billing: domesticBuyer,
		Tax: orders.Taxation{Treatment: orders.TaxDomestic, SellerVATID: sellerVAT}}
	for i := range 60 {
		o.Lines = append(o.Lines, orders.Line{Description: "QuillGuard Milter Professional, seat " + strings.Repeat("x", i%40),
			Quantity: 2, UnitMinor: 1000, NetMinor: 2000, TaxMinor: 380, TaxRateBP: 1900})
	}
	inv := orders.Invoice{Number: "2026-000042", Kind: orders.KindInvoice, IssuedAt: t0}
	doc, err := documents.BuildInvoice(documents.Inputs{Vendor: vendor, PaymentInstructions: bank}, o, inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := doc.PDF()
	if err != nil {
		t.Fatal(err)
	}
	text := testutil.PDFText(t, b)
	has(t, "the long invoice", text, []string{"page 1 of 4", "page 4 of 4", "Total net €1,200.00", "Tax at 19 % on €1,200.00 €228.00",
		"Total (gross) €1,428.00", "€10.00"}, "page 5")
	if n := strings.Count(text, "Unit price"); n != 4 {
		t.Errorf("the table's head is on %d pages, want 4", n)
	}
}

func TestRates(t *testing.T) {
	for bp, want := range map[int]string{0: "0 %", 1900: "19 %", 550: "5.5 %", 2050: "20.5 %", 825: "8.25 %", 10000: "100 %"} {
		if got := documents.RateText(bp); got != want {
			t.Errorf("RateText(%d) = %q, want %q", bp, got, want)
		}
	}
}

// TestCreditNoteOfPartOfAnOrder: a refund of one of two licenses issues a
// credit note of that one only, with the refund's amounts.
func TestCreditNoteOfPartOfAnOrder(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o := f.place(t, f.once, "stripe", domesticBuyer, domestic)
		if _, err := d.ExecContext(ctx, `UPDATE order_lines SET quantity = 2, net_minor = net_minor * 2, tax_minor = tax_minor * 2 WHERE order_id = $1`, o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(ctx, `UPDATE orders SET subtotal_minor = (SELECT sum(net_minor) FROM order_lines WHERE order_id = $1),
			tax_minor = (SELECT sum(tax_minor) FROM order_lines WHERE order_id = $1),
			total_minor = (SELECT sum(net_minor + tax_minor) FROM order_lines WHERE order_id = $1) WHERE id = $1`, o.ID); err != nil {
			t.Fatal(err)
		}
		o = f.reload(t, o)
		if out, err := f.shop.Apply(ctx, paidEvent(o), t0); err != nil || out != orders.Applied {
			t.Fatalf("pay: %v, %v", out, err)
		}
		inv := f.invoice(t, o, orders.KindInvoice)
		r, err := f.shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: []orders.LineRefund{{LineID: o.Lines[0].ID, Quantity: 1}},
			Reason: "one seat was never used", By: audit.System()}, t0.Add(48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		text := testutil.PDFText(t, f.pdf(t, r.CreditNote.Number))
		has(t, "the credit note of one seat", text, []string{"Credit note " + r.CreditNote.Number, "Credits invoice " + inv.Number,
			"-€490.00", "-€93.10", "Total credited (gross) -€583.10"})
		if strings.Contains(text, "-€980.00") || strings.Contains(text, "-€1,166.20") {
			t.Fatalf("the credit note credits the whole order:\n%s", text)
		}
		invText := testutil.PDFText(t, f.pdf(t, inv.Number))
		has(t, "the invoice, unchanged", invText, []string{"€980.00", "€1,166.20"})
	})
}

// TestIssuedDocumentsKeepTheirSeller: changing the vendor's name, address
// and bank details after an invoice, a credit note and a correction were
// issued changes none of them; a document issued afterwards says the new.
func TestIssuedDocumentsKeepTheirSeller(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o, inv := f.byTransfer(t, f.once, domesticBuyer, domestic)
		var c orders.Correction
		if err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			c, err = orders.CorrectInvoice(ctx, tx, inv.Number, domesticBuyer, "the address was written twice", t0.Add(time.Hour))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		before := map[string][]byte{inv.Number: f.pdf(t, inv.Number), c.Number: f.pdf(t, c.Number)}

		v, err := settings.Load(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		v.LegalName, v.Address = "Milterworks Holding AG", "Bahnhofstrasse 9\n8001 Zürich"
		if err := d.Tx(ctx, func(tx *sql.Tx) error { return settings.Save(ctx, tx, v, t0.Add(2*time.Hour)) }); err != nil {
			t.Fatal(err)
		}
		f.src.PaymentInstructions = "New bank: IBAN CH00 0000 0000"
		for number, want := range before {
			if got := f.pdf(t, number); !bytes.Equal(got, want) {
				t.Errorf("%s changed with the settings:\n%s", number, testutil.PDFText(t, got))
			}
		}
		text := testutil.PDFText(t, before[inv.Number])
		has(t, "the invoice as issued", text, []string{"Milterworks GmbH", "Hauptstraße 1"}, "Holding AG", "New bank")

		f.shop.PaymentInstructions = f.src.PaymentInstructions
		_, later := f.byTransfer(t, f.once, domesticBuyer, domestic)
		has(t, "an invoice issued after the change", testutil.PDFText(t, f.pdf(t, later.Number)),
			[]string{"Milterworks Holding AG", "Bahnhofstrasse 9", "New bank: IBAN CH00 0000 0000"}, "Hauptstraße 1")
		_ = o
	})
}
