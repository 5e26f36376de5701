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
// made of whole months is found without summing every value's days. The
// months that overlap the range give each value an upper bound of its
// views in the range: a month is at least the part of it in the range,
// counts being never negative, and analytics_monthly always equals the sum
// of its days (the roll-up recounts a month in the transaction that writes
// its days). Only the values with the highest bounds (the candidates) are
// summed exactly, the way topSQL sums them. Once the n-th exact count is
// beaten by the bound of every value left out, in the order topSQL uses
// (views DESC, value ASC), those n are the top n: a threshold algorithm,
// with the same rows as topSQL, from a few thousand monthly rows and a few
// hundred lookups of daily rows instead of every daily row of the range.
// docs/analytics-dashboard.md, "How long ranges stay quick", says why;
// docs/benchmarks.md has the figures.

// boundedMaxRows is the longest list read through bounds; longer ones
// (exports) sum every value with topSQL, which reads each row once.
const boundedMaxRows = 100

// boundedMaxCandidates is the most candidates an attempt sums: beyond it,
// looking every candidate's days up one by one costs more than reading
// every row once (topSQL).
const boundedMaxCandidates = 2000

// boundedFirst is how many candidates the first attempt sums for n rows:
// enough that the dashboard's last 30 and 365 days take one attempt for
// every dim on the benchmark's data (a range of a few days inside a
// month, which the month bounds loosely, takes two for pages), few enough
// that its lookups cost little.
func boundedFirst(n int) int { return 2*n + 10 }

// boundedSQL is one attempt: it sums the $4 candidates with the highest
// bounds and returns the top $5 of them with their counts, and the
// previous period's counts of those rows only, each row with certain (1
// when no value left out can be in the top $5) and need (how many values
// have a bound at least the $5-th exact count: the candidates a next
// attempt needs). One statement, so that one snapshot of the tables
// answers it while the roll-up writes.
//
// The days and months to read are lists in one text each ($6, $8, $10,
// $12: days of 10 characters, months of 7, each followed by a comma; $7,
// $9, $11 and $13 are their lengths), cut apart by n (0 to $14 - 1), so
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
const boundedSQL = `WITH RECURSIVE n(i) AS (
	SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $14
),
cur_days AS (SELECT substr($6, 11 * i + 1, 10) AS day FROM n WHERE i < $7),
cur_months AS (SELECT substr($8, 8 * i + 1, 7) AS month FROM n WHERE i < $9),
prev_days AS (SELECT substr($10, 11 * i + 1, 10) AS day FROM n WHERE i < $11),
prev_months AS (SELECT substr($12, 8 * i + 1, 7) AS month FROM n WHERE i < $13),
bound AS ( -- every value's views in the months that overlap the range
	SELECT value, sum(views) AS views FROM analytics_monthly WHERE dim = $1 AND month >= $2 AND month <= $3 GROUP BY value
),
cand AS MATERIALIZED (SELECT value FROM bound WHERE views > 0 ORDER BY views DESC, value LIMIT $4 + 0),
cand_days AS MATERIALIZED (SELECT cand.value, k.day FROM cand CROSS JOIN cur_days k),
cand_months AS MATERIALIZED (SELECT cand.value, k.month FROM cand CROSS JOIN cur_months k),
exact AS ( -- the candidates' counts in the range
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
top AS MATERIALIZED (SELECT * FROM exact ORDER BY views DESC, value LIMIT $5 + 0),
nth AS (SELECT views, value FROM top ORDER BY views DESC, value LIMIT 1 OFFSET $15 + 0),
left_out AS (SELECT views, value FROM bound WHERE views > 0 ORDER BY views DESC, value LIMIT 1 OFFSET $4 + 0),
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
		WHEN NOT EXISTS (SELECT 1 FROM left_out) THEN 1
		WHEN NOT EXISTS (SELECT 1 FROM nth) THEN 0
		WHEN (SELECT views FROM left_out) < (SELECT views FROM nth) THEN 1
		WHEN (SELECT views FROM left_out) = (SELECT views FROM nth) AND (SELECT value FROM left_out) > (SELECT value FROM nth) THEN 1
		ELSE 0 END AS certain,
	(SELECT count(*) FROM bound WHERE views > 0 AND views >= COALESCE((SELECT views FROM nth), 1)) AS need
)
SELECT verdict.certain, verdict.need, top.value,
	COALESCE(top.views, 0), COALESCE(top.visitors, 0), COALESCE(top.entries, 0), COALESCE(top.exits, 0),
	COALESCE(top.bounces, 0), COALESCE(top.engaged_ms, 0), COALESCE(top.engaged_views, 0),
	COALESCE(prev.views, 0), COALESCE(prev.visitors, 0), COALESCE(prev.entries, 0), COALESCE(prev.exits, 0),
	COALESCE(prev.bounces, 0), COALESCE(prev.engaged_ms, 0), COALESCE(prev.engaged_views, 0)
FROM verdict LEFT JOIN top ON 1 = 1 LEFT JOIN prev ON prev.value = top.value
ORDER BY top.views DESC, top.value`

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
// break it) and first candidates in the first attempt. ok is false when
// it gave up: the candidates it needs are too many (see
// boundedMaxCandidates), or the roll-up kept changing the counts between
// attempts; the caller then uses topSQL.
func topBounded(ctx context.Context, q db.Querier, query string, dim Dim, r Range, compare bool, limit, first int) (rows []Row, attempts int, ok bool, err error) {
	cd, ncd, cm, ncm := split(r).keys()
	var pd, pm string
	var npd, npm int
	if compare {
		pd, npd, pm, npm = split(r.Previous()).keys()
	}
	keys := []any{cd, ncd, cm, ncm, pd, npd, pm, npm, max(ncd, ncm, npd, npm, 1), limit - 1}
	months := []any{string(dim), r.From.Format("2006-01"), r.To.Format("2006-01")}
	k := first
	for attempts < 3 { // a second attempt is certain unless the roll-up wrote in between
		attempts++
		rows, certain, need, err := boundedAttempt(ctx, q, query, dim, append(append(months, k, limit), keys...))
		if err != nil || certain {
			return rows, attempts, err == nil, err
		}
		if need > boundedMaxCandidates {
			break
		}
		k = max(need, k+1)
	}
	return nil, attempts, false, nil
}

func boundedAttempt(ctx context.Context, q db.Querier, query string, dim Dim, args []any) (out []Row, certain bool, need int, err error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, false, 0, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	defer rows.Close()
	for rows.Next() {
		var row Row
		var value sql.NullString
		var sure int
		if err := rows.Scan(append(append([]any{&sure, &need, &value}, row.Cur.dest()...), row.Prev.dest()...)...); err != nil {
			return nil, false, 0, fmt.Errorf("analytics top %s: %w", dim, err)
		}
		certain = sure == 1
		if value.Valid {
			row.Value = value.String
			out = append(out, row)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, 0, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	if err := rows.Close(); err != nil {
		return nil, false, 0, fmt.Errorf("analytics top %s: %w", dim, err)
	}
	return out, certain, need, nil
}
