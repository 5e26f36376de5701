// Package licenses is the console's licenses under /staff/licenses: the
// list and search, each license with its machines, history and the staff
// actions (extend, suspend, reinstate, revoke, transfer, machine limit),
// and the editions' license policies. Looking needs licenses.view; acting
// and editing policies need licenses.manage (owners).
package licenses

import (
	"embed"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// handler serves the console's licenses.
type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
}

// Mount registers the licenses' routes and navigation entry on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("licenses", templates, web.Console, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages}
	full := web.AccessFull

	s.HandleStaff("GET /staff/licenses", full, staff.PermLicensesView, h.list)
	s.HandleStaff("GET /staff/licenses/{id}", full, staff.PermLicensesView, h.show)
	for _, a := range actions {
		s.HandleStaff("POST /staff/licenses/{id}/"+a.name, full, staff.PermLicensesManage, h.act(a))
	}
	// Policies decide what every license issued from now on says; they
	// are part of managing licenses (owners), not of the vendor settings.
	s.HandleStaff("GET /staff/licenses/policies", full, staff.PermLicensesManage, h.policies)
	s.HandleStaff("POST /staff/licenses/policies", full, staff.PermLicensesManage, h.savePolicy)

	s.AddStaffNav(web.NavItem{Label: "Licenses", Href: "/staff/licenses", Perm: staff.PermLicensesView, Order: 50})
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}
