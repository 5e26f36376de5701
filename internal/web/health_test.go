package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestHealthAndReadiness: /healthz (liveness) answers "ok" as long as the
// process answers, the database down or not; /readyz (readiness) answers
// 503 while the database is unreachable or migrations are pending, and
// "ready" when the schema is at (or, in a rolling upgrade, past) the
// binary's latest migration. Neither answer says why; the log does.
func TestHealthAndReadiness(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		want := func(path string, status int, body string) {
			t.Helper()
			res, got := s.Get(t, path)
			if res.StatusCode != status || got != body {
				t.Fatalf("%s: status %d, body %q; want %d %q", path, res.StatusCode, got, status, body)
			}
		}
		want("/healthz", http.StatusOK, "ok\n")
		want("/readyz", http.StatusOK, "ready\n")

		current, latest, err := d.SchemaVersion(context.Background())
		if err != nil || current != latest || latest < 44 {
			t.Fatalf("SchemaVersion = %d, %d, %v; want both the latest embedded migration", current, latest, err)
		}
		// goose's history one migration behind: pending.
		if _, err := d.ExecContext(context.Background(), `UPDATE goose_db_version SET is_applied = false WHERE version_id = $1`, latest); err != nil {
			t.Fatal(err)
		}
		want("/readyz", http.StatusServiceUnavailable, "unavailable\n")
		want("/healthz", http.StatusOK, "ok\n")
		webtest.MustContain(t, s.Logs.String(), "readiness check failed", "check=migrations", fmt.Sprintf("schema_version=%d want_version=%d", latest-1, latest))
		// A newer release migrated past this binary: still ready.
		if _, err := d.ExecContext(context.Background(), `UPDATE goose_db_version SET is_applied = true WHERE version_id = $1`, latest); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(context.Background(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, latest+1); err != nil {
			t.Fatal(err)
		}
		want("/readyz", http.StatusOK, "ready\n")

		if strings.Contains(s.Logs.String(), "check=database") {
			t.Fatal("the database check failed while the database was open")
		}
		d.Close()
		want("/readyz", http.StatusServiceUnavailable, "unavailable\n")
		want("/healthz", http.StatusOK, "ok\n")
		webtest.MustContain(t, s.Logs.String(), "check=database")
	})
}

// TestMetrics: requests are counted by route pattern and status, never by
// the requested path, so slugs and anything typed into the address stay
// out of the metrics; and the metrics, which tell business activity, are
// not on the public site but on a handler of their own.
// TestReadinessFailsWhileDraining: once the process is asked to stop
// (Server.Drain), /readyz answers 503 so the load balancer sends no new
// requests, while pages, and /healthz, are still served.
func TestReadinessFailsWhileDraining(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	if res, body := s.Get(t, "/readyz"); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d %q", res.StatusCode, body)
	}
	s.Srv.Drain()
	if res, body := s.Get(t, "/readyz"); res.StatusCode != http.StatusServiceUnavailable || body != "unavailable\n" {
		t.Fatalf("draining: %d %q", res.StatusCode, body)
	}
	webtest.MustContain(t, s.Logs.String(), "readiness check failed", "check=draining")
	for _, path := range []string{"/healthz", "/"} {
		if res, body := s.Get(t, path); res.StatusCode != http.StatusOK {
			t.Fatalf("%s while draining: %d\n%.300s", path, res.StatusCode, body)
		}
	}
}

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
