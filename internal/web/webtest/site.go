// Package webtest is the harness of the site's HTTP scenario tests: a
// whole site (every area mounted, as `storekeep serve` builds it) on a
// test database with a fixed clock, a browser that keeps cookies, staff
// and customer accounts signed in the way people sign in, and the check
// that every template of an area is rendered by some test.
//
// It is imported by the _test packages of internal/web and its areas only.
package webtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/app"
)

// Start is the fixed time every test begins at.
var Start = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

// BaseURL is the test site's address, as links in mail carry it.
const BaseURL = "http://127.0.0.1:8080"

// Vendor is the test vendor.
var Vendor = settings.Vendor{
	Name:            "Milterworks",
	LegalName:       "Milterworks GmbH",
	Address:         "Hauptstraße 1\n10115 Berlin\nGermany",
	PrivacyEmail:    "privacy@milterworks.example",
	SupportEmail:    "support@milterworks.example",
	Country:         "Germany",
	HostingProvider: "Hetzner Online GmbH",
	HostingLocation: "Germany",
}

// Site is the whole site under test with its database, clock and log.
type Site struct {
	DB    *db.DB
	Clock *clock.Fixed
	Srv   *web.Server
	H     http.Handler
	Logs  *SyncBuffer

	// secrets are the second factors SignIn enrolled, by account ID,
	// shared by every instance of the site.
	secrets *sync.Map
}

// LicenseKeys is a license keyring from a fixed seed, for
// WithLicenseKeys: tests verify the API's signatures and make keys with it.
var LicenseKeys = func() *licensing.Keyring {
	seed := make([]byte, ed25519.SeedSize)
	copy(seed, "storekeep webtest license key!!!")
	return licensing.NewKeyring(ed25519.NewKeyFromSeed(seed))
}()

// Option changes how NewSite builds the site.
type Option func(*app.Options)

// WithBaseURL serves the site at u (https turns on HSTS and __Host- cookies).
func WithBaseURL(u string) Option { return func(o *app.Options) { o.BaseURL = u } }

// WithLicenseKeys signs the licenses paid orders issue, their files and
// the license API's answers with k (LicenseKeys, say); without it the site
// issues no licenses and has no API.
func WithLicenseKeys(k *licensing.Keyring) Option { return func(o *app.Options) { o.LicenseKeys = k } }

// WithRequestLog gives the site's page requests to rl, as serve gives
// them to its requestlog.Logger.
func WithRequestLog(rl web.RequestLog) Option { return func(o *app.Options) { o.RequestLog = rl } }

// WithAnalytics counts the site's visits with c (as serve --analytics
// does), at most perMinute beacons per address (0: the default).
func WithAnalytics(c *analytics.Counter, perMinute int) Option {
	return func(o *app.Options) { o.Analytics, o.AnalyticsPerMinute = c, perMinute }
}

// WithDemo builds the demo site (banner, mail viewer).
func WithDemo() Option { return func(o *app.Options) { o.Demo = true } }

// WithStripe takes payments and webhooks through st.
func WithStripe(st *payments.Stripe) Option {
	return func(o *app.Options) {
		o.Payments = append(o.Payments, st)
		o.StripeWebhooks = st
		if o.Processors == nil {
			o.Processors = privacy.Processors{}
		}
		o.Processors["stripe"] = st // as cmd/storekeep's newPayments does
	}
}

// WithPayments offers exactly ps at checkout.
func WithPayments(ps ...payments.Provider) Option {
	return func(o *app.Options) { o.Payments = ps }
}

// WithPaymentInstructions sets the bank details invoices paid by transfer
// print.
func WithPaymentInstructions(s string) Option {
	return func(o *app.Options) { o.PaymentInstructions = s }
}

// NewSite seeds d with the vendor and catalog and builds the site on it.
func NewSite(t testing.TB, d *db.DB, opts ...Option) *Site {
	t.Helper()
	Seed(t, d)
	return build(t, d, clock.NewFixed(Start), opts)
}

// Another is a second instance of the site on the same database and clock,
// as a second server behind a load balancer would be.
func (s *Site) Another(t testing.TB, opts ...Option) *Site {
	t.Helper()
	a := build(t, s.DB, s.Clock, opts)
	a.secrets = s.secrets
	return a
}

