package reporttest

import (
	"context"
	"fmt"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/db"
)

// TopFromMonths is report.Top as it was before the months' bounds (commit
// 9f9b472): every value of the range summed, its whole months from
// analytics_monthly and the days at either end from analytics_daily, the
// previous period cut the same way. It is the "before" of
// BenchmarkDashboard's top pages, kept as it was; report.Each still reads
// exports so.
func TopFromMonths(ctx context.Context, q db.Querier, dim report.Dim, r report.Range, compare bool, limit int) ([]report.Row, error) {
	var prev [6]string // none unless compared
	if compare {
		prev = monthsAndDays(r.Previous())
	}
	cur := monthsAndDays(r)
	args := []any{string(dim)}
	for _, s := range append(prev[:], cur[:]...) {
		args = append(args, s)
	}
	rows, err := q.QueryContext(ctx, topFromMonthsSQL, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("analytics top %s from months: %w", dim, err)
	}
	defer rows.Close()
	var out []report.Row
	for rows.Next() {
		var w report.Row
		c, p := &w.Cur, &w.Prev
		if err := rows.Scan(&w.Value, &c.Views, &c.Visitors, &c.Entries, &c.Exits, &c.Bounces, &c.EngagedMS, &c.EngagedViews,
			&p.Views, &p.Visitors, &p.Entries, &p.Exits, &p.Bounces, &p.EngagedMS, &p.EngagedViews); err != nil {
			return nil, fmt.Errorf("analytics top %s from months: %w", dim, err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("analytics top %s from months: %w", dim, err)
	}
	return out, rows.Close()
}

const fromMonthsCols = `views, visitors, entries, exits, bounces, engaged_ms, engaged_views`

const topFromMonthsSQL = `WITH r AS (
	SELECT 0 AS cur, value, ` + fromMonthsCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $2 AND day <= $3
	UNION ALL SELECT 0, value, ` + fromMonthsCols + ` FROM analytics_monthly WHERE dim = $1 AND month >= $4 AND month <= $5
	UNION ALL SELECT 0, value, ` + fromMonthsCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $6 AND day <= $7
	UNION ALL SELECT 1, value, ` + fromMonthsCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $8 AND day <= $9
	UNION ALL SELECT 1, value, ` + fromMonthsCols + ` FROM analytics_monthly WHERE dim = $1 AND month >= $10 AND month <= $11
	UNION ALL SELECT 1, value, ` + fromMonthsCols + ` FROM analytics_daily WHERE dim = $1 AND day >= $12 AND day <= $13
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

// monthsAndDays cuts r as report's split does: the first and last day
// before its first whole month, its first and last whole month (YYYY-MM)
// and the first and last day after them, empty strings when empty.
func monthsAndDays(r report.Range) [6]string {
	first := time.Date(r.From.Year(), r.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	if !first.Equal(r.From) {
		first = first.AddDate(0, 1, 0)
	}
	end := time.Date(r.To.Year(), r.To.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, 1, 0)
	if !end.AddDate(0, 0, -1).Equal(r.To) {
		end = end.AddDate(0, -1, 0)
	}
	var p [6]string
	if !first.Before(end) {
		p[0], p[1] = r.FromText(), r.ToText()
		return p
	}
	if first.After(r.From) {
		p[0], p[1] = r.FromText(), first.AddDate(0, 0, -1).Format(time.DateOnly)
	}
	p[2], p[3] = first.Format("2006-01"), end.AddDate(0, -1, 0).Format("2006-01")
	if !end.After(r.To) {
		p[4], p[5] = end.Format(time.DateOnly), r.ToText()
	}
	return p
}
