package report_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/analytics/report/reporttest"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/testutil"
)

var now = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		from, to   string
		want       report.Range
		err        *refuse.Error
		field, msg string
	}{
		{"2026-05-01", "2026-05-07", report.Range{From: day("2026-05-01"), To: day("2026-05-07")}, nil, "", ""},
		{"", "", report.Range{From: day("2026-04-08"), To: day("2026-05-07")}, nil, "", ""},
		{"", "2026-04-30", report.Range{From: day("2026-04-01"), To: day("2026-04-30")}, nil, "", ""},
		{"2026-05-07", "2026-05-07", report.Range{From: day("2026-05-07"), To: day("2026-05-07")}, nil, "", ""},
		{"2026-05-08", "2026-05-07", report.Range{}, report.ErrReversed, "from", "is after the end"},
		{"2026-05-01", "2026-05-08", report.Range{}, report.ErrFuture, "to", "in the future"},
		{"2025-01-01", "2026-05-07", report.Range{}, report.ErrTooLong, "from", "at most 400 days"},
		{"yesterday", "", report.Range{}, report.ErrBadDate, "from", "write it as YYYY-MM-DD"},
		{"2026-02-30", "", report.Range{}, report.ErrBadDate, "from", "not a date"},
		{"", "<script>", report.Range{}, report.ErrBadDate, "to", "The end"},
	} {
		got, err := report.ParseRange(tc.from, tc.to, now)
		if tc.err == nil {
			if err != nil || got != tc.want {
				t.Errorf("ParseRange(%q, %q) = %v, %v; want %v", tc.from, tc.to, got, err, tc.want)
			}
			continue
		}
		rf, ok := refuse.As(err)
		if !ok || !errors.Is(err, tc.err) || rf.Field != tc.field || !contains(rf.Msg, tc.msg) || rf.Kind != refuse.Invalid {
			t.Errorf("ParseRange(%q, %q): %#v; want %s on %s saying %q", tc.from, tc.to, err, tc.err.Code, tc.field, tc.msg)
		}
	}
	r, err := report.ParseDays("7", now)
	if err != nil || r.FromText() != "2026-05-01" || r.ToText() != "2026-05-07" || r.Days() != 7 {
		t.Errorf("ParseDays(7) = %v, %v", r, err)
	}
	if p := r.Previous(); p.FromText() != "2026-04-24" || p.ToText() != "2026-04-30" {
		t.Errorf("previous of %v = %v", r, p)
	}
	for _, s := range []string{"0", "401", "x", "-3", ""} {
		if _, err := report.ParseDays(s, now); !errors.Is(err, report.ErrBadLength) {
			t.Errorf("ParseDays(%q): %v, want ErrBadLength", s, err)
		}
	}
	if _, err := report.ParseDim("email"); !errors.Is(err, report.ErrBadDim) {
		t.Errorf("ParseDim(email): %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// fixture is a week compared with the week before: the range
// 2026-05-01..05-07 and its previous period 04-24..04-30, with a day
// outside both that no figure may include.
func fixture() ([]reporttest.Daily, []reporttest.FunnelDay) {
	c := func(views, visitors, entries, exits, bounces, ms, ev int64) report.Counts {
		return report.Counts{Views: views, Visitors: visitors, Entries: entries, Exits: exits, Bounces: bounces, EngagedMS: ms, EngagedViews: ev}
	}
	row := func(dim report.Dim, day, value string, c report.Counts) reporttest.Daily {
		return reporttest.Daily{Dim: dim, Day: day, Value: value, Counts: c}
	}
	funnelDay := func(day, product string, pv, cv, op, act int64) reporttest.FunnelDay {
		return reporttest.FunnelDay{Day: day, Product: product, ProductVisitors: pv, CheckoutVisitors: cv, OrdersPaid: op, Activated: act}
	}
	rows := []reporttest.Daily{
		row(report.Total, "2026-04-23", "", c(9999, 9999, 9999, 9999, 9999, 9999, 9999)), // before both
		row(report.Total, "2026-04-25", "", c(100, 40, 40, 40, 10, 60_000, 50)),
		row(report.Total, "2026-05-01", "", c(200, 80, 80, 80, 20, 200_000, 100)),
		row(report.Total, "2026-05-03", "", c(300, 120, 120, 120, 60, 100_000, 100)),
		row(report.Page, "2026-04-25", "/pricing", c(30, 20, 10, 5, 2, 6_000, 3)),
		row(report.Page, "2026-04-25", "/gone", c(70, 30, 30, 35, 8, 1_000, 1)),
		row(report.Page, "2026-05-01", "/pricing", c(50, 30, 20, 10, 5, 40_000, 20)),
		row(report.Page, "2026-05-03", "/pricing", c(70, 40, 30, 20, 10, 20_000, 20)),
		row(report.Page, "2026-05-01", "/", c(150, 60, 60, 70, 15, 160_000, 80)),
		row(report.Page, "2026-05-03", "/", c(230, 90, 90, 100, 50, 80_000, 80)),
		row(report.Page, "2026-05-03", "/docs", c(0, 0, 0, 0, 0, 0, 0)),
		row(report.Page, "2026-05-08", "/tomorrow", c(1, 1, 1, 1, 1, 1, 1)),
		row(report.Referrer, "2026-05-01", "", c(120, 50, 50, 50, 10, 0, 0)),
		row(report.Referrer, "2026-05-01", "news.example", c(80, 30, 30, 30, 10, 0, 0)),
		row(report.Country, "2026-05-01", "", c(200, 80, 80, 80, 20, 0, 0)),
	}
	funnel := []reporttest.FunnelDay{
		funnelDay("2026-04-25", "", 10, 4, 2, 1),
		funnelDay("2026-05-01", "", 20, 8, 4, 3),
		funnelDay("2026-05-03", "", 30, 12, 6, 3),
		funnelDay("2026-05-01", "quillguard", 20, 8, 4, 3),
		funnelDay("2026-05-03", "inkwell", 0, 0, 0, 0),
	}
	return rows, funnel
}

func TestQueries(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if ok, err := report.HasData(ctx, d); ok || err != nil {
			t.Fatalf("HasData on an empty database: %v, %v", ok, err)
		}
		rows, funnel := fixture()
		if err := reporttest.Insert(ctx, d, rows, funnel); err != nil {
			t.Fatal(err)
		}
		if ok, err := report.HasData(ctx, d); !ok || err != nil {
			t.Fatalf("HasData: %v, %v", ok, err)
		}
		r := report.Range{From: day("2026-05-01"), To: day("2026-05-07")}

		tot, err := report.Totals(ctx, d, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := (report.Counts{Views: 500, Visitors: 200, Entries: 200, Exits: 200, Bounces: 80, EngagedMS: 300_000, EngagedViews: 200}); tot != want {
			t.Errorf("totals = %+v, want %+v", tot, want)
		}
		if tot.AvgEngaged() != 1500*time.Millisecond {
			t.Errorf("average engaged time %s", tot.AvgEngaged())
		}
		if br, ok := tot.BounceRate(); !ok || br != 0.4 {
			t.Errorf("bounce rate %v %v", br, ok)
		}
		prev, err := report.Totals(ctx, d, r.Previous())
		if err != nil || prev.Views != 100 {
			t.Errorf("previous totals = %+v, %v", prev, err)
		}
		if ch, ok := report.Change(tot.Views, prev.Views); !ok || ch != 4 {
			t.Errorf("change %v %v", ch, ok)
		}

		series, err := report.Series(ctx, d, r)
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 7 {
			t.Fatalf("series has %d days", len(series))
		}
		for i, want := range []int64{200, 0, 300, 0, 0, 0, 0} {
			if series[i].Views != want || series[i].Day != r.From.AddDate(0, 0, i) {
				t.Errorf("day %d: %s %d views, want %d", i, series[i].Day, series[i].Views, want)
			}
		}

		top, err := report.Top(ctx, d, report.Page, r, true, 10)
		if err != nil {
			t.Fatal(err)
		}
		// /docs had no view, /gone none in the range, /tomorrow is after it.
		if len(top) != 2 || top[0].Value != "/" || top[1].Value != "/pricing" {
			t.Fatalf("top pages = %+v", top)
		}
		p := top[1]
		if want := (report.Counts{Views: 120, Visitors: 70, Entries: 50, Exits: 30, Bounces: 15, EngagedMS: 60_000, EngagedViews: 40}); p.Cur != want {
			t.Errorf("/pricing = %+v, want %+v", p.Cur, want)
		}
		if p.Prev.Views != 30 || p.Prev.EngagedMS != 6_000 || top[0].Prev.Views != 0 {
			t.Errorf("previous: /pricing %+v, / %+v", p.Prev, top[0].Prev)
		}
		if br, _ := p.Cur.BounceRate(); br != 0.3 {
			t.Errorf("/pricing bounce rate %v", br)
		}
		plain, err := report.Top(ctx, d, report.Page, r, false, 1)
		if err != nil || len(plain) != 1 || plain[0].Value != "/" || plain[0].Prev != (report.Counts{}) {
			t.Errorf("top 1 without comparison = %+v, %v", plain, err)
		}
		refs, err := report.Top(ctx, d, report.Referrer, r, false, 10)
		if err != nil || len(refs) != 2 || refs[0].Value != "" || refs[1].Value != "news.example" {
			t.Errorf("referrers = %+v, %v", refs, err)
		}

		if ok, err := report.HasCountries(ctx, d, r); ok || err != nil {
			t.Errorf("HasCountries with unknown countries only: %v, %v", ok, err)
		}
		if err := reporttest.Insert(ctx, d, []reporttest.Daily{{Dim: report.Country, Day: "2026-05-02", Value: "DE", Counts: report.Counts{Views: 1}}}, nil); err != nil {
			t.Fatal(err)
		}
		if ok, err := report.HasCountries(ctx, d, r); !ok || err != nil {
			t.Errorf("HasCountries: %v, %v", ok, err)
		}

		fs, err := report.Funnels(ctx, d, r, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != 2 || fs[0].Product != "" || fs[1].Product != "quillguard" {
			t.Fatalf("funnels = %+v", fs)
		}
		all := fs[0]
		if all.ProductVisitors != 50 || all.CheckoutVisitors != 20 || all.OrdersPaid != 10 || all.Activated != 6 ||
			all.PrevProductVisitors != 10 || all.PrevOrdersPaid != 2 {
			t.Errorf("all products = %+v", all)
		}
		if rate, ok := all.Rate(1); !ok || rate != 0.4 {
			t.Errorf("checkout rate %v", rate)
		}
		if rate, ok := all.Rate(3); !ok || rate != 0.6 {
			t.Errorf("activation rate %v", rate)
		}
		if _, ok := all.Rate(0); ok {
			t.Error("the first step has a rate")
		}
		if rate, ok := all.Overall(); !ok || rate != 0.2 {
			t.Errorf("overall %v", rate)
		}
	})
}
