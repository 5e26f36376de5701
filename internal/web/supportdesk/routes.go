// Package supportdesk is the staff console's support desk under
// /staff/support: the ticket list with filters, search and counts; each
// ticket with its thread, the staff actions (reply, internal note, state,
// assignment, tags, merge) and, beside it, the customer's licenses,
// machines and downloads; the parked mail; canned replies; the desk's
// settings; and tickets opened from the console (a phone call). The
// domain is internal/support; this package reads forms and renders.
package supportdesk

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
	desk  *support.Desk
}

// The routes that take files, with bodies up to MaxUploads files.
const (
	replyPattern = "POST /staff/support/{id}/reply"
	notePattern  = "POST /staff/support/{id}/note"
)

// uploadBody is the body a form with the most files may have: the files,
// the text and the multipart framing.
const uploadBody = support.MaxUploads*support.MaxUploadBytes + support.MaxTextBytes + 1<<20

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("supportdesk", templates, web.Console, template.FuncMap{"size": formatSize, "isize": func(n int) string { return formatSize(int64(n)) }})
	if err != nil {
		return err
	}
	base := ""
	if u := s.BaseURL(); u != nil {
		base = u.String()
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages,
		desk: &support.Desk{DB: s.DB(), Clock: s.Clock(), Limiter: s.Limiter(), BaseURL: base, Log: s.Log()}}
	full, perm := web.AccessFull, staff.PermSupportTickets
	s.HandleStaff("GET /staff/support", full, perm, h.list)
	s.HandleStaff("GET /staff/support/new", full, perm, h.newForm)
	s.HandleStaff("POST /staff/support/new", full, perm, h.create)
	s.HandleStaff("GET /staff/support/{id}", full, perm, h.show)
	s.HandleStaff(replyPattern, full, perm, h.reply)
	s.HandleStaff(notePattern, full, perm, h.note)
	s.HandleStaff("POST /staff/support/{id}/state", full, perm, h.state)
	s.HandleStaff("POST /staff/support/{id}/assign", full, perm, h.assign)
	s.HandleStaff("POST /staff/support/{id}/tags", full, perm, h.tags)
	s.HandleStaff("POST /staff/support/{id}/merge", full, perm, h.merge)
	s.HandleStaff("GET /staff/support/{id}/files/{file}", full, perm, h.attachment)
	s.HandleStaff("GET /staff/support/{id}/raw/{message}", full, perm, h.raw)
	s.HandleStaff("GET /staff/support/parked", full, perm, h.parked)
	s.HandleStaff("GET /staff/support/parked/raw/{id}", full, perm, h.parkedRaw)
	s.HandleStaff("POST /staff/support/parked/{id}/release", full, perm, h.release)
	s.HandleStaff("POST /staff/support/parked/{id}/discard", full, perm, h.discard)
	s.HandleStaff("GET /staff/support/canned", full, perm, h.canned)
	s.HandleStaff("POST /staff/support/canned", full, perm, h.cannedCreate)
	s.HandleStaff("GET /staff/support/canned/{id}", full, perm, h.cannedShow)
	s.HandleStaff("POST /staff/support/canned/{id}/edit", full, perm, h.cannedEdit)
	s.HandleStaff("POST /staff/support/canned/{id}/delete", full, perm, h.cannedDelete)
	s.HandleStaff("GET /staff/support/settings", full, staff.PermSettingsManage, h.settings)
	s.HandleStaff("POST /staff/support/settings", full, staff.PermSettingsManage, h.saveSettings)
	s.AllowLargeBody(replyPattern, uploadBody)
	s.AllowLargeBody(notePattern, uploadBody)
	s.AddStaffNav(web.NavItem{Label: "Support", Href: "/staff/support", Perm: perm, Order: 60})
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	web.NoStore(w)
	return s.Render(w, r, status, s.pages, name, title, page)
}

// me is the signed-in member of staff.
func me(r *http.Request) staff.Account { return web.StaffSession(r).Account }

func actor(r *http.Request) audit.Actor {
	return audit.Staff(me(r).ID).From(web.Network(r))
}

func (s *handler) redirect(w http.ResponseWriter, r *http.Request, to string) error {
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

// formatSize is a byte count as people read it.
func formatSize(n int64) string {
	const unit = 1024
	switch {
	case n < unit:
		return web.Itoa(n) + " B"
	case n < unit*unit:
		return web.Itoa((n+unit/2)/unit) + " KiB"
	}
	return web.Itoa((n+unit*unit/2)/(unit*unit)) + " MiB"
}
