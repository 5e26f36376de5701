package reports_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/reports"
	"github.com/storekeep/storekeep/internal/testutil"
)

// sale is one order of the known data set.
type sale struct {
	number, status, provider, currency string
	created, paid                      time.Time // paid zero: never paid
	treatment, taxCountry              string
	country, vatID                     string
	lines                              []line
	creditNote                         time.Time // a full refund's credit note; zero for none
	// legacyRefund: the credit note has no refund row (a refund recorded
	// before refunds were kept), or, for an order never paid, is the
	// reversal of its invoice.
	legacyRefund bool
}

type line struct {
	desc     string
	net, tax int64
	rateBP   int
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05.999", s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// knownSales has sales on both sides of a week's end (Sunday 3 January
// 2027 to Monday the 4th) and of a month's end, in two currencies, under
// each treatment, a refund in the month after its sale, and orders that
// are no revenue (pending, cancelled).
var knownSales = []sale{
	{number: "AAAA-0001", status: "paid", provider: "stripe", currency: "EUR", created: at("2027-01-03 23:00:00"), paid: at("2027-01-03 23:59:59.999"),
		treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"QuillGuard Pro", 10000, 2000, 2000}}},
	{number: "AAAA-0002", status: "paid", provider: "stripe", currency: "EUR", created: at("2027-01-03 23:59:00"), paid: at("2027-01-04 00:00:00"),
		treatment: "eu_consumer", taxCountry: "DE", country: "DE", lines: []line{{"Mailguard", 5000, 950, 1900}}},
	{number: "AAAA-0003", status: "paid", provider: "stripe", currency: "USD", created: at("2027-01-31 20:00:00"), paid: at("2027-01-31 23:59:59.999"),
		treatment: "export", country: "US", lines: []line{{"QuillGuard Pro", 7000, 0, 0}}},
	{number: "AAAA-0004", status: "paid", provider: "manual", currency: "EUR", created: at("2027-01-20 10:00:00"), paid: at("2027-02-01 00:00:00"),
		treatment: "reverse_charge", country: "FR", vatID: "FR12345678901", lines: []line{{"QuillGuard Pro", 15000, 0, 0}, {"Mailguard", 5000, 0, 0}}},
	{number: "AAAA-0005", status: "refunded", provider: "stripe", currency: "EUR", created: at("2027-01-10 11:00:00"), paid: at("2027-01-10 12:00:00"),
		treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"QuillGuard Pro", 1000, 200, 2000}}, creditNote: at("2027-02-02 09:00:00")},
	{number: "AAAA-0006", status: "pending", provider: "manual", currency: "EUR", created: at("2027-01-01 08:00:00"), country: "AT", lines: []line{{"Mailguard", 3000, 600, 2000}}},
	{number: "AAAA-0007", status: "pending", provider: "manual", currency: "USD", created: at("2027-02-01 08:00:00"), country: "US", lines: []line{{"Mailguard", 4000, 0, 0}}},
	{number: "AAAA-0008", status: "cancelled", provider: "manual", currency: "EUR", created: at("2027-01-05 08:00:00"), country: "AT", lines: []line{{"Mailguard", 9000, 1800, 2000}}},
	{number: "AAAA-0009", status: "pending", provider: "stripe", currency: "EUR", created: at("2027-01-02 08:00:00"), country: "AT", lines: []line{{"Mailguard", 2000, 400, 2000}}},
}

// seed stores sales as the orders domain would have: orders with their
// lines' net and tax, paid_at when paid, a credit note for a refund.
func seed(t *testing.T, d *db.DB, sales []sale) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error { return seedTx(ctx, tx, sales) })
	if err != nil {
		t.Fatal(err)
	}
}

