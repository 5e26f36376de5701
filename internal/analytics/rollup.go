package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// FunnelDays is how many days back the funnel's orders and activations
// are counted again on every roll-up: a license is often activated days
// after its order.
const FunnelDays = 35

// Rollup counts the raw rows of today and yesterday (UTC) into the daily
// aggregates and the funnel, and the orders and first activations of the
// last FunnelDays days into the funnel. Each count replaces the one
// before (an upsert of the totals, not an addition), so running it again,
// or on several instances at once, changes nothing.
func Rollup(ctx context.Context, d *db.DB, now time.Time) error {
	today := now.UTC().Truncate(24 * time.Hour)
	for _, day := range []time.Time{today.AddDate(0, 0, -1), today} {
		if err := RollupDay(ctx, d, day); err != nil {
			return err
		}
	}
	return rollupOrders(ctx, d, today.AddDate(0, 0, -FunnelDays), today.AddDate(0, 0, 1))
}

// viewDims are the dimensions counted over every view: a view of a page
// counts for that page, with the browser it was seen in, and so on.
var viewDims = []struct{ dim, column string }{
	{"page", "path"}, {"browser", "browser"}, {"device", "device"}, {"screen", "screen"}, {"country", "country"},
}

// entryDims are the sources of a visit, which count the visitor's first
// view of the day: the site or campaign that brought them.
var entryDims = []struct{ dim, column string }{
	{"referrer", "referrer_host"}, {"utm_source", "utm_source"}, {"utm_medium", "utm_medium"}, {"utm_campaign", "utm_campaign"},
}

// perView numbers each view within its visitor's day (nth from the first,
// rnth from the last, n views in all) and joins its engaged time: the
// largest a beacon reported for it, on its day or the next (a view seen
// before midnight may report after it). A replayed view (the same number
// twice in a day) counts once: the raw table has no unique index, whose
// random keys made every insert slower as the day's table grew.
const perView = `WITH u AS (
	SELECT id, at, view, visitor, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, device, screen, country,
		ROW_NUMBER() OVER (PARTITION BY view ORDER BY id) AS dup
	FROM analytics_views WHERE day = $1
), v AS (
	SELECT view, visitor, path, referrer_host, utm_source, utm_medium, utm_campaign, browser, device, screen, country,
		ROW_NUMBER() OVER (PARTITION BY visitor ORDER BY at, id) AS nth,
		ROW_NUMBER() OVER (PARTITION BY visitor ORDER BY at DESC, id DESC) AS rnth,
		COUNT(*) OVER (PARTITION BY visitor) AS n
	FROM u WHERE dup = 1
), e AS (
	SELECT view, MAX(ms) AS ms FROM analytics_engaged WHERE day IN ($1, $2) GROUP BY view
), ve AS (
	SELECT v.*, e.ms FROM v LEFT JOIN e ON e.view = v.view
)
`

const upsertDaily = ` ON CONFLICT (dim, day, value) DO UPDATE SET views = excluded.views, visitors = excluded.visitors,
	entries = excluded.entries, exits = excluded.exits, bounces = excluded.bounces,
	engaged_ms = excluded.engaged_ms, engaged_views = excluded.engaged_views`

// RollupDay counts one day's raw rows into analytics_daily and the
// visitor steps of analytics_funnel. Once the purge has deleted a day's
// raw rows it must not run for that day again; Rollup only runs it for
// today and yesterday, and the rows are kept two days.
func RollupDay(ctx context.Context, d *db.DB, day time.Time) error {
	c, err := countDay(ctx, d, day)
	if err != nil {
		return err
	}
	return tx(ctx, d, func(run func(q string, args ...any) (int64, error)) error {
		return writeDay(run, day, c, true)
	})
}

// rollupDay is RollupDay with the writes in the caller's transaction.
func rollupDay(ctx context.Context, d *db.DB, run func(q string, args ...any) (int64, error), day time.Time) error {
	c, err := countDay(ctx, d, day)
	if err != nil {
		return err
	}
	return writeDay(run, day, c, true)
}

