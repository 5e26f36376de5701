package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/web/svgchart"
)

// analyticsFacts is what the dashboard's charts say, read from the page.
type analyticsFacts struct {
	Charts   int      `json:"charts"`
	Named    int      `json:"named"`
	Lines    int      `json:"lines"`
	Dashed   int      `json:"dashed"`
	Bars     int      `json:"bars"`
	Styled   int      `json:"styled"`
	Tables   int      `json:"tables"`
	Overflow []string `json:"overflow"`
}

const readAnalytics = `(() => {
	const svgs = [...document.querySelectorAll("main svg[role=img]")];
	return {
		charts: svgs.length,
		named: svgs.filter(s => (s.getAttribute("aria-labelledby") || "").split(/\s+/).every(id => document.getElementById(id) && document.getElementById(id).textContent.trim())).length,
		lines: document.querySelectorAll("main polyline").length,
		dashed: document.querySelectorAll("main polyline[stroke-dasharray]").length,
		bars: document.querySelectorAll("main rect[data-value]").length,
		styled: document.querySelectorAll("main [style], main style").length,
		tables: document.querySelectorAll("main table").length,
		overflow: svgs.filter(s => s.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(s => s.id || s.getAttribute("aria-labelledby")),
	};
})()`

// TestAnalystReadsAnalytics: an analyst opens the analytics dashboard of a
// demo holding two months of aggregates (a vendor-sized site): totals that match the rows, a
// line chart with the previous period dashed, bar charts each with a table,
// no style attribute (the CSP forbids inline styles), and a layout that
// fits a phone. Screenshots at desktop and phone width.
func TestAnalystReadsAnalytics(t *testing.T) {
	site := startDemo(t)
	d := demoDB(t, site)
	now := time.Now().UTC()
	// The demo's own eight weeks give way to the test's two months.
	for _, table := range []string{"analytics_daily", "analytics_funnel"} {
		if _, err := d.ExecContext(context.Background(), `DELETE FROM `+table); err != nil {
			t.Fatal(err)
		}
	}
	var views30 int64
	first30 := report.Last(30, now).FromText()
	// The days are inserted at once: Insert recounts the months of its
	// rows, and a day at a time recounted a month sixty times (most of the
	// test's minute under the race detector).
	var rows []reporttest.Daily
	var funnel []reporttest.FunnelDay
	_, err := reporttest.Generate(reporttest.Traffic{Last: now, Days: 60, ViewsPerDay: 2700, Seed: 7, Shape: reporttest.Vendor}, func(day []reporttest.Daily, f []reporttest.FunnelDay) error {
		for _, r := range day {
			if r.Dim == report.Total && r.Day >= first30 {
				views30 += r.Views
			}
		}
		rows, funnel = append(rows, day...), append(funnel, f...)
		return nil
	})
	if err == nil {
		err = reporttest.Insert(context.Background(), d, rows, funnel)
	}
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	signInEnrolled(t, b, site, "analyst@quillfeather.example")
	click(t, b, `nav a[href="/staff/analytics"]`)
	if h1 := visibleText(t, b, "h1"); h1 != "Analytics" {
		t.Fatalf("h1 = %q", h1)
	}
	if got := visibleText(t, b, "#card-views h2"); got != svgchart.Thousands(views30) {
		t.Errorf("page views of the last 30 days: %q, want %s", got, svgchart.Thousands(views30))
	}
	facts, err := chromedp.Run(b.ctx, chromedp.Evaluate[analyticsFacts](readAnalytics))
	if err != nil {
		t.Fatal(err)
	}
	if facts.Charts < 10 || facts.Named != facts.Charts || facts.Lines != 2 || facts.Dashed != 1 || facts.Bars < 40 || facts.Styled != 0 || facts.Tables < facts.Charts {
		t.Errorf("charts on the page: %+v", facts)
	}
	if text := visibleText(t, b, `section[aria-labelledby="countries-h"]`); !strings.Contains(text, "--geoip-db") || !strings.Contains(text, "C00") {
		t.Errorf("the countries' note: %q", text)
	}
	checkPageStructure(t, b)
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS("#views details summary"))); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "staff-analytics-desktop.png")

	// A range the dashboard refuses: the form again, with why.
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(site+"/staff/analytics?from=2026-13-01")); err != nil {
		t.Fatal(err)
	}
	if text := visibleText(t, b, "#range-error"); !strings.Contains(text, "YYYY-MM-DD") {
		t.Errorf("the refusal: %q", text)
	}
	b.expectRefused(t, 400)

	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Navigate(site+"/staff/analytics?days=7")); err != nil {
		t.Fatal(err)
	}
	width, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("the dashboard is %d px wide on a 390 px screen", width)
	}
	if facts, err = chromedp.Run(b.ctx, chromedp.Evaluate[analyticsFacts](readAnalytics)); err != nil || len(facts.Overflow) > 0 {
		t.Errorf("charts wider than the phone: %v, %v", facts.Overflow, err)
	}
	shoot(t, b, "staff-analytics-390.png")
	b.checkStayedOnSite(t, site)
}
