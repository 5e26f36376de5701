package orders_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

// hostile are values that once reached the database (PostgreSQL answered
// 500) or a staff list (a name that displays reversed).
var hostile = map[string]string{
	"invalid UTF-8":          "Bea \xff\xfe",
	"NUL":                    "Bea\x00Buyer",
	"line break":             "Bea\r\nBcc: x@example.com",
	"right-to-left override": "Bea \u202egpj.exe",
	"isolate":                "\u2066Bea\u2069",
	"C1 control":             "Bea\u0085",
	"escape":                 "Bea\x1b[31m",
}

// TestBillingRefusesHostileText: checkout and invoice corrections refuse
// each, naming the field, and store nothing; the address keeps its lines.
func TestBillingRefusesHostileText(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		shop := orders.Shop{DB: d, SiteName: "M", BaseURL: "https://x"}
		price := catalogWithPrice(t, d)
		place(t, d, price, "stripe", "cs_h")
		if _, err := shop.Apply(ctx, completed("evt_h", "cs_h"), now); err != nil {
			t.Fatal(err)
		}
		for what, v := range hostile {
			for _, field := range []string{"name", "company", "address", "country", "vat_id"} {
				b := buyer
				switch field {
				case "name":
					b.Name = v
				case "company":
					b.Company = v
				case "address":
					if what == "line break" {
						continue // an address has lines
					}
					b.Address = "1 Main St\n" + v
				case "country":
					b.Country = v
				case "vat_id":
					b.VATID = v
				}
				_, probs := b.Check()
				if len(probs) != 1 || probs[0].Field != field || probs[0].Kind != refuse.Invalid {
					t.Errorf("%s in %s: problems %+v", what, field, probs)
				}
				err := d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := orders.Create(ctx, tx, orders.NewOrder{PriceID: price, Provider: "manual", Billing: b}, now)
					return err
				})
				if !errors.Is(err, orders.ErrBadBilling) {
					t.Errorf("checkout with %s in %s: %v", what, field, err)
				}
				err = d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := orders.CorrectInvoice(ctx, tx, "2026-000001", b, "fix", now)
					return err
				})
				if !errors.Is(err, orders.ErrBadBilling) {
					t.Errorf("correction with %s in %s: %v", what, field, err)
				}
			}
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				_, err := orders.CorrectInvoice(ctx, tx, "2026-000001", buyer, "fix "+v, now)
				return err
			})
			if !errors.Is(err, orders.ErrNoReason) {
				t.Errorf("correction with %s in the reason: %v", what, err)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM orders`); n != 1 {
			t.Fatalf("%d orders stored, want only the paid one", n)
		}
		if n := count(t, d, `SELECT count(*) FROM invoice_corrections`); n != 0 {
			t.Fatalf("%d corrections stored from refused input", n)
		}

		// What is accepted is stored as cleaned: CRLF as LF, trimmed.
		b := orders.Billing{Email: "bea@example.com", Name: " Zoë  ", Company: "李 GmbH", Address: "1 Main St\r\n\r\nTown \r\n", Country: " de", VATID: "de 123.456.789"}
		var o orders.Order
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			o, err = orders.Create(ctx, tx, orders.NewOrder{PriceID: price, Provider: "manual", Billing: b}, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := orders.ByID(ctx, d, o.ID)
		want := orders.Billing{Email: "bea@example.com", Name: "Zoë", Company: "李 GmbH", Address: "1 Main St\n\nTown", Country: "DE", VATID: "DE123456789"}
		if got.Billing != want {
			t.Fatalf("stored billing %+v, want %+v", got.Billing, want)
		}
		if strings.Contains(got.Billing.Address, "\r") {
			t.Fatal("CR stored")
		}
	})
}
