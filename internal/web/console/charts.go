package console

import (
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/reports"
)

// chart is one revenue chart: bars drawn as inline SVG on the server (no
// script), and the same numbers as a table, which screen readers and
// people without the picture read. The SVG is role="img", named by the
// figure's caption (aria-labelledby), and says in its title where the
// numbers are.
type chart struct {
	ID, Title, Currency string
	Width, Height       int
	Bars                []chartBar
	Rows                []chartRow
	Max                 string // the largest period, formatted: the scale
	Total               string
}

type chartBar struct {
	X, Y, W, H int
	Label      string // the period and its amount, a tooltip
}

type chartRow struct {
	Period          string
	Net, Gross      string
	Orders, Refunds int
}

const chartWidth, chartHeight = 600, 160

// revenueCharts draws one chart per currency of s: the net revenue of
// each period. A period with refunds larger than its sales has no bar
// (the table shows its negative amount).
func revenueCharts(s reports.Series, id, title string) []chart {
	var out []chart
	for _, cur := range s.Currencies {
		c := chart{ID: id + "-" + cur, Title: title + " (" + cur + ", net)", Currency: cur, Width: chartWidth, Height: chartHeight}
		var peak, total int64
		for _, p := range s.Points {
			a := p.ByCurrency[cur]
			peak = max(peak, a.NetMinor)
			total += a.NetMinor
			c.Rows = append(c.Rows, chartRow{Period: periodLabel(s.Period, p.Start), Net: catalog.FormatMoney(a.NetMinor, cur),
				Gross: catalog.FormatMoney(a.GrossMinor, cur), Orders: a.Orders, Refunds: a.Refunds})
		}
		c.Max, c.Total = catalog.FormatMoney(peak, cur), catalog.FormatMoney(total, cur)
		if n := len(s.Points); n > 0 {
			slot := chartWidth / n
			for i, p := range s.Points {
				v := p.ByCurrency[cur].NetMinor
				h := 0
				if peak > 0 && v > 0 {
					h = max(1, int(v*int64(chartHeight)/peak))
				}
				c.Bars = append(c.Bars, chartBar{X: i*slot + 1, Y: chartHeight - h, W: max(1, slot-2), H: h,
					Label: c.Rows[i].Period + ": " + c.Rows[i].Net})
			}
		}
		out = append(out, c)
	}
	return out
}

// periodLabel names a period as the table shows it.
func periodLabel(p db.Period, start time.Time) string {
	switch p {
	case db.Week:
		y, w := start.ISOWeek()
		return strconv.Itoa(y) + " week " + strconv.Itoa(w) + " (from " + start.Format("2 Jan") + ")"
	case db.Month:
		return start.Format("January 2006")
	}
	return start.Format("Mon 2 Jan 2006")
}
