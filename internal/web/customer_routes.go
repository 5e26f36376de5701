package web

// customerRoutes registers the customer account pages: sign-in by emailed
// link, the portal, the profile and email changes. Pages that need a
// signed-in customer call requireCustomer (customer_auth.go); orders and
// invoices in the portal are registered with the shop's routes.
func (s *Server) customerRoutes() {
	s.handle("GET /account/login", s.accountLoginForm)
	s.handle("POST /account/login", s.accountLogin)
	s.handle("GET /account/verify", s.accountVerifyForm)
	s.handle("POST /account/verify", s.accountVerify)
	s.handle("POST /account/logout", s.accountLogout)
	s.handle("GET /account", s.accountHome)
	s.handle("GET /account/profile", s.accountProfileForm)
	s.handle("POST /account/profile", s.accountProfile)
	s.handle("POST /account/email", s.accountEmail)
	s.handle("GET /account/email/confirm", s.accountEmailConfirmForm)
	s.handle("POST /account/email/confirm", s.accountEmailConfirm)
	s.privacyCenterRoutes()
}
