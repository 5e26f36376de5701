package web

import "github.com/storekeep/storekeep/internal/staff"

// shopRoutes registers checkout, webhooks, orders, invoices and the
// catalog console.
func (s *Server) shopRoutes() {
	s.handle("GET /checkout", s.checkoutForm)
	s.handle("POST /checkout", s.checkout)
	s.handle("POST /webhooks/stripe", s.stripeWebhook)
	s.handle("GET /demo-pay/{session}", s.demoPayForm)
	s.handle("POST /demo-pay/{session}/{action}", s.demoPay)
	s.handle("GET /account/orders/{number}", s.accountOrder)
	s.handle("GET /account/invoices/{number}", s.accountInvoice)
	s.handle("GET /account/corrections/{number}", s.accountCorrection)

	full := accessFull
	s.staffHandle("GET /staff/orders", full, staff.PermBillingView, s.staffOrders)
	s.staffHandle("GET /staff/orders/{number}", full, staff.PermBillingView, s.staffOrder)
	s.staffHandle("POST /staff/orders/{number}/{action}", full, staff.PermOrdersManage, s.staffOrderAction)
	s.staffHandle("GET /staff/invoices/{number}", full, staff.PermBillingView, s.staffInvoice)
	s.staffHandle("POST /staff/invoices/{number}/correct", full, staff.PermOrdersManage, s.staffCorrectInvoice)
	s.staffHandle("GET /staff/corrections/{number}", full, staff.PermBillingView, s.staffCorrection)
	s.staffHandle("GET /staff/catalog", full, staff.PermCatalogManage, s.staffCatalog)
	s.staffHandle("POST /staff/catalog/{what}", full, staff.PermCatalogManage, s.staffCatalogChange)
}
