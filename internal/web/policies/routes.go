// Package policies is the console's policies page under /staff/policies
// (docs/policy-archive.md): owners write the parts of the privacy and
// cookie policies that are theirs (Markdown, sanitised; the rest comes
// from the data inventory), mark a version as a significant change and
// choose whether customers are mailed about it. Permission
// settings.manage. The archive and the notice on the public pages are
// internal/web/site's; the mail goes through internal/notices.
package policies

import (
	"embed"
	"log/slog"
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
	log   *slog.Logger
	pages *web.Pages
}

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("policies", templates, web.Console, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), log: s.Log(), pages: pages}
	full, perm := web.AccessFull, staff.PermSettingsManage
	s.HandleStaff("GET /staff/policies", full, perm, h.staffPolicies)
	s.HandleStaff("POST /staff/policies/{doc}/text", full, perm, h.staffPolicyText)
	s.HandleStaff("POST /staff/policies/{doc}/significant", full, perm, h.staffPolicySignificant)
	s.AddStaffNav(web.NavItem{Label: "Policies", Href: "/staff/policies", Perm: perm, Order: 112})
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}