// dayCounts is what countDay counted of one day.
type dayCounts struct {
	dialect db.Dialect
	rows    []dailyRow
	funnel  []funnelRow
}

// dayQuery counts one day's raw rows for every dimension in one
// statement: the numbered views (perView) are computed once and shared by
// each dimension's branch (a common table expression used more than once
// is materialised, by SQLite and by PostgreSQL), where one statement per
// dimension numbered the day's views ten times over.
var dayQuery = func() string {
	counts := `COUNT(*), COUNT(DISTINCT visitor),
		SUM(CASE WHEN nth = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN rnth = 1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN nth = 1 AND n = 1 THEN 1 ELSE 0 END),
		COALESCE(SUM(ms), 0), COUNT(ms)`
	// Views and engaged time of a source are those of the visitors it
	// brought (all their views that day); entries are those visitors.
	q := perView + `, s AS (
		SELECT visitor, referrer_host, utm_source, utm_medium, utm_campaign, n FROM ve WHERE nth = 1
	), t AS (
		SELECT visitor, SUM(COALESCE(ms, 0)) AS ms, COUNT(ms) AS engaged FROM ve GROUP BY visitor
	)
	SELECT 'total', '', ` + counts + ` FROM ve HAVING COUNT(*) > 0`
	for _, dm := range viewDims {
		q += `
	UNION ALL SELECT '` + dm.dim + `', ` + dm.column + `, ` + counts + ` FROM ve GROUP BY ` + dm.column
	}
	for _, dm := range entryDims {
		blank := ""
		if dm.dim != "referrer" {
			blank = ` WHERE s.` + dm.column + ` <> ''` // views without a campaign are not a campaign
		}
		q += `
	UNION ALL SELECT '` + dm.dim + `', s.` + dm.column + `, SUM(s.n), COUNT(*), COUNT(*), 0, SUM(CASE WHEN s.n = 1 THEN 1 ELSE 0 END), SUM(t.ms), SUM(t.engaged)
		FROM s JOIN t ON t.visitor = s.visitor` + blank + ` GROUP BY s.` + dm.column
	}
	return q
}()

// countDay counts one day's raw rows, on the reader pool.
func countDay(ctx context.Context, d *db.DB, day time.Time) (dayCounts, error) {
	ds, next := Day(day), Day(day.AddDate(0, 0, 1))
	// The counting reads on the reader pool, outside any transaction that
	// writes: on SQLite a write transaction holds the one write lock, and
	// a roll-up of a busy day inside it kept the beacon writer waiting
	// for tens of seconds (docs/benchmarks.md). Only the upserts of the
	// results take the lock, briefly.
	rows, err := readDaily(ctx, d, dayQuery, ds, next)
	if err != nil {
		return dayCounts{}, fmt.Errorf("analytics: roll up %s: %w", ds, err)
	}
	funnel, err := readFunnel(ctx, d, ds)
	if err != nil {
		return dayCounts{}, fmt.Errorf("analytics: roll up the funnel of %s: %w", ds, err)
	}
	return dayCounts{dialect: d.Dialect, rows: rows, funnel: funnel}, nil
}