func seedTx(ctx context.Context, d *sql.Tx, sales []sale) error {
	for i, s := range sales {
		var net, tax int64
		for _, l := range s.lines {
			net += l.net
			tax += l.tax
		}
		var paid any
		if !s.paid.IsZero() {
			paid = s.paid
		}
		var id int64
		err := d.QueryRowContext(ctx, `INSERT INTO orders (number, status, provider, currency, subtotal_minor, tax_minor, total_minor,
				billing_email, billing_name, billing_country, billing_vat_id, created_at, updated_at, paid_at, tax_treatment, tax_country)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14, $15) RETURNING id`,
			s.number, s.status, s.provider, s.currency, net, tax, net+tax, fmt.Sprintf("buyer%d@example.com", i), fmt.Sprintf("Buyer %d", i),
			s.country, s.vatID, s.created, paid, s.treatment, s.taxCountry).Scan(&id)
		if err != nil {
			return err
		}
		for _, l := range s.lines {
			if _, err := d.ExecContext(ctx, `INSERT INTO order_lines (order_id, description, billing, unit_minor, quantity, net_minor, tax_minor, tax_rate_bp)
				VALUES ($1, $2, 'one_time', $3, 1, $3, $4, $5)`, id, l.desc, l.net, l.tax, l.rateBP); err != nil {
				return err
			}
		}
		if !s.creditNote.IsZero() {
			// As the orders domain refunds: a credit note of minus the
			// gross, and the refund with its lines.
			var cn, refund int64
			if err := d.QueryRowContext(ctx, `INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor)
				VALUES ($1, $2, $3, 'credit_note', $4, $5, $6, $7) RETURNING id`, fmt.Sprintf("CN-%d", i), s.creditNote.Year(), i, id, s.creditNote, s.currency, -(net + tax)).Scan(&cn); err != nil {
				return err
			}
			if s.legacyRefund {
				continue // a credit note of a full refund made before refunds were kept
			}
			if err := d.QueryRowContext(ctx, `INSERT INTO refunds (order_id, credit_note_id, state, currency, net_minor, tax_minor, gross_minor,
				provider, reason, cause, created_at) VALUES ($1, $2, 'done', $3, $4, $5, $6, $7, 'test', 'staff:1', $8) RETURNING id`,
				id, cn, s.currency, net, tax, net+tax, s.provider, s.creditNote).Scan(&refund); err != nil {
				return err
			}
			if _, err := d.ExecContext(ctx, `INSERT INTO refund_lines (refund_id, order_line_id, quantity, net_minor, tax_minor, gross_minor)
				SELECT $1, id, quantity, net_minor, tax_minor, net_minor + tax_minor FROM order_lines WHERE order_id = $2`, refund, id); err != nil {
				return err
			}
		}
	}
	return nil
}

type fig struct {
	day             string
	currency        string
	net, gross      int64
	orders, refunds int
}

// nonZero lists the series' periods and currencies that have sales.
func nonZero(s reports.Series) []fig {
	var out []fig
	for _, p := range s.Points {
		for _, c := range s.Currencies {
			a := p.ByCurrency[c]
			if a != (reports.Amount{Currency: c}) {
				out = append(out, fig{p.Start.Format(time.DateOnly), c, a.NetMinor, a.GrossMinor, a.Orders, a.Refunds})
			}
		}
	}
	return out
}

