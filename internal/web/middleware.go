package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/requestlog"
	"github.com/storekeep/storekeep/internal/settings"
)

// maxBodyBytes caps request bodies. The public site has no forms yet; the
// cap is in place so that future forms cannot be used to exhaust memory.
const maxBodyBytes = 1 << 20

// contentSecurityPolicy allows only this site's own files: no inline
// scripts or styles, no third-party origins, no framing. Pages need no
// JavaScript; 'self' for scripts leaves room for a future static script.
// Forms may submit to the site and, because browsers apply form-action to
// the redirect that follows a submission, to the hosted payment pages of
// the configured providers (formOrigins).
func contentSecurityPolicy(formOrigins []string) string {
	formAction := "'self'"
	for _, o := range formOrigins {
		formAction += " " + o
	}
	return "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action " + formAction + "; frame-ancestors 'none'"
}

// middleware wraps next in the chain every request passes through, from
// the outside in:
//
//  1. observe: one log line and the metrics per request;
//  2. recoverPanics: a panicking handler becomes a 500 page;
//  3. securityHeaders: set before anything else writes, so that error
//     pages and panics carry them too;
//  4. cross-origin protection: refuses state-changing requests sent by
//     other sites (CSRF);
//  5. limitBody: caps request bodies;
//  6. readableForms: refuses a submitted form holding text no person
//     types (input.Readable), before any handler sees it.
func (s *Server) middleware(next http.Handler) (http.Handler, error) {
	cop := http.NewCrossOriginProtection()
	// Requests from our own public address are ours even when a reverse
	// proxy rewrites the Host header.
	if err := cop.AddTrustedOrigin(s.baseURL.Scheme + "://" + s.baseURL.Host); err != nil {
		return nil, fmt.Errorf("web: trust base URL origin: %w", err)
	}
	s.cop = cop
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, &Error{Status: http.StatusForbidden, Message: msgCrossSite})
	}))
	h := s.readableForms(next)
	h = s.limitBody(h)
	h = cop.Handler(h)
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.observe(h)
	return h, nil
}

// requestInfo carries what the inner layers learn about a request out to
// observe. A pointer in the context survives the request copies that
// middleware and the router make.
type requestInfo struct {
	// route is the pattern of the matched route; empty when none matched.
	route string
	// vendor holds the vendor settings once a handler or the page layout
	// has loaded them (see Server.vendor).
	vendor *settings.Vendor
	// errorPage is set while the error page renders.
	errorPage bool
}

type infoKey struct{}

// info returns the request's requestInfo; a throwaway one outside the
// middleware (for example in a test calling a handler directly).
func info(r *http.Request) *requestInfo {
	if i, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// Vendor returns the vendor settings, loading them at most once per
// request: a handler that needs them (for a mail or an invoice) and the
// page it renders share one query.
func (s *Server) Vendor(r *http.Request) (settings.Vendor, error) {
	i := info(r)
	if i.vendor != nil {
		return *i.vendor, nil
	}
	v, err := settings.Load(r.Context(), s.db)
	if err != nil {
		return v, err
	}
	i.vendor = &v
	return v, nil
}

// observe logs each request and counts it in the metrics. It records the
// method, route pattern, status and duration, and nothing else: no IP
// address, query string, path values or user agent, which could identify a
// person or carry personal data a visitor typed into the address.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var at time.Time
		if s.requestLog != nil {
			at = s.clock.Now()
		}
		ri := &requestInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)

		elapsed := time.Since(start)
		status := sw.status
		if status == 0 {
			status = http.StatusOK // the handler wrote nothing: net/http sends 200
		}
		route := ri.route
		if route == "" {
			route = routeUnmatched
		}
		s.metrics.observe(route, status, elapsed)
		if s.requestLog != nil && pageRequest(r, route, sw.Header()) {
			s.requestLog.Record(requestlog.Entry{At: at, Route: route, Status: status, Network: ClientIP(r),
				UserAgent: r.UserAgent(), Referrer: r.Referer(), Host: r.Host})
		}
		level := slog.LevelInfo
		if s.quiet[route] {
			// Health probes, beacons: routes called all the time that
			// say nothing on their own (LogQuietly); the metrics count them.
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", elapsed))
	})
}

// pageRequest reports whether a request is a page request, which the
// request log records: a GET or HEAD answered with HTML (a page, an error
// page, a redirect's), outside the staff console (whose use the audit log
// records), the demo's mail viewer, the API, the package repositories
// (their package downloads are in the download log), webhooks, static
// files and the health check. Unmatched addresses (404 pages) are page
// requests too: scans show in them.
func pageRequest(r *http.Request, route string, h http.Header) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		return false
	}
	if _, path, ok := strings.Cut(route, " "); ok {
		for _, p := range notPages {
			if path == p || strings.HasPrefix(path, p+"/") {
				return false
			}
		}
	}
	return true
}

// notPages are the route prefixes pageRequest leaves out.
var notPages = []string{"/staff", "/dev", "/api", "/apt", "/yum", "/webhooks", "/static", "/healthz", "/readyz", "/.well-known"}

