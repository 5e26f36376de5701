package analytics

import (
	"context"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web/svgchart"
	"golang.org/x/sync/errgroup"
)

// How many values the dashboard lists per table; the CSV has them all.
const (
	topN   = 10
	smallN = 8 // browsers, devices, screens, countries
)

// dashboardPage is the content of dashboard.html.
type dashboardPage struct {
	Query   query
	Error   string // a refused query: what to change
	Presets []preset
	// HasData is false until the roll-up has written a first day.
	HasData bool
	Range   string
	Prev    string
	Days    int
	Cards   []card
	Chart   chart
	Pages   table
	Time    timeTable
	Sources []table // referrers and the campaign parameters
	Tech    []table // browsers, devices, screens
	// HasCountries is false when no view in the range was placed in a
	// country (no GeoIP database).
	HasCountries bool
	Countries    table
	Funnels      []funnel
	DaysCSV      string
	FunnelCSV    string
}

type preset struct {
	Days    int
	Href    string
	Current bool
}

// card is one total with its previous period's value and the change.
type card struct {
	ID, Label, Value, Prev, Change, Note string
}

// chart is the views per day: the picture and the same numbers as rows.
type chart struct {
	SVG  template.HTML
	Rows []dayRow
}

type dayRow struct {
	Day, Views, Visitors, Avg       string
	PrevDay, PrevViews, PrevVisitor string
}

// table is the top values of one dimension.
type table struct {
	ID, Title, Dim, Note, CSV string
	SVG                       template.HTML
	Rows                      []valueRow
}

type valueRow struct {
	Value                                 string
	Views, Visitors, Entries, Exits       string
	Bounce, Avg, PrevViews, Change, Share string
}

// timeTable is the average engaged time of the most viewed pages.
// tableArgs is what the "dimtable" template takes.
type tableArgs struct {
	T       table
	Compare bool
}

type timeTable struct {
	SVG  template.HTML
	Rows []timeRow
}

type timeRow struct{ Page, Avg, EngagedViews, PrevAvg string }

// funnel is one product's funnel.
type funnel struct {
	ID, Product, Overall, PrevOverall string
	SVG                               template.HTML
	Steps                             []funnelStep
}

type funnelStep struct{ Name, Count, Rate string }

func (s *handler) dashboard(w http.ResponseWriter, r *http.Request) error {
	now := s.clock.Now()
	q, err := parseQuery(r.URL.Query(), now)
	page := dashboardPage{Query: q}
	page.Presets = presets(q)
	if err != nil {
		rf, ok := refuse.As(err)
		if !ok {
			return err
		}
		// A query parameter out of its range: 400, with the form to put
		// it right.
		page.Error = rf.Msg
		return s.render(w, r, http.StatusBadRequest, "dashboard.html", "Analytics", page)
	}
	if err := s.fill(r.Context(), &page); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "dashboard.html", "Analytics", page)
}

func presets(q query) []preset {
	var out []preset
	for _, n := range report.Presets {
		p := q
		p.Days = n
		out = append(out, preset{Days: n, Href: "/staff/analytics?" + p.values().Encode(), Current: q.Days == n})
	}
	return out
}

