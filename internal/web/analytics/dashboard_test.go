package analytics_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, "analytics") }

// Hostile values a visitor can put in an address or a link: a page path,
// a campaign name.
const (
	evilPage     = `/<script>alert("x")</script>`
	evilCampaign = `=HYPERLINK("http://evil.example","click")`
)

// fixtures are a week (1–7 May 2026, the test clock's today is 7 May) and
// the week before.
func fixtures(t *testing.T, d *db.DB) {
	t.Helper()
	c := func(views, visitors, entries, bounces, ms, ev int64) report.Counts {
		return report.Counts{Views: views, Visitors: visitors, Entries: entries, Exits: entries, Bounces: bounces, EngagedMS: ms, EngagedViews: ev}
	}
	row := func(dim report.Dim, day, value string, c report.Counts) reporttest.Daily {
		return reporttest.Daily{Dim: dim, Day: day, Value: value, Counts: c}
	}
	rows := []reporttest.Daily{
		row(report.Total, "2026-04-27", "", c(1000, 400, 400, 100, 400_000, 400)),
		row(report.Total, "2026-05-02", "", c(1234, 500, 500, 200, 900_000, 600)),
		row(report.Total, "2026-05-06", "", c(766, 300, 300, 150, 300_000, 300)),
		row(report.Page, "2026-04-27", "/pricing", c(100, 80, 40, 10, 20_000, 20)),
		row(report.Page, "2026-05-02", "/pricing", c(150, 90, 60, 20, 120_000, 60)),
		row(report.Page, "2026-05-02", "/", c(900, 400, 380, 150, 600_000, 400)),
		row(report.Page, "2026-05-06", evilPage, c(7, 3, 3, 1, 7_000, 7)),
		row(report.Referrer, "2026-05-02", "", c(1500, 600, 600, 250, 0, 0)),
		row(report.Referrer, "2026-05-02", "news.example", c(500, 200, 200, 100, 0, 0)),
		row(report.UTMCampaign, "2026-05-02", evilCampaign, c(42, 40, 40, 5, 0, 0)),
		row(report.Browser, "2026-05-02", "Firefox", c(1200, 480, 480, 200, 0, 0)),
		row(report.Device, "2026-05-02", "phone", c(600, 250, 250, 100, 0, 0)),
		row(report.Screen, "2026-05-02", "large", c(1400, 550, 550, 230, 0, 0)),
		row(report.Country, "2026-05-02", "", c(2000, 800, 800, 350, 0, 0)),
	}
	funnel := []reporttest.FunnelDay{
		{Day: "2026-05-02", Product: "", ProductVisitors: 200, CheckoutVisitors: 50, OrdersPaid: 10, Activated: 8},
		{Day: "2026-05-02", Product: "mailguard", ProductVisitors: 200, CheckoutVisitors: 50, OrdersPaid: 10, Activated: 8},
		{Day: "2026-04-28", Product: "", ProductVisitors: 100, CheckoutVisitors: 20, OrdersPaid: 5, Activated: 5},
	}
	if err := reporttest.Insert(context.Background(), d, rows, funnel); err != nil {
		t.Fatal(err)
	}
}

type world struct {
	s                                *webtest.Site
	owner, analyst, support, finance *webtest.Browser
}

func newWorld(t *testing.T, d *db.DB) world {
	t.Helper()
	s := webtest.NewSite(t, d)
	w := world{s: s}
	for _, m := range []struct {
		b    **webtest.Browser
		role staff.Role
	}{{&w.owner, staff.Owner}, {&w.analyst, staff.Analyst}, {&w.support, staff.Support}, {&w.finance, staff.Finance}} {
		member := webtest.AddStaff(t, s, string(m.role)+"@milterworks.example", m.role, true)
		*m.b = webtest.NewBrowser(s)
		(*m.b).SignIn(t, member)
	}
	return w
}

