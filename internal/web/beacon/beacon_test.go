package beacon_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/analytics"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/beacon"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, "beacon") }

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

type salts struct{}

func (salts) Salt(now time.Time) ([32]byte, bool) {
	var b [32]byte
	copy(b[:], analytics.Day(now))
	return b, true
}

type world struct {
	s *webtest.Site
	c *analytics.Counter
}

func newWorld(t *testing.T, d *db.DB, perMinute int) world { return newWorldTB(t, d, perMinute) }

func newBenchWorld(b *testing.B, d *db.DB) world { return newWorldTB(b, d, 1_000_000) }

func newWorldTB(t testing.TB, d *db.DB, perMinute int) world {
	t.Helper()
	c, err := analytics.New(d, analytics.Options{Salts: salts{}, Site: webtest.BaseURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	s := webtest.NewSite(t, d, webtest.WithAnalytics(c, perMinute))
	return world{s: s, c: c}
}

var seq int

// send posts a beacon as count.js does from one of the site's pages;
// change edits the request first.
func (w world) send(t *testing.T, b *webtest.Browser, body string, change func(*http.Request)) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, beacon.Endpoint, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", webtest.BaseURL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("User-Agent", firefox)
	if b != nil {
		for k, v := range b.Cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
	}
	if change != nil {
		change(req)
	}
	rec := httptest.NewRecorder()
	w.s.H.ServeHTTP(rec, req)
	res := rec.Result()
	out, _ := io.ReadAll(res.Body)
	// Every answer is the same: nothing to learn from it.
	if res.StatusCode != http.StatusNoContent || len(out) != 0 || len(res.Cookies()) != 0 {
		t.Fatalf("beacon answered %d %q, cookies %v", res.StatusCode, out, res.Cookies())
	}
}

func viewBody(path string) string {
	seq++
	return fmt.Sprintf(`{"t":"v","id":"%016x","p":%q,"w":1280}`, seq, path)
}

func stored(t *testing.T, w world) int {
	t.Helper()
	if err := w.c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.s.DB.QueryRowContext(context.Background(), `SELECT count(*) FROM analytics_views`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestScriptOnCountedPagesOnly: the public pages load the counting
// script, and nothing else does: not the account, not the console, and
// no page at all when analytics are off. Every counted pattern is a route.
func TestScriptOnCountedPagesOnly(t *testing.T) {
	d := testutil.SQLite(t)
	w := newWorld(t, d, 0)
	b := webtest.NewBrowser(w.s)
	for _, p := range []string{"/", "/products/mailguard", "/pricing", "/privacy", "/cookies", "/statistics", "/support"} {
		res, body := b.Get(t, p)
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, `<script src="/static/count.`) {
			t.Errorf("%s does not load the counting script", p)
		}
		if strings.Count(body, "<script") != 1 {
			t.Errorf("%s has %d scripts", p, strings.Count(body, "<script"))
		}
	}
	for _, p := range []string{"/account", "/staff/sign-in", "/products/nothing-like-this", "/account/orders/SK-1"} {
		_, body := b.Get(t, p)
		if strings.Contains(body, "count.") {
			t.Errorf("%s loads the counting script", p)
		}
	}
	for _, p := range []string{"/privacy", "/cookies"} {
		if body := mustGet(t, b, p); !strings.Contains(body, `<a href="/statistics">usage statistics</a>`) {
			t.Errorf("%s does not point to the statistics page", p)
		}
	}
	patterns := w.s.Srv.Patterns()
	for _, p := range beacon.CountedPages {
		if !slices.Contains(patterns, p) {
			t.Errorf("counted page %q is no route", p)
		}
	}
	res, js := b.Get(t, strings.TrimSuffix(strings.SplitAfter(strings.SplitN(mustGet(t, b, "/"), `<script src="`, 2)[1], `"`)[0], `"`))
	webtest.WantStatus(t, res, js, http.StatusOK)
	if !strings.Contains(js, `"/a/v"`) || !strings.Contains(js, "globalPrivacyControl") || strings.Contains(js, "cookie") && !strings.Contains(js, "no cookie") {
		t.Fatalf("count.js is not the script expected:\n%s", js)
	}

	off := webtest.NewSite(t, testutil.SQLite(t))
	for _, p := range []string{"/", "/privacy", "/cookies"} {
		_, body := webtest.NewBrowser(off).Get(t, p)
		if strings.Contains(body, "<script") || strings.Contains(body, "/statistics") {
			t.Fatalf("%s speaks of counting with analytics off", p)
		}
	}
}

func mustGet(t *testing.T, b *webtest.Browser, p string) string {
	t.Helper()
	res, body := b.Get(t, p)
	webtest.WantStatus(t, res, body, http.StatusOK)
	return body
}

// TestBeaconCountsOnlyWhatMayBeCounted: a beacon from the site's page is
// counted; privacy signals, another site's requests, a flood, pages that
// are not counted and garbage are not, and the answer is the same.
func TestBeaconCountsOnlyWhatMayBeCounted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d, 5)
		w.send(t, nil, viewBody("/products/mailguard"), nil)
		if n := stored(t, w); n != 1 {
			t.Fatalf("%d views stored, want 1", n)
		}
		for name, change := range map[string]func(*http.Request){
			"Global Privacy Control": func(r *http.Request) { r.Header.Set("Sec-GPC", "1") },
			"Do Not Track":           func(r *http.Request) { r.Header.Set("DNT", "1") },
			"the visitor's choice":   func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "sk_nocount", Value: "1"}) },
			"another site":           func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
			"cross-site fetch":       func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
			"no origin":              func(r *http.Request) { r.Header.Del("Origin") },
			"a bot":                  func(r *http.Request) { r.Header.Set("User-Agent", "curl/8.5.0") },
		} {
			w.send(t, nil, viewBody("/"), func(r *http.Request) {
				r.RemoteAddr = "192.0.2.50:1234" // not the flood's address
				change(r)
			})
			if n := stored(t, w); n != 1 {
				t.Fatalf("%s: counted", name)
			}
		}
		for _, body := range []string{viewBody("/account/orders/SK-1"), viewBody("/staff"), `{"t":"v"}`, "garbage", strings.Repeat("x", 10000)} {
			w.send(t, nil, body, func(r *http.Request) { r.RemoteAddr = "192.0.2.51:1234" })
		}
		if n := stored(t, w); n != 1 {
			t.Fatalf("%d stored after refused beacons", n)
		}
		// A flood from one address: five a minute here.
		for range 10 {
			w.send(t, nil, viewBody("/pricing"), func(r *http.Request) { r.RemoteAddr = "198.51.100.9:4000" })
		}
		if n := stored(t, w); n != 1+5 {
			t.Fatalf("%d stored after a flood, want 6", n)
		}
		w.s.Clock.Advance(time.Minute)
		w.send(t, nil, viewBody("/pricing"), func(r *http.Request) { r.RemoteAddr = "198.51.100.9:4000" })
		if n := stored(t, w); n != 7 {
			t.Fatalf("the next minute: %d stored, want 7", n)
		}
		m := w.c.Outcomes()
		if m["declined"] != 3 || m["cross_site"] != 3 || m["flood"] != 5 || m["bot"] != 1 || m["not_counted"] != 2 || m["refused"] != 3 {
			t.Fatalf("outcomes %v", m)
		}
	})
}