func TestRevenue(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		seed(t, d, knownSales)
		ctx := context.Background()
		for _, c := range []struct {
			p        db.Period
			from, to time.Time
			points   int
			want     []fig
		}{
			{db.Day, at("2027-01-01 00:00:00"), at("2027-02-03 00:00:00"), 33, []fig{
				{"2027-01-03", "EUR", 10000, 12000, 1, 0},
				{"2027-01-04", "EUR", 5000, 5950, 1, 0},
				{"2027-01-10", "EUR", 1000, 1200, 1, 0},
				{"2027-01-31", "USD", 7000, 7000, 1, 0},
				{"2027-02-01", "EUR", 20000, 20000, 1, 0},
				{"2027-02-02", "EUR", -1000, -1200, 0, 1},
			}},
			// From a Wednesday: the range widens to its Monday.
			{db.Week, at("2026-12-30 00:00:00"), at("2027-02-08 00:00:00"), 6, []fig{
				{"2026-12-28", "EUR", 10000, 12000, 1, 0},
				{"2027-01-04", "EUR", 6000, 7150, 2, 0},
				{"2027-01-25", "USD", 7000, 7000, 1, 0},
				{"2027-02-01", "EUR", 19000, 18800, 1, 1},
			}},
			{db.Month, at("2026-12-01 00:00:00"), at("2027-03-01 00:00:00"), 3, []fig{
				{"2027-01-01", "EUR", 16000, 19150, 3, 0},
				{"2027-01-01", "USD", 7000, 7000, 1, 0},
				{"2027-02-01", "EUR", 19000, 18800, 1, 1},
			}},
		} {
			s, err := reports.Revenue(ctx, d, c.p, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Points) != c.points {
				t.Errorf("%s: %d periods, want %d (every period, empty ones too)", c.p, len(s.Points), c.points)
			}
			if got := nonZero(s); !reflect.DeepEqual(got, c.want) {
				t.Errorf("%s:\n got %v\nwant %v", c.p, got, c.want)
			}
			if !reflect.DeepEqual(s.Currencies, []string{"EUR", "USD"}) {
				t.Errorf("%s: currencies %v", c.p, s.Currencies)
			}
		}
		s, err := reports.Revenue(ctx, d, db.Month, at("2027-01-01 00:00:00"), at("2027-03-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		want := []reports.Amount{{Currency: "EUR", NetMinor: 35000, GrossMinor: 37950, Orders: 4, Refunds: 1}, {Currency: "USD", NetMinor: 7000, GrossMinor: 7000, Orders: 1}}
		if got := s.Totals(); !reflect.DeepEqual(got, want) {
			t.Errorf("totals by currency:\n got %+v\nwant %+v", got, want)
		}
		// A range ending on a period's first moment does not include it.
		s, err = reports.Revenue(ctx, d, db.Day, at("2027-01-31 00:00:00"), at("2027-02-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if got := nonZero(s); len(s.Points) != 1 || !reflect.DeepEqual(got, []fig{{"2027-01-31", "USD", 7000, 7000, 1, 0}}) {
			t.Errorf("last day of January alone: %d points, %v", len(s.Points), got)
		}
	})
}

func TestByProduct(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		seed(t, d, knownSales)
		ctx := context.Background()
		jan, err := reports.ByProduct(ctx, d, at("2027-01-01 00:00:00"), at("2027-02-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		want := []reports.ProductAmount{
			{Product: "QuillGuard Pro", Amount: reports.Amount{Currency: "EUR", NetMinor: 11000, GrossMinor: 13200, Orders: 2}, Quantity: 2},
			{Product: "QuillGuard Pro", Amount: reports.Amount{Currency: "USD", NetMinor: 7000, GrossMinor: 7000, Orders: 1}, Quantity: 1},
			{Product: "Mailguard", Amount: reports.Amount{Currency: "EUR", NetMinor: 5000, GrossMinor: 5950, Orders: 1}, Quantity: 1},
		}
		if !reflect.DeepEqual(jan, want) {
			t.Errorf("January:\n got %+v\nwant %+v", jan, want)
		}
		feb, err := reports.ByProduct(ctx, d, at("2027-02-01 00:00:00"), at("2027-03-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		want = []reports.ProductAmount{
			{Product: "QuillGuard Pro", Amount: reports.Amount{Currency: "EUR", NetMinor: 14000, GrossMinor: 13800, Orders: 1, Refunds: 1}, Quantity: 0},
			{Product: "Mailguard", Amount: reports.Amount{Currency: "EUR", NetMinor: 5000, GrossMinor: 5000, Orders: 1}, Quantity: 1},
		}
		if !reflect.DeepEqual(feb, want) {
			t.Errorf("February (a refund of January's sale):\n got %+v\nwant %+v", feb, want)
		}
	})
}

func TestOpenAndOverdue(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		seed(t, d, knownSales)
		ctx := context.Background()
		open, err := reports.Open(ctx, d, 2)
		if err != nil {
			t.Fatal(err)
		}
		if open.Count != 3 || len(open.Orders) != 2 || open.Orders[0].Number != "AAAA-0007" || open.Orders[1].Number != "AAAA-0009" {
			t.Errorf("open: %+v", open)
		}
		wantAmounts := []reports.Amount{{Currency: "EUR", GrossMinor: 6000, Orders: 2}, {Currency: "USD", GrossMinor: 4000, Orders: 1}}
		if !reflect.DeepEqual(open.Amounts, wantAmounts) {
			t.Errorf("open amounts: %+v", open.Amounts)
		}
		// On 5 February only the transfer of 1 January is over 14 days
		// old; the card order of 2 January is no transfer, the transfer of
		// 1 February is not due yet.
		late, err := reports.Overdue(ctx, d, at("2027-02-05 00:00:00"), reports.OverdueAfter, 10)
		if err != nil {
			t.Fatal(err)
		}
		if late.Count != 1 || len(late.Orders) != 1 || late.Orders[0].Number != "AAAA-0006" || late.Orders[0].Name != "Buyer 5" {
			t.Errorf("overdue: %+v", late)
		}
		// Exactly 14 days after it was placed it is not overdue yet.
		late, err = reports.Overdue(ctx, d, at("2027-01-15 08:00:00"), reports.OverdueAfter, 10)
		if err != nil || late.Count != 0 {
			t.Errorf("overdue at the boundary: %+v %v", late, err)
		}
	})
}

