package documents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/reports"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestCreditNotesPrintWhatTheyCredit: each credit note's document totals
// what its record (and the refund) returned, also when the refund of
// everything left follows a refund of an amount made in Stripe's
// dashboard, so that the lines alone would come to more; the sum of all
// credit notes is the order's total.
func TestCreditNotesPrintWhatTheyCredit(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		o, _ := f.paidByCard(t, f.once, domesticBuyer, domestic) // 490.00 + 93.10
		ev := payments.Event{ID: "evt_dash_" + o.Number, Provider: "stripe", Type: payments.PaymentRefunded, PaymentRef: "pi_" + o.Number,
			OrderNumber: o.Number, AmountMinor: 10000, Currency: "eur"}
		if out, err := f.shop.Apply(ctx, ev, t0.Add(time.Hour)); err != nil || out != orders.Applied {
			t.Fatalf("dashboard refund: %v, %v", out, err)
		}
		if _, err := f.shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Reason: "the rest", By: audit.System()}, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		rs, err := orders.RefundsOf(ctx, d, o.ID)
		if err != nil || len(rs) != 2 {
			t.Fatalf("refunds %+v, %v", rs, err)
		}
		var sum int64
		for _, r := range rs {
			sum += r.GrossMinor
			if r.CreditNote.TotalMinor != -r.GrossMinor {
				t.Errorf("credit note %s records %d, the refund returned %d", r.CreditNote.Number, r.CreditNote.TotalMinor, r.GrossMinor)
			}
			text := testutil.PDFText(t, f.pdf(t, r.CreditNote.Number))
			has(t, "credit note "+r.CreditNote.Number, text, []string{
				"Total credited (gross) " + catalog.FormatMoney(-r.GrossMinor, "EUR"),
				catalog.FormatMoney(-r.TaxMinor, "EUR"), catalog.FormatMoney(-r.NetMinor, "EUR")})
			if len(r.Lines) == 0 && strings.Contains(text, " 0 %") {
				t.Errorf("credit note %s says 0 %% with tax on it:\n%s", r.CreditNote.Number, text)
			}
		}
		if sum != o.TotalMinor {
			t.Errorf("the refunds return %d, the order cost %d", sum, o.TotalMinor)
		}
		if net, tax := rs[0].NetMinor+rs[1].NetMinor, rs[0].TaxMinor+rs[1].TaxMinor; net != o.SubtotalMinor || tax != o.TaxMinor {
			t.Errorf("the refunds return net %d and tax %d, the invoice charged %d and %d", net, tax, o.SubtotalMinor, o.TaxMinor)
		}
		// The VAT return of the month: sold and refunded, nothing is left.
		sales, err := reports.SalesReport(ctx, d, t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range sales.Totals {
			if row.NetMinor != 0 || row.TaxMinor != 0 || row.Orders != 0 {
				t.Errorf("the month's sales after the whole order was refunded: %+v", row)
			}
		}
	})
}