// fill reads every figure of the page.
//
// The page's statements do not depend on each other, so they run a few at
// a time (fillParallel): on PostgreSQL each on its own connection of the
// pool, on SQLite on the readers' connections (WAL). The page then waits
// for its slowest statement, the top pages, rather than for their sum;
// docs/benchmarks.md, "Analytics dashboard at 10 million page views", has
// the figures with and without.
func (s *handler) fill(ctx context.Context, p *dashboardPage) error {
	q := p.Query
	var err error
	if p.HasData, err = report.HasData(ctx, s.db); err != nil || !p.HasData {
		return err
	}
	rng, prev := q.Range, q.Range.Previous()
	p.Range, p.Prev, p.Days = rng.String(), prev.String(), rng.Days()
	p.DaysCSV, p.FunnelCSV = q.exportHref("days"), q.exportHref("funnel")

	var (
		cur, before        report.Counts
		series, prevSeries []report.DayCounts
		pages              []report.Row
		sources            = make([][]report.Row, len(sourceDims))
		tech               = make([][]report.Row, len(techDims))
		countries          bool
		countryRows        []report.Row
		fs                 []report.Funnel
		names              map[string]string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fillParallel)
	do := func(f func(ctx context.Context) error) { g.Go(func() error { return f(gctx) }) }
	// The slowest first, so that the others run beside it.
	do(func(ctx context.Context) (err error) {
		pages, err = report.Top(ctx, s.db, report.Page, rng, q.Compare, topN)
		return err
	})
	for i, d := range sourceDims {
		do(func(ctx context.Context) (err error) {
			sources[i], err = report.Top(ctx, s.db, d, rng, q.Compare, topN)
			return err
		})
	}
	do(func(ctx context.Context) (err error) {
		if cur, err = report.Totals(ctx, s.db, rng); err == nil && q.Compare {
			before, err = report.Totals(ctx, s.db, prev)
		}
		return err
	})
	do(func(ctx context.Context) (err error) {
		if series, err = report.Series(ctx, s.db, rng); err == nil && q.Compare {
			prevSeries, err = report.Series(ctx, s.db, prev)
		}
		return err
	})
	for i, d := range techDims {
		do(func(ctx context.Context) (err error) {
			tech[i], err = report.Top(ctx, s.db, d, rng, q.Compare, smallN)
			return err
		})
	}
	do(func(ctx context.Context) (err error) {
		if countries, err = report.HasCountries(ctx, s.db, rng); err == nil && countries {
			countryRows, err = report.Top(ctx, s.db, report.Country, rng, q.Compare, smallN)
		}
		return err
	})
	do(func(ctx context.Context) (err error) {
		if fs, err = report.Funnels(ctx, s.db, rng, q.Compare); err == nil {
			names, err = productNames(ctx, s)
		}
		return err
	})
	if err := g.Wait(); err != nil {
		return err
	}

	p.Cards = cards(cur, before, q.Compare)
	p.Chart = dayChart(rng, series, prevSeries)
	p.Pages = dimTable(report.Page, "pages", "Top pages", pages, cur.Views, q, "Entries: visitors whose first view of the day was this page; bounce rate: of those, the share who saw nothing else that day.")
	p.Time = timeOnPage(pages, q.Compare)
	for i, d := range sourceDims {
		p.Sources = append(p.Sources, dimTable(d, string(d), titles[d], sources[i], cur.Views, q, notes[d]))
	}
	for i, d := range techDims {
		p.Tech = append(p.Tech, dimTable(d, string(d), titles[d], tech[i], cur.Views, q, notes[d]))
	}
	if countries {
		p.HasCountries = true
		p.Countries = dimTable(report.Country, "country", titles[report.Country], countryRows, cur.Views, q, notes[report.Country])
	}
	for i, f := range fs {
		p.Funnels = append(p.Funnels, funnelView(i, f, names, q.Compare))
	}
	return nil
}

// fillParallel is how many of the page's statements run at once: the
// machine's two cores kept busy while one statement waits on the other,
// and few enough connections that several analysts' pages at once leave
// the pool (20 on PostgreSQL) to the site. A variable for the benchmark's
// one-at-a-time baseline (SetFillParallel).
var fillParallel = 3

// The tables of sources and of technology, in the page's order.
var (
	sourceDims = []report.Dim{report.Referrer, report.UTMSource, report.UTMMedium, report.UTMCampaign}
	techDims   = []report.Dim{report.Browser, report.Device, report.Screen}
)

var titles = map[report.Dim]string{
	report.Referrer:    "Referrers",
	report.UTMSource:   "Campaign sources (utm_source)",
	report.UTMMedium:   "Campaign media (utm_medium)",
	report.UTMCampaign: "Campaigns (utm_campaign)",
	report.Browser:     "Browsers",
	report.Device:      "Devices",
	report.Screen:      "Screen sizes",
	report.Country:     "Countries",
}

var notes = map[report.Dim]string{
	report.Referrer:    "The site that linked to the page, by host name. \"Direct or none\": typed in, a bookmark, or a browser that sends no referrer.",
	report.UTMSource:   "From the utm_source parameter of the address the visitor arrived at.",
	report.UTMMedium:   "From the utm_medium parameter.",
	report.UTMCampaign: "From the utm_campaign parameter.",
	report.Browser:     "Browser family, from the user agent (no version).",
	report.Device:      "Desktop, phone or tablet, from the user agent.",
	report.Screen:      "Screen width class, as the page reported it.",
	report.Country:     "From the visitor's address with the GeoIP database (--geoip-db); the address itself is not kept. Views it could not place are Unknown.",
}

