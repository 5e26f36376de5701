package site_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

const (
	htmlType = "text/html; charset=utf-8"
	jsonType = "application/json; charset=utf-8"
)

// TestPages walks through the public site: each scenario is one request
// with the status, content type and content it must get back.
func TestPages(t *testing.T) {
	scenarios := []struct {
		name    string
		method  string
		target  string
		status  int
		ctype   string
		want    []string
		notWant []string
	}{
		{name: "home lists active products", target: "/", status: 200, ctype: htmlType,
			want: []string{"<title>Milterworks</title>", "Mailguard", "Stops spam before it reaches inboxes",
				`href="/products/mailguard"`, `<main id="main"`, `href="#main"`, `lang="en"`, `name="viewport"`,
				`href="/privacy"`, `href="/cookies"`},
			notWant: []string{"Retired Filter", "Demo site"}},
		{name: "HEAD of home", method: http.MethodHead, target: "/", status: 200, ctype: htmlType},
		{name: "product page", target: "/products/mailguard", status: 200, ctype: htmlType,
			want: []string{"<title>Mailguard · Milterworks</title>", "<h1>Mailguard</h1>", "<strong>milter</strong>",
				"Standard", "Professional", "For one mail server", "DKIM checks",
				"€290.00</span> one-time", "CHF 300.00</span> one-time", "€98.00</span> per year"},
			// Raw HTML and javascript: links in the staff-written Markdown
			// must not reach the page.
			notWant: []string{"alert(1)", "javascript:"}},
		{name: "unknown product", target: "/products/nothing-here", status: 404, ctype: htmlType,
			want: []string{"We have no product at this address", `href="/"`}},
		{name: "inactive product", target: "/products/retired", status: 404, ctype: htmlType,
			want: []string{"We have no product at this address"}},
		{name: "invalid slug", target: "/products/Not_A..Slug", status: 404, ctype: htmlType,
			want: []string{"We have no product at this address"}},
		{name: "pricing compares all editions", target: "/pricing", status: 200, ctype: htmlType,
			want: []string{"<title>Pricing · Milterworks</title>", "€290.00", "€490.00", "€98.00", "CHF 300.00",
				`<th scope="col" class="num">EUR, one-time</th>`, `<th scope="col" class="num">EUR, per year</th>`,
				`<th scope="row">Standard`, "Not offered", `href="/pricing?currency=CHF"`}},
		{name: "pricing in one currency", target: "/pricing?currency=EUR", status: 200, ctype: htmlType,
			want:    []string{"Pricing in EUR", "€290.00", "€98.00", `href="/pricing?currency=EUR" aria-current="page"`},
			notWant: []string{"CHF 300.00"}},
		{name: "pricing in a currency without prices", target: "/pricing?currency=JPY", status: 200, ctype: htmlType,
			want: []string{"We have no prices in JPY yet", `href="/pricing"`}, notWant: []string{"€290.00"}},
		{name: "pricing with a lower-case currency", target: "/pricing?currency=eur", status: 400, ctype: htmlType,
			want: []string{"three-letter code in capital letters", "Error 400"}},
		{name: "pricing with a malformed currency", target: "/pricing?currency=EURO%3Cb%3E", status: 400, ctype: htmlType,
			want: []string{"three-letter code"}, notWant: []string{"EURO<b>"}},
		{name: "privacy policy", target: "/privacy", status: 200, ctype: htmlType,
			want: []string{"<h1>Privacy policy</h1>", "Milterworks GmbH", "Hauptstraße 1<br>", "privacy@milterworks.example",
				`Last updated: <time datetime="2026-05-07">7 May 2026</time>`}},
		{name: "cookie policy", target: "/cookies", status: 200, ctype: htmlType,
			want: []string{"<h1>Cookie policy</h1>", "<code>sk_staff</code>", "Only our staff, when they sign in",
				"Visitors who only read the site get no cookie", "no tracking pixels",
				`<time datetime="2026-05-07">7 May 2026</time>`, "privacy@milterworks.example"}},
		{name: "unknown page", target: "/no/such/page", status: 404, ctype: htmlType,
			want: []string{"<title>Page not found · Milterworks</title>", "There is no page at this address", `href="/"`}},
		{name: "unknown API address answers JSON", target: "/api/v1/nothing", status: 404, ctype: jsonType,
			want: []string{`{"error":"There is no page at this address.`}},
		{name: "wrong method", method: http.MethodPut, target: "/pricing", status: 405, ctype: htmlType,
			want: []string{"This address does not accept PUT requests"}},
		{name: "unknown static file", target: "/static/nothing.css", status: 404, ctype: htmlType},
		{name: "health", target: "/healthz", status: 200, ctype: "text/plain; charset=utf-8", want: []string{"ok"}},
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				method := sc.method
				if method == "" {
					method = http.MethodGet
				}
				res := s.Do(t, method, sc.target, nil, nil)
				body := webtest.ReadAll(t, res)
				if res.StatusCode != sc.status {
					t.Fatalf("status %d, want %d; body:\n%s", res.StatusCode, sc.status, body)
				}
				if ct := res.Header.Get("Content-Type"); ct != sc.ctype {
					t.Errorf("Content-Type %q, want %q", ct, sc.ctype)
				}
				webtest.MustContain(t, body, sc.want...)
				webtest.MustNotContain(t, body, sc.notWant...)
				if sc.ctype == htmlType {
					// The CSP forbids inline scripts and styles; a page
					// using them would break in browsers.
					webtest.MustNotContain(t, body, "<script", "style=", "javascript:")
					if m := inlineHandlerRE.FindString(body); m != "" {
						t.Errorf("page has an inline event handler %q", m)
					}
				}
			})
		}
	})
}

