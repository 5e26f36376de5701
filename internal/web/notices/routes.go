// Package notices is the console's notices under /staff/notices: write a
// security notice, product update, release announcement or newsletter in
// Markdown, preview it, count its audience, send a test to oneself,
// schedule or send it, pause and resume it, and follow each message's
// status. Permission notices.send (owners and support). The domain is
// internal/notices; the dispatcher that sends runs in cmd/storekeep's
// periodic jobs.
package notices

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Options are what the area needs besides the server.
type Options struct {
	// Lists is the mailing lists' audience (internal/lists); nil offers
	// no list kinds' audience and refuses to send them.
	Lists notices.ListAudience
}

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
	lists notices.ListAudience
}

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server, o Options) error {
	pages, err := s.NewPages("notices", templates, web.Console, template.FuncMap{
		// words: a license state's identifier as a person reads it ("in_grace" is "in grace").
		"words": func(v any) string { return strings.ReplaceAll(fmt.Sprint(v), "_", " ") },
	})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages, lists: o.Lists}
	full, perm := web.AccessFull, staff.PermNoticesSend
	s.HandleStaff("GET /staff/notices", full, perm, h.list)
	s.HandleStaff("GET /staff/notices/new", full, perm, h.newForm)
	s.HandleStaff("POST /staff/notices", full, perm, h.create)
	s.HandleStaff("GET /staff/notices/{id}", full, perm, h.show)
	s.HandleStaff("GET /staff/notices/{id}/edit", full, perm, h.editForm)
	s.HandleStaff("POST /staff/notices/{id}/edit", full, perm, h.update)
	s.HandleStaff("POST /staff/notices/{id}/test", full, perm, h.testSend)
	s.HandleStaff("POST /staff/notices/{id}/schedule", full, perm, h.schedule)
	s.HandleStaff("POST /staff/notices/{id}/send", full, perm, h.send)
	s.HandleStaff("POST /staff/notices/{id}/pause", full, perm, h.pause)
	s.HandleStaff("POST /staff/notices/{id}/resume", full, perm, h.resume)
	s.HandleStaff("GET /staff/notices/{id}/messages", full, perm, h.messages)
	s.HandleStaff("POST /staff/releases/{id}/announce", full, perm, h.fromRelease)
	s.AddStaffNav(web.NavItem{Label: "Notices", Href: "/staff/notices", Perm: perm, Order: 57})
	return nil
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return h.Render(w, r, status, h.pages, name, title, page)
}
