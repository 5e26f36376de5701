package reporttest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/storekeep/storekeep/internal/analytics/report"
)

// Traffic describes generated traffic: days ending with Last, ViewsPerDay
// views a day on average, spread over the values of Shape.
type Traffic struct {
	Last        time.Time
	Days        int
	ViewsPerDay int
	Seed        uint64
	Shape       Shape
}

// Shape is how many distinct values each dimension has.
type Shape int

// The shapes of traffic.
const (
	// Heavy is a site with thousands of documentation pages, 200 to 2,000
	// of them seen each day (about 5,000 a month), hundreds of referring
	// sites and dozens of campaigns a day: far more values than a
	// software vendor's site has, the worst case for the top lists.
	Heavy Shape = iota
	// Vendor is a software vendor's site as it is: a few hundred pages
	// (products, pricing, documentation, a blog; 100 to 250 seen a day),
	// a hundred referring sites, a few campaigns at a time.
	Vendor
	// Small has a few values of each dimension, for tests.
	Small
)

func (s Shape) String() string {
	return [...]string{"heavy", "vendor", "small"}[s]
}

// pool is one dimension's possible values with how many of them a day
// shows (a uniform draw in [MinPerDay, MaxPerDay]).
type pool struct {
	dim                  report.Dim
	values               []string
	minPerDay, maxPerDay int
	share                float64 // of the day's views that carry a non-empty value
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(prefix, i)
	}
	return out
}

// pools are the values of each dimension in shape s.
func pools(s Shape) []pool {
	switch s {
	case Vendor:
		return []pool{
			{report.Page, names("/docs/page-%03d", 320), 100, 250, 1},
			{report.Referrer, names("site-%03d.example", 120), 20, 60, 0.55},
			{report.UTMSource, names("source-%02d", 15), 2, 8, 0.12},
			{report.UTMMedium, []string{"email", "cpc", "social", "newsletter", "partner"}, 2, 5, 0.12},
			{report.UTMCampaign, names("campaign-%02d", 30), 2, 10, 0.12},
			{report.Browser, []string{"Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "Brave", "Vivaldi", "Chromium", "Other"}, 6, 10, 1},
			{report.Device, []string{"desktop", "phone", "tablet"}, 3, 3, 1},
			{report.Screen, []string{"small", "medium", "large", "xlarge", "unknown"}, 5, 5, 1},
			{report.Country, names("C%02d", 60), 25, 50, 0.97},
		}
	case Small:
		return []pool{
			{report.Page, names("/docs/page-%02d", 40), 5, 30, 1},
			{report.Referrer, names("site-%02d.example", 15), 2, 8, 0.55},
			{report.UTMSource, names("source-%d", 5), 0, 3, 0.12},
			{report.UTMCampaign, names("campaign-%d", 8), 0, 3, 0.12},
			{report.Browser, []string{"Chrome", "Firefox", "Safari"}, 1, 3, 1},
			{report.Country, names("C%02d", 10), 1, 6, 0.97},
		}
	}
	return []pool{
		{report.Page, names("/docs/page-%04d", 6000), 200, 2000, 1},
		{report.Referrer, names("site-%03d.example", 800), 150, 450, 0.55},
		{report.UTMSource, names("source-%02d", 60), 10, 40, 0.12},
		{report.UTMMedium, []string{"email", "cpc", "social", "newsletter", "affiliate", "display", "partner", "podcast"}, 3, 8, 0.12},
		{report.UTMCampaign, names("campaign-%03d", 300), 20, 80, 0.12},
		{report.Browser, []string{"Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "Brave", "Vivaldi", "Yandex", "UC Browser", "DuckDuckGo", "Chromium", "Android WebView", "IE", "Other"}, 10, 15, 1},
		{report.Device, []string{"desktop", "phone", "tablet"}, 3, 3, 1},
		{report.Screen, []string{"small", "medium", "large", "xlarge", "unknown"}, 5, 5, 1},
		{report.Country, names("C%02d", 80), 40, 80, 0.97},
	}
}

// Generate calls emit with the rows of each day of t, oldest first, and
// returns the views generated. Each day's views (ViewsPerDay ± 30 %) are
// spread over a draw of each pool's values with Zipf-like weights (the
// first values of a pool get most), the rest of a dimension's views as
// the value "".
func Generate(t Traffic, emit func([]Daily, []FunnelDay) error) (int64, error) {
	rng := rand.New(rand.NewPCG(t.Seed, t.Seed^0x5eed))
	ps := pools(t.Shape)
	var total int64
	first := report.Day(t.Last).AddDate(0, 0, -(t.Days - 1))
	for k := range t.Days {
		day := first.AddDate(0, 0, k).Format(time.DateOnly)
		views := int64(float64(t.ViewsPerDay) * (0.7 + 0.6*rng.Float64()))
		visitors := views * 10 / 27
		total += views
		counts := func(v int64) report.Counts {
			vis := max(1, v*10/27)
			ent := vis * 6 / 10
			return report.Counts{Views: v, Visitors: vis, Entries: ent, Exits: ent, Bounces: ent * 4 / 10,
				EngagedMS: v * 7 / 10 * int64(20_000+rng.IntN(60_000)), EngagedViews: v * 7 / 10}
		}
		rows := []Daily{{Dim: report.Total, Day: day, Counts: report.Counts{Views: views, Visitors: visitors, Entries: visitors,
			Exits: visitors, Bounces: visitors * 45 / 100, EngagedMS: views * 7 / 10 * 45_000, EngagedViews: views * 7 / 10}}}
		for _, p := range ps {
			n := p.minPerDay
			if p.maxPerDay > p.minPerDay {
				n += rng.IntN(p.maxPerDay - p.minPerDay + 1)
			}
			n = min(n, len(p.values))
			// Which values today: mostly the popular ones, some from the
			// long tail.
			chosen := map[int]bool{}
			for len(chosen) < n {
				i := int(math.Floor(math.Pow(rng.Float64(), 2.5) * float64(len(p.values))))
				chosen[i] = true
			}
			var wsum float64
			for i := range chosen {
				wsum += 1 / float64(i+1)
			}
			carried := int64(float64(views) * p.share)
			var used int64
			for i := range chosen {
				v := max(1, int64(float64(carried)/float64(i+1)/wsum))
				used += v
				rows = append(rows, Daily{Dim: p.dim, Day: day, Value: p.values[i], Counts: counts(v)})
			}
			if rest := views - used; p.share < 1 && rest > 0 {
				rows = append(rows, Daily{Dim: p.dim, Day: day, Value: "", Counts: counts(rest)})
			}
		}
		pv := visitors / 12
		funnel := []FunnelDay{{Day: day, ProductVisitors: pv, CheckoutVisitors: pv / 5, OrdersPaid: pv / 40, Activated: pv / 50}}
		for i, slug := range []string{"mailguard", "quillguard", "inkwell"} {
			share := []int64{5, 3, 2}[i]
			funnel = append(funnel, FunnelDay{Day: day, Product: slug, ProductVisitors: pv * share / 10, CheckoutVisitors: pv * share / 50,
				OrdersPaid: pv * share / 400, Activated: pv * share / 500})
		}
		if err := emit(rows, funnel); err != nil {
			return total, err
		}
	}
	return total, nil
}