// TestStatisticsPageChoice: the page says what is counted; "do not count
// my visits" sets the declared cookie and beacons stop counting; "count
// again" removes it; a browser sending GPC is told it is not counted.
func TestStatisticsPageChoice(t *testing.T) {
	d := testutil.SQLite(t)
	w := newWorld(t, d, 0)
	b := webtest.NewBrowser(w.s)
	// Every page's footer leads to it while the analytics are on; without
	// them there is nothing to tell and no link.
	if home := mustGet(t, b, "/"); !strings.Contains(home, `<a href="/statistics"`) {
		t.Fatalf("no link to /statistics in the footer:\n%s", home)
	}
	plain := webtest.NewBrowser(webtest.NewSite(t, testutil.SQLite(t)))
	if home := mustGet(t, plain, "/"); strings.Contains(home, `/statistics"`) {
		t.Fatal("a site without analytics links to /statistics")
	}
	body := mustGet(t, b, "/statistics")
	if !strings.Contains(body, "Do not count my visits") || !strings.Contains(body, "deleted after two days") {
		t.Fatalf("statistics page:\n%s", body)
	}
	res, _ := b.Post(t, "/statistics", url.Values{"choice": {"stop"}})
	webtest.WantRedirect(t, res, "/statistics?done=stopped")
	if b.Cookies["sk_nocount"] != "1" {
		t.Fatalf("cookies %v", b.Cookies)
	}
	body = mustGet(t, b, "/statistics?done=stopped")
	if !strings.Contains(body, "not counted any more") || !strings.Contains(body, "Count my visits again") {
		t.Fatalf("after stopping:\n%s", body)
	}
	w.send(t, b, viewBody("/"), nil)
	if n := stored(t, w); n != 0 {
		t.Fatal("counted after asking not to be")
	}
	res, _ = b.Post(t, "/statistics", url.Values{"choice": {"count"}})
	webtest.WantRedirect(t, res, "/statistics?done=counted")
	if _, ok := b.Cookies["sk_nocount"]; ok {
		t.Fatal("cookie kept")
	}
	w.send(t, b, viewBody("/"), nil)
	if n := stored(t, w); n != 1 {
		t.Fatal("not counted after asking to be")
	}
	res, body = b.Post(t, "/statistics", url.Values{"choice": {"maybe"}})
	webtest.WantStatus(t, res, body, http.StatusBadRequest)
	res, body = b.Do(t, http.MethodGet, "/statistics", nil, http.Header{"Sec-Gpc": {"1"}})
	webtest.WantStatus(t, res, body, http.StatusOK)
	if !strings.Contains(body, "Global Privacy Control") || strings.Contains(body, "<button") {
		t.Fatalf("with GPC:\n%s", body)
	}
	// A cross-site form post changes nothing.
	res, body = b.Do(t, http.MethodPost, "/statistics", url.Values{"choice": {"stop"}}, http.Header{"Origin": {"https://evil.example"}, "Sec-Fetch-Site": {"cross-site"}})
	webtest.WantStatus(t, res, body, http.StatusForbidden)
	if _, ok := b.Cookies["sk_nocount"]; ok {
		t.Fatal("a cross-site post set the cookie")
	}
}

