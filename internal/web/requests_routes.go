package web

import "github.com/storekeep/storekeep/internal/staff"

// requestActions are the steps staff take on a privacy request, each
// POST /staff/requests/{id}/ACTION (requests_console.go).
var requestActions = []string{"send-code", "verify", "doubt", "start", "extend", "complete", "refuse"}

// requestRoutes registers the console's privacy requests: requests that
// arrive by email, letter or phone, with their deadlines and steps
// (internal/requests). Owners and support hold the permission.
func (s *Server) requestRoutes() {
	full, perm := accessFull, staff.PermPrivacyRequests
	s.staffHandle("GET /staff/requests", full, perm, s.staffRequests)
	s.staffHandle("POST /staff/requests", full, perm, s.staffRequestCreate)
	s.staffHandle("GET /staff/requests/{id}", full, perm, s.staffRequest)
	for _, a := range requestActions {
		s.staffHandle("POST /staff/requests/{id}/"+a, full, perm, s.staffRequestAction(a))
	}
}
