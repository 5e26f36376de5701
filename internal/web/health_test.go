package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestHealthz(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		res, body := s.Get(t, "/healthz")
		if res.StatusCode != http.StatusOK || body != "ok\n" {
			t.Fatalf("healthy: status %d, body %q", res.StatusCode, body)
		}
		d.Close()
		res, body = s.Get(t, "/healthz")
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("database closed: status %d, want 503", res.StatusCode)
		}
		if body != "unavailable\n" {
			t.Errorf("database closed: body %q; the public answer must not describe the cause", body)
		}
		webtest.MustContain(t, s.Logs.String(), "health check failed")
	})
}

// TestMetrics: requests are counted by route pattern and status, never by
// the requested path, so slugs and anything typed into the address stay
// out of the metrics; and the metrics, which tell business activity, are
// not on the public site but on a handler of their own.
func TestMetrics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		s.Get(t, "/products/mailguard")
		s.Get(t, "/products/mailguard")
		s.Get(t, "/products/secret-slug-xyz")
		s.Get(t, "/no/such/page?email=alice@example.com")
		if res, _ := s.Get(t, "/metrics"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("/metrics on the public site: status %d, want 404", res.StatusCode)
		}
		rec := httptest.NewRecorder()
		s.Srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		res, body := rec.Result(), rec.Body.String()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q", ct)
		}
		webtest.MustContain(t, body,
			`storekeep_http_requests_total{code="200",route="GET /products/{slug}"} 2`,
			`storekeep_http_requests_total{code="404",route="GET /products/{slug}"} 1`,
			`storekeep_http_requests_total{code="404",route="unmatched"} 2`,
			`storekeep_http_request_duration_seconds_bucket{code="200",route="GET /products/{slug}",le=`,
			`storekeep_build_info{version="test"} 1`,
			"go_goroutines", "go_gc_duration_seconds",
			`go_sql_open_connections{db_name="reader"}`,
		)
		webtest.MustNotContain(t, body, "mailguard", "secret-slug-xyz", "alice", "/no/such/page")
		// Each series is labelled with the pattern only.
		for _, m := range regexp.MustCompile(`route="[^"]*"`).FindAllString(body, -1) {
			if !strings.Contains(m, "GET /") && m != `route="unmatched"` {
				t.Errorf("unexpected route label %s", m)
			}
		}
	})
}
