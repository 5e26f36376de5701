package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/storekeep/storekeep/internal/settings"
)

//go:embed templates
var templateFS embed.FS

// Layout is the frame a page is rendered in. Every page file defines a
// "content" template that its layout places in <main>. Markup shared by
// several pages belongs in the layout, in the core's forms.html (the
// parts of the forms that place orders, parsed with the public layout),
// or, when it grows, in a Go helper; a
// page file is executed exactly when its page is rendered, which is what
// lets the tests prove every template file is used.
type Layout string

// The layouts, in the core's templates/.
const (
	// Public frames the public site, the customer account and checkout.
	Public Layout = "layout.html"
	// Console frames the staff console: its navigation lists the areas the
	// signed-in member's role may open.
	Console Layout = "staff_layout.html"
)

const (
	errorFile = "error.html"
	formsFile = "forms.html"
	// consentBannerFile is the cookie consent banner the public layout
	// shows when the registry holds a cookie that needs consent.
	consentBannerFile = "consent_banner.html"
)

// onRender, when set, is told "area/file" of every template executed.
// Tests set it to find template files that no test ever renders.
var onRender func(file string)

// SetRenderHook makes every template execution call f with "area/file"
// (the layouts as "web/layout.html"). For tests: package webtest uses it to
// fail a test run that never renders one of its area's templates.
func SetRenderHook(f func(file string)) { onRender = f }

var (
	registryMu sync.Mutex
	registry   = map[string][]string{} // area -> its template files
)

// TemplateFiles lists the page template files of an area ("web" for the
// core's error page), as the area parsed them.
func TemplateFiles(area string) []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	return slices.Clone(registry[area])
}

// funcs are the template functions every page may use; an area adds its
// own with NewPages.
func (a *assets) funcs() template.FuncMap {
	return template.FuncMap{
		"static":      a.url,
		"date":        FormatDate,
		"datetime":    func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		"isodate":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"join":        strings.Join,
		"lines":       Lines,
		"lower":       strings.ToLower,
		"inc":         func(i int) int { return i + 1 },
		"consentPath": func() string { return ConsentPath },
	}
}

// layouts holds the parsed core templates: the two layouts and the error
// page.
type layouts struct {
	byName map[Layout]*template.Template
	error  *template.Template
}

func parseLayouts(a *assets) (*layouts, error) {
	l := &layouts{byName: map[Layout]*template.Template{}}
	for _, name := range []Layout{Public, Console} {
		files := []string{"templates/" + string(name)}
		if name == Public {
			// The parts of the forms that place orders (PayForm), and
			// the cookie consent banner.
			files = append(files, "templates/"+formsFile, "templates/"+consentBannerFile)
		}
		t, err := template.New(string(name)).Funcs(a.funcs()).ParseFS(templateFS, files...)
		if err != nil {
			return nil, fmt.Errorf("web: parse layout %s: %w", name, err)
		}
		l.byName[name] = t
	}
	t, err := template.Must(l.byName[Public].Clone()).ParseFS(templateFS, "templates/"+errorFile)
	if err != nil {
		return nil, fmt.Errorf("web: parse %s: %w", errorFile, err)
	}
	l.error = t
	// The layouts run with every page of theirs; the error page is the
	// core's one page of its own.
	registryMu.Lock()
	registry["web"] = []string{errorFile}
	registryMu.Unlock()
	return l, nil
}

// Pages are one area's page templates, each parsed with its layout.
type Pages struct {
	area   string
	layout Layout
	byName map[string]*template.Template
}

// NewPages parses every templates/*.html file of fsys (an area's embedded
// files) with layout and the core's template functions plus funcs. It
// fails, naming the file, when a page does not parse or defines no
// "content"; an area's Mount returns that error, so a broken template
// stops start-up.
func (s *Server) NewPages(area string, fsys fs.FS, layout Layout, funcs template.FuncMap) (*Pages, error) {
	paths, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: %s: list templates: %w", area, err)
	}
	base, ok := s.layouts.byName[layout]
	if !ok {
		return nil, fmt.Errorf("web: %s: no layout %q", area, layout)
	}
	all := s.assets.funcs()
	maps.Copy(all, funcs)
	p := &Pages{area: area, layout: layout, byName: map[string]*template.Template{}}
	var names []string
	for _, fp := range paths {
		name := path.Base(fp)
		t, err := template.Must(base.Clone()).Funcs(all).ParseFS(fsys, fp)
		if err != nil {
			return nil, fmt.Errorf("web: %s: parse template %s: %w", area, name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: %s: template %s defines no \"content\" block", area, name)
		}
		p.byName[name] = t
		names = append(names, name)
	}
	if len(p.byName) == 0 {
		return nil, fmt.Errorf("web: %s: no page templates found", area)
	}
	registryMu.Lock()
	registry[area] = names
	registryMu.Unlock()
	return p, nil
}

