package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// healthTimeout bounds the readiness checks, so a hung database makes the
// probe fail quickly instead of piling up probes.
const healthTimeout = 2 * time.Second

// healthz is the liveness probe: 200 "ok" whenever the process answers
// HTTP. It does not ask the database. An orchestrator restarts a process
// whose liveness fails, and restarting every instance because the shared
// database is down (or slow for a moment) cures nothing, drops the
// requests in flight and makes all instances reconnect at once when it
// is back. Whether an instance should get traffic is readyz's question.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
	return nil
}

// readyz is the readiness probe for load balancers: 200 "ready" when the
// database answers and its schema is at least the version this binary
// embeds; 503 "unavailable" while migrations are pending or the database
// cannot be reached. A schema newer than the binary (another instance of
// a newer release migrated it: a rolling upgrade) is ready, so that the
// old instances keep serving until they are replaced; migrations are
// written to keep the previous release working (docs/deployment.md).
// The answer names no cause, since it is public; the cause goes to the
// log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	fail := func(check string, attrs ...slog.Attr) error {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "readiness check failed", append([]slog.Attr{slog.String("check", check)}, attrs...)...)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("unavailable\n"))
		return nil
	}
	if s.draining.Load() {
		return fail("draining")
	}
	if err := s.db.Ping(ctx); err != nil {
		return fail("database", slog.String("error", err.Error()))
	}
	current, latest, err := s.db.SchemaVersion(ctx)
	if err != nil {
		return fail("migrations", slog.String("error", err.Error()))
	}
	if current < latest {
		return fail("migrations", slog.Int64("schema_version", current), slog.Int64("want_version", latest))
	}
	_, _ = w.Write([]byte("ready\n"))
	return nil
}

// Drain makes the readiness probe fail from now on: the process was asked
// to stop and serves on only until the load balancer has noticed
// (serving.Server.Drain).
func (s *Server) Drain() { s.draining.Store(true) }