func TestAnalystReadsTheDashboard(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		fixtures(t, d)

		res, body := w.analyst.Get(t, "/staff/analytics?days=7")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body,
			`<h1>Analytics</h1>`, `href="/staff/analytics"`, // in the navigation
			"1 May 2026 – 7 May 2026 (7 days, UTC), compared with the 7 days before: 24 Apr 2026 – 30 Apr 2026",
			// Totals: 2,000 views against 1,000 (+100 %), 800 visitor-days
			// against 400, 1,200 s over 900 engaged views, 350 of 800
			// bounced (43.8 %) against 100 of 400 (25.0 %).
			`<li class="card" id="card-views"><h2>2,000</h2>`, "&#43;100.0 %",
			`<li class="card" id="card-visitors"><h2>800</h2>`, "Visitor-days",
			`<li class="card" id="card-engaged"><h2>1 s</h2>`,
			`<li class="card" id="card-bounce"><h2>43.8 %</h2>`, "&#43;18.8 points",
			// The chart and its numbers.
			`<svg xmlns="http://www.w3.org/2000/svg" role="img"`, `aria-labelledby="views-chart-title views-chart-desc"`,
			"Page views per day from 1 May 2026 – 7 May 2026: 2,000 in all, at most 1,234 on 2 May 2026.",
			"Dashed: the previous 7 days, 1,000 in all.",
			`<th scope="row">Sat 2 May 2026</th><td class="num">1,234</td><td class="num">500</td>`,
			`<td>Mon 27 Apr 2026</td><td class="num">1,000</td>`,
			// Top pages with the previous period: / is new, /pricing +50 %.
			`<th scope="row">/</th><td class="num">900</td><td class="num">45.0 %</td><td class="num">400</td><td class="num">380</td><td class="num">380</td><td class="num">39.5 %</td><td class="num">2 s</td><td class="num">0</td><td class="num">new</td>`,
			`<th scope="row">/pricing</th><td class="num">150</td><td class="num">7.5 %</td><td class="num">90</td><td class="num">60</td><td class="num">60</td><td class="num">33.3 %</td><td class="num">2 s</td><td class="num">100</td><td class="num">&#43;50.0 %</td>`,
			// Sources: no referrer is named for what it is.
			`<th scope="row">Direct or none</th><td class="num">1,500</td>`, `<th scope="row">news.example</th>`,
			`<th scope="row">Firefox</th>`, `<th scope="row">phone</th>`, `<th scope="row">large</th>`,
			// Countries: none known without a GeoIP database.
			`id="no-countries"`, "--geoip-db",
			// The funnel: 10 of 200 paid (5.0 %), 8 of 10 activated.
			"All products: 5.0 % of product visitor-days led to a paid order (before: 5.0 %)",
			`<th scope="row">Went on to the checkout (visitor-days)</th><td class="num">50</td><td class="num">25.0 %</td>`,
			`<th scope="row">Licenses activated</th><td class="num">8</td><td class="num">80.0 %</td>`,
			"Mailguard: 5.0 %",
			// CSV links keep the range.
			`href="/staff/analytics/export.csv?days=7&amp;dim=page"`,
			`id="visitor-days"`,
		)
		// The hostile page path is text, in the table and in the chart.
		webtest.MustNotContain(t, body, `<script>alert`, `"x")</script>`)
		webtest.MustContain(t, body, `/&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)

		// Without comparison: no previous figures, no dashed line.
		res, body = w.analyst.Get(t, "/staff/analytics?days=7&compare=none")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustNotContain(t, body, "Previous period (dashed)", "Views before", "stroke-dasharray")
		webtest.MustContain(t, body, `<li class="card" id="card-views"><h2>2,000</h2>`)

		// A custom range of one day, and countries once a view has one.
		if err := reporttest.Insert(context.Background(), d, []reporttest.Daily{{Dim: report.Country, Day: "2026-05-02", Value: "DE",
			Counts: report.Counts{Views: 300, Visitors: 100}}}, nil); err != nil {
			t.Fatal(err)
		}
		res, body = w.analyst.Get(t, "/staff/analytics?from=2026-05-02&to=2026-05-02")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "2 May 2026 (1 day, UTC), compared with the 1 day before: 1 May 2026",
			`<li class="card" id="card-views"><h2>1,234</h2>`, `<th scope="row">DE</th><td class="num">300</td>`,
			`<th scope="row">Unknown</th><td class="num">2,000</td>`, `value="2026-05-02"`)
		webtest.MustNotContain(t, body, `id="no-countries"`)

		// Owners see it too.
		res, body = w.owner.Get(t, "/staff/analytics")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `aria-current="page">Last 30 days`)
	})
}

func TestWhoMayReadAnalytics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		fixtures(t, d)
		for _, path := range []string{"/staff/analytics", "/staff/analytics/export.csv?dim=page"} {
			// Support and finance do not hold stats.view (internal/staff/roles.go).
			for name, b := range map[string]*webtest.Browser{"support": w.support, "finance": w.finance} {
				res, body := b.Get(t, path)
				webtest.WantStatus(t, res, body, http.StatusForbidden)
				webtest.MustContain(t, body, "does not allow this")
				webtest.MustNotContain(t, body, "2,000", "news.example")
				_ = name
			}
			// A customer has no staff session: the staff sign-in page.
			customer, _ := webtest.SignedInCustomer(t, w.s, "bea@example.com")
			res, _ := customer.Get(t, path)
			webtest.WantRedirect(t, res, "/staff/login?next=")
			res, _ = webtest.NewBrowser(w.s).Get(t, path)
			webtest.WantRedirect(t, res, "/staff/login?next=")
		}
		// Support does not see the area in the navigation; the analyst does.
		_, body := w.support.Get(t, "/staff")
		webtest.MustNotContain(t, body, `href="/staff/analytics"`)
		_, body = w.analyst.Get(t, "/staff")
		webtest.MustContain(t, body, `href="/staff/analytics"`)
	})
}

func TestBadRangesAreExplained(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		fixtures(t, d)
		for _, tc := range []struct{ query, want string }{
			{"from=2026-05-07&to=2026-05-01", "The start (2026-05-07) is after the end (2026-05-01)"},
			{"from=2026-05-01&to=2026-05-09", "The end (2026-05-09) is in the future: the last day with figures is today, 2026-05-07."},
			{"from=2024-01-01&to=2026-05-07", "The range is 858 days long; the dashboard shows at most 400 days at once"},
			{"from=1%2F5%2F2026", "The start &#34;1/5/2026&#34; is not a date the dashboard can read: write it as YYYY-MM-DD"},
			{"days=1000", "&#34;1000&#34; is not a number of days the dashboard can show"},
			{"compare=maybe", "Compare with"},
		} {
			res, body := w.analyst.Get(t, "/staff/analytics?"+tc.query)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
			webtest.MustContain(t, body, `id="range-error"`, tc.want, `id="range-form"`)
			webtest.MustNotContain(t, body, `id="totals"`, `id="no-data"`)

			res, body = w.analyst.Get(t, "/staff/analytics/export.csv?dim=page&"+tc.query)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
			webtest.MustContain(t, body, tc.want)
			if cd := res.Header.Get("Content-Disposition"); cd != "" {
				t.Errorf("a refused export is a file: %s", cd)
			}
		}
		// The typed value comes back in the form, escaped.
		_, body := w.analyst.Get(t, `/staff/analytics?from=%22%3E%3Cb%3E`)
		webtest.MustContain(t, body, `value="&#34;&gt;&lt;b&gt;"`)
		webtest.MustNotContain(t, body, `"><b>`)
		for _, q := range []string{"dim=email", "dim="} {
			res, body := w.analyst.Get(t, "/staff/analytics/export.csv?"+q)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
			webtest.MustContain(t, body, "page, referrer, utm_source")
		}
	})
}

