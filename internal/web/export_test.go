package web

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/settings"
)

// Hooks for the tests in package web_test.

// SetRenderHook makes every template execution call f with the file name.
func SetRenderHook(f func(file string)) { onRender = f }

// TemplateFiles lists the embedded template files.
func TemplateFiles() ([]string, error) { return templateFiles() }

// HandleForTest registers an extra route, so tests can reach code paths
// no real route takes (panics, oversized bodies).
func (s *Server) HandleForTest(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.handle(pattern, h)
}

// StaffRule is a staff route and what it needs, for the permission tests.
type StaffRule struct {
	Pattern string
	Public  bool // no session needed
	Partial bool // a password-only session suffices
	Perm    string
}

// StaffRules lists the registered staff routes with their rules.
func (s *Server) StaffRules() []StaffRule {
	var out []StaffRule
	for _, r := range s.staffRules {
		out = append(out, StaffRule{Pattern: r.Pattern, Public: r.Access == accessPublic, Partial: r.Access == accessPartial, Perm: string(r.Perm)})
	}
	return out
}

// Patterns lists every registered route pattern.
func (s *Server) Patterns() []string { return s.patterns }

// VendorForTest is Server.vendor: the vendor settings, loaded once per
// request.
func (s *Server) VendorForTest(r *http.Request) (settings.Vendor, error) { return s.vendor(r) }
