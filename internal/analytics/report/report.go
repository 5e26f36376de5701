package report

import (
	"context"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
)

// Dim is a dimension of analytics_daily.
type Dim string

// The dimensions the roll-up writes. Total has one value, "".
const (
	Total       Dim = "total"
	Page        Dim = "page"
	Referrer    Dim = "referrer"
	UTMSource   Dim = "utm_source"
	UTMMedium   Dim = "utm_medium"
	UTMCampaign Dim = "utm_campaign"
	Browser     Dim = "browser"
	Device      Dim = "device"
	Screen      Dim = "screen"
	Country     Dim = "country"
)

// Dims lists the dimensions with values, in the dashboard's order.
var Dims = []Dim{Page, Referrer, UTMSource, UTMMedium, UTMCampaign, Browser, Device, Screen, Country}

// Label names the dimension for people.
func (d Dim) Label() string {
	switch d {
	case Total:
		return "All pages"
	case Page:
		return "Page"
	case Referrer:
		return "Referrer"
	case UTMSource:
		return "Campaign source (utm_source)"
	case UTMMedium:
		return "Campaign medium (utm_medium)"
	case UTMCampaign:
		return "Campaign (utm_campaign)"
	case Browser:
		return "Browser"
	case Device:
		return "Device"
	case Screen:
		return "Screen size"
	case Country:
		return "Country"
	}
	return string(d)
}

// Empty names the value "" of the dimension: a view without a referrer
// came directly (or its referrer was withheld), one without a campaign
// parameter had none.
func (d Dim) Empty() string {
	switch d {
	case Referrer:
		return "Direct or none"
	case UTMSource, UTMMedium, UTMCampaign:
		return "None"
	}
	return "Unknown"
}

// ErrBadDim refuses a dimension that is not one of Dims.
var ErrBadDim = refuse.New(refuse.Invalid, "analytics_bad_dim", "")

// ParseDim reads a dimension's name.
func ParseDim(s string) (Dim, error) {
	for _, d := range Dims {
		if string(d) == s {
			return d, nil
		}
	}
	e := ErrBadDim.Withf("There is no table %q: choose one of page, referrer, utm_source, utm_medium, utm_campaign, browser, device, screen, country.", clip(s))
	e.Field = "dim"
	return "", e
}

// Counts are the summed counts of some rows of analytics_daily.
type Counts struct {
	Views, Visitors, Entries, Exits, Bounces int64
	EngagedMS, EngagedViews                  int64
}

// AvgEngaged is the average engaged time (page visible and focused) of
// the views that reported one; 0 when none did.
func (c Counts) AvgEngaged() time.Duration {
	if c.EngagedViews == 0 {
		return 0
	}
	return time.Duration(c.EngagedMS/c.EngagedViews) * time.Millisecond
}

// BounceRate is the share of visitors who entered here and saw nothing
// else that day: bounces over entries (for the total, every visitor
// enters once a day, so over visitors when entries were not counted).
// ok is false when nobody entered.
func (c Counts) BounceRate() (rate float64, ok bool) {
	n := c.Entries
	if n == 0 {
		n = c.Visitors
	}
	if n == 0 {
		return 0, false
	}
	return float64(c.Bounces) / float64(n), true
}

// Change is the relative change from prev to cur (0.25 for +25 %); ok is
// false when prev is zero, where no ratio exists.
func Change(cur, prev int64) (ratio float64, ok bool) {
	if prev == 0 {
		return 0, false
	}
	return float64(cur-prev) / float64(prev), true
}

// countCols are the summed columns, in Counts' order.
const countCols = `views, visitors, entries, exits, bounces, engaged_ms, engaged_views`

func (c *Counts) dest() []any {
	return []any{&c.Views, &c.Visitors, &c.Entries, &c.Exits, &c.Bounces, &c.EngagedMS, &c.EngagedViews}
}