func TestSalesReport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		seed(t, d, knownSales)
		ctx := context.Background()
		jan, err := reports.SalesReport(ctx, d, at("2027-01-17 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		want := []reports.SalesRow{
			{Country: "AT", Treatment: "domestic", RateBP: 2000, Currency: "EUR", NetMinor: 11000, TaxMinor: 2200, Orders: 2},
			{Country: "DE", Treatment: "eu_consumer", RateBP: 1900, Currency: "EUR", NetMinor: 5000, TaxMinor: 950, Orders: 1},
			{Country: "US", Treatment: "export", RateBP: 0, Currency: "USD", NetMinor: 7000, TaxMinor: 0, Orders: 1},
		}
		if !reflect.DeepEqual(jan.Rows, want) || len(jan.ReverseCharge) != 0 || !jan.Month.Equal(at("2027-01-01 00:00:00")) {
			t.Errorf("January:\n got %+v %+v %s\nwant %+v", jan.Rows, jan.ReverseCharge, jan.Month, want)
		}
		wantTotals := []reports.SalesRow{{Currency: "EUR", NetMinor: 16000, TaxMinor: 3150, Orders: 3}, {Currency: "USD", NetMinor: 7000, Orders: 1}}
		if !reflect.DeepEqual(jan.Totals, wantTotals) {
			t.Errorf("January totals: %+v", jan.Totals)
		}
		feb, err := reports.SalesReport(ctx, d, at("2027-02-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		// The refund of a January sale is February's, negative; the
		// reverse-charge sale is listed per buyer, not among the rates.
		want = []reports.SalesRow{{Country: "AT", Treatment: "domestic", RateBP: 2000, Currency: "EUR", NetMinor: -1000, TaxMinor: -200, Orders: -1}}
		if !reflect.DeepEqual(feb.Rows, want) {
			t.Errorf("February rows:\n got %+v\nwant %+v", feb.Rows, want)
		}
		wantRC := []reports.ReverseChargeRow{{Country: "FR", VATID: "FR12345678901", Currency: "EUR", NetMinor: 20000, Orders: 1}}
		if !reflect.DeepEqual(feb.ReverseCharge, wantRC) {
			t.Errorf("February reverse charge: %+v", feb.ReverseCharge)
		}
		if !reflect.DeepEqual(feb.Totals, []reports.SalesRow{{Currency: "EUR", NetMinor: 19000, TaxMinor: -200, Orders: 0}}) {
			t.Errorf("February totals: %+v", feb.Totals)
		}
		if r := (reports.SalesRow{RateBP: 550}); r.Rate() != "5.5" {
			t.Errorf("rate 550 bp = %s", r.Rate())
		}
		if r := (reports.SalesRow{RateBP: 2000}); r.Rate() != "20" {
			t.Errorf("rate 2000 bp = %s", r.Rate())
		}
	})
}