func build(t testing.TB, d *db.DB, clk *clock.Fixed, opts []Option) *Site {
	t.Helper()
	s := &Site{DB: d, Clock: clk, Logs: &SyncBuffer{}, secrets: &sync.Map{}}
	o := app.Options{Options: web.Options{
		DB:      d,
		Clock:   s.Clock,
		Logger:  slog.New(slog.NewTextHandler(s.Logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseURL: BaseURL,
		Version: "test",
	}}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := app.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Srv, s.H = srv, declaredCookiesOnly(t, srv.Handler(), srv.Inventory().ActiveCookies(), srv.Consented)
	return s
}

// WithExtraCookies adds cookie declarations to the site's registry, as a
// deployment would configure a cookie that needs consent
// (web.Options.ExtraCookies).
func WithExtraCookies(cs ...privacy.Cookie) Option {
	return func(o *app.Options) { o.ExtraCookies = append(o.ExtraCookies, cs...) }
}

// declaredCookiesOnly fails the test when a response of the site sets a
// cookie the site's cookie registry (its active cookies, from which the
// cookie policy is written) does not declare, or sets one that needs
// consent for a browser that did not agree to its category (as
// web.Server.SetOptionalCookie would have refused): every scenario test
// of every area checks it on every answer. Removing a cookie needs no
// consent.
func declaredCookiesOnly(t testing.TB, h http.Handler, cookies []privacy.Cookie, consented func(*http.Request, privacy.CookieCategory) bool) http.Handler {
	declared := map[string]privacy.Cookie{}
	for _, c := range cookies {
		declared[c.Name] = c
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cc := &cookieCheck{ResponseWriter: w, t: t, declared: declared, consented: consented, r: r, route: r.Method + " " + r.URL.Path}
		h.ServeHTTP(cc, r)
		cc.check() // an answer with no body and no explicit status
	})
}

type cookieCheck struct {
	http.ResponseWriter
	t         testing.TB
	declared  map[string]privacy.Cookie
	consented func(*http.Request, privacy.CookieCategory) bool
	r         *http.Request
	route     string
	checked   bool
}

func (c *cookieCheck) check() {
	if c.checked {
		return
	}
	c.checked = true
	for _, line := range c.Header().Values("Set-Cookie") {
		name, _, _ := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		// Over HTTPS the site's cookies carry the __Host- prefix, which the
		// registry's entries name in their purpose.
		decl, ok := c.declared[strings.TrimPrefix(name, "__Host-")]
		if !ok {
			c.t.Errorf("%s sets the cookie %q, which the cookie registry (privacy.Declared.Cookies) does not declare: declare it with its purpose and lifetime, or do not set it", c.route, name)
			continue
		}
		if decl.Essential() {
			continue
		}
		if sc, err := http.ParseSetCookie(line); err == nil && sc.MaxAge < 0 {
			continue // a removal
		}
		if c.consented == nil || !c.consented(c.r, decl.Category) {
			c.t.Errorf("%s sets the cookie %q (%s) for a browser that did not agree to it: set cookies that need consent with web.Server.SetOptionalCookie", c.route, name, decl.Category)
		}
	}
}

func (c *cookieCheck) WriteHeader(code int) {
	c.check()
	c.ResponseWriter.WriteHeader(code)
}

func (c *cookieCheck) Write(b []byte) (int, error) {
	c.check()
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the recorder.
func (c *cookieCheck) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Seed saves the test vendor and a catalog: Mailguard with a Standard
// and a Professional edition (prices in EUR and CHF, one-time and yearly;
// a description with hostile Markdown), and an inactive product.
func Seed(t testing.TB, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, Vendor, Start); err != nil {
			return err
		}
		products := []catalog.NewProduct{
			{Slug: "mailguard", Name: "Mailguard", Tagline: "Stops spam before it reaches inboxes", Position: 1,
				Description: "Mailguard is a **milter** for Postfix.\n\n<script>alert(1)</script>\n\n[unsafe](javascript:alert(1))",
				Editions: []catalog.NewEdition{
					{Slug: "standard", Name: "Standard", Summary: "For one mail server", Position: 1,
						Features: []string{"Spam filtering", "Greylisting"},
						Prices: []catalog.Price{
							{Currency: "EUR", AmountMinor: 29000, Billing: catalog.OneTime},
							{Currency: "CHF", AmountMinor: 30000, Billing: catalog.OneTime},
						}},
					{Slug: "professional", Name: "Professional", Position: 2,
						Features: []string{"Everything in Standard", "DKIM checks"},
						Prices: []catalog.Price{
							{Currency: "EUR", AmountMinor: 49000, Billing: catalog.OneTime},
							{Currency: "EUR", AmountMinor: 9800, Billing: catalog.Yearly},
						}},
				}},
			{Slug: "retired", Name: "Retired Filter", Tagline: "No longer sold", Position: 2},
		}
		for _, np := range products {
			if _, err := catalog.Create(ctx, tx, np, Start); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE products SET active = FALSE WHERE slug = 'retired'`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Do sends one request through the whole handler chain, without cookies.
func (s *Site) Do(t *testing.T, method, target string, header http.Header, body io.Reader) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, req)
	return rec.Result()
}

// Get fetches target and returns the response with its body.
func (s *Site) Get(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	res := s.Do(t, http.MethodGet, target, nil, nil)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// SyncBuffer is a log destination safe for concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustContain fails for every want missing from body.
func MustContain(t testing.TB, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("response lacks %q", w)
		}
	}
}

// MustNotContain fails for every unwanted text in body.
func MustNotContain(t testing.TB, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("response contains %q", w)
		}
	}
}

// ReadAll reads a response body.
func ReadAll(t testing.TB, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Count runs a count query.
func Count(t testing.TB, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// WithReleases gives the site a release domain with store and signer
// (releases.NewDirStore, releases.GenerateSigningKey) and the artifact
// size limit max, on the site's database and clock.
func WithReleases(store releases.Store, signer *releases.Signer, max int64) Option {
	return func(o *app.Options) {
		o.Releases = &releases.Releases{DB: o.DB, Clock: o.Clock, Store: store, Signer: signer, MaxSize: max}
	}
}

// StripeEvent signs eventJSON with the webhook secret as Stripe does and
// delivers it to /webhooks/stripe, failing the test unless it is taken
// (200).
func (s *Site) StripeEvent(t *testing.T, secret string, eventJSON []byte) {
	t.Helper()
	payload, sig := testutil.SignedStripeEvent(t, secret, eventJSON)
	res := s.Do(t, http.MethodPost, "/webhooks/stripe", http.Header{"Stripe-Signature": {sig}}, bytes.NewReader(payload))
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("webhook answered %d: %s", res.StatusCode, body)
	}
}
