// Package reports computes the figures the console shows the business:
// revenue by day, week and month, by product and by currency, the open
// orders, the bank transfers that are overdue, and the monthly sales
// report by country and tax rate an EU VAT return is filled from.
//
// Everything is summed in SQL over index ranges (migration 00025); Go
// fills in the periods without sales and formats nothing. Amounts are in
// minor units of their currency and are never added across currencies.
// Periods are calendar days, ISO weeks (Monday first) and months in UTC
// (db.Bucket).
//
// Revenue is dated by the money: a sale counts in the period its order was
// paid (orders.paid_at, which a refund or dispute does not clear), a
// refund in the period its credit note was issued, as a negative amount;
// a refund never rewrites a period already reported.
package reports

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
)

// Amount is what was sold in one currency in a period: net (before tax)
// and gross, the paid orders counted and the refunds subtracted.
type Amount struct {
	Currency             string
	NetMinor, GrossMinor int64
	Orders, Refunds      int
}

func (a *Amount) add(b Amount) {
	a.NetMinor += b.NetMinor
	a.GrossMinor += b.GrossMinor
	a.Orders += b.Orders
	a.Refunds += b.Refunds
}

// Point is one period of a series.
type Point struct {
	Start time.Time
	// ByCurrency has an entry for every currency of the series, zero
	// where nothing was sold.
	ByCurrency map[string]Amount
}

// Series is revenue per period from From to To, every period present.
type Series struct {
	Period     db.Period
	From, To   time.Time // To is the start of the period after the last
	Currencies []string  // sorted
	Points     []Point
}

// Totals are the series' amounts per currency, in Currencies' order: the
// revenue by currency.
func (s Series) Totals() []Amount {
	out := make([]Amount, len(s.Currencies))
	for i, c := range s.Currencies {
		out[i].Currency = c
		for _, p := range s.Points {
			out[i].add(p.ByCurrency[c])
		}
	}
	return out
}

// Last is the range of the n periods up to and including the one now is
// in: the range of the dashboard's charts.
func Last(p db.Period, now time.Time, n int) (from, to time.Time) {
	cur := db.PeriodStart(p, now)
	to = db.NextPeriod(p, cur)
	from = cur
	for range n - 1 {
		switch p {
		case db.Week:
			from = from.AddDate(0, 0, -7)
		case db.Month:
			from = from.AddDate(0, -1, 0)
		default:
			from = from.AddDate(0, 0, -1)
		}
	}
	return from, to
}

// paidOrders and refundedOrders are the two sources of revenue: the
// orders paid in [$1, $2) and the credit notes issued in it, as rows of
// (at, currency, net, gross, orders, refunds) with the date column named
// "at" for the bucket.
//
// A credit note counts what its refund returned (refunds, migration
// 00024: in full or per line, its own net and gross; the note's total is
// minus that gross). A credit note no refund issued counts the whole
// order when the order had been paid (a full refund recorded before
// refunds were kept), and nothing when it was never paid: that is an
// invoice reversed when its unpaid order was cancelled, which was never
// revenue.
const (
	paidOrders = `SELECT o.paid_at AS at, o.currency, o.subtotal_minor AS net, o.total_minor AS gross, 1 AS n, 0 AS r
		FROM orders o WHERE o.paid_at >= $1 AND o.paid_at < $2`
	refundedOrders = `SELECT i.issued_at AS at, i.currency, -COALESCE(r.net_minor, o.subtotal_minor) AS net, i.total_minor AS gross, 0 AS n, 1 AS r
		FROM invoices i JOIN orders o ON o.id = i.order_id LEFT JOIN refunds r ON r.credit_note_id = i.id
		WHERE i.kind = 'credit_note' AND i.issued_at >= $1 AND i.issued_at < $2 AND o.paid_at IS NOT NULL`
)

func revenueSQL(d db.Dialect, p db.Period) string {
	b := d.Bucket(p, "at")
	return `SELECT ` + b + `, currency, sum(net), sum(gross), sum(n), sum(r)
		FROM (` + paidOrders + ` UNION ALL ` + refundedOrders + `) x GROUP BY ` + b + `, currency`
}

