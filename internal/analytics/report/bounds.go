package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
)

// A short top list (the dashboard's ten pages) over a range that is not
// made of whole months is found without summing every value's days, nor
// every value's months. Each month that overlaps the range is read from
// its most viewed values down (the index analytics_monthly_views,
// migration 00039), K values per month: the seen values. A value not seen
// in a month has at most as many views there as the month's K-th, and
// none when the month has fewer than K values; so no value left unseen
// has more views in the range than the threshold, the sum of the months'
// K-th counts (a month's views are at least the part of it in the range,
// counts being never negative, and analytics_monthly always equals the sum
// of its days: the roll-up recounts a month in the transaction that writes
// its days). The seen values are summed exactly over the range, the way
// topSQL sums them; once the n-th exact count is above the threshold (or
// the threshold is 0: every value was seen), those n are the top n, in
// topSQL's order (views DESC, value ASC). Otherwise a next attempt reads
// four times as many values per month. This is Fagin's threshold
// algorithm, with the months as its sorted lists: some hundred monthly
// rows through the index and a few thousand lookups of daily rows,
// instead of every monthly row of the dim (tens of thousands for a site
// with thousands of pages) and every daily row.
// docs/analytics-dashboard.md, "How long ranges stay quick", says why;
// docs/benchmarks.md has the figures.

// boundedMaxRows is the longest list read through bounds; longer ones
// (exports) sum every value with topSQL, which reads each row once.
const boundedMaxRows = 100

// boundedMaxSeen is the most values an attempt reads (K per month times
// the months): beyond it, looking every seen value's days up one by one
// costs more than reading every row once (topSQL).
const boundedMaxSeen = 2000

// boundedMonths is the most months a range overlaps: MaxDays (400) days
// overlap at most 15 calendar months. boundedSQL reads each in a branch
// of its own, so that each is read through the index from its top down.
const boundedMonths = 15

// boundedFirst is how many values per month the first attempt reads for
// n rows: enough that the dashboard's last 30 and 365 days take one
// attempt for the benchmark's pages, few enough that the lookups cost
// little.
func boundedFirst(n int) int { return 2*n + 10 }

