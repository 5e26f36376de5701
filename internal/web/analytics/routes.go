// Package analytics is the console's usage-analytics dashboard under
// /staff/analytics: totals with their change against the previous period,
// views per day as a chart, top pages and sources, time on page, browsers,
// devices, screens and countries, the funnel, and every table as CSV. It
// needs stats.view (owners and analysts) and shows aggregates only: the
// tables it reads (internal/analytics/report) hold counts, never a row
// about a person.
package analytics

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
}

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("analytics", templates, web.Console, template.FuncMap{
		"tableArgs": func(t table, compare bool) tableArgs { return tableArgs{t, compare} },
	})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages}
	full, perm := web.AccessFull, staff.PermStatsView
	s.HandleStaff("GET /staff/analytics", full, perm, h.dashboard)
	s.HandleStaff("GET /staff/analytics/export.csv", full, perm, h.export)
	s.AddStaffNav(web.NavItem{Label: "Analytics", Href: "/staff/analytics", Perm: perm, Order: 89})
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}
