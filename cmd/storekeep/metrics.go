package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// metricsHandler serves h at /metrics and nothing else; with a token, only
// to requests that carry it as "Authorization: Bearer TOKEN".
func metricsHandler(h http.Handler, token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	if token == "" {
		return mux
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Compared as hashes in constant time: neither the content nor the
		// length of the token leaks through the time the check takes.
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="storekeep metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// startMetrics serves the metrics on ln until stop is called, which shuts
// the listener down and waits for it.
func startMetrics(ln net.Listener, h http.Handler, token string, log *slog.Logger) (stop func()) {
	srv := &http.Server{
		Handler:           metricsHandler(h, token),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(redactingHandler{log.Handler()}, slog.LevelWarn),
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "error", err.Error())
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			wg.Wait()
		})
	}
}
