// Package web is the core of Storekeep's HTTP front, shared by every area
// of the site: the router wrapper (Handle, HandleStaff), the middleware
// every response passes through, rendering with the two layouts, the one
// mapping of errors to pages and JSON, sessions and cookies of staff and
// customers, form input, rate-limit and audit helpers, static files,
// health and metrics.
//
// The areas themselves (the public site, the customer account, checkout,
// the staff console, ...) are packages of their own under internal/web,
// each with a Mount function and its own embedded templates; package
// internal/web/app mounts them all. Nothing here knows an area's routes.
//
// Handlers return an error instead of writing error responses themselves;
// one wrapper (errors.go) turns errors into HTML pages or, under /api/, JSON.
// Page templates are parsed when an area mounts, so a broken template stops
// the process at start-up instead of on a visitor's request.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/settings"
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
	// FormOrigins are the origins, besides the site's own, that forms may
	// be submitted to (through the redirect that follows a submission):
	// the hosted payment pages of the configured providers.
	FormOrigins []string
	// MailQueued, when set, is called after every successful request that
	// may have queued mail (any non-GET request), so that the mail worker
	// sends it at once instead of at its next poll. It must not block.
	MailQueued func()
	// RequestLog, when set, is given every page request (see
	// pageRequest) after it is answered; it must not block
	// (requestlog.Logger queues and returns). Nil records nothing. If it
	// is also a prometheus.Collector, its metrics are served with the
	// server's.
	RequestLog RequestLog
	// ExtraCookies are cookies declared beside the registry's own
	// (privacy.Declared): how a cookie that needs consent is configured.
	// When one is, the consent banner appears (docs/cookies.md). Tests
	// use it; none is configured today.
	ExtraCookies []privacy.Cookie
}

// RequestLog receives the site's page requests: the log data the
// privacy policy declares (internal/requestlog, docs/request-log.md).
type RequestLog interface {
	Record(requestlog.Entry)
}

// Server is the site's core: the router and what every area shares.
// Create it with New, let the areas mount their routes, then serve
// Handler().
type Server struct {
	// draining: the process is stopping, and /readyz says so (Drain).
	draining atomic.Bool
	db       *db.DB
	clock    clock.Clock
	log      *slog.Logger
	baseURL  *url.URL
	https    bool
	demo     bool
	version  string

	mailQueued func()
	requestLog RequestLog
	csp        string
	security   []headerValue     // securityHeaders' headers, built once
	secret     []byte            // the installation secret, for signed links
	inventory  privacy.Inventory // with the active cookie registry (consent.go)

	limiter    *ratelimit.Limiter
	staffRules []staffRule
	staffNav   []NavItem
	apiErrors  []apiErrors
	patterns   []string         // every registered route pattern
	counted    map[string]bool  // route patterns whose pages the analytics count (CountPages)
	footer     []FooterLink     // links areas put in the footer (AddFooterLink)
	quiet      map[string]bool  // route patterns logged at debug level (LogQuietly)
	bodyLimits map[string]int64 // route pattern -> body limit (AllowLargeBody)
	policy     PolicyHooks      // the policy archive's notice and publisher (policy_notice.go)

	assets  *assets
	layouts *layouts
	metrics *metrics
	mux     *http.ServeMux
	cop     *http.CrossOriginProtection // AllowCrossSite adds its exemptions

	handler http.Handler
}

