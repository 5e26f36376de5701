// Package releases is the web area of releases: the release signing
// key's public half at /.well-known/storekeep-release-key.pub, and the
// console's releases under /staff/releases (list per product, drafts with
// notes, uploads, publish, yank), which need releases.manage (owners).
// The domain is internal/releases; this package reads forms and streams.
package releases

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// KeyPath is where the release signing key's public half is published,
// in minisign's format.
const KeyPath = "/.well-known/storekeep-release-key.pub"

// Options are what the area needs: the release domain with its store and
// signing key. Without a Releases value the console shows what to
// configure and the key is not published.
type Options struct {
	Releases *releases.Releases
}

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
	rs    *releases.Releases
}

// uploadPattern is the upload route, which takes large bodies.
const uploadPattern = "POST /staff/releases/{id}/artifacts"

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server, o Options) error {
	pages, err := s.NewPages("releases", templates, web.Console, template.FuncMap{"size": releases.FormatSize})
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages, rs: o.Releases}
	if h.rs == nil {
		h.rs = &releases.Releases{DB: s.DB(), Clock: s.Clock()}
	}
	if h.rs.Signer != nil {
		s.Handle("GET "+KeyPath, h.publicKey)
	}
	full, perm := web.AccessFull, staff.PermReleasesManage
	s.HandleStaff("GET /staff/releases", full, perm, h.list)
	s.HandleStaff("POST /staff/releases", full, perm, h.create)
	s.HandleStaff("GET /staff/releases/{id}", full, perm, h.show)
	s.HandleStaff(uploadPattern, full, perm, h.upload)
	s.HandleStaff("POST /staff/releases/{id}/artifacts/{artifact}/remove", full, perm, h.remove)
	s.HandleStaff("POST /staff/releases/{id}/publish", full, perm, h.publish)
	s.HandleStaff("POST /staff/releases/{id}/yank", full, perm, h.yank)
	s.HandleStaff("POST /staff/releases/{id}/notes", full, perm, h.notes)
	// The form's fields and multipart framing come on top of the file.
	s.AllowLargeBody(uploadPattern, h.rs.MaxSizeOrDefault()+1<<20)
	s.AddStaffNav(web.NavItem{Label: "Releases", Href: "/staff/releases", Perm: perm, Order: 55})
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// publicKey serves the release signing key's public half, which customers
// give to minisign -p.
func (s *handler) publicKey(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(s.rs.Signer.PublicKey())
	return err
}