// boundedSQL is one attempt: it reads the $2 most viewed values of each
// month $14 ... $28 (empty for none), sums the values seen over the range
// and returns the top $3 of them with their counts, and the previous
// period's counts of those rows only, each row with certain (1 when no
// value left unseen can be in the top $3). One statement, so that one
// snapshot of the tables answers it while the roll-up writes.
//
// The days and months to sum are lists in one text each ($5, $7, $9,
// $11: days of 10 characters, months of 7, each followed by a comma; $6,
// $8, $10 and $12 are their lengths), cut apart by n (0 to $13 - 1), so
// that the statement's text is the same for every range, on both
// databases. Each value to sum is paired with each day and month first
// (cand_days, ...; MATERIALIZED keeps PostgreSQL from undoing it), so
// that every lookup names its whole primary key, (dim, day, value) or
// (dim, month, value), whatever plan the database makes without knowing
// the parameters (PostgreSQL's generic plan of a prepared statement once
// looked each candidate's months up by (dim, value), every month of the
// dimension). A LIMIT or OFFSET is "$n + 0", not "$n": SQLite reads a
// bare parameter's value there while it plans, and so plans the statement
// again (some 2 ms) whenever the value changes, every other call.
var boundedSQL = `WITH RECURSIVE n(i) AS (
	SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $13
),
cur_days AS (SELECT substr($5, 11 * i + 1, 10) AS day FROM n WHERE i < $6),
cur_months AS (SELECT substr($7, 8 * i + 1, 7) AS month FROM n WHERE i < $8),
prev_days AS (SELECT substr($9, 11 * i + 1, 10) AS day FROM n WHERE i < $10),
prev_months AS (SELECT substr($11, 8 * i + 1, 7) AS month FROM n WHERE i < $12),
seen AS MATERIALIZED ( -- each month's $2 most viewed values
` + seenBranches() + `
),
per_month AS (SELECT b, count(*) AS c, min(views) AS lo FROM seen GROUP BY b),
threshold AS ( -- the most views a value not seen can have in the range
	SELECT COALESCE(sum(CASE WHEN c = $2 THEN lo ELSE 0 END), 0) AS t FROM per_month
),
cand AS MATERIALIZED (SELECT DISTINCT value FROM seen WHERE views > 0),
cand_days AS MATERIALIZED (SELECT cand.value, k.day FROM cand CROSS JOIN cur_days k),
cand_months AS MATERIALIZED (SELECT cand.value, k.month FROM cand CROSS JOIN cur_months k),
exact AS ( -- the seen values' counts in the range
	SELECT value, sum(views) AS views, sum(visitors) AS visitors, sum(entries) AS entries, sum(exits) AS exits,
		sum(bounces) AS bounces, sum(engaged_ms) AS engaged_ms, sum(engaged_views) AS engaged_views
	FROM (
		SELECT d.value, d.` + countColsD + ` FROM cand_days k CROSS JOIN analytics_daily d
		WHERE d.dim = $1 AND d.day = k.day AND d.value = k.value
		UNION ALL SELECT m.value, m.` + countColsM + ` FROM cand_months k CROSS JOIN analytics_monthly m
		WHERE m.dim = $1 AND m.month = k.month AND m.value = k.value
	) x
	GROUP BY value
	HAVING sum(views) > 0
),
top AS MATERIALIZED (SELECT * FROM exact ORDER BY views DESC, value LIMIT $3 + 0),
nth AS (SELECT views, value FROM top ORDER BY views DESC, value LIMIT 1 OFFSET $4 + 0),
top_days AS MATERIALIZED (SELECT top.value, k.day FROM top CROSS JOIN prev_days k),
top_months AS MATERIALIZED (SELECT top.value, k.month FROM top CROSS JOIN prev_months k),
prev AS ( -- the previous period's counts of the rows returned
	SELECT value, sum(views) AS views, sum(visitors) AS visitors, sum(entries) AS entries, sum(exits) AS exits,
		sum(bounces) AS bounces, sum(engaged_ms) AS engaged_ms, sum(engaged_views) AS engaged_views
	FROM (
		SELECT d.value, d.` + countColsD + ` FROM top_days k CROSS JOIN analytics_daily d
		WHERE d.dim = $1 AND d.day = k.day AND d.value = k.value
		UNION ALL SELECT m.value, m.` + countColsM + ` FROM top_months k CROSS JOIN analytics_monthly m
		WHERE m.dim = $1 AND m.month = k.month AND m.value = k.value
	) x
	GROUP BY value
),
verdict AS (
	SELECT CASE
		WHEN (SELECT t FROM threshold) = 0 THEN 1
		WHEN NOT EXISTS (SELECT 1 FROM nth) THEN 0
		WHEN (SELECT views FROM nth) > (SELECT t FROM threshold) THEN 1
		ELSE 0 END AS certain
)
SELECT verdict.certain, top.value,
	COALESCE(top.views, 0), COALESCE(top.visitors, 0), COALESCE(top.entries, 0), COALESCE(top.exits, 0),
	COALESCE(top.bounces, 0), COALESCE(top.engaged_ms, 0), COALESCE(top.engaged_views, 0),
	COALESCE(prev.views, 0), COALESCE(prev.visitors, 0), COALESCE(prev.entries, 0), COALESCE(prev.exits, 0),
	COALESCE(prev.bounces, 0), COALESCE(prev.engaged_ms, 0), COALESCE(prev.engaged_views, 0)
FROM verdict LEFT JOIN top ON 1 = 1 LEFT JOIN prev ON prev.value = top.value
ORDER BY top.views DESC, top.value`

// seenBranches are boundedSQL's reads of the months, one branch per
// month ($14 on), each its month's $2 most viewed values, b telling the
// months apart. The inner ORDER BY views DESC, value is the index's
// order, so each branch reads K index entries and stops.
func seenBranches() string {
	var b strings.Builder
	for i := range boundedMonths {
		if i > 0 {
			b.WriteString("\n\tUNION ALL ")
		} else {
			b.WriteString("\t")
		}
		fmt.Fprintf(&b, "SELECT %d AS b, value, views FROM (SELECT value, views FROM analytics_monthly WHERE dim = $1 AND month = $%d ORDER BY views DESC, value LIMIT $2 + 0) s%d", i, 14+i, i)
	}
	return b.String()
}

