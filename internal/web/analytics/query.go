package analytics

import (
	"net/url"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/refuse"
)

// query is what the dashboard's address asks for: a preset (?days=30) or
// a custom range (?from=...&to=...), and whether to compare with the
// previous period (?compare=none turns it off).
type query struct {
	Range   report.Range
	Days    int // the preset, 0 for a custom range
	Compare bool
	// From and To are the form's fields: as typed when refused, else the
	// range's days.
	From, To string
}

// parseQuery reads the dashboard's query parameters, refusing what the
// dashboard cannot show with a message that says what to change.
func parseQuery(v url.Values, now time.Time) (query, error) {
	q := query{Compare: true, From: v.Get("from"), To: v.Get("to")}
	switch c := v.Get("compare"); c {
	case "", "previous":
	case "none":
		q.Compare = false
	default:
		e := refuse.Field("compare", "Compare with \"previous\" (the period before) or \"none\".")
		return q, e
	}
	var err error
	switch {
	case q.From != "" || q.To != "":
		q.Range, err = report.ParseRange(q.From, q.To, now)
	case v.Get("days") != "":
		q.Range, err = report.ParseDays(v.Get("days"), now)
		q.Days = q.Range.Days()
	default:
		q.Range, q.Days = report.Last(report.DefaultDays, now), report.DefaultDays
	}
	if err != nil {
		return q, err
	}
	q.From, q.To = q.Range.FromText(), q.Range.ToText()
	return q, nil
}

// values is the query as parameters, for links that keep it.
func (q query) values() url.Values {
	v := url.Values{}
	if q.Days > 0 {
		v.Set("days", strconv.Itoa(q.Days))
	} else {
		v.Set("from", q.Range.FromText())
		v.Set("to", q.Range.ToText())
	}
	if !q.Compare {
		v.Set("compare", "none")
	}
	return v
}

// exportHref is the CSV export of one table of the dashboard as shown.
func (q query) exportHref(table string) string {
	v := q.values()
	v.Set("dim", table)
	return "/staff/analytics/export.csv?" + v.Encode()
}
