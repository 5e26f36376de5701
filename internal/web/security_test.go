package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var securityHeaders = map[string]string{
	"Content-Security-Policy":    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"X-Content-Type-Options":     "nosniff",
	"Referrer-Policy":            "strict-origin-when-cross-origin",
	"X-Frame-Options":            "DENY",
	"Cross-Origin-Opener-Policy": "same-origin",
}

func checkSecurityHeaders(t *testing.T, res *http.Response, https bool) {
	t.Helper()
	for k, want := range securityHeaders {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if res.Header.Get("Permissions-Policy") == "" {
		t.Error("no Permissions-Policy")
	}
	hsts := res.Header.Get("Strict-Transport-Security")
	if https && !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q on an https site", hsts)
	}
	if !https && hsts != "" {
		t.Errorf("Strict-Transport-Security = %q on a plain-http site", hsts)
	}
}

// TestSecurityHeaders checks the headers on good answers, errors and
// failures alike, and HSTS only where the site is served over HTTPS.
func TestSecurityHeaders(t *testing.T) {
	for _, base := range []string{"http://127.0.0.1:8080", "https://shop.example.com"} {
		https := strings.HasPrefix(base, "https:")
		t.Run(base, func(t *testing.T) {
			testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
				s := webtest.NewSite(t, d, webtest.WithBaseURL(base))
				s.Srv.Handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
					panic("test panic")
				})
				for _, sc := range []struct {
					target string
					status int
				}{
					{"/", 200},
					{"/healthz", 200},
					{"/no-such-page", 404},
					{"/pricing?currency=x", 400},
					{"/test/panic", 500},
				} {
					res := s.Do(t, http.MethodGet, sc.target, nil, nil)
					if res.StatusCode != sc.status {
						t.Fatalf("%s: status %d, want %d", sc.target, res.StatusCode, sc.status)
					}
					checkSecurityHeaders(t, res, https)
				}
			})
		})
	}
}

// TestSecurityHeadersAreNotSharedState: the security headers' values are
// shared by all responses (securityHeaders); a handler that adds to one,
// sets one or deletes one changes its own response only.
func TestSecurityHeadersAreNotSharedState(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d, webtest.WithBaseURL("https://shop.example.com"))
	s.Srv.Handle("GET /test/headers", func(w http.ResponseWriter, r *http.Request) error {
		h := w.Header()
		h.Add("Content-Security-Policy", "sandbox")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Del("Referrer-Policy")
		h["Cross-Origin-Opener-Policy"] = append(h["Cross-Origin-Opener-Policy"], "x")
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	res := s.Do(t, http.MethodGet, "/test/headers", nil, nil)
	if got := res.Header.Values("Content-Security-Policy"); len(got) != 2 || got[1] != "sandbox" {
		t.Fatalf("the handler's own CSP values: %q", got)
	}
	if got := res.Header.Get("X-Frame-Options"); got != "SAMEORIGIN" {
		t.Fatalf("the handler's own X-Frame-Options: %q", got)
	}
	for range 2 {
		res = s.Do(t, http.MethodGet, "/", nil, nil)
		checkSecurityHeaders(t, res, true)
		for _, k := range []string{"Content-Security-Policy", "Cross-Origin-Opener-Policy"} {
			if got := res.Header.Values(k); len(got) != 1 {
				t.Fatalf("%s on the next response: %q", k, got)
			}
		}
	}
}

// TestInternalErrorIsGeneric: when the database fails, every page is a 500
// with the security headers and a generic message; the cause goes to the
// log only.
func TestInternalErrorIsGeneric(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithBaseURL("https://shop.example.com"))
		d.Close()
		for _, target := range []string{"/", "/products/mailguard", "/pricing", "/privacy", "/cookies"} {
			res := s.Do(t, http.MethodGet, target, nil, nil)
			body := webtest.ReadAll(t, res)
			if res.StatusCode != http.StatusInternalServerError {
				t.Fatalf("%s: status %d, want 500", target, res.StatusCode)
			}
			checkSecurityHeaders(t, res, true)
			webtest.MustContain(t, body, "Something went wrong on our side")
			webtest.MustNotContain(t, body, "sql", "closed")
		}
		// The cause is in the log, with the route.
		webtest.MustContain(t, s.Logs.String(), "internal error", `route="GET /pricing"`, "closed")
	})
}

func TestPanicBecomes500(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		s.Srv.Handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
			panic("test panic")
		})
		res, body := s.Get(t, "/test/panic")
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", res.StatusCode)
		}
		webtest.MustContain(t, body, "Something went wrong on our side")
		webtest.MustNotContain(t, body, "test panic")
		webtest.MustContain(t, s.Logs.String(), "panic", "test panic", `route="GET /test/panic"`, "status=500")
	})
}

