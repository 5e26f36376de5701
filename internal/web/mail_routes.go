package web

// mailRoutes registers the outbox console and the demo's mail viewer.
func (s *Server) mailRoutes() {}
