package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
)

func TestHealthz(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		res, body := s.get(t, "/healthz")
		if res.StatusCode != http.StatusOK || body != "ok\n" {
			t.Fatalf("healthy: status %d, body %q", res.StatusCode, body)
		}
		d.Close()
		res, body = s.get(t, "/healthz")
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("database closed: status %d, want 503", res.StatusCode)
		}
		if body != "unavailable\n" {
			t.Errorf("database closed: body %q; the public answer must not describe the cause", body)
		}
		mustContain(t, s.logs.String(), "health check failed")
	})
}

// TestMetrics: requests are counted by route pattern and status, never by
// the requested path, so slugs and anything typed into the address stay
// out of the metrics.
func TestMetrics(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		s.get(t, "/products/mailguard")
		s.get(t, "/products/mailguard")
		s.get(t, "/products/secret-slug-xyz")
		s.get(t, "/no/such/page?email=alice@example.com")
		rec := httptest.NewRecorder()
		s.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		res, body := rec.Result(), rec.Body.String()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q", ct)
		}
		mustContain(t, body,
			`storekeep_http_requests_total{code="200",route="GET /products/{slug}"} 2`,
			`storekeep_http_requests_total{code="404",route="GET /products/{slug}"} 1`,
			`storekeep_http_requests_total{code="404",route="unmatched"} 1`,
			`storekeep_http_request_duration_seconds_bucket{code="200",route="GET /products/{slug}",le=`,
			`storekeep_build_info{version="test"} 1`,
			"go_goroutines", "go_gc_duration_seconds",
			`go_sql_open_connections{db_name="reader"}`,
		)
		mustNotContain(t, body, "mailguard", "secret-slug-xyz", "alice", "/no/such/page")
		// Each series is labelled with the pattern only.
		for _, m := range regexp.MustCompile(`route="[^"]*"`).FindAllString(body, -1) {
			if !strings.Contains(m, "GET /") && m != `route="unmatched"` {
				t.Errorf("unexpected route label %s", m)
			}
		}
		// Not on the site's address: cmd/storekeep serves MetricsHandler
		// on a listener of its own (--metrics-addr).
		if res, _ := s.get(t, "/metrics"); res.StatusCode != http.StatusNotFound {
			t.Fatalf("public /metrics: status %d, want 404", res.StatusCode)
		}
	})
}