// countCols of analytics_daily d and analytics_monthly m.
const (
	countColsD = `views, d.visitors, d.entries, d.exits, d.bounces, d.engaged_ms, d.engaged_views`
	countColsM = `views, m.visitors, m.entries, m.exits, m.bounces, m.engaged_ms, m.engaged_views`
)

// keys lists the days and months p reads, as boundedSQL takes them: each
// followed by a comma, in one text, with their numbers.
func (p parts) keys() (days string, nd int, months string, nm int) {
	var b strings.Builder
	for _, part := range [][2]string{p.Head, p.Tail} {
		if part[0] == "" {
			continue
		}
		from, _ := time.Parse(time.DateOnly, part[0])
		to, _ := time.Parse(time.DateOnly, part[1])
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			b.WriteString(d.Format(time.DateOnly))
			b.WriteByte(',')
			nd++
		}
	}
	days = b.String()
	b.Reset()
	if p.Months[0] != "" {
		from, _ := time.Parse("2006-01", p.Months[0])
		to, _ := time.Parse("2006-01", p.Months[1])
		for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
			b.WriteString(m.Format("2006-01"))
			b.WriteByte(',')
			nm++
		}
	}
	return days, nd, b.String(), nm
}

// bounded reports whether a top list of limit rows over r is read through
// bounds: a short list over a range with days outside whole months (a
// range of whole months is read from analytics_monthly alone, as cheaply).
func bounded(r Range, limit int) bool {
	p := split(r)
	return limit >= 1 && limit <= boundedMaxRows && (p.Head[0] != "" || p.Tail[0] != "")
}

// topBounded is the top limit values of dim in r as topSQL finds them,
// through bounds, with query as an attempt's text (boundedSQL; tests
// break it) and first values per month in the first attempt. ok is false
// when it gave up: the values it would have to read are too many (see
// boundedMaxSeen); the caller then uses topSQL.
func topBounded(ctx context.Context, q db.Querier, query string, dim Dim, r Range, compare bool, limit, first int) (rows []Row, attempts int, ok bool, err error) {
	cd, ncd, cm, ncm := split(r).keys()
	var pd, pm string
	var npd, npm int
	if compare {
		pd, npd, pm, npm = split(r.Previous()).keys()
	}
	var months []any
	for m := time.Date(r.From.Year(), r.From.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(r.To); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	if len(months) > boundedMonths {
		return nil, 0, false, nil
	}
	for len(months) < boundedMonths {
		months = append(months, "")
	}
	nmonths := 0
	for _, m := range months {
		if m != "" {
			nmonths++
		}
	}
	keys := []any{cd, ncd, cm, ncm, pd, npd, pm, npm, max(ncd, ncm, npd, npm, 1)}
	for k := max(first, 1); k*nmonths <= boundedMaxSeen; k *= 4 {
		attempts++
		args := append(append([]any{string(dim), k, limit, limit - 1}, keys...), months...)
		rows, certain, err := boundedAttempt(ctx, q, query, dim, args)
		if err != nil || certain {
			return rows, attempts, err == nil, err
		}
	}
	return nil, attempts, false, nil
}

func boundedAttempt(ctx context.Context, q db.Querier, query string, dim Dim, args []any) (out []Row, certain bool, err error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	defer rows.Close()
	for rows.Next() {
		var row Row
		var value sql.NullString
		var sure int
		if err := rows.Scan(append(append([]any{&sure, &value}, row.Cur.dest()...), row.Prev.dest()...)...); err != nil {
			return nil, false, fmt.Errorf("analytics top %s: %w", dim, err)
		}
		certain = sure == 1
		if value.Valid {
			row.Value = value.String
			out = append(out, row)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	if err := rows.Close(); err != nil {
		return nil, false, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	return out, certain, nil
}