func TestCSVExport(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		fixtures(t, d)
		read := func(query string) [][]string {
			t.Helper()
			res, body := w.analyst.Get(t, "/staff/analytics/export.csv?"+query)
			webtest.WantStatus(t, res, body, http.StatusOK)
			if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="analytics-`) {
				t.Errorf("Content-Disposition %q", cd)
			}
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v\n%s", query, err, body)
			}
			return recs
		}
		recs := read("dim=page&days=7")
		want := [][]string{
			{"page", "views", "visitor_days", "entries", "exits", "bounces", "engaged_ms", "engaged_views",
				"previous_views", "previous_visitor_days", "previous_entries", "previous_exits", "previous_bounces", "previous_engaged_ms", "previous_engaged_views"},
			{"/", "900", "400", "380", "380", "150", "600000", "400", "0", "0", "0", "0", "0", "0", "0"},
			{"/pricing", "150", "90", "60", "60", "20", "120000", "60", "100", "80", "40", "40", "10", "20000", "20"},
			{evilPage, "7", "3", "3", "3", "1", "7000", "7", "0", "0", "0", "0", "0", "0", "0"},
		}
		if !equal(recs, want) {
			t.Errorf("page export:\n%q\nwant\n%q", recs, want)
		}
		// A campaign name that is a formula is defused.
		recs = read("dim=utm_campaign&from=2026-05-01&to=2026-05-07&compare=none")
		if len(recs) != 2 || recs[1][0] != "'"+evilCampaign || recs[1][1] != "42" || len(recs[0]) != 8 {
			t.Errorf("campaign export: %q", recs)
		}
		recs = read("dim=days&days=7")
		if len(recs) != 8 || recs[2][0] != "2026-05-02" || recs[2][1] != "1234" || recs[3][1] != "0" || recs[4][6] != "2026-04-27" || recs[4][7] != "1000" {
			t.Errorf("days export: %q", recs)
		}
		recs = read("dim=funnel&days=7")
		if len(recs) != 3 || !equal(recs[1:], [][]string{{"(all products)", "200", "50", "10", "8", "100", "5"}, {"mailguard", "200", "50", "10", "8", "0", "0"}}) {
			t.Errorf("funnel export: %q", recs)
		}
		if got := webtest.AuditActions(t, d, "analytics.exported"); len(got) != 4 || got[3].SubjectID != "page" || got[3].Detail != "2026-05-01..2026-05-07" {
			t.Errorf("exports recorded: %+v", got)
		}
	})
}

func TestEmptyDashboardExplainsWhereFiguresComeFrom(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		res, body := w.analyst.Get(t, "/staff/analytics")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `id="no-data"`, "No figures yet", "beacon", "roll-up")
		webtest.MustNotContain(t, body, `id="totals"`)

		// Figures on other days only: the range's tables say so.
		if err := reporttest.Insert(context.Background(), d, []reporttest.Daily{{Dim: report.Total, Day: "2026-01-02",
			Counts: report.Counts{Views: 5, Visitors: 1}}}, nil); err != nil {
			t.Fatal(err)
		}
		res, body = w.analyst.Get(t, "/staff/analytics?days=7&compare=none")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `<li class="card" id="card-views"><h2>0</h2>`, "No page views in this range.",
			"No product page was viewed and no order placed in this range.")
	})
}

func equal(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") {
			return false
		}
	}
	return true
}
