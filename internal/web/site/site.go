// Package site is the public website: the home page with the products, a
// page per product, the price comparison, and the privacy and cookie
// policies derived from the data inventory.
package site

import (
	"embed"
	"html/template"
	"log/slog"
	"maps"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// handler serves the public site's pages.
type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	pages *web.Pages
	cache *pageCache
}

// Mount registers the public site's routes on s.
func Mount(s *web.Server) error {
	funcs := template.FuncMap{
		"subjects": subjects,
		"sources":  sources,
		"sentence": sentence,
	}
	maps.Copy(funcs, archiveFuncs)
	pages, err := s.NewPages("site", templates, web.Public, funcs)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), log: s.Log(), pages: pages, cache: newPageCache()}
	s.Handle("GET /{$}", h.home)
	s.Handle("GET /products/{slug}", h.product)
	s.Handle("GET /pricing", h.pricing)
	s.Handle("GET /privacy", h.privacyPolicy)
	s.Handle("GET /cookies", h.cookiePolicy)
	s.Handle("GET /privacy/archive", h.archive)                     // archive.go
	s.Handle("GET /privacy/archive/{doc}/{seq}", h.archivedVersion) // archive.go
	s.SetPolicyHooks(web.PolicyHooks{Notice: h.notice, Publish: h.publishAll})
	return nil
}
