// Command bare is the same-run baseline of bench/analytics/ingest.sh: a bare
// net/http server whose beacon endpoint reads the request body (at most
// 4 KiB) and answers 204 No Content, and does nothing else: no parsing, no
// storage. What an ingest endpoint costs beyond it is its own work.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address to listen on (loopback)")
	flag.Parse()

	mux := http.NewServeMux()
	beacon := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4096))
		w.WriteHeader(http.StatusNoContent)
	}
	// Any path: the wrk scripts of the harness post to /a/v.
	mux.HandleFunc("POST /", beacon)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })

	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
