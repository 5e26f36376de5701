// Package review is the console's data review and the staff's privacy
// notice: /staff/review (permission privacy.review: owners) shows the
// review (internal/review) and records a review done; /staff/privacy-notice
// (every member of staff, permission own_account) tells the staff what
// Storekeep keeps about them, generated from the inventory's staff
// declarations.
package review

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Options are what the area needs besides the server.
type Options struct {
	// Recipients is the recipients register (issue 17, part A); nil shows
	// that the review cannot check recipients yet.
	Recipients review.Recipients
}

type handler struct {
	*web.Server
	db         *db.DB
	clock      clock.Clock
	pages      *web.Pages
	recipients review.Recipients
}

// Mount registers the area's routes and navigation entries on s.
func Mount(s *web.Server, o Options) error {
	pages, err := s.NewPages("review", templates, web.Console, template.FuncMap{})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages, recipients: o.Recipients}
	full := web.AccessFull
	s.HandleStaff("GET /staff/review", full, staff.PermReview, h.show)
	s.HandleStaff("POST /staff/review", full, staff.PermReview, h.record)
	s.HandleStaff("GET /staff/privacy-notice", full, staff.PermOwnAccount, h.notice)
	s.AddStaffNav(web.NavItem{Label: "Data review", Href: "/staff/review", Perm: staff.PermReview, Order: 73})
	s.AddStaffNav(web.NavItem{Label: "Your data", Href: "/staff/privacy-notice", Perm: staff.PermOwnAccount, Order: 99})
	return nil
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return h.Render(w, r, status, h.pages, name, title, page)
}
