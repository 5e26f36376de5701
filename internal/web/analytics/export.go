package analytics

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/analytics/report"
	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/csvcell"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// export writes one table of the dashboard as CSV: ?dim= names it (a
// dimension, "days" for the views per day, "funnel"), with the
// dashboard's range and comparison. A dimension's export has every value
// of the range (up to report.MaxExport), not only the top ones. Every
// cell goes through csvcell.Defuse: a page path or a campaign name is
// typed by whoever made the link, and must not run as a formula.
func (s *handler) export(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q, err := parseQuery(r.URL.Query(), s.clock.Now())
	if err == nil && r.URL.Query().Get("dim") == "" {
		err = refuse.Field("dim", "Say which table to export: dim=page, referrer, utm_source, utm_medium, utm_campaign, browser, device, screen, country, days or funnel.")
	}
	table := r.URL.Query().Get("dim")
	var dim report.Dim
	if err == nil && table != "days" && table != "funnel" {
		dim, err = report.ParseDim(table)
	}
	if err != nil {
		if rf, ok := refuse.As(err); ok {
			return web.BadRequest(rf.Msg)
		}
		return err
	}
	// Aggregates are no one's personal data; the export is recorded all
	// the same, as everything that leaves the console as a file is.
	if err := s.AuditAlone(r, audit.Entry{Action: "analytics.exported", SubjectType: "analytics", SubjectID: table,
		Detail: q.Range.FromText() + ".." + q.Range.ToText()}); err != nil {
		return err
	}
	name := "analytics-" + table + "-" + q.Range.FromText() + "-" + q.Range.ToText() + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	cw := csv.NewWriter(w)
	write := func(cells ...string) error {
		for i, c := range cells {
			cells[i] = csvcell.Defuse(c)
		}
		return cw.Write(cells)
	}
	i := strconv.FormatInt
	switch table {
	case "days":
		err = s.exportDays(r, q, write)
	case "funnel":
		err = s.exportFunnel(r, q, write)
	default:
		head := []string{string(dim), "views", "visitor_days", "entries", "exits", "bounces", "engaged_ms", "engaged_views"}
		if q.Compare {
			head = append(head, "previous_views", "previous_visitor_days", "previous_entries", "previous_exits", "previous_bounces",
				"previous_engaged_ms", "previous_engaged_views")
		}
		err = write(head...)
		if err == nil {
			err = report.Each(ctx, s.db, dim, q.Range, q.Compare, report.MaxExport, func(row report.Row) error {
				cells := []string{row.Value, i(row.Cur.Views, 10), i(row.Cur.Visitors, 10), i(row.Cur.Entries, 10), i(row.Cur.Exits, 10),
					i(row.Cur.Bounces, 10), i(row.Cur.EngagedMS, 10), i(row.Cur.EngagedViews, 10)}
				if q.Compare {
					cells = append(cells, i(row.Prev.Views, 10), i(row.Prev.Visitors, 10), i(row.Prev.Entries, 10), i(row.Prev.Exits, 10),
						i(row.Prev.Bounces, 10), i(row.Prev.EngagedMS, 10), i(row.Prev.EngagedViews, 10))
				}
				return write(cells...)
			})
		}
	}
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		// The answer has begun: the file ends early; say why in the log.
		s.Log().LogAttrs(ctx, slog.LevelError, "analytics export", slog.String("table", table), slog.String("error", err.Error()))
	}
	return nil
}

func (s *handler) exportDays(r *http.Request, q query, write func(...string) error) error {
	cur, err := report.Series(r.Context(), s.db, q.Range)
	if err != nil {
		return err
	}
	var prev []report.DayCounts
	head := []string{"day", "views", "visitor_days", "bounces", "engaged_ms", "engaged_views"}
	if q.Compare {
		if prev, err = report.Series(r.Context(), s.db, q.Range.Previous()); err != nil {
			return err
		}
		head = append(head, "previous_day", "previous_views", "previous_visitor_days", "previous_bounces", "previous_engaged_ms", "previous_engaged_views")
	}
	if err := write(head...); err != nil {
		return err
	}
	i := strconv.FormatInt
	for k, d := range cur {
		cells := []string{d.Day.Format("2006-01-02"), i(d.Views, 10), i(d.Visitors, 10), i(d.Bounces, 10), i(d.EngagedMS, 10), i(d.EngagedViews, 10)}
		if k < len(prev) {
			p := prev[k]
			cells = append(cells, p.Day.Format("2006-01-02"), i(p.Views, 10), i(p.Visitors, 10), i(p.Bounces, 10), i(p.EngagedMS, 10), i(p.EngagedViews, 10))
		}
		if err := write(cells...); err != nil {
			return err
		}
	}
	return nil
}

func (s *handler) exportFunnel(r *http.Request, q query, write func(...string) error) error {
	fs, err := report.Funnels(r.Context(), s.db, q.Range, q.Compare)
	if err != nil {
		return err
	}
	head := []string{"product", "product_visitor_days", "checkout_visitor_days", "orders_paid", "licenses_activated"}
	if q.Compare {
		head = append(head, "previous_product_visitor_days", "previous_orders_paid")
	}
	if err := write(head...); err != nil {
		return err
	}
	i := strconv.FormatInt
	for _, f := range fs {
		product := f.Product
		if product == "" {
			product = "(all products)"
		}
		cells := []string{product, i(f.ProductVisitors, 10), i(f.CheckoutVisitors, 10), i(f.OrdersPaid, 10), i(f.Activated, 10)}
		if q.Compare {
			cells = append(cells, i(f.PrevProductVisitors, 10), i(f.PrevOrdersPaid, 10))
		}
		if err := write(cells...); err != nil {
			return err
		}
	}
	return nil
}
