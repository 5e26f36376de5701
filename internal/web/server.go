// Package web is Storekeep's HTTP front: the router, the middleware every
// response passes through, and the handlers of the public site, with their
// templates (templates/) and static files (static/) embedded in the binary.
//
// Handlers return an error instead of writing error responses themselves;
// one wrapper (errors.go) turns errors into HTML pages or, under /api/, JSON.
// Pages are rendered from html/template files parsed once, in New, so a
// broken template stops the process at start-up instead of on a visitor's
// request.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
)

// Options configures a Server.
type Options struct {
	// DB is the open, migrated database. Required.
	DB *db.DB
	// Clock tells the time; nil means the system clock.
	Clock clock.Clock
	// Logger receives one line per request and the details of internal
	// errors; nil discards them.
	Logger *slog.Logger
	// BaseURL is where visitors reach the site, such as
	// https://shop.example.com or http://127.0.0.1:8080. An https URL turns
	// on HSTS and lets the privacy policy say that connections are
	// encrypted.
	BaseURL string
	// Demo shows a banner on every page saying the site is a demonstration.
	Demo bool
	// Version is the build's version, exported as a metric.
	Version string
	// Payments are the enabled ways to pay, in the order the checkout page
	// offers them. The demo provider is only ever passed by `storekeep demo`.
	Payments []payments.Provider
	// StripeWebhooks verifies Stripe's webhook deliveries; nil when Stripe
	// is not configured.
	StripeWebhooks WebhookVerifier
	// PaymentInstructions tell buyers paying by invoice how to pay (bank
	// details).
	PaymentInstructions string
	// MailQueued, when set, is called after every successful request that
	// may have queued mail (any non-GET request), so that the mail worker
	// sends it at once instead of at its next poll. It must not block.
	MailQueued func()
}

// WebhookVerifier checks a processor's webhook signature and returns the
// event it carries (payments.ErrBadSignature, payments.ErrIgnored).
type WebhookVerifier interface {
	ParseWebhook(payload []byte, signature string) (payments.Event, error)
}

// Server serves Storekeep's web pages. Create it with New.
type Server struct {
	db      *db.DB
	clock   clock.Clock
	log     *slog.Logger
	baseURL *url.URL
	https   bool
	demo    bool
	version string

	payments            []payments.Provider
	stripeWebhooks      WebhookVerifier
	paymentInstructions string
	mailQueued          func()
	csp                 string
	secret              []byte // the installation secret, for signed links

	limiter    *ratelimit.Limiter
	staffRules []staffRule
	patterns   []string // every registered route pattern

	pages   *pages
	assets  *assets
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler
}

