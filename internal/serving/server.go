package serving

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout is how long in-flight requests get to finish when the
// process is asked to stop.
const ShutdownTimeout = 10 * time.Second

// Server runs the site on its main listener, over TLS when TLSConfig is
// set, and optionally a plain-HTTP listener for RedirectHandler (redirects
// to HTTPS and ACME challenges).
type Server struct {
	// Handler serves the site on the main listener.
	Handler http.Handler
	// TLSConfig turns on TLS on the main listener; nil serves plain HTTP.
	TLSConfig *tls.Config
	// RedirectHandler serves the plain-HTTP listener, when there is one.
	RedirectHandler http.Handler
	// ErrorLog receives net/http's own errors (e.g. failed handshakes).
	ErrorLog *log.Logger
	// Drain is how long the site keeps serving after it was asked to
	// stop, with OnDrain called first (the readiness probe then fails),
	// so a load balancer takes the instance out of rotation before its
	// listener closes. 0: shut down at once (one instance, no balancer).
	Drain   time.Duration
	OnDrain func()
	// After is time.After, or a test's channel for the drain's end.
	After func(time.Duration) <-chan time.Time
}

// Serve serves on ln (and on httpLn when it is not nil) until ctx ends,
// then shuts both down gracefully, giving in-flight requests up to
// ShutdownTimeout. It returns early with an error when a listener fails.
// Serve closes the listeners.
func (s *Server) Serve(ctx context.Context, ln, httpLn net.Listener) error {
	main := &http.Server{
		Handler:           s.Handler,
		TLSConfig:         s.TLSConfig,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          s.ErrorLog,
	}
	servers := []*http.Server{main}
	errc := make(chan error, 2)
	go func() {
		var err error
		if s.TLSConfig != nil {
			err = main.ServeTLS(ln, "", "")
		} else {
			err = main.Serve(ln)
		}
		errc <- fmt.Errorf("server on %s stopped: %w", ln.Addr(), err)
	}()
	if httpLn != nil {
		redirect := &http.Server{
			Handler:           s.RedirectHandler,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       30 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          s.ErrorLog,
		}
		servers = append(servers, redirect)
		go func() {
			errc <- fmt.Errorf("HTTP redirect server on %s stopped: %w", httpLn.Addr(), redirect.Serve(httpLn))
		}()
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
		if s.Drain > 0 {
			if s.OnDrain != nil {
				s.OnDrain()
			}
			after := s.After
			if after == nil {
				after = time.After
			}
			select {
			case failed = <-errc:
			case <-after(s.Drain):
			}
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, hs := range servers {
		if err := hs.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("graceful shutdown: %w", err))
		}
	}
	if failed != nil {
		return errors.Join(append([]error{failed}, errs...)...)
	}
	return errors.Join(errs...)
}