// FormatDate writes a date the way people read it: "7 May 2026".
func FormatDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

// Lines splits a multi-line setting such as a postal address.
func Lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pageData is what every template receives.
type pageData struct {
	Site  SiteData
	Title string // the page's own title; the layout adds the vendor's name
	Page  any    // the page's content, a type of its own per page
}

// SiteData is what the layouts need on every page.
type SiteData struct {
	Vendor settings.Vendor
	Demo   bool
	Path   string // the requested path, to mark the current navigation link
	Year   int
	// Staff is the signed-in staff member's console state; nil on the
	// public site and on the console's sign-in pages.
	Staff *ConsoleData
	// Count is true on the pages the usage analytics count: the layout
	// then loads the counting script (see Server.CountPages).
	Count bool
	// ConsentBanner is the cookie consent banner to show, nil for none;
	// CookieSettings puts the link to the choices in the footer. Both only
	// when the registry holds a cookie that needs consent (consent.go).
	ConsentBanner  *ConsentBanner
	CookieSettings bool
	// Footer are the links areas put in every page's footer (FooterLink),
	// after Support, the privacy and the cookie policy.
	Footer []FooterLink
	// PolicyNotice announces a significant change to a policy on every
	// public page for a period; nil for none (policy_notice.go).
	PolicyNotice *PolicyNotice
}

// FooterLink is a link in the public site's footer.
type FooterLink struct{ Label, Path string }

// Render writes the page template name of pages with status. The page is
// executed into a buffer first, so that a template error becomes a clean
// 500 page instead of half a page.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, status int, pages *Pages, name, title string, page any) error {
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	t := pages.byName[name]
	if t == nil {
		return fmt.Errorf("render %s/%s: no such template", pages.area, name)
	}
	buf, err := s.RenderBytes(r, v, t, title, page)
	if err != nil {
		return fmt.Errorf("render %s/%s: %w", pages.area, name, err)
	}
	if onRender != nil {
		onRender(pages.area + "/" + name)
		onRender("web/" + string(pages.layout))
	}
	writeHTML(w, status, buf)
	return nil
}

// RenderBytes executes t for the request with the given vendor settings
// and returns the page; for callers that keep rendered pages (the public
// site's page cache).
func (s *Server) RenderBytes(r *http.Request, v settings.Vendor, t *template.Template, title string, page any) ([]byte, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, pageData{Site: s.site(r, v), Title: title, Page: page}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Template returns the parsed page template name, or nil.
func (p *Pages) Template(name string) *template.Template { return p.byName[name] }

// Rendered tells the render hook that a page came out of a cache, so the
// template-coverage check counts it.
func (p *Pages) Rendered(name string) {
	if onRender != nil {
		onRender(p.area + "/" + name)
		onRender("web/" + string(p.layout))
	}
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	// A failed write means the visitor has gone; there is nobody left to
	// tell, and the status is already sent.
	_, _ = w.Write(body)
}

func (s *Server) site(r *http.Request, v settings.Vendor) SiteData {
	return SiteData{Vendor: v, Demo: s.demo, Path: r.URL.Path, Year: s.clock.Now().Year(), Staff: s.console(r),
		Count:         s.counted[r.Pattern] && r.Method == http.MethodGet && !info(r).errorPage,
		ConsentBanner: s.consentBanner(r), CookieSettings: s.inventory.AsksConsent(), Footer: s.footer,
		PolicyNotice: s.policyNotice(r)}
}

// errorPage is the content of error.html.
type errorPage struct {
	Status  int
	Message string
}

// renderErrorPage writes the HTML error page. It must work when nothing
// else does (a closed database, a broken page template), so it falls back
// to the default vendor settings and, at worst, to plain text.
func (s *Server) renderErrorPage(w http.ResponseWriter, r *http.Request, e *Error) {
	v, err := s.Vendor(r)
	if err != nil {
		v = settings.Defaults()
	}
	info(r).errorPage = true // an error page is not counted as the page it replaces
	buf, err := s.RenderBytes(r, v, s.layouts.error, errorTitle(e.Status), errorPage{Status: e.Status, Message: e.Message})
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "render error page",
			slog.String("method", r.Method), slog.String("route", info(r).route), slog.String("error", err.Error()))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = fmt.Fprintln(w, e.Message)
		return
	}
	if onRender != nil {
		onRender("web/" + errorFile)
		onRender("web/" + string(Public))
	}
	writeHTML(w, e.Status, buf)
}

// WriteHTML writes a rendered page with status; for pages that come from
// a cache (RenderBytes made them).
func WriteHTML(w http.ResponseWriter, status int, body []byte) { writeHTML(w, status, body) }