// Revenue sums what was sold per period p between from and to (both
// rounded to the periods they fall in; to is exclusive).
func Revenue(ctx context.Context, d *db.DB, p db.Period, from, to time.Time) (Series, error) {
	s := Series{Period: p, From: db.PeriodStart(p, from), To: db.PeriodStart(p, to)}
	if s.To.Before(to) {
		s.To = db.NextPeriod(p, s.To)
	}
	rows, err := d.QueryContext(ctx, revenueSQL(d.Dialect, p), s.From, s.To)
	if err != nil {
		return s, fmt.Errorf("revenue by %s: %w", p, err)
	}
	defer rows.Close()
	got := map[time.Time]map[string]Amount{}
	currencies := map[string]bool{}
	for rows.Next() {
		var day string
		var a Amount
		if err := rows.Scan(&day, &a.Currency, &a.NetMinor, &a.GrossMinor, &a.Orders, &a.Refunds); err != nil {
			return s, fmt.Errorf("revenue by %s: %w", p, err)
		}
		start, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return s, fmt.Errorf("revenue by %s: period %q: %w", p, day, err)
		}
		if got[start] == nil {
			got[start] = map[string]Amount{}
		}
		got[start][a.Currency] = a
		currencies[a.Currency] = true
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("revenue by %s: %w", p, err)
	}
	for c := range currencies {
		s.Currencies = append(s.Currencies, c)
	}
	slices.Sort(s.Currencies)
	for at := s.From; at.Before(s.To); at = db.NextPeriod(p, at) {
		pt := Point{Start: at, ByCurrency: map[string]Amount{}}
		for _, c := range s.Currencies {
			a := got[at][c]
			a.Currency = c
			pt.ByCurrency[c] = a
		}
		s.Points = append(s.Points, pt)
	}
	return s, nil
}

// ProductAmount is what one product sold in one currency.
type ProductAmount struct {
	Product string
	Amount
	Quantity int
}

// lineRows are the order lines sold and refunded in [$1, $2), the
// line-level sources of ByProduct and the sales report: the lines of the
// orders paid; the lines each refund returned, with the refund's amounts
// and quantities; a refund of an amount without lines (made in the
// processor's dashboard) as one line of the order's country at the
// order's highest rate; and for a credit note no refund issued, of an
// order that had been paid, every line of the order (see paidOrders).
const lineRows = `SELECT o.id AS order_id, o.currency, o.tax_treatment, COALESCE(NULLIF(o.tax_country, ''), o.billing_country) AS country,
		o.billing_country, o.billing_vat_id, l.price_id, l.description, l.quantity AS qty, l.tax_rate_bp AS rate,
		l.net_minor AS net, l.tax_minor AS tax, 1 AS sign
	FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.paid_at >= $1 AND o.paid_at < $2
	UNION ALL
	SELECT o.id, o.currency, o.tax_treatment, COALESCE(NULLIF(o.tax_country, ''), o.billing_country),
		o.billing_country, o.billing_vat_id, l.price_id, l.description, rl.quantity, l.tax_rate_bp,
		-rl.net_minor, -rl.tax_minor, -1
	FROM invoices i JOIN refunds r ON r.credit_note_id = i.id JOIN orders o ON o.id = r.order_id
		JOIN refund_lines rl ON rl.refund_id = r.id JOIN order_lines l ON l.id = rl.order_line_id
	WHERE i.kind = 'credit_note' AND i.issued_at >= $1 AND i.issued_at < $2
	UNION ALL
	SELECT o.id, o.currency, o.tax_treatment, COALESCE(NULLIF(o.tax_country, ''), o.billing_country),
		o.billing_country, o.billing_vat_id, NULL, 'Refund without lines', 0,
		COALESCE((SELECT max(ol.tax_rate_bp) FROM order_lines ol WHERE ol.order_id = o.id), 0),
		-r.net_minor, -r.tax_minor, -1
	FROM invoices i JOIN refunds r ON r.credit_note_id = i.id JOIN orders o ON o.id = r.order_id
	WHERE i.kind = 'credit_note' AND i.issued_at >= $1 AND i.issued_at < $2
		AND NOT EXISTS (SELECT 1 FROM refund_lines rl WHERE rl.refund_id = r.id)
	UNION ALL
	SELECT o.id, o.currency, o.tax_treatment, COALESCE(NULLIF(o.tax_country, ''), o.billing_country),
		o.billing_country, o.billing_vat_id, l.price_id, l.description, l.quantity, l.tax_rate_bp,
		-l.net_minor, -l.tax_minor, -1
	FROM invoices i JOIN orders o ON o.id = i.order_id JOIN order_lines l ON l.order_id = o.id
	WHERE i.kind = 'credit_note' AND i.issued_at >= $1 AND i.issued_at < $2 AND o.paid_at IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.credit_note_id = i.id)`