func TestWrongMethodNamesAllowedMethods(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		res := s.Do(t, http.MethodDelete, "/products/mailguard", nil, nil)
		if res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d, want 405", res.StatusCode)
		}
		if allow := res.Header.Get("Allow"); !strings.Contains(allow, "GET") {
			t.Errorf("Allow = %q, want GET listed", allow)
		}
	})
}

var inlineHandlerRE = regexp.MustCompile(`<[^>]+\son[a-z]+=`)

var assetRE = regexp.MustCompile(`/static/(style|favicon)\.[0-9a-f]{12}\.(css|svg)`)

func TestStaticFilesHaveHashedNamesAndLongCache(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		_, home := s.Get(t, "/")
		urls := assetRE.FindAllString(home, -1)
		if len(urls) != 2 {
			t.Fatalf("home links %d static files (%v), want the style sheet and the icon", len(urls), urls)
		}
		for _, u := range urls {
			res, body := s.Get(t, u)
			if res.StatusCode != http.StatusOK || body == "" {
				t.Fatalf("%s: status %d, %d bytes", u, res.StatusCode, len(body))
			}
			if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
				t.Errorf("%s: Cache-Control %q, want a year and immutable", u, cc)
			}
			want := map[bool]string{true: "text/css; charset=utf-8", false: "image/svg+xml"}[strings.HasSuffix(u, ".css")]
			if ct := res.Header.Get("Content-Type"); ct != want {
				t.Errorf("%s: Content-Type %q, want %q", u, ct, want)
			}
			// A revalidation with the ETag costs no body.
			etag := res.Header.Get("ETag")
			res = s.Do(t, http.MethodGet, u, http.Header{"If-None-Match": {etag}}, nil)
			if res.StatusCode != http.StatusNotModified {
				t.Errorf("%s with If-None-Match: status %d, want 304", u, res.StatusCode)
			}
		}
	})
}

func TestDemoBanner(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithDemo())
		for _, p := range []string{"/", "/pricing", "/privacy", "/no-such-page"} {
			_, body := s.Get(t, p)
			webtest.MustContain(t, body, "Demo site.")
		}
	})
}

func TestEmptyCatalog(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		if _, err := d.ExecContext(t.Context(), `UPDATE products SET active = FALSE`); err != nil {
			t.Fatal(err)
		}
		_, home := s.Get(t, "/")
		webtest.MustContain(t, home, "No products are listed yet")
		_, pricing := s.Get(t, "/pricing")
		webtest.MustContain(t, pricing, "No prices are published yet")
	})
}

// TestPublicPagesSetNoCookies keeps the cookie policy's promise that a
// visitor who only reads the site gets no cookie.
func TestPublicPagesSetNoCookies(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	for _, target := range []string{"/", "/products/mailguard", "/pricing", "/privacy", "/cookies", "/no/such/page", "/staff/login"} {
		res, _ := s.Get(t, target)
		if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Errorf("GET %s set cookies %v", target, c)
		}
	}
}