// New checks the options and prepares the core routes (static files,
// health). It fails when the core templates do not parse.
func New(o Options) (*Server, error) {
	if o.DB == nil {
		return nil, errors.New("web: no database given")
	}
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || base.Path != "" {
		return nil, fmt.Errorf("web: the base URL %q is not usable: give the address visitors use, such as https://shop.example.com or http://127.0.0.1:8080, without a path", o.BaseURL)
	}
	s := &Server{
		db:         o.DB,
		clock:      o.Clock,
		log:        o.Logger,
		baseURL:    base,
		https:      base.Scheme == "https",
		demo:       o.Demo,
		version:    o.Version,
		mux:        http.NewServeMux(),
		mailQueued: o.MailQueued,
		requestLog: o.RequestLog,
	}
	if s.clock == nil {
		s.clock = clock.System{}
	}
	s.inventory = privacy.Declared.WithCookies(o.ExtraCookies...)
	if err := s.inventory.Validate(); err != nil {
		return nil, fmt.Errorf("web: the cookie registry: %w", err)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if s.layouts, err = parseLayouts(s.assets); err != nil {
		return nil, err
	}
	s.csp = contentSecurityPolicy(o.FormOrigins)
	s.security = securityHeaderValues(s.csp, s.https)
	secret, err := settings.InstallSecret(context.Background(), o.DB, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.limiter = ratelimit.New(o.DB, secret)
	s.secret = secret
	s.metrics = newMetrics(o.DB, o.Version)
	if c, ok := o.RequestLog.(prometheus.Collector); ok {
		s.metrics.registry.MustRegister(c)
	}
	if s.handler, err = s.middleware(http.HandlerFunc(s.serveMux)); err != nil {
		return nil, err
	}
	s.Handle("GET /static/{file}", s.static)
	s.Handle("GET /healthz", s.healthz)
	s.Handle("GET /readyz", s.readyz)
	// Probes arrive every few seconds and say nothing about visitors.
	s.LogQuietly("GET /healthz")
	s.LogQuietly("GET /readyz")
	return s, nil
}

// Handler returns the handler for all of the site's requests, with the
// middleware applied. Areas register their routes before serving starts.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus metrics. It is not mounted on the
// site: the metrics tell business activity (orders per hour), so they are
// served on a listener of their own (storekeep serve --metrics-addr).
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler }

// DB is the database.
func (s *Server) DB() *db.DB { return s.db }

// Clock tells the time.
func (s *Server) Clock() clock.Clock { return s.clock }

// Log is the logger for internal errors. Never log personal data.
func (s *Server) Log() *slog.Logger { return s.log }

// BaseURL is the site's public address, without a trailing slash.
func (s *Server) BaseURL() *url.URL { return s.baseURL }

// HTTPS reports whether the site is served over HTTPS.
func (s *Server) HTTPS() bool { return s.https }

// Demo reports whether this is `storekeep demo`.
func (s *Server) Demo() bool { return s.demo }

// Secret is the installation secret, for signed links.
func (s *Server) Secret() []byte { return s.secret }

// Limiter is the shared rate limiter.
func (s *Server) Limiter() *ratelimit.Limiter { return s.limiter }

// CountPages marks the pages of the given route patterns ("GET
// /products/{slug}") as counted by the usage analytics: their layout
// loads the counting script, and PatternOf tells the beacon endpoint
// which pattern a reported path belongs to. Call it while mounting,
// before serving starts.
func (s *Server) CountPages(patterns ...string) {
	if s.counted == nil {
		s.counted = map[string]bool{}
	}
	for _, p := range patterns {
		s.counted[p] = true
	}
}

// AddFooterLink puts a link to one of the area's pages in the public
// site's footer, in the order areas are mounted: the statistics page while
// the analytics are on, the newsletter. Call it when mounting.
func (s *Server) AddFooterLink(label, path string) {
	s.footer = append(s.footer, FooterLink{Label: label, Path: path})
}

// LogQuietly logs the requests of the given route patterns at debug level
// instead of info: for routes every page calls (the analytics' beacon),
// whose lines would drown the rest. Call it while mounting.
func (s *Server) LogQuietly(patterns ...string) {
	if s.quiet == nil {
		s.quiet = map[string]bool{}
	}
	for _, p := range patterns {
		s.quiet[p] = true
	}
}

// Counted reports whether the pages of pattern are counted.
func (s *Server) Counted(pattern string) bool { return s.counted[pattern] }

// PatternOf is the pattern of the route that would serve a GET of path
// on this site ("GET /products/{slug}" for "/products/milter"), "" when
// none would.
func (s *Server) PatternOf(path string) string {
	r := http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: s.baseURL.Host}
	_, pattern := s.mux.Handler(&r)
	return pattern
}

// Patterns lists every registered route pattern.
func (s *Server) Patterns() []string { return slices.Clone(s.patterns) }
