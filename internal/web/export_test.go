package web

import "net/http"

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
