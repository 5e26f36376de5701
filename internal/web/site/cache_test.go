package site_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// get fetches path from s and says whether it came from the cache.
func get(t *testing.T, s *webtest.Site, path string) (body string, hit bool) {
	t.Helper()
	res, body := s.Get(t, path)
	webtest.WantStatus(t, res, body, http.StatusOK)
	return body, res.Header.Get("X-Cache") == "hit"
}

// TestCachedPagesAreNeverStale runs two instances on one database, as
// behind a load balancer: both serve the public pages from memory, and a
// change committed through either instance's console, or by anything else
// writing to the database, is on every instance's next answer.
func TestCachedPagesAreNeverStale(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		a := webtest.NewSite(t, d)
		b := a.Another(t)
		for _, s := range []*webtest.Site{a, b} {
			for _, p := range []string{"/", "/pricing", "/products/mailguard", "/privacy", "/cookies", "/pricing?currency=EUR"} {
				if _, hit := get(t, s, p); hit {
					t.Fatalf("%s: the first answer came from the cache", p)
				}
				// The first look at a policy records its version, which
				// is a change of content: one more answer is rendered.
				body, hit := get(t, s, p)
				if !hit && (p == "/privacy" || p == "/cookies") && s == a {
					body, hit = get(t, s, p)
				}
				if !hit {
					t.Fatalf("%s: the page was rendered again", p)
				}
				webtest.MustContain(t, body, "Milterworks")
			}
		}
		body, _ := get(t, a, "/pricing")
		webtest.MustContain(t, body, "€490.00")

		// A price changed in B's console is on A's next page.
		owner := webtest.AddStaff(t, b, "owner@milterworks.example", staff.Owner, true)
		ob := webtest.NewBrowser(b)
		ob.SignIn(t, owner)
		res, _ := ob.Post(t, "/staff/catalog/price", url.Values{"id": {webtest.PriceID(t, d)}, "amount": {"1,290.00"}, "active": {"on"}})
		webtest.WantRedirect(t, res, "/staff/catalog")
		for _, s := range []*webtest.Site{a, b} {
			for _, p := range []string{"/pricing", "/products/mailguard"} {
				body, hit := get(t, s, p)
				if hit {
					t.Errorf("%s: served from the cache after the price changed", p)
				}
				webtest.MustContain(t, body, "€1,290.00")
				webtest.MustNotContain(t, body, "€490.00")
			}
		}

		// A change that no handler made (another process, a migration, an
		// operator's SQL) is seen too: the database versions the content.
		if _, err := d.ExecContext(context.Background(), `UPDATE products SET tagline = 'Filters every message' WHERE slug = 'mailguard'`); err != nil {
			t.Fatal(err)
		}
		if body, hit := get(t, a, "/"); hit || !strings.Contains(body, "Filters every message") {
			t.Errorf("home page after a direct change: hit %v", hit)
		}

		// The vendor's name, saved in the settings, reaches every page.
		if _, err := d.ExecContext(context.Background(), `UPDATE settings SET value = replace(value, 'Milterworks GmbH', 'Milterworks AG')`); err != nil {
			t.Fatal(err)
		}
		if body, _ := get(t, b, "/privacy"); !strings.Contains(body, "Milterworks AG") {
			t.Error("privacy policy after the legal name changed still shows the old one")
		}
	})
}