func TestLast(t *testing.T) {
	now := at("2027-03-03 15:00:00") // a Wednesday
	for _, c := range []struct {
		p        db.Period
		n        int
		from, to string
	}{
		{db.Day, 30, "2027-02-02", "2027-03-04"},
		{db.Week, 12, "2026-12-14", "2027-03-08"},
		{db.Month, 12, "2026-04-01", "2027-04-01"},
	} {
		from, to := reports.Last(c.p, now, c.n)
		if from.Format(time.DateOnly) != c.from || to.Format(time.DateOnly) != c.to {
			t.Errorf("last %d %s: %s to %s, want %s to %s", c.n, c.p, from, to, c.from, c.to)
		}
	}
}

func TestDefuse(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1": "'+1", "-12.00": "'-12.00", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "\nx": "'\nx",
		"\uff1d1+1": "'\uff1d1+1", "\uff0b1": "'\uff0b1", "\uff0d1": "'\uff0d1", "\uff20x": "'\uff20x", "\u00e9=x": "\u00e9=x", "Ada": "Ada", "": "", "12.00": "12.00", " =x": " =x",
	} {
		if got := reports.Defuse(in); got != want {
			t.Errorf("Defuse(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRegroup: weeks and months summed in Go from the days are the weeks
// and months the database sums.
func TestRegroup(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		seed(t, d, knownSales)
		ctx := context.Background()
		from, to := at("2026-12-01 00:00:00"), at("2027-03-01 00:00:00")
		days, err := reports.Revenue(ctx, d, db.Day, from, to)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			p        db.Period
			from, to time.Time
		}{{db.Week, at("2026-12-30 00:00:00"), at("2027-02-08 00:00:00")}, {db.Month, from, to}} {
			want, err := reports.Revenue(ctx, d, c.p, c.from, c.to)
			if err != nil {
				t.Fatal(err)
			}
			got := days.Regroup(c.p, c.from, c.to)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s regrouped:\n got %+v\nwant %+v", c.p, nonZero(got), nonZero(want))
			}
		}
	})
}