// Totals sums the whole site's counts over r.
func Totals(ctx context.Context, q db.Querier, r Range) (Counts, error) {
	var c Counts
	err := q.QueryRowContext(ctx, `SELECT COALESCE(sum(views), 0), COALESCE(sum(visitors), 0), COALESCE(sum(entries), 0),
		COALESCE(sum(exits), 0), COALESCE(sum(bounces), 0), COALESCE(sum(engaged_ms), 0), COALESCE(sum(engaged_views), 0)
		FROM analytics_daily WHERE dim = 'total' AND day >= $1 AND day <= $2`, r.FromText(), r.ToText()).Scan(c.dest()...)
	if err != nil {
		return Counts{}, fmt.Errorf("analytics totals: %w", err)
	}
	return c, nil
}

// DayCounts are one day's counts.
type DayCounts struct {
	Day time.Time
	Counts
}

// Series is the whole site's counts per day of r, a day without figures
// as zeros, so a chart has a point for every day.
func Series(ctx context.Context, q db.Querier, r Range) ([]DayCounts, error) {
	out := make([]DayCounts, r.Days())
	for i, d := range r.Dates() {
		out[i].Day = d
	}
	rows, err := q.QueryContext(ctx, `SELECT day, `+countCols+` FROM analytics_daily
		WHERE dim = 'total' AND value = '' AND day >= $1 AND day <= $2 ORDER BY day`, r.FromText(), r.ToText())
	if err != nil {
		return nil, fmt.Errorf("analytics series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var c Counts
		if err := rows.Scan(append([]any{&day}, c.dest()...)...); err != nil {
			return nil, fmt.Errorf("analytics series: %w", err)
		}
		t, err := time.Parse(time.DateOnly, day)
		if err != nil {
			return nil, fmt.Errorf("analytics series: day %q: %w", day, err)
		}
		if i := int(t.Sub(r.From) / (24 * time.Hour)); i >= 0 && i < len(out) {
			out[i].Counts = c
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics series: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("analytics series: %w", err)
	}
	return out, nil
}

// Row is one value of a dimension with its counts in the range and, when
// compared, in the previous period.
type Row struct {
	Value     string
	Cur, Prev Counts
}

// topSQL sums a dimension's values over the previous period (cur = 0)
// and the range (cur = 1) at once, keeping the values seen in the range,
// the most viewed first. Each period is read in three parts (see split):
// the days before its first whole month and those after its last from
// analytics_daily, the whole months between from analytics_monthly. A
// part that is not there has empty bounds, which no row is in.
const topSQL = `WITH r AS (
	SELECT 0 AS cur, value, ` + countCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $2 AND day <= $3
	UNION ALL SELECT 0, value, ` + countCols + ` FROM analytics_monthly WHERE dim = $1 AND month >= $4 AND month <= $5
	UNION ALL SELECT 0, value, ` + countCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $6 AND day <= $7
	UNION ALL SELECT 1, value, ` + countCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $8 AND day <= $9
	UNION ALL SELECT 1, value, ` + countCols + ` FROM analytics_monthly WHERE dim = $1 AND month >= $10 AND month <= $11
	UNION ALL SELECT 1, value, ` + countCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $12 AND day <= $13
)
SELECT value,
	sum(CASE WHEN cur = 1 THEN views ELSE 0 END), sum(CASE WHEN cur = 1 THEN visitors ELSE 0 END),
	sum(CASE WHEN cur = 1 THEN entries ELSE 0 END), sum(CASE WHEN cur = 1 THEN exits ELSE 0 END),
	sum(CASE WHEN cur = 1 THEN bounces ELSE 0 END), sum(CASE WHEN cur = 1 THEN engaged_ms ELSE 0 END),
	sum(CASE WHEN cur = 1 THEN engaged_views ELSE 0 END),
	sum(CASE WHEN cur = 0 THEN views ELSE 0 END), sum(CASE WHEN cur = 0 THEN visitors ELSE 0 END),
	sum(CASE WHEN cur = 0 THEN entries ELSE 0 END), sum(CASE WHEN cur = 0 THEN exits ELSE 0 END),
	sum(CASE WHEN cur = 0 THEN bounces ELSE 0 END), sum(CASE WHEN cur = 0 THEN engaged_ms ELSE 0 END),
	sum(CASE WHEN cur = 0 THEN engaged_views ELSE 0 END)
FROM r
GROUP BY value
HAVING sum(CASE WHEN cur = 1 THEN views ELSE 0 END) > 0
ORDER BY 2 DESC, value
LIMIT $14`

// parts are a range as topSQL reads it: the days before its first whole
// month (Head), its whole months (Months, YYYY-MM) and the days after
// them (Tail), each as first and last, empty strings when empty. A range
// without a whole month is all Head.
type parts struct {
	Head, Months, Tail [2]string
}

// split cuts r into parts. A year is at most 12 whole months and two
// ends of under a month each: some 400 rows per value at most become
// about 70.
func split(r Range) parts {
	var p parts
	first := time.Date(r.From.Year(), r.From.Month(), 1, 0, 0, 0, 0, time.UTC) // the first whole month's first day
	if !first.Equal(r.From) {
		first = first.AddDate(0, 1, 0)
	}
	end := time.Date(r.To.Year(), r.To.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0) // the day after the last whole month
	if !end.AddDate(0, 0, -1).Equal(r.To) {
		end = end.AddDate(0, -1, 0)
	}
	if !first.Before(end) { // no whole month
		p.Head = [2]string{r.FromText(), r.ToText()}
		return p
	}
	if first.After(r.From) {
		p.Head = [2]string{r.FromText(), first.AddDate(0, 0, -1).Format(time.DateOnly)}
	}
	p.Months = [2]string{first.Format("2006-01"), end.AddDate(0, -1, 0).Format("2006-01")}
	if end.Before(r.To) || end.Equal(r.To) {
		p.Tail = [2]string{end.Format(time.DateOnly), r.ToText()}
	}
	return p
}

func (p parts) args() []any {
	return []any{p.Head[0], p.Head[1], p.Months[0], p.Months[1], p.Tail[0], p.Tail[1]}
}

// MaxExport bounds a CSV export's rows (Each): more distinct values than
// this in one range are cut, the least viewed first.
const MaxExport = 100_000

// Top is the n most viewed values of dim in r, with the previous period's
// counts when compare is set.
func Top(ctx context.Context, q db.Querier, dim Dim, r Range, compare bool, n int) ([]Row, error) {
	var out []Row
	err := Each(ctx, q, dim, r, compare, n, func(row Row) error {
		out = append(out, row)
		return nil
	})
	return out, err
}

// Each calls fn with the values of dim in r, the most viewed first, at
// most limit of them, as Top finds them; for exports. Whole months are
// read from analytics_monthly, the days at either end from
// analytics_daily: the sums are the same, from far fewer rows. A short
// list over a range with such days is found through the months' bounds
// (see boundedSQL): the same rows again.
func Each(ctx context.Context, q db.Querier, dim Dim, r Range, compare bool, limit int, fn func(Row) error) error {
	if bounded(r, limit) {
		rows, _, ok, err := topBounded(ctx, q, boundedSQL, dim, r, compare, limit, boundedFirst(limit))
		if err != nil {
			return err
		}
		if ok {
			for _, row := range rows {
				if err := fn(row); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return eachSummed(ctx, q, dim, r, compare, limit, fn)
}

// eachSummed is Each with topSQL: every value of the range summed.
func eachSummed(ctx context.Context, q db.Querier, dim Dim, r Range, compare bool, limit int, fn func(Row) error) error {
	var prev parts // none unless compared
	if compare {
		prev = split(r.Previous())
	}
	args := append(append([]any{string(dim)}, prev.args()...), split(r).args()...)
	rows, err := q.QueryContext(ctx, topSQL, append(args, limit)...)
	if err != nil {
		return fmt.Errorf("analytics top %s: %w", dim, err)
	}
	defer rows.Close()
	for rows.Next() {
		var row Row
		if err := rows.Scan(append(append([]any{&row.Value}, row.Cur.dest()...), row.Prev.dest()...)...); err != nil {
			return fmt.Errorf("analytics top %s: %w", dim, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("analytics top %s: %w", dim, err)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("analytics top %s: %w", dim, err)
	}
	return nil
}

// Funnel is one product's steps from its page to an activated license
// ("" for all products together).
type Funnel struct {
	Product                             string
	ProductVisitors, CheckoutVisitors   int64
	OrdersPaid, Activated               int64
	PrevProductVisitors, PrevOrdersPaid int64
}

// Steps are the funnel's counts in order, for charts and tables.
func (f Funnel) Steps() []int64 {
	return []int64{f.ProductVisitors, f.CheckoutVisitors, f.OrdersPaid, f.Activated}
}

// StepNames name Steps.
var StepNames = []string{"Viewed the product (visitor-days)", "Went on to the checkout (visitor-days)", "Orders paid", "Licenses activated"}

// Rate is step i's count over step i-1's (the conversion into step i);
// ok is false for the first step and when the step before is zero.
func (f Funnel) Rate(i int) (rate float64, ok bool) {
	s := f.Steps()
	if i <= 0 || i >= len(s) || s[i-1] == 0 {
		return 0, false
	}
	return float64(s[i]) / float64(s[i-1]), true
}

// Overall is orders paid over product visitors; ok false when nobody
// viewed the product.
func (f Funnel) Overall() (rate float64, ok bool) {
	if f.ProductVisitors == 0 {
		return 0, false
	}
	return float64(f.OrdersPaid) / float64(f.ProductVisitors), true
}

// Funnels sums the funnel of each product over r, all products ("") first,
// then by product; with compare, the previous period's first and last
// counts too. Products without a count in r are left out.
func Funnels(ctx context.Context, q db.Querier, r Range, compare bool) ([]Funnel, error) {
	first := r.From
	if compare {
		first = r.Previous().From
	}
	rows, err := q.QueryContext(ctx, `SELECT product,
		sum(CASE WHEN day >= $1 THEN product_visitors ELSE 0 END), sum(CASE WHEN day >= $1 THEN checkout_visitors ELSE 0 END),
		sum(CASE WHEN day >= $1 THEN orders_paid ELSE 0 END), sum(CASE WHEN day >= $1 THEN activated ELSE 0 END),
		sum(CASE WHEN day < $1 THEN product_visitors ELSE 0 END), sum(CASE WHEN day < $1 THEN orders_paid ELSE 0 END)
		FROM analytics_funnel WHERE day >= $2 AND day <= $3
		GROUP BY product
		HAVING sum(CASE WHEN day >= $1 THEN product_visitors + checkout_visitors + orders_paid + activated ELSE 0 END) > 0
		ORDER BY product`, r.FromText(), first.Format(time.DateOnly), r.ToText())
	if err != nil {
		return nil, fmt.Errorf("analytics funnel: %w", err)
	}
	defer rows.Close()
	var out []Funnel
	for rows.Next() {
		var f Funnel
		if err := rows.Scan(&f.Product, &f.ProductVisitors, &f.CheckoutVisitors, &f.OrdersPaid, &f.Activated,
			&f.PrevProductVisitors, &f.PrevOrdersPaid); err != nil {
			return nil, fmt.Errorf("analytics funnel: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics funnel: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("analytics funnel: %w", err)
	}
	return out, nil
}

// HasData reports whether the roll-up has written any figures yet, on any
// day: the dashboard explains where figures come from when it has not.
func HasData(ctx context.Context, q db.Querier) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM analytics_daily WHERE dim = 'total' LIMIT 1) x`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("analytics has data: %w", err)
	}
	return n > 0, nil
}

// HasCountries reports whether any view in r was placed in a country:
// without a GeoIP database (--geoip-db) every view's country is "".
func HasCountries(ctx context.Context, q db.Querier, r Range) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM analytics_daily
		WHERE dim = 'country' AND day >= $1 AND day <= $2 AND value <> '' LIMIT 1) x`, r.FromText(), r.ToText()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("analytics has countries: %w", err)
	}
	return n > 0, nil
}