// TestCachedPagesFollowTheClock: a page that says something about time
// (the year in the footer) is rendered again when that stops being true.
func TestCachedPagesFollowTheClock(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	body, _ := get(t, s, "/")
	webtest.MustContain(t, body, "© 2026 Milterworks")
	if _, hit := get(t, s, "/"); !hit {
		t.Fatal("not cached")
	}
	s.Clock.Set(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	body, hit := get(t, s, "/")
	if hit {
		t.Error("the home page of 2026 was served in 2027")
	}
	webtest.MustContain(t, body, "© 2027 Milterworks")
}

// TestUnknownAddressesAreNotCached: a product that does not exist, or a
// currency nobody sells in, is answered but not kept, so requests for
// made-up addresses cannot fill the cache.
func TestUnknownAddressesAreNotCached(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	for i := 0; i < 2; i++ {
		res, body := s.Get(t, "/products/no-such-thing")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = s.Get(t, "/pricing?currency=XYZ")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if res.Header.Get("X-Cache") == "hit" {
			t.Fatal("a page in a currency nobody sells in was kept")
		}
	}
}

// TestCacheSeesOtherInstances opens the database twice, as two servers (or
// a server and a command) do: a change through one handle reaches the
// other's pages. On PostgreSQL the other instance hears of it by the
// notification its trigger sends on commit; on SQLite, where another
// writer can only be another process on the same machine, within the
// recheck bound of one second.
func TestCacheSeesOtherInstances(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T, dsn string) *db.DB {
		d, err := db.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		if _, err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		return d
	}
	run := func(t *testing.T, dsn string) {
		da, dbb := open(t, dsn), open(t, dsn)
		a := webtest.NewSite(t, da)
		body, _ := get(t, a, "/pricing")
		webtest.MustContain(t, body, "€490.00")
		if _, hit := get(t, a, "/pricing"); !hit {
			t.Fatal("not cached")
		}
		stamp, live := da.ContentStamp()
		for da.Dialect == db.Postgres && !live {
			// Listening starts with the first request; wait until it is in
			// place, so the change below can only be heard by its NOTIFY.
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := da.WaitContentStamp(wctx, stamp)
			cancel()
			if err != nil {
				t.Fatalf("the instance never started listening: %v", err)
			}
			stamp, live = da.ContentStamp()
		}
		if _, err := dbb.ExecContext(ctx, `UPDATE prices SET amount_minor = 129000 WHERE amount_minor = 49000`); err != nil {
			t.Fatal(err)
		}
		if da.Dialect == db.Postgres {
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if _, err := da.WaitContentStamp(wctx, stamp); err != nil {
				t.Fatalf("no notification of the other instance's change: %v", err)
			}
		} else {
			a.Clock.Advance(time.Second)
		}
		body, hit := get(t, a, "/pricing")
		if hit || !strings.Contains(body, "€1,290.00") {
			t.Errorf("after another instance changed the price: hit %v, new price shown %v", hit, strings.Contains(body, "€1,290.00"))
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, filepath.Join(t.TempDir(), "shared.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, testutil.PostgresURL(t)) })
}

// TestCachedPagesAreCompressedForBrowsersThatAsk: a browser that accepts
// gzip gets the page compressed, with the same content; one that does not
// (or refuses it with q=0) gets it as it is; caches are told it varies.
func TestCachedPagesAreCompressedForBrowsersThatAsk(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	plain, _ := get(t, s, "/products/mailguard")
	for _, ae := range []string{"gzip", "br, gzip;q=0.8", "GZIP", "*"} {
		for i := 0; i < 2; i++ { // rendered, then from the cache
			res := s.Do(t, http.MethodGet, "/products/mailguard", http.Header{"Accept-Encoding": {ae}}, nil)
			if res.Header.Get("Content-Encoding") != "gzip" || res.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("Accept-Encoding %q: Content-Encoding %q, Vary %q", ae, res.Header.Get("Content-Encoding"), res.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(zr)
			if err != nil || string(b) != plain {
				t.Fatalf("Accept-Encoding %q: the compressed page differs (%v)", ae, err)
			}
			if n, _ := strconv.Atoi(res.Header.Get("Content-Length")); n >= len(plain)/2 {
				t.Errorf("compressed to %d of %d bytes", n, len(plain))
			}
		}
	}
	for _, ae := range []string{"", "br", "gzip;q=0", "identity"} {
		res := s.Do(t, http.MethodGet, "/products/mailguard", http.Header{"Accept-Encoding": {ae}}, nil)
		if res.Header.Get("Content-Encoding") != "" || webtest.ReadAll(t, res) != plain {
			t.Errorf("Accept-Encoding %q: got an encoded page", ae)
		}
	}
}