// TestRefundsCountWhatTheyReturned: a refund of one of two lines
// subtracts that line only; a refund of an amount without lines subtracts
// the amount, in the order's country at its rate; a credit note of a full
// refund made before refunds were kept subtracts the whole order; the
// reversal of an invoice whose order was never paid subtracts nothing.
func TestRefundsCountWhatTheyReturned(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		sales := []sale{
			{number: "BBBB-0001", status: "paid", provider: "stripe", currency: "EUR", created: at("2027-03-01 10:00:00"), paid: at("2027-03-01 10:00:00"),
				treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"QuillGuard Pro", 10000, 2000, 2000}, {"Mailguard", 5000, 1000, 2000}}},
			{number: "BBBB-0002", status: "refunded", provider: "stripe", currency: "EUR", created: at("2027-03-02 10:00:00"), paid: at("2027-03-02 10:00:00"),
				treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"Mailguard", 3000, 600, 2000}}, creditNote: at("2027-03-20 10:00:00"), legacyRefund: true},
			{number: "BBBB-0003", status: "cancelled", provider: "manual", currency: "EUR", created: at("2027-03-03 10:00:00"),
				treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"Mailguard", 7000, 1400, 2000}}, creditNote: at("2027-03-21 10:00:00"), legacyRefund: true},
		}
		seed(t, d, sales)
		var order, line, cn int64
		if err := d.QueryRowContext(ctx, `SELECT o.id, l.id FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.number = 'BBBB-0001' AND l.description = 'Mailguard'`).Scan(&order, &line); err != nil {
			t.Fatal(err)
		}
		refund := func(seq int, net, tax int64, withLine bool) {
			t.Helper()
			err := d.Tx(ctx, func(tx *sql.Tx) error {
				if err := tx.QueryRowContext(ctx, `INSERT INTO invoices (number, year, seq, kind, order_id, issued_at, currency, total_minor)
					VALUES ($1, 2027, $2, 'credit_note', $3, $4, 'EUR', $5) RETURNING id`, fmt.Sprintf("CN-B%d", seq), 100+seq, order, at("2027-03-15 10:00:00"), -(net + tax)).Scan(&cn); err != nil {
					return err
				}
				var r int64
				if err := tx.QueryRowContext(ctx, `INSERT INTO refunds (order_id, credit_note_id, state, currency, net_minor, tax_minor, gross_minor, provider, reason, cause, created_at)
					VALUES ($1, $2, 'done', 'EUR', $3, $4, $5, 'stripe', 'test', 'staff:1', $6) RETURNING id`, order, cn, net, tax, net+tax, at("2027-03-15 10:00:00")).Scan(&r); err != nil {
					return err
				}
				if !withLine {
					return nil
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO refund_lines (refund_id, order_line_id, quantity, net_minor, tax_minor, gross_minor) VALUES ($1, $2, 1, $3, $4, $5)`,
					r, line, net, tax, net+tax)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		refund(1, 5000, 1000, true) // the Mailguard line of BBBB-0001
		refund(2, 1000, 200, false) // an amount refunded in Stripe's dashboard

		s, err := reports.Revenue(ctx, d, db.Month, at("2027-03-01 00:00:00"), at("2027-04-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		// Sold: 15000 + 3000 net (BBBB-0003 was never paid); returned:
		// 5000 and 1000 of BBBB-0001, and all 3000 of BBBB-0002.
		got := s.Points[0].ByCurrency["EUR"]
		if got.NetMinor != 18000-9000 || got.GrossMinor != 21600-10800 || got.Orders != 2 || got.Refunds != 3 {
			t.Fatalf("March: %+v, want net 9000, gross 10800, 2 orders, 3 refunds", got)
		}
		rep, err := reports.SalesReport(ctx, d, at("2027-03-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Totals) != 1 || rep.Totals[0].NetMinor != 9000 || rep.Totals[0].TaxMinor != 1800 {
			t.Fatalf("the sales report's totals: %+v, want net 9000, tax 1800", rep.Totals)
		}
		bp, err := reports.ByProduct(ctx, d, at("2027-03-01 00:00:00"), at("2027-04-01 00:00:00"))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range bp {
			if p.Product == "Mailguard" && p.NetMinor != 5000+3000-5000-3000 {
				t.Errorf("Mailguard: %+v, want net 0 (sold 8000, all of it returned)", p)
			}
		}
	})
}

// TestDayCacheGivesWhatTheDatabaseSays: the cached revenue equals a fresh
// read on the same data, shows today's sale at once, and moves on with the
// day (a new day reads the finished days again).
func TestDayCacheGivesWhatTheDatabaseSays(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seed(t, d, knownSales)
		var c reports.DayCache
		from, to := at("2027-01-01 00:00:00"), at("2027-03-01 00:00:00")
		now := at("2027-02-02 12:00:00")
		for range 2 { // the second from the cache
			got, err := c.Revenue(ctx, d, from, to, now)
			if err != nil {
				t.Fatal(err)
			}
			want, err := reports.Revenue(ctx, d, db.Day, from, to)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("cached:\n%v\nfresh:\n%v", got, want)
			}
		}
		// A sale of today shows at once.
		seed(t, d, []sale{{number: "CCCC-0001", status: "paid", provider: "stripe", currency: "EUR", created: now, paid: now,
			treatment: "domestic", taxCountry: "AT", country: "AT", lines: []line{{"Mailguard", 4200, 840, 2000}}}})
		got, err := c.Revenue(ctx, d, from, to, now)
		if err != nil {
			t.Fatal(err)
		}
		fresh, _ := reports.Revenue(ctx, d, db.Day, from, to)
		if fmt.Sprint(got) != fmt.Sprint(fresh) {
			t.Fatal("today's sale is not in the cached figures")
		}
		for _, p := range got.Points {
			if p.Start.Equal(at("2027-02-02 00:00:00")) && p.ByCurrency["EUR"].NetMinor != 4200-1000 {
				t.Fatalf("today: %+v, want the sale of 4200 less the refund of 1000", p.ByCurrency["EUR"])
			}
		}
		// Tomorrow, today's figures are among the finished days.
		got, err = c.Revenue(ctx, d, from, to, now.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := reports.Revenue(ctx, d, db.Day, from, to)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatal("the next day's cached figures differ from the database's")
		}
	})
}