// routeUnmatched is the route label of requests no route matched (unknown
// addresses, refused cross-site requests). One label for all of them keeps
// arbitrary paths out of logs and metrics.
const routeUnmatched = "unmatched"

// statusWriter remembers the status written, for observe and recoverPanics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recoverPanics turns a panic in a handler into a logged 500 page instead
// of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p) // the handler asked net/http to drop the connection
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("method", r.Method), slog.String("route", info(r).route),
				slog.Int("status", http.StatusInternalServerError),
				slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())))
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				// Part of the answer is already sent; a status can no
				// longer be given, so end the response.
				panic(http.ErrAbortHandler)
			}
			s.writeError(w, r, &Error{Status: http.StatusInternalServerError, Message: msgInternal})
		}()
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers that tell browsers to apply their
// protections. They go on every response, error pages included.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, v := range s.security {
			h[v.key] = v.value
		}
		next.ServeHTTP(w, r)
	})
}

// headerValue is a header as http.Header holds it: the canonical name and
// a one-element slice. securityHeaders gives every response the same
// slices, built once: a response's handler may Set (which replaces the
// slice) or Add (which, the slice being full, copies it), and nothing in
// net/http changes one in place. Setting them one by one was six
// allocations a request, a fifth of the analytics beacon's.
type headerValue struct {
	key   string
	value []string
}

func securityHeaderValues(csp string, https bool) []headerValue {
	hs := []headerValue{
		{"Content-Security-Policy", []string{csp}},
		{"X-Content-Type-Options", []string{"nosniff"}},
		{"Referrer-Policy", []string{"strict-origin-when-cross-origin"}},
		{"X-Frame-Options", []string{"DENY"}},
		{"Permissions-Policy", []string{"camera=(), microphone=(), geolocation=(), payment=(), usb=()"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin"}},
	}
	if https {
		// Only over HTTPS: sent on a plain-HTTP site, it would lock
		// browsers out of a site that has no certificate.
		hs = append(hs, headerValue{"Strict-Transport-Security", []string{"max-age=63072000; includeSubDomains"}})
	}
	for i := range hs {
		hs[i].value = hs[i].value[:1:1]
		if http.CanonicalHeaderKey(hs[i].key) != hs[i].key {
			panic("web: security header " + hs[i].key + " is not in canonical form")
		}
	}
	return hs
}

// limitBody caps the request body at maxBodyBytes, or at the limit the
// route was given with AllowLargeBody; reading past the cap fails with
// *http.MaxBytesError, which serveError turns into a 413 page.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			limit := int64(maxBodyBytes)
			if len(s.bodyLimits) > 0 {
				if _, pattern := s.mux.Handler(r); pattern != "" {
					if n, ok := s.bodyLimits[pattern]; ok {
						limit = n
					}
				}
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// AllowLargeBody lets the route registered as pattern take bodies of up
// to max bytes instead of maxBodyBytes: an upload, which its handler
// streams and checks itself. Call it when mounting, before serving.
func (s *Server) AllowLargeBody(pattern string, max int64) {
	if s.bodyLimits == nil {
		s.bodyLimits = map[string]int64{}
	}
	s.bodyLimits[pattern] = max
}

// AllowCrossSite exempts the one route registered as pattern (method and
// path, "POST /unsubscribe/{token}") from the cross-origin protection.
// It is for a request another site sends by design on the person's
// behalf: RFC 8058's one-click unsubscribe, which mailbox providers POST
// from their own servers, with their own Origin or none. Such a route
// must change nothing without a capability in its URL (a signed token)
// and must not act on cookies. Call it when mounting, before serving.
func (s *Server) AllowCrossSite(pattern string) {
	s.cop.AddInsecureBypassPattern(pattern)
}

// readableForms reads every url-encoded form submitted and refuses it,
// with a 422 page and nothing changed, when a name or value is not UTF-8
// or holds a control character, NUL or a character that reorders text on
// screen (input.Readable). This is the one check of text at the edge:
// no handler, today's or a later area's, receives such text. The rules of
// each field (one line, how long) are its own, applied with input.Spec
// where the field is read. Other bodies (webhooks' JSON, API bodies) are
// checked where they are decoded.
func (s *Server) readableForms(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			if isForm(r.Header.Get("Content-Type")) {
				if err := r.ParseForm(); err != nil {
					var tooLarge *http.MaxBytesError
					if errors.As(err, &tooLarge) {
						s.writeError(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Message: msgTooLarge})
						return
					}
					s.writeError(w, r, &Error{Status: http.StatusBadRequest, Message: "The form could not be read. Reload the page and try again."})
					return
				}
				if err := readableValues(r.Form); err != nil {
					rf, _ := refuse.As(err)
					s.writeError(w, r, &Error{Status: StatusOf(rf), Message: rf.Msg})
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// isForm reports whether a Content-Type names a URL-encoded form: its
// media type, whatever its parameters, as mime.ParseMediaType reads it
// (which allocates its parameters' map for every POST, a beacon's too).
func isForm(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(mt), "application/x-www-form-urlencoded")
}

func readableValues(form url.Values) error {
	for k, vs := range form {
		if err := input.Readable(k, k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := input.Readable(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