func cards(cur, prev report.Counts, compare bool) []card {
	ratio := func(c report.Counts) float64 {
		if c.Visitors == 0 {
			return 0
		}
		return float64(c.Views) / float64(c.Visitors)
	}
	br := func(c report.Counts) string {
		if v, ok := c.BounceRate(); ok {
			return percent(v)
		}
		return "–"
	}
	out := []card{
		{ID: "views", Label: "Page views", Value: thousands(cur.Views), Prev: thousands(prev.Views), Change: change(cur.Views, prev.Views)},
		{ID: "visitors", Label: "Visitor-days", Value: thousands(cur.Visitors), Prev: thousands(prev.Visitors), Change: change(cur.Visitors, prev.Visitors),
			Note: "daily visitors, summed: see the note below"},
		{ID: "per-visitor", Label: "Views per visitor-day", Value: decimal(ratio(cur)), Prev: decimal(ratio(prev)),
			Change: changeF(ratio(cur), ratio(prev))},
		{ID: "engaged", Label: "Average engaged time per view", Value: duration(cur.AvgEngaged()), Prev: duration(prev.AvgEngaged()),
			Change: changeF(float64(cur.AvgEngaged()), float64(prev.AvgEngaged()))},
		{ID: "bounce", Label: "Bounce rate", Value: br(cur), Prev: br(prev), Note: "visitor-days with a single view"},
	}
	if b0, ok0 := cur.BounceRate(); ok0 {
		if b1, ok1 := prev.BounceRate(); ok1 {
			out[4].Change = points(b0 - b1)
		}
	}
	if !compare {
		for i := range out {
			out[i].Prev, out[i].Change = "", ""
		}
	}
	return out
}

func dayChart(rng report.Range, cur, prev []report.DayCounts) chart {
	var c chart
	labels := make([]string, len(cur))
	views := make([]float64, len(cur))
	var total, peak int64
	var peakDay string
	for i, d := range cur {
		labels[i] = d.Day.Format("2 Jan")
		views[i] = float64(d.Views)
		total += d.Views
		if d.Views > peak {
			peak, peakDay = d.Views, d.Day.Format("2 Jan 2006")
		}
		row := dayRow{Day: d.Day.Format("Mon 2 Jan 2006"), Views: thousands(d.Views), Visitors: thousands(d.Visitors), Avg: duration(d.AvgEngaged())}
		if i < len(prev) {
			row.PrevDay, row.PrevViews, row.PrevVisitor = prev[i].Day.Format("Mon 2 Jan 2006"), thousands(prev[i].Views), thousands(prev[i].Visitors)
		}
		c.Rows = append(c.Rows, row)
	}
	series := []svgchart.Series{{Name: "Page views, this period", Values: views}}
	desc := fmt.Sprintf("Page views per day from %s: %s in all", rng.String(), thousands(total))
	if peak > 0 {
		desc += fmt.Sprintf(", at most %s on %s", thousands(peak), peakDay)
	}
	desc += "."
	if prev != nil {
		pv := make([]float64, len(prev))
		var ptotal int64
		for i, d := range prev {
			pv[i] = float64(d.Views)
			ptotal += d.Views
		}
		series = append(series, svgchart.Series{Name: "Previous period (dashed)", Values: pv})
		desc += fmt.Sprintf(" Dashed: the previous %d days, %s in all.", len(prev), thousands(ptotal))
	}
	c.SVG = svgchart.Line{ID: "views-chart", Title: "Page views per day", Desc: desc + " The table below has the numbers.",
		Labels: labels, Series: series}.SVG()
	return c
}

// dimTable is the top values of d with a bar chart of their views.
func dimTable(d report.Dim, id, title string, rows []report.Row, totalViews int64, q query, note string) table {
	t := table{ID: id, Title: title, Dim: d.Label(), Note: note, CSV: q.exportHref(string(d))}
	var bars []svgchart.Bar
	for _, r := range rows {
		label := r.Value
		if label == "" {
			label = d.Empty()
		}
		vr := valueRow{Value: label, Views: thousands(r.Cur.Views), Visitors: thousands(r.Cur.Visitors),
			Entries: thousands(r.Cur.Entries), Exits: thousands(r.Cur.Exits), Avg: duration(r.Cur.AvgEngaged()), Bounce: "–"}
		if br, ok := r.Cur.BounceRate(); ok && r.Cur.Entries > 0 {
			vr.Bounce = percent(br)
		}
		if totalViews > 0 {
			vr.Share = percent(float64(r.Cur.Views) / float64(totalViews))
		}
		if q.Compare {
			vr.PrevViews, vr.Change = thousands(r.Prev.Views), change(r.Cur.Views, r.Prev.Views)
		}
		t.Rows = append(t.Rows, vr)
		bars = append(bars, svgchart.Bar{Label: label, Value: float64(r.Cur.Views), Text: thousands(r.Cur.Views) + " views",
			Prev: float64(r.Prev.Views), HasPrev: q.Compare})
	}
	desc := fmt.Sprintf("Page views by %s, the %d most viewed.", lower(d.Label()), len(rows))
	if q.Compare {
		desc += " A grey mark on each bar shows the previous period."
	}
	if len(rows) > 0 {
		t.SVG = svgchart.Bars{ID: id + "-chart", Title: title, Desc: desc + " The table below has the numbers.", Bars: bars}.SVG()
	}
	return t
}