// TestObjectingOrRestrictedCustomerIsNotCounted: a signed-in customer's
// objection to "improvement" or restriction stops counting within a
// minute; lifting it counts again.
func TestObjectingOrRestrictedCustomerIsNotCounted(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d, 0)
		b, c := webtest.SignedInCustomer(t, w.s, "ada@example.org")
		set := func(choice, purpose string, on bool) {
			t.Helper()
			if err := d.Tx(context.Background(), func(tx *sql.Tx) error {
				return privacy.SetChoice(context.Background(), tx, privacy.Declared, c.ID, choice, purpose, on, "", w.s.Clock.Now())
			}); err != nil {
				t.Fatal(err)
			}
			w.s.Clock.Advance(2 * time.Minute) // past what the endpoint remembers
		}
		want := 0
		check := func(counted bool) {
			t.Helper()
			w.send(t, b, viewBody("/pricing"), nil)
			if counted {
				want++
			}
			if n := stored(t, w); n != want {
				t.Fatalf("%d stored, want %d", n, want)
			}
		}
		check(true)
		set(privacy.ChoiceObjection, "improvement", true)
		check(false)
		set(privacy.ChoiceObjection, "improvement", false)
		check(true)
		set(privacy.ChoiceRestriction, "", true)
		check(false)
		// A session that is no longer valid is a visitor like any other.
		b.Cookies["sk_customer"] = "not-a-session"
		check(true)
	})
}
