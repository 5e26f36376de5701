package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/settings"
)

//go:embed templates
var templateFS embed.FS

// layoutFile is the base layout: every page file defines a "content"
// template that the layout places in <main>. Markup shared by several
// pages belongs in the layout or, when it grows, in a Go helper; a page
// file is executed exactly when its page is rendered, which is what lets
// the tests prove every template file is used.
const layoutFile = "layout.html"

// staffLayoutFile is the layout of the staff console: pages whose file name
// starts with "staff_" are placed in it instead.
const staffLayoutFile = "staff_layout.html"

// layoutFor names the layout a page file is rendered in.
func layoutFor(page string) string {
	if strings.HasPrefix(page, "staff_") {
		return staffLayoutFile
	}
	return layoutFile
}

// pages holds one parsed template set per page file, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

// onRender, when set, is told the file name of every template executed.
// Tests set it to find template files that no test ever renders.
var onRender func(file string)

// templateFiles lists the template files embedded in the binary.
func templateFiles() ([]string, error) {
	paths, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = path.Base(p)
	}
	return names, nil
}

// parsePages parses every page with the layout. Errors name the file.
func parsePages(a *assets) (*pages, error) {
	funcs := template.FuncMap{
		"static":   a.url,
		"date":     formatDate,
		"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
		"isodate":  func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"join":     strings.Join,
		"lines":    lines,
		"subjects": subjects,
		"sources":  sources,
		"sentence": sentence,
	}
	files, err := templateFiles()
	if err != nil {
		return nil, fmt.Errorf("web: list templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range files {
		if name == layoutFile || name == staffLayoutFile {
			continue
		}
		layout := layoutFor(name)
		t, err := template.New(layout).Funcs(funcs).ParseFS(templateFS, "templates/"+layout, "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("web: parse template %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("web: template %s defines no \"content\" block", name)
		}
		p.byName[name] = t
	}
	if len(p.byName) == 0 {
		return nil, fmt.Errorf("web: no page templates found")
	}
	return p, nil
}

// formatDate writes a date the way people read it: "7 May 2026".
func formatDate(t time.Time) string { return t.UTC().Format("2 January 2006") }

// lines splits a multi-line setting such as a postal address.
func lines(s string) []string {
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
	Site  siteData
	Title string // the page's own title; the layout adds the vendor's name
	Page  any    // the page's content, a type of its own per page
}

// siteData is what the layout needs on every page.
type siteData struct {
	Vendor settings.Vendor
	Demo   bool
	Path   string // the requested path, to mark the current navigation link
	Year   int
	// Staff is the signed-in staff member's console state; nil on the
	// public site and on the console's sign-in pages.
	Staff *consoleData
}

// render writes the page template name with status. The page is executed
// into a buffer first, so that a template error becomes a clean 500 page
// instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	return s.execute(w, status, name, pageData{Site: s.site(r, v), Title: title, Page: page})
}

func (s *Server) site(r *http.Request, v settings.Vendor) siteData {
	return siteData{Vendor: v, Demo: s.demo, Path: r.URL.Path, Year: s.clock.Now().Year(), Staff: s.console(r)}
}

func (s *Server) execute(w http.ResponseWriter, status int, name string, data pageData) error {
	t := s.pages.byName[name]
	if t == nil {
		return fmt.Errorf("render %s: no such template", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	if onRender != nil {
		onRender(name)
		onRender(layoutFor(name))
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	// A failed write means the visitor has gone; there is nobody left to
	// tell, and the status is already sent.
	_, _ = buf.WriteTo(w)
	return nil
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
	v, err := s.vendor(r)
	if err != nil {
		v = settings.Defaults()
	}
	data := pageData{Site: s.site(r, v), Title: errorTitle(e.Status), Page: errorPage{Status: e.Status, Message: e.Message}}
	if err := s.execute(w, e.Status, "error.html", data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "render error page",
			slog.String("method", r.Method), slog.String("route", info(r).route), slog.String("error", err.Error()))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = fmt.Fprintln(w, e.Message)
	}
}
