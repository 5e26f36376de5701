package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// healthTimeout bounds the database check, so a hung database makes the
// probe fail quickly instead of piling up probes.
const healthTimeout = 2 * time.Second

// healthz tells load balancers and orchestrators whether this instance can
// serve: 200 "ok" when the database answers, 503 otherwise. The answer
// names no cause, since it is public; the cause goes to the log.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if err := s.db.Ping(ctx); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelWarn, "health check failed",
			slog.String("check", "database"), slog.String("error", err.Error()))
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("unavailable\n"))
		return nil
	}
	_, _ = w.Write([]byte("ok\n"))
	return nil
}
