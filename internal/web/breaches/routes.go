// Package breaches is the console's breach register under
// /staff/breaches (permission privacy.breaches: owners): record a breach,
// see the 72-hour deadline to tell the authority, change the record (each
// version kept), draft the notice to the people affected and send it
// through the outbox. There is no delete. The domain is
// internal/breaches; the deadline warnings run in cmd/storekeep's
// periodic jobs.
package breaches

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
	pages, err := s.NewPages("breaches", templates, web.Console, template.FuncMap{
		"hours": hours,
	})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages}
	full, perm := web.AccessFull, staff.PermBreaches
	s.HandleStaff("GET /staff/breaches", full, perm, h.list)
	s.HandleStaff("GET /staff/breaches/new", full, perm, h.newForm)
	s.HandleStaff("POST /staff/breaches", full, perm, h.create)
	s.HandleStaff("GET /staff/breaches/{id}", full, perm, h.show)
	s.HandleStaff("GET /staff/breaches/{id}/edit", full, perm, h.editForm)
	s.HandleStaff("POST /staff/breaches/{id}/edit", full, perm, h.update)
	s.HandleStaff("POST /staff/breaches/{id}/notice", full, perm, h.draft)
	s.HandleStaff("POST /staff/breaches/{id}/notice/send", full, perm, h.send)
	s.AddStaffNav(web.NavItem{Label: "Breaches", Href: "/staff/breaches", Perm: perm, Order: 72})
	return nil
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return h.Render(w, r, status, h.pages, name, title, page)
}
