package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// executed records the template files rendered by any test.
var executed sync.Map

// TestMain fails the run when a template file is never executed by any
// test: an unexecuted template is untested markup, and often a dead one.
// The check only applies to full runs; "go test -run X" renders a subset.
func TestMain(m *testing.M) {
	web.SetRenderHook(func(name string) { executed.Store(name, true) })
	// Cheap password hashing: the cost is measured by the staff package's
	// benchmark, not here.
	staff.DefaultArgon2 = staff.Argon2Params{Time: 1, MemoryK: 1024, Threads: 1, KeyLen: 32}
	code := m.Run()
	if code == 0 && fullRun() {
		files, err := web.TemplateFiles()
		if err != nil {
			fmt.Fprintln(os.Stderr, "list templates:", err)
			os.Exit(1)
		}
		var never []string
		for _, f := range files {
			if _, ok := executed.Load(f); !ok {
				never = append(never, f)
			}
		}
		if len(never) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: these templates were never executed by any test: %s\n"+
				"Add a test that renders them, or delete them.\n", strings.Join(never, ", "))
			code = 1
		}
	}
	os.Exit(code)
}

func fullRun() bool {
	for _, name := range []string{"test.run", "test.skip"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// start is the fixed time every test begins at.
var start = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

// vendor is the test vendor.
var vendor = settings.Vendor{
	Name:            "Milterworks",
	LegalName:       "Milterworks GmbH",
	Address:         "Hauptstraße 1\n10115 Berlin\nGermany",
	PrivacyEmail:    "privacy@milterworks.example",
	SupportEmail:    "support@milterworks.example",
	Country:         "Germany",
	HostingProvider: "Hetzner Online GmbH",
	HostingLocation: "Germany",
}

// site is a Server under test with its database, clock and log.
type site struct {
	d     *db.DB
	clock *clock.Fixed
	srv   *web.Server
	h     http.Handler
	logs  *syncBuffer
}

type siteOption func(*web.Options)

func withBaseURL(u string) siteOption { return func(o *web.Options) { o.BaseURL = u } }
func withDemo() siteOption            { return func(o *web.Options) { o.Demo = true } }
func withStripe(st *payments.Stripe) siteOption {
	return func(o *web.Options) { o.Payments = append(o.Payments, st); o.StripeWebhooks = st }
}
func withPayments(ps ...payments.Provider) siteOption {
	return func(o *web.Options) { o.Payments = ps }
}

// newSite seeds d with the vendor and catalog and starts a Server on it.
func newSite(t testing.TB, d *db.DB, opts ...siteOption) *site {
	t.Helper()
	seed(t, d)
	s := &site{d: d, clock: clock.NewFixed(start), logs: &syncBuffer{}}
	o := web.Options{
		DB:      d,
		Clock:   s.clock,
		Logger:  slog.New(slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		BaseURL: "http://127.0.0.1:8080",
		Version: "test",
	}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := web.New(o)
	if err != nil {
		t.Fatal(err)
	}
	s.srv, s.h = srv, srv.Handler()
	return s
}

func seed(t testing.TB, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if err := settings.Save(ctx, tx, vendor, start); err != nil {
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
			if _, err := catalog.Create(ctx, tx, np, start); err != nil {
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

// do sends one request through the whole handler chain.
func (s *site) do(t *testing.T, method, target string, header http.Header, body io.Reader) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Result()
}

func (s *site) get(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	res := s.do(t, http.MethodGet, target, nil, nil)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustContain fails for every want missing from body.
func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("response lacks %q", w)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("response contains %q", w)
		}
	}
}