// TestCrossSiteRequestsRefused: a state-changing request that a browser
// reports as sent by another site is refused before any handler runs.
func TestCrossSiteRequestsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		reached := false
		s.Srv.Handle("POST /test/form", func(w http.ResponseWriter, r *http.Request) error {
			reached = true
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
		for _, sc := range []struct {
			name   string
			method string
			target string
			header http.Header
			status int
		}{
			{"cross-site POST", http.MethodPost, "/test/form", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
			{"cross-site POST to a page", http.MethodPost, "/pricing", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
			{"same-site POST from another origin", http.MethodPost, "/test/form", http.Header{"Sec-Fetch-Site": {"same-site"}}, 403},
			{"foreign Origin without Sec-Fetch-Site", http.MethodPost, "/test/form", http.Header{"Origin": {"https://evil.example"}}, 403},
			{"cross-site DELETE", http.MethodDelete, "/test/form", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
			{"cross-site GET is harmless and allowed", http.MethodGet, "/pricing", http.Header{"Sec-Fetch-Site": {"cross-site"}}, 200},
			{"same-origin POST", http.MethodPost, "/test/form", http.Header{"Sec-Fetch-Site": {"same-origin"}}, 204},
			{"POST from the base URL origin", http.MethodPost, "/test/form", http.Header{"Origin": {"http://127.0.0.1:8080"}}, 204},
		} {
			t.Run(sc.name, func(t *testing.T) {
				reached = false
				res := s.Do(t, sc.method, sc.target, sc.header, nil)
				body := webtest.ReadAll(t, res)
				if res.StatusCode != sc.status {
					t.Fatalf("status %d, want %d", res.StatusCode, sc.status)
				}
				if sc.status == 403 {
					if reached {
						t.Error("the handler ran for a refused request")
					}
					webtest.MustContain(t, body, "came from another website")
					checkSecurityHeaders(t, res, false)
				}
			})
		}
	})
}

func TestRequestBodyIsLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		s.Srv.Handle("POST /test/upload", func(w http.ResponseWriter, r *http.Request) error {
			if _, err := io.ReadAll(r.Body); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
		small := s.Do(t, http.MethodPost, "/test/upload", nil, strings.NewReader("x"))
		if small.StatusCode != http.StatusNoContent {
			t.Fatalf("small body: status %d, want 204", small.StatusCode)
		}
		big := s.Do(t, http.MethodPost, "/test/upload", nil, strings.NewReader(strings.Repeat("x", 2<<20)))
		if big.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("2 MiB body: status %d, want 413", big.StatusCode)
		}
		webtest.MustContain(t, webtest.ReadAll(t, big), "larger than this site accepts")
	})
}

// TestLogsHoldNoPersonalData: an email address in the query string or the
// path must not reach the log; the route pattern stands for the path.
func TestLogsHoldNoPersonalData(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		for _, target := range []string{
			"/pricing?currency=EUR&email=alice@example.com",
			"/products/mailguard?email=alice@example.com",
			"/products/alice@example.com",
			"/alice@example.com",
			"/pricing?currency=alice@example.com",
		} {
			req := s.Do(t, http.MethodGet, target, http.Header{
				"User-Agent":      {"AliceBrowser/1.0"},
				"X-Forwarded-For": {"203.0.113.7"},
				"Referer":         {"https://example.com/?email=alice@example.com"},
			}, nil)
			req.Body.Close()
		}
		logs := s.Logs.String()
		webtest.MustNotContain(t, logs, "alice", "example.com", "AliceBrowser", "203.0.113.7", "192.0.2.1", "currency=")
		webtest.MustContain(t, logs, `route="GET /pricing"`, `route="GET /products/{slug}"`, "route=unmatched", "status=400", "duration=")
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	d := testutil.SQLite(t)
	for _, o := range []web.Options{
		{},
		{DB: d},
		{DB: d, BaseURL: "shop.example.com"},
		{DB: d, BaseURL: "ftp://shop.example.com"},
		{DB: d, BaseURL: "https://shop.example.com/store"},
	} {
		if _, err := web.New(o); err == nil {
			t.Errorf("New(%+v) succeeded, want an error", o)
		}
	}
	if _, err := web.New(web.Options{DB: d, BaseURL: "https://shop.example.com/"}); err != nil {
		t.Errorf("a base URL with a trailing slash: %v", err)
	}
}
