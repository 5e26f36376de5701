// Package fraud is fraud review in the console, under /staff/fraud: the
// case list with its filters, a case with its evidence, the customer's
// objection and answers, the form that asks the customer for their view,
// the decision form and the reversal of a decision. Permission
// fraud.review (owners and finance). It also serves the customer's side,
// /account/reviews/{id}: what was noticed, the question, their answer,
// the decisions and how to contest them. The domain is internal/fraud.
package fraud

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// publicFiles are the customer's pages (area "reviews").
//
//go:embed public/templates
var publicFiles embed.FS

// Options are what the area needs besides the server: the shop's
// payment providers and licenser, so that a refund decision refunds as
// finance's console does.
type Options struct {
	Payments            []payments.Provider
	PaymentInstructions string
	Licenses            orders.Licenser
}

type handler struct {
	*web.Server
	db      *db.DB
	clock   clock.Clock
	console *web.Pages
	public  *web.Pages
	o       Options
}

// Mount registers the area's routes and navigation entry on s.
func Mount(s *web.Server, o Options) error {
	console, err := s.NewPages("fraud", templates, web.Console, nil)
	if err != nil {
		return err
	}
	sub, err := fs.Sub(publicFiles, "public")
	if err != nil {
		return err
	}
	public, err := s.NewPages("reviews", sub, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), console: console, public: public, o: o}
	full, perm := web.AccessFull, staff.PermFraudReview
	s.HandleStaff("GET /staff/fraud", full, perm, h.list)
	s.HandleStaff("GET /staff/fraud/thresholds", full, perm, h.thresholds)
	s.HandleStaff("POST /staff/fraud/thresholds", full, staff.PermSettingsManage, h.saveThresholds)
	s.HandleStaff("GET /staff/fraud/{id}", full, perm, h.show)
	s.HandleStaff("POST /staff/fraud/{id}/ask", full, perm, h.ask)
	s.HandleStaff("POST /staff/fraud/{id}/decide", full, perm, h.decide)
	s.HandleStaff("POST /staff/fraud/{id}/decisions/{decision}/reverse", full, perm, h.reverse)
	s.AddStaffNav(web.NavItem{Label: "Fraud review", Href: "/staff/fraud", Perm: perm, Order: 45})
	s.Handle("GET /account/reviews/{id}", h.customerCase)
	s.Handle("POST /account/reviews/{id}", h.customerAnswer)
	return nil
}

// service is the fraud domain's decision service for this request.
func (h *handler) service(r *http.Request) (fraud.Service, error) {
	v, err := h.Vendor(r)
	if err != nil {
		return fraud.Service{}, err
	}
	shop := orders.NewShop(h.db, v.Name, v.SupportEmail, h.BaseURL().String(), h.o.Payments, h.o.PaymentInstructions, h.o.Licenses)
	return fraud.Service{DB: h.db, Refunds: shop, SiteName: v.Name, BaseURL: h.BaseURL().String()}, nil
}

// formToken is a fresh one-time value for a form: the domain records a
// decision or question once per token, so a double submit is one.
func formToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