// New checks the options, parses every template and prepares the routes.
// It fails when a template does not parse, so a broken build never starts.
func New(o Options) (*Server, error) {
	if o.DB == nil {
		return nil, errors.New("web: no database given")
	}
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" {
		return nil, fmt.Errorf("web: the base URL %q is not usable: give the address visitors use, such as https://shop.example.com or http://127.0.0.1:8080, without a path", o.BaseURL)
	}
	s := &Server{
		db:      o.DB,
		clock:   o.Clock,
		log:     o.Logger,
		baseURL: base,
		https:   base.Scheme == "https",
		demo:    o.Demo,
		version: o.Version,
		mux:     http.NewServeMux(),

		payments:            o.Payments,
		stripeWebhooks:      o.StripeWebhooks,
		paymentInstructions: o.PaymentInstructions,
		mailQueued:          o.MailQueued,
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.pages, err = parsePages(s.assets); err != nil {
		return nil, err
	}
	for _, p := range o.Payments {
		if d, ok := p.(interface{ IsDemo() bool }); ok && d.IsDemo() && !o.Demo {
			return nil, errors.New("web: the demo payment provider is only for `storekeep demo`; it never takes real payments")
		}
	}
	var origins []string
	for _, p := range o.Payments {
		if f, ok := p.(interface{ FormOrigins() []string }); ok {
			origins = append(origins, f.FormOrigins()...)
		}
	}
	s.csp = contentSecurityPolicy(origins)
	secret, err := settings.InstallSecret(context.Background(), o.DB, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.limiter = ratelimit.New(o.DB, secret)
	s.secret = secret
	s.metrics = newMetrics(o.DB, o.Version)
	s.routes()
	if s.handler, err = s.middleware(http.HandlerFunc(s.serveMux)); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the handler for all of the site's requests, with the
// middleware applied.
func (s *Server) Handler() http.Handler { return s.handler }

// routes lists every address the server answers. Patterns with a method
// make the mux answer 405 to other methods; GET patterns also match HEAD.
func (s *Server) routes() {
	s.handle("GET /{$}", s.home)
	s.handle("GET /products/{slug}", s.product)
	s.handle("GET /pricing", s.pricing)
	s.handle("GET /privacy", s.privacyPolicy)
	s.handle("GET /cookies", s.cookiePolicy)
	s.handle("GET /static/{file}", s.static)
	s.handle("GET /healthz", s.healthz)
	s.staffRoutes()
	s.customerRoutes() // customer accounts: customer_*.go
	s.mailRoutes()     // outbox console and the demo's mail viewer: mail_*.go
	s.shopRoutes()     // checkout, webhooks, orders, invoices, catalog console: shop_*.go
	s.requestRoutes()  // privacy requests in the console: requests_*.go
}

// staffRoutes lists the console. Each route names who may use it; the
// permissions themselves are in internal/staff (roles.go).
func (s *Server) staffRoutes() {
	pub, part, full := accessPublic, accessPartial, accessFull
	s.staffHandle("GET /staff/login", pub, "", s.staffLoginForm)
	s.staffHandle("POST /staff/login", pub, "", s.staffLogin)
	s.staffHandle("GET /staff/setup", pub, "", s.staffSetupForm)
	s.staffHandle("POST /staff/setup", pub, "", s.staffSetup)
	s.staffHandle("GET /staff/reset", pub, "", s.staffResetForm)
	s.staffHandle("POST /staff/reset", pub, "", s.staffReset)
	s.staffHandle("GET /staff/2fa", part, "", s.staffSecondFactorForm)
	s.staffHandle("POST /staff/2fa", part, "", s.staffSecondFactor)
	s.staffHandle("GET /staff/2fa/setup", part, "", s.staffEnrolForm)
	s.staffHandle("POST /staff/2fa/setup", part, "", s.staffEnrol)
	s.staffHandle("POST /staff/logout", part, "", s.staffLogout)

	s.staffHandle("GET /staff", full, staff.PermDashboard, s.staffDashboard)
	s.staffHandle("GET /staff/account", full, staff.PermOwnAccount, s.staffAccount)
	s.staffHandle("POST /staff/account/password", full, staff.PermOwnAccount, s.staffChangePassword)
	s.staffHandle("POST /staff/account/logout-everywhere", full, staff.PermOwnAccount, s.staffLogoutEverywhere)
	s.staffHandle("POST /staff/account/sessions/{id}/revoke", full, staff.PermOwnAccount, s.staffRevokeSession)

	s.staffHandle("GET /staff/team", full, staff.PermStaffManage, s.staffTeam)
	s.staffHandle("POST /staff/team", full, staff.PermStaffManage, s.staffCreate)
	for _, a := range []string{"role", "disable", "enable", "reset-2fa", "reset-link"} {
		s.staffHandle("POST /staff/team/{id}/"+a, full, staff.PermStaffManage, s.staffMemberAction(a))
	}
	s.staffHandle("GET /staff/settings", full, staff.PermSettingsManage, s.staffSettings)
	s.staffHandle("POST /staff/settings", full, staff.PermSettingsManage, s.staffSaveSettings)
	s.staffHandle("POST /staff/settings/policy-notice", full, staff.PermSettingsManage, s.staffPolicyNotice)
	s.staffHandle("GET /staff/audit", full, staff.PermAuditView, s.staffAudit)
	s.staffHandle("GET /staff/audit.csv", full, staff.PermAuditView, s.staffAuditCSV)

	// Sections whose screens come with later capabilities; their
	// permissions and navigation are settled now.
	s.staffHandle("GET /staff/customers", full, staff.PermCustomersView, s.staffCustomers)
	s.staffHandle("GET /staff/customers/{id}", full, staff.PermCustomersView, s.staffCustomer)
	s.staffHandle("GET /staff/licenses", full, staff.PermLicensesView,
		s.staffArea("Licenses", "License keys and activations arrive with licensing."))
	s.staffHandle("GET /staff/support", full, staff.PermSupportTickets,
		s.staffArea("Support", "The support desk arrives with its own capability."))
	s.staffHandle("GET /staff/stats", full, staff.PermStatsView,
		s.staffArea("Statistics", "Aggregated visit and sales figures, without personal data, arrive with analytics."))
}