// writeDay upserts a day's counts, and recounts its month when month is
// set and the day had views.
func writeDay(run func(q string, args ...any) (int64, error), day time.Time, c dayCounts, month bool) error {
	ds := Day(day)
	rows, funnel := c.rows, c.funnel
	for rest := rows; len(rest) > 0; {
		n := min(len(rest), upsertBatch)
		var q strings.Builder
		q.WriteString(`INSERT INTO analytics_daily (dim, day, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views) VALUES `)
		c.dialect.Rows(&q, n, 10)
		q.WriteString(upsertDaily)
		args := make([]any, 0, n*10)
		for _, r := range rest[:n] {
			args = append(args, r.dim, ds, r.value, r.views, r.visitors, r.entries, r.exits, r.bounces, r.engagedMS, r.engagedViews)
		}
		if _, err := run(q.String(), args...); err != nil {
			return fmt.Errorf("analytics: roll up %s: %w", ds, err)
		}
		rest = rest[n:]
	}
	for _, f := range funnel {
		if _, err := run(`INSERT INTO analytics_funnel (day, product, product_visitors, checkout_visitors) VALUES ($1, $2, $3, $4)
			ON CONFLICT (day, product) DO UPDATE SET product_visitors = excluded.product_visitors, checkout_visitors = excluded.checkout_visitors`,
			ds, f.product, f.visitors, f.checkouts); err != nil {
			return fmt.Errorf("analytics: roll up the funnel of %s: %w", ds, err)
		}
	}
	if len(rows) == 0 || !month {
		return nil // no view that day: no daily row changed, nor the month
	}
	if err := recountMonth(run, day); err != nil {
		return fmt.Errorf("analytics: recount the month of %s: %w", ds, err)
	}
	return nil
}

// upsertBatch is the most aggregate rows one upsert writes.
const upsertBatch = 400

// dailyRow is one row of analytics_daily as a roll-up counted it.
type dailyRow struct {
	dim, value                                                        string
	views, visitors, entries, exits, bounces, engagedMS, engagedViews int64
}

