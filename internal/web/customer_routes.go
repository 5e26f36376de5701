package web

// customerRoutes registers the customer account pages.
func (s *Server) customerRoutes() {}