func timeOnPage(pages []report.Row, compare bool) timeTable {
	var t timeTable
	var bars []svgchart.Bar
	for _, r := range pages {
		avg := r.Cur.AvgEngaged()
		row := timeRow{Page: r.Value, Avg: duration(avg), EngagedViews: thousands(r.Cur.EngagedViews)}
		if compare {
			row.PrevAvg = duration(r.Prev.AvgEngaged())
		}
		t.Rows = append(t.Rows, row)
		bars = append(bars, svgchart.Bar{Label: r.Value, Value: avg.Seconds(), Text: duration(avg),
			Prev: r.Prev.AvgEngaged().Seconds(), HasPrev: compare})
	}
	if len(bars) > 0 {
		desc := "Average engaged time (page visible and focused) of the most viewed pages."
		if compare {
			desc += " A grey mark on each bar shows the previous period."
		}
		t.SVG = svgchart.Bars{ID: "time-chart", Title: "Time on page", Desc: desc + " The table below has the numbers.", Bars: bars}.SVG()
	}
	return t
}

func productNames(ctx context.Context, s *handler) (map[string]string, error) {
	ps, err := catalog.All(ctx, s.db)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, p := range ps {
		m[p.Slug] = p.Name
	}
	return m, nil
}

func funnelView(i int, f report.Funnel, names map[string]string, compare bool) funnel {
	name := "All products"
	if f.Product != "" {
		name = names[f.Product]
		if name == "" {
			name = f.Product
		}
	}
	v := funnel{ID: "funnel-" + strconv.Itoa(i), Product: name, Overall: "–"}
	if o, ok := f.Overall(); ok {
		v.Overall = percent(o)
	}
	if compare {
		v.PrevOverall = "–"
		if f.PrevProductVisitors > 0 {
			v.PrevOverall = percent(float64(f.PrevOrdersPaid) / float64(f.PrevProductVisitors))
		}
	}
	var bars []svgchart.Bar
	for k, n := range f.Steps() {
		st := funnelStep{Name: report.StepNames[k], Count: thousands(n)}
		text := thousands(n)
		if rate, ok := f.Rate(k); ok {
			st.Rate = percent(rate)
			text += " (" + st.Rate + " of the step before)"
		} else if k > 0 {
			st.Rate = "–"
		}
		v.Steps = append(v.Steps, st)
		bars = append(bars, svgchart.Bar{Label: report.StepNames[k], Value: float64(n), Text: text})
	}
	v.SVG = svgchart.Bars{ID: v.ID + "-chart", Title: "Funnel: " + name,
		Desc: "From viewing the product to an activated license, each step with its share of the step before. The table below has the numbers.",
		Bars: bars}.SVG()
	return v
}

// Formatting, in the console's English.

func thousands(n int64) string { return svgchart.Thousands(n) }

func percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + " %" }

func decimal(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// points is a difference of two rates in percentage points.
func points(d float64) string {
	s := strconv.FormatFloat(math.Abs(d*100), 'f', 1, 64) + " points"
	switch {
	case d > 0.0005:
		return "+" + s
	case d < -0.0005:
		return "−" + s
	}
	return "no change"
}

// change is cur against prev as a signed percentage; "new" when there was
// nothing before.
func change(cur, prev int64) string {
	if prev == 0 {
		if cur == 0 {
			return "no change"
		}
		return "new"
	}
	r, _ := report.Change(cur, prev)
	return signed(r)
}

func changeF(cur, prev float64) string {
	if prev == 0 {
		if cur == 0 {
			return "no change"
		}
		return "new"
	}
	return signed((cur - prev) / prev)
}

func signed(r float64) string {
	s := strconv.FormatFloat(math.Abs(r*100), 'f', 1, 64) + " %"
	switch {
	case r > 0.0005:
		return "+" + s
	case r < -0.0005:
		return "−" + s
	}
	return "no change"
}

// duration writes an engaged time: "45 s", "2 min 5 s", "–" for none.
func duration(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	s := int64(d.Round(time.Second) / time.Second)
	if s < 60 {
		if s == 0 {
			return "under 1 s"
		}
		return strconv.FormatInt(s, 10) + " s"
	}
	return strconv.FormatInt(s/60, 10) + " min " + strconv.FormatInt(s%60, 10) + " s"
}

func lower(s string) string {
	if s == "" {
		return s
	}
	b := []byte(s)
	if b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