func readDaily(ctx context.Context, d *db.DB, q string, args ...any) ([]dailyRow, error) {
	rows, err := d.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []dailyRow
	for rows.Next() {
		var r dailyRow
		if err := rows.Scan(&r.dim, &r.value, &r.views, &r.visitors, &r.entries, &r.exits, &r.bounces, &r.engagedMS, &r.engagedViews); err != nil {
			_ = rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

type funnelRow struct {
	product             string
	visitors, checkouts int64
}

func readFunnel(ctx context.Context, d *db.DB, day string) ([]funnelRow, error) {
	rows, err := d.Reader().QueryContext(ctx, funnelVisitors, day)
	if err != nil {
		return nil, err
	}
	var out []funnelRow
	for rows.Next() {
		var r funnelRow
		if err := rows.Scan(&r.product, &r.visitors, &r.checkouts); err != nil {
			_ = rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// Month is t's UTC month as analytics_monthly stores it (YYYY-MM).
func Month(t time.Time) string { return t.UTC().Format("2006-01") }

// monthDims are the dimensions of analytics_daily, each recounted into
// analytics_monthly by its own statement: the primary key (dim, day,
// value) then serves each as one range.
var monthDims = func() []string {
	out := []string{"total"}
	for _, dm := range viewDims {
		out = append(out, dm.dim)
	}
	for _, dm := range entryDims {
		out = append(out, dm.dim)
	}
	return out
}()

// lockMonth takes the month's lock before it is recounted: the row lock
// of its total row (inserted if need be, updated to itself otherwise).
// On PostgreSQL, a roll-up of another day of the month on another
// instance waits here until this one commits, and its recount, whose
// statements start after that, sees this one's days; so the last to
// recount sees every day committed before it, and a month always ends
// equal to the sum of its days. (SQLite has one writer.)
const lockMonth = `INSERT INTO analytics_monthly (dim, month, value) VALUES ('total', $1, '')
	ON CONFLICT (dim, month, value) DO UPDATE SET views = analytics_monthly.views`

// recountMonthSQL sums one dimension's days of a month ($2 to before $3)
// into the month's rows ($4). Rows whose sums did not change are not
// written again. (Recounting only the values of the day rolled up was
// measured: no cheaper on SQLite, three times slower on PostgreSQL; the
// cost is reading the month's rows, some 50,000 at 10 million views a
// year, not writing them.)
const recountMonthSQL = `INSERT INTO analytics_monthly (dim, month, value, views, visitors, entries, exits, bounces, engaged_ms, engaged_views)
	SELECT dim, CAST($4 AS TEXT), value, sum(views), sum(visitors), sum(entries), sum(exits), sum(bounces), sum(engaged_ms), sum(engaged_views)
	FROM analytics_daily
	WHERE dim = $1 AND day >= $2 AND day < $3
	GROUP BY dim, value
	ON CONFLICT (dim, month, value) DO UPDATE SET views = excluded.views, visitors = excluded.visitors,
		entries = excluded.entries, exits = excluded.exits, bounces = excluded.bounces,
		engaged_ms = excluded.engaged_ms, engaged_views = excluded.engaged_views
	WHERE analytics_monthly.views <> excluded.views OR analytics_monthly.visitors <> excluded.visitors
		OR analytics_monthly.entries <> excluded.entries OR analytics_monthly.exits <> excluded.exits
		OR analytics_monthly.bounces <> excluded.bounces OR analytics_monthly.engaged_ms <> excluded.engaged_ms
		OR analytics_monthly.engaged_views <> excluded.engaged_views`

// recountMonth recounts the month of t from its days in analytics_daily,
// under the month's lock. A month's values never disappear: a day's rows
// are only ever upserted, so the month's sums only grow and every value
// the month had is still in one of its days.
func recountMonth(run func(q string, args ...any) (int64, error), t time.Time) error {
	month := Month(t)
	first := time.Date(t.UTC().Year(), t.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	from, to := Day(first), Day(first.AddDate(0, 1, 0))
	if _, err := run(lockMonth, month); err != nil {
		return err
	}
	for _, dim := range monthDims {
		if _, err := run(recountMonthSQL, dim, from, to, month); err != nil {
			return err
		}
	}
	return nil
}

// RecountMonth recounts the whole month of t in analytics_monthly from
// analytics_daily. The roll-up keeps the months up to date by itself;
// this is for daily rows written some other way (test and benchmark data).
func RecountMonth(ctx context.Context, d *db.DB, t time.Time) error {
	return tx(ctx, d, func(run func(q string, args ...any) (int64, error)) error {
		if err := recountMonth(run, t); err != nil {
			return fmt.Errorf("analytics: recount the month of %s: %w", Day(t), err)
		}
		return nil
	})
}

// funnelVisitors counts the funnel's visitor steps of a day: visitors of
// a product's page ("/products/{slug}"), and those of them who opened the
// checkout later that day; product ” counts any product page.
const funnelVisitors = `WITH pv AS (
	SELECT visitor, substr(path, 11) AS product, MIN(at) AS first_at FROM analytics_views
	WHERE day = $1 AND path LIKE '/products/%' AND path NOT LIKE '/products/%/%' AND length(path) > 10
	GROUP BY visitor, substr(path, 11)
), co AS (
	SELECT visitor, MAX(at) AS last_at FROM analytics_views WHERE day = $1 AND path = '/checkout' GROUP BY visitor
), steps AS (
	SELECT pv.product, pv.visitor, CASE WHEN co.last_at > pv.first_at THEN 1 ELSE 0 END AS checkout
	FROM pv LEFT JOIN co ON co.visitor = pv.visitor
), each_product AS (
	SELECT product, COUNT(*) AS visitors, SUM(checkout) AS checkouts FROM steps GROUP BY product
), any_product AS (
	SELECT '' AS product, COUNT(*) AS visitors, SUM(checkout) AS checkouts
	FROM (SELECT visitor, MAX(checkout) AS checkout FROM steps GROUP BY visitor) x HAVING COUNT(*) > 0
)
SELECT product, visitors, checkouts FROM (SELECT * FROM each_product UNION ALL SELECT * FROM any_product) u`

// rollupOrders counts, per day an order was placed in [from, to) and per
// product, the orders paid and those whose license has been activated
// (licenses.first_activated_at), from the shop's own records: nothing
// links them to page views. The orders of a few weeks are few; they are
// counted here rather than in SQL, where the two databases name a
// timestamp's day differently.
func rollupOrders(ctx context.Context, d *db.DB, from, to time.Time) error {
	type key struct{ day, product string }
	type count struct{ orders, activated int64 }
	counts := map[key]*count{}
	add := func(k key, activated bool) {
		c := counts[k]
		if c == nil {
			c = &count{}
			counts[k] = c
		}
		c.orders++
		if activated {
			c.activated++
		}
	}
	rows, err := d.Reader().QueryContext(ctx, `SELECT o.id, o.created_at, p.slug, MAX(CASE WHEN lic.first_activated_at IS NOT NULL THEN 1 ELSE 0 END)
		FROM orders o
		JOIN order_lines ol ON ol.order_id = o.id
		JOIN prices pr ON pr.id = ol.price_id
		JOIN editions ed ON ed.id = pr.edition_id
		JOIN products p ON p.id = ed.product_id
		LEFT JOIN licenses lic ON lic.order_line_id = ol.id
		WHERE o.created_at >= $1 AND o.created_at < $2 AND o.paid_at IS NOT NULL
		GROUP BY o.id, o.created_at, p.slug ORDER BY o.id`, from.UTC(), to.UTC())
	if err != nil {
		return fmt.Errorf("analytics: count the funnel's orders: %w", err)
	}
	type order struct {
		day       string
		activated bool
	}
	orders := map[int64]*order{}
	for rows.Next() {
		var id int64
		var at time.Time
		var product string
		var activated int
		if err := rows.Scan(&id, &at, &product, &activated); err != nil {
			_ = rows.Close()
			return fmt.Errorf("analytics: count the funnel's orders: %w", err)
		}
		day := Day(at)
		add(key{day, product}, activated == 1)
		o := orders[id]
		if o == nil {
			o = &order{day: day}
			orders[id] = o
		}
		o.activated = o.activated || activated == 1
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("analytics: count the funnel's orders: %w", err)
	}
	for _, o := range orders {
		add(key{o.day, ""}, o.activated)
	}
	return tx(ctx, d, func(run func(q string, args ...any) (int64, error)) error {
		// Days and products that no longer have a paid order (refunded
		// and purged) drop to zero.
		if _, err := run(`UPDATE analytics_funnel SET orders_paid = 0, activated = 0 WHERE day >= $1 AND day < $2`, Day(from), Day(to)); err != nil {
			return fmt.Errorf("analytics: count the funnel's orders: %w", err)
		}
		// In key order, like the UPDATE's scan of the primary key: two
		// instances recounting at once take the rows' locks in the same
		// order and cannot deadlock.
		keys := slices.SortedFunc(maps.Keys(counts), func(a, b key) int {
			return cmp.Or(strings.Compare(a.day, b.day), strings.Compare(a.product, b.product))
		})
		for _, k := range keys {
			c := counts[k]
			if _, err := run(`INSERT INTO analytics_funnel (day, product, orders_paid, activated) VALUES ($1, $2, $3, $4)
				ON CONFLICT (day, product) DO UPDATE SET orders_paid = excluded.orders_paid, activated = excluded.activated`,
				k.day, k.product, c.orders, c.activated); err != nil {
				return fmt.Errorf("analytics: count the funnel's orders: %w", err)
			}
		}
		return nil
	})
}

// tx runs fn's statements in one transaction on the writer pool (not
// db.Tx: the aggregates are not content the page cache depends on); run
// returns the rows a statement wrote.
func tx(ctx context.Context, d *db.DB, fn func(run func(q string, args ...any) (int64, error)) error) error {
	// Several instances roll up at once, each day's rows and the funnel's
	// weeks overlapping: PostgreSQL may end one transaction to break a
	// deadlock between them (TestMonthRecountOnSeveralInstancesAtOnce found
	// one between a day's funnel rows and the orders' weeks). Every
	// statement here writes totals computed before, so the victim is
	// simply run again.
	var err error
	for range 4 {
		if err = txOnce(ctx, d, fn); err == nil || !db.IsRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

func txOnce(ctx context.Context, d *db.DB, fn func(run func(q string, args ...any) (int64, error)) error) error {
	t, err := d.Writer().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = t.Rollback() }()
	if err := fn(func(q string, args ...any) (int64, error) {
		res, err := t.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}); err != nil {
		return err
	}
	return t.Commit()
}
