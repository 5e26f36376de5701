package documents_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/documents"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/settings"
)

// t0 is when the orders are placed and paid (a fixed clock).
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const bank = "Account holder: Milterworks GmbH\nIBAN: DE89 3704 0044 0532 0130 00\nBIC: COBADEFFXXX"

var vendor = settings.Vendor{
	Name: "Milterworks", LegalName: "Milterworks GmbH", Address: "Hauptstraße 1\n10115 Berlin", Country: "DE",
	PrivacyEmail: "privacy@milterworks.example", SupportEmail: "billing@milterworks.example",
}

// Buyers: a German consumer, a Polish business (reverse charge), a US
// company (export).
var (
	domesticBuyer = orders.Billing{Email: "zeynep@example.com", Name: "Zeynep Öztürk", Address: "Königstraße 5\n70173 Stuttgart", Country: "DE"}
	polishBuyer   = orders.Billing{Email: "lukasz@example.com", Name: "Łukasz Wójcik", Company: "Wójcik Software sp. z o.o.",
		Address: "ul. Piotrkowska 12\n90-001 Łódź", Country: "PL", VATID: "PL5260250995"}
	usBuyer = orders.Billing{Email: "sam@example.com", Name: "Sam Carter", Company: "Carter Mail Inc.", Address: "1 Market St\nSan Francisco, CA 94105", Country: "US"}
)

const sellerVAT = "DE123456789"

type fixture struct {
	d     *db.DB
	shop  orders.Shop
	src   documents.Source
	once  int64 // the one-time price: EUR 490.00
	yearl int64 // the yearly price: EUR 190.00
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{d: d, src: documents.Source{DB: d, PaymentInstructions: bank},
		shop: orders.Shop{DB: d, SiteName: "Milterworks", BaseURL: "https://shop.example.com", PaymentInstructions: bank,
			Providers: []payments.Provider{payments.Manual{}}}}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, vendor, t0); err != nil {
			return err
		}
		_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "quillguard", Name: "QuillGuard Milter", Editions: []catalog.NewEdition{
			{Slug: "pro", Name: "Professional", Prices: []catalog.Price{
				{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime},
				{Currency: "EUR", AmountMinor: 19000, Billing: catalog.Yearly},
			}},
		}}, t0)
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM prices WHERE billing = 'one_time'`).Scan(&f.once); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT id FROM prices WHERE billing = 'yearly'`).Scan(&f.yearl)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// taxation is what internal/tax would store on an order: every line taxed
// at rateBP under treatment.
type taxation struct {
	treatment orders.TaxTreatment
	country   string
	rateBP    int
}

var (
	domestic      = taxation{orders.TaxDomestic, "DE", 1900}
	reverseCharge = taxation{orders.TaxReverseCharge, "", 0}
	export        = taxation{orders.TaxExport, "", 0}
)

// place places a pending order and stores its taxation as the tax
// computation does (net = price, tax = net × rate).
func (f *fixture) place(t testing.TB, price int64, provider string, b orders.Billing, tx taxation) orders.Order {
	t.Helper()
	ctx := context.Background()
	var o orders.Order
	err := f.d.Tx(ctx, func(sqlTx *sql.Tx) (err error) {
		if o, err = orders.Create(ctx, sqlTx, orders.NewOrder{PriceID: price, Provider: provider, Billing: b}, t0); err != nil {
			return err
		}
		if _, err := sqlTx.ExecContext(ctx, `UPDATE order_lines SET net_minor = unit_minor * quantity,
			tax_minor = unit_minor * quantity * $1 / 10000, tax_rate_bp = $1 WHERE order_id = $2`, tx.rateBP, o.ID); err != nil {
			return err
		}
		if _, err := sqlTx.ExecContext(ctx, `UPDATE orders SET tax_treatment = $1, tax_country = $2, seller_vat_id = $3,
			tax_minor = (SELECT sum(tax_minor) FROM order_lines WHERE order_id = $4),
			total_minor = (SELECT sum(net_minor + tax_minor) FROM order_lines WHERE order_id = $4) WHERE id = $4`,
			string(tx.treatment), tx.country, sellerVAT, o.ID); err != nil {
			return err
		}
		if provider == "stripe" {
			return orders.SetSession(ctx, sqlTx, o.ID, "cs_"+o.Number, t0)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if o, err = orders.ByID(ctx, f.d, o.ID); err != nil {
		t.Fatal(err)
	}
	return o
}

// paidByCard places an order and pays it by Stripe's webhook, which issues
// the invoice; it returns the order and its invoice.
func (f *fixture) paidByCard(t testing.TB, price int64, b orders.Billing, tx taxation) (orders.Order, orders.Invoice) {
	t.Helper()
	ctx := context.Background()
	o := f.place(t, price, "stripe", b, tx)
	if out, err := f.shop.Apply(ctx, paidEvent(o), t0); err != nil || out != orders.Applied {
		t.Fatalf("pay %s: %v, %v", o.Number, out, err)
	}
	return f.reload(t, o), f.invoice(t, o, orders.KindInvoice)
}

// byTransfer places an order paid by bank transfer: invoiced at once.
func (f *fixture) byTransfer(t testing.TB, price int64, b orders.Billing, tx taxation) (orders.Order, orders.Invoice) {
	t.Helper()
	ctx := context.Background()
	o := f.place(t, price, "manual", b, tx)
	var inv orders.Invoice
	err := f.d.Tx(ctx, func(sqlTx *sql.Tx) (err error) {
		inv, err = f.shop.PlaceManual(ctx, sqlTx, o, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return o, inv
}

func (f *fixture) reload(t testing.TB, o orders.Order) orders.Order {
	t.Helper()
	o, err := orders.ByID(context.Background(), f.d, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) invoice(t testing.TB, o orders.Order, kind orders.InvoiceKind) orders.Invoice {
	t.Helper()
	invs, err := orders.Invoices(context.Background(), f.d, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range invs {
		if i.Kind == kind {
			return i
		}
	}
	t.Fatalf("order %s has no %s: %+v", o.Number, kind, invs)
	return orders.Invoice{}
}

// pdf loads the document with the number and renders it.
func (f *fixture) pdf(t testing.TB, number string) []byte {
	t.Helper()
	l, err := f.src.ByNumber(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.PDF()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func paidEvent(o orders.Order) payments.Event {
	return payments.Event{ID: "evt_" + o.Number, Provider: "stripe", Type: payments.CheckoutCompleted, SessionRef: "cs_" + o.Number,
		PaymentRef: "pi_" + o.Number, CustomerRef: "cus_1", AmountMinor: o.TotalMinor, Currency: "eur"}
}
