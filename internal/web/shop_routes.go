package web

// shopRoutes registers checkout, webhooks, orders, invoices and the
// catalog console.
func (s *Server) shopRoutes() {}