// ByProduct sums what each product sold between from and to, per
// currency, the largest net first. A line whose price is no longer in
// the catalog counts under its description.
func ByProduct(ctx context.Context, d *db.DB, from, to time.Time) ([]ProductAmount, error) {
	rows, err := d.QueryContext(ctx, byProductSQL, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("revenue by product: %w", err)
	}
	defer rows.Close()
	var out []ProductAmount
	for rows.Next() {
		var a ProductAmount
		if err := rows.Scan(&a.Product, &a.Currency, &a.NetMinor, &a.GrossMinor, &a.Quantity, &a.Orders, &a.Refunds); err != nil {
			return nil, fmt.Errorf("revenue by product: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const byProductSQL = `SELECT COALESCE(p.name, x.description) AS product, x.currency,
			sum(x.net), sum(x.net + x.tax), sum(CASE WHEN x.sign > 0 THEN x.qty ELSE -x.qty END),
			count(DISTINCT CASE WHEN x.sign > 0 THEN x.order_id END), count(DISTINCT CASE WHEN x.sign < 0 THEN x.order_id END)
		FROM (` + lineRows + `) x LEFT JOIN prices pr ON pr.id = x.price_id LEFT JOIN editions e ON e.id = pr.edition_id
			LEFT JOIN products p ON p.id = e.product_id
		GROUP BY COALESCE(p.name, x.description), x.currency
		ORDER BY sum(x.net) DESC, COALESCE(p.name, x.description), x.currency`

// OrderRef is an order as the dashboard lists it.
type OrderRef struct {
	Number     string
	CreatedAt  time.Time
	Name       string // the billing name; personal data
	Provider   string
	Currency   string
	TotalMinor int64
}

// Total formats the order's total.
func (o OrderRef) Total() string { return catalog.FormatMoney(o.TotalMinor, o.Currency) }

// Net and Gross format the amounts.
func (a Amount) Net() string { return catalog.FormatMoney(a.NetMinor, a.Currency) }

// Gross formats the gross amount.
func (a Amount) Gross() string { return catalog.FormatMoney(a.GrossMinor, a.Currency) }

// Backlog is a set of pending orders: how many and how much per currency,
// and the first few of them.
type Backlog struct {
	Count   int
	Amounts []Amount // per currency: GrossMinor is the sum of the totals, Orders the count
	Orders  []OrderRef
}

// Open is the pending orders, the newest limit of them listed.
func Open(ctx context.Context, d *db.DB, limit int) (Backlog, error) {
	return backlog(ctx, d, openWhere, openOrder, limit)
}

// Transfer is the provider whose orders are paid by bank transfer
// against an invoice (payments.Manual).
const Transfer = "manual"

// OverdueAfter is how long after an order by invoice its transfer is
// overdue on the dashboard: the invoice asks for payment within 14 days.
const OverdueAfter = 14 * 24 * time.Hour

// Overdue is the orders by invoice still pending more than age after they
// were placed, at now, the oldest limit of them listed.
func Overdue(ctx context.Context, d *db.DB, now time.Time, age time.Duration, limit int) (Backlog, error) {
	return backlog(ctx, d, overdueWhere, overdueOrder, limit, Transfer, now.Add(-age).UTC())
}

const (
	openWhere    = `status = 'pending'`
	openOrder    = `created_at DESC, id DESC`
	overdueWhere = `status = 'pending' AND provider = $1 AND created_at < $2`
	overdueOrder = `created_at, id`
)

func backlogSQL(where, order string, limit int) (sum, list string) {
	return `SELECT currency, count(*), sum(total_minor) FROM orders WHERE ` + where + ` GROUP BY currency ORDER BY currency`,
		fmt.Sprintf(`SELECT number, created_at, billing_name, provider, currency, total_minor FROM orders WHERE %s ORDER BY %s LIMIT %d`, where, order, max(limit, 1))
}

func backlog(ctx context.Context, d *db.DB, where, order string, limit int, args ...any) (Backlog, error) {
	var b Backlog
	sumSQL, listSQL := backlogSQL(where, order, limit)
	rows, err := d.QueryContext(ctx, sumSQL, args...)
	if err != nil {
		return b, fmt.Errorf("pending orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Amount
		if err := rows.Scan(&a.Currency, &a.Orders, &a.GrossMinor); err != nil {
			return b, fmt.Errorf("pending orders: %w", err)
		}
		b.Count += a.Orders
		b.Amounts = append(b.Amounts, a)
	}
	if err := rows.Err(); err != nil {
		return b, fmt.Errorf("pending orders: %w", err)
	}
	_ = rows.Close()
	if limit <= 0 || b.Count == 0 {
		return b, nil
	}
	lrows, err := d.QueryContext(ctx, listSQL, args...)
	if err != nil {
		return b, fmt.Errorf("pending orders: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var o OrderRef
		if err := lrows.Scan(&o.Number, &o.CreatedAt, &o.Name, &o.Provider, &o.Currency, &o.TotalMinor); err != nil {
			return b, fmt.Errorf("pending orders: %w", err)
		}
		b.Orders = append(b.Orders, o)
	}
	return b, lrows.Err()
}

// SalesRow is one line of the monthly sales report: the sales of one
// country at one rate under one treatment, in one currency.
type SalesRow struct {
	Country   string // the country whose rate applied, else the buyer's
	Treatment string // orders.TaxTreatment
	RateBP    int    // basis points: 1900 is 19 %
	Currency  string
	NetMinor  int64
	TaxMinor  int64
	Orders    int // orders sold in it, net of refunded ones
}

// GrossMinor is net and tax.
func (r SalesRow) GrossMinor() int64 { return r.NetMinor + r.TaxMinor }

// Rate formats the rate as a percentage ("19", "5.5").
func (r SalesRow) Rate() string {
	s := fmt.Sprintf("%d.%02d", r.RateBP/100, r.RateBP%100)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// ReverseChargeRow is what one business buyer in another EU country
// bought under the reverse charge: the figures of the EC Sales List.
type ReverseChargeRow struct {
	Country  string
	VATID    string
	Currency string
	NetMinor int64
	Orders   int
}

// Sales is the sales report of one month.
type Sales struct {
	Month         time.Time // its first day, UTC
	Rows          []SalesRow
	ReverseCharge []ReverseChargeRow
	Totals        []SalesRow // per currency, every treatment including reverse charge
}

// ReverseCharge is the treatment listed on its own.
const reverseCharge = "reverse_charge"

const (
	salesSQL = `SELECT x.country, x.tax_treatment, x.rate, x.currency, sum(x.net), sum(x.tax),
			count(DISTINCT CASE WHEN x.sign > 0 THEN x.order_id END) - count(DISTINCT CASE WHEN x.sign < 0 THEN x.order_id END)
		FROM (` + lineRows + `) x GROUP BY x.country, x.tax_treatment, x.rate, x.currency
		ORDER BY x.currency, x.country, x.tax_treatment, x.rate`
	reverseChargeSQL = `SELECT x.billing_country, x.billing_vat_id, x.currency, sum(x.net),
			count(DISTINCT CASE WHEN x.sign > 0 THEN x.order_id END) - count(DISTINCT CASE WHEN x.sign < 0 THEN x.order_id END)
		FROM (` + lineRows + `) x WHERE x.tax_treatment = '` + reverseCharge + `'
		GROUP BY x.billing_country, x.billing_vat_id, x.currency ORDER BY x.billing_country, x.billing_vat_id, x.currency`
)

// SalesReport is the month's sales by country, treatment and rate, with
// the reverse-charge sales per buyer listed on their own, and the totals
// per currency. Refunds of the month count in it, negative.
func SalesReport(ctx context.Context, d *db.DB, month time.Time) (Sales, error) {
	s := Sales{Month: db.PeriodStart(db.Month, month)}
	from, to := s.Month, db.NextPeriod(db.Month, s.Month)
	rows, err := d.QueryContext(ctx, salesSQL, from, to)
	if err != nil {
		return s, fmt.Errorf("sales report: %w", err)
	}
	defer rows.Close()
	totals := map[string]*SalesRow{}
	for rows.Next() {
		var r SalesRow
		if err := rows.Scan(&r.Country, &r.Treatment, &r.RateBP, &r.Currency, &r.NetMinor, &r.TaxMinor, &r.Orders); err != nil {
			return s, fmt.Errorf("sales report: %w", err)
		}
		t := totals[r.Currency]
		if t == nil {
			t = &SalesRow{Currency: r.Currency}
			totals[r.Currency] = t
		}
		t.NetMinor += r.NetMinor
		t.TaxMinor += r.TaxMinor
		t.Orders += r.Orders
		if r.Treatment != reverseCharge {
			s.Rows = append(s.Rows, r)
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("sales report: %w", err)
	}
	_ = rows.Close()
	for _, t := range totals {
		s.Totals = append(s.Totals, *t)
	}
	slices.SortFunc(s.Totals, func(a, b SalesRow) int { return strings.Compare(a.Currency, b.Currency) })
	rc, err := d.QueryContext(ctx, reverseChargeSQL, from, to)
	if err != nil {
		return s, fmt.Errorf("sales report, reverse charge: %w", err)
	}
	defer rc.Close()
	for rc.Next() {
		var r ReverseChargeRow
		if err := rc.Scan(&r.Country, &r.VATID, &r.Currency, &r.NetMinor, &r.Orders); err != nil {
			return s, fmt.Errorf("sales report, reverse charge: %w", err)
		}
		s.ReverseCharge = append(s.ReverseCharge, r)
	}
	return s, rc.Err()
}

// Regroup sums a series by day into periods p from from to to (rounded as
// Revenue rounds them), without asking the database again: the dashboard
// reads the days of a year once and draws its weeks and months from them.
// Days outside s count nowhere; ask for a range s covers.
func (s Series) Regroup(p db.Period, from, to time.Time) Series {
	out := Series{Period: p, From: db.PeriodStart(p, from), To: db.PeriodStart(p, to), Currencies: s.Currencies}
	if out.To.Before(to) {
		out.To = db.NextPeriod(p, out.To)
	}
	index := map[time.Time]int{}
	for at := out.From; at.Before(out.To); at = db.NextPeriod(p, at) {
		pt := Point{Start: at, ByCurrency: map[string]Amount{}}
		for _, c := range s.Currencies {
			pt.ByCurrency[c] = Amount{Currency: c}
		}
		index[at] = len(out.Points)
		out.Points = append(out.Points, pt)
	}
	for _, pt := range s.Points {
		i, ok := index[db.PeriodStart(p, pt.Start)]
		if !ok {
			continue
		}
		for c, a := range pt.ByCurrency {
			sum := out.Points[i].ByCurrency[c]
			sum.add(a)
			out.Points[i].ByCurrency[c] = sum
		}
	}
	return out
}
