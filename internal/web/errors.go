package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Error is an answer meant for the person who made the request that only
// HTTP has words for (401 sign in again, 405, 413, 500). Refusals of the
// domains are *refuse.Error values; StatusOf maps them. Any other error a
// handler returns is internal: it is logged and the visitor sees a generic
// 500 page.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// NotFound returns a refusal: there is nothing at this address (404).
func NotFound(msg string) *refuse.Error { return refuse.New(refuse.NotFound, "", msg) }

// BadRequest returns a 400 Error: the request itself cannot be read (a
// form that does not parse, a damaged link, a query parameter out of its
// range). Input that is read but refused is a refuse.Invalid, a 422.
func BadRequest(msg string) *Error { return &Error{Status: http.StatusBadRequest, Message: msg} }

// Unauthorized returns a 401 Error: the request needs a session.
func Unauthorized(msg string) *Error { return &Error{Status: http.StatusUnauthorized, Message: msg} }

// StatusOf is the one mapping from a refusal's kind to an HTTP status:
// invalid 422, not found 404, conflict 409, forbidden 403, limited 429,
// gone 410.
func StatusOf(e *refuse.Error) int {
	switch e.Kind {
	case refuse.Invalid:
		// Understood, and refused: the form is shown again with what to
		// correct.
		return http.StatusUnprocessableEntity
	case refuse.NotFound:
		return http.StatusNotFound
	case refuse.Conflict:
		return http.StatusConflict
	case refuse.Forbidden:
		return http.StatusForbidden
	case refuse.Limited:
		return http.StatusTooManyRequests
	case refuse.Gone:
		return http.StatusGone
	}
	return http.StatusBadRequest
}

// Messages shared by several handlers. MsgNotFound is the answer for an
// address with nothing behind it.
const (
	MsgNotFound  = "There is no page at this address. Check the address for typing mistakes, or start again from the home page."
	msgInternal  = "Something went wrong on our side and the page could not be shown. Please try again in a few minutes."
	msgTooLarge  = "The request is larger than this site accepts. Please send less data."
	msgCrossSite = "This request came from another website, so it was refused to protect you. " +
		"If you were using this site, go back to the page, reload it and try again."
)

// statusClientClosed records a request whose client left before the answer.
const statusClientClosed = 499

// HandlerFunc is the shape of every handler: it writes a response and
// returns nil, or writes nothing and returns an error for serveError.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle registers h for pattern. The pattern, not the requested path, is
// what logs and metrics see: it has bounded cardinality and carries no
// slugs, addresses or other values a visitor typed. Routes under /staff
// must be registered with HandleStaff instead, which checks the session
// and the permission.
func (s *Server) Handle(pattern string, h HandlerFunc) {
	if strings.Contains(pattern, " /staff") {
		panic("web: staff route " + pattern + " must be registered with HandleStaff")
	}
	s.handle(pattern, h)
}

func (s *Server) handle(pattern string, h HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info(r).route = pattern
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && s.mailQueued != nil {
			s.mailQueued()
		}
	}))
}

// serveError answers with err: the Error's own status and message, or, for
// an internal error, a logged 500 with a generic message.
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	var rf *refuse.Error
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &rf):
		e = &Error{Status: StatusOf(rf), Message: rf.Msg}
	case errors.As(err, &tooLarge):
		e = &Error{Status: http.StatusRequestEntityTooLarge, Message: msgTooLarge}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The visitor went away: nobody reads the answer and nothing is
		// wrong with the server, so raise no alarm. 499 is the status
		// proxies use for this; it shows in the request log and metrics.
		w.WriteHeader(statusClientClosed)
		return
	default:
		s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("method", r.Method), slog.String("route", info(r).route),
			slog.Int("status", http.StatusInternalServerError), slog.String("error", err.Error()))
		e = &Error{Status: http.StatusInternalServerError, Message: msgInternal}
	}
	s.writeError(w, r, e)
}

// writeError writes e as JSON under /api/ and as an HTML page elsewhere.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *Error) {
	h := w.Header()
	// Headers a handler may have set for the content it meant to send.
	h.Del("Content-Length")
	h.Del("Content-Disposition")
	h.Set("Cache-Control", "no-store")
	if a := s.apiErrorsFor(r); a != nil {
		a.write(w, r, e.Status, e.Message)
		return
	}
	if isAPI(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": e.Message})
		return
	}
	s.renderErrorPage(w, r, e)
}

// APIErrorWriter writes an error answer of an API whose answers have a
// shape of their own (the license API signs every answer): status and
// message are the core's, as for any other error.
type APIErrorWriter func(w http.ResponseWriter, r *http.Request, status int, msg string)

type apiErrors struct {
	prefix string
	write  APIErrorWriter
}

// SetAPIErrors makes write answer every error of a request under prefix
// (such as "/api/v1/"), whoever found it: the router's 404 and 405, a
// refused cross-site request, an unreadable form, a panic, and errors
// handlers return. The router's redirects too: an address under prefix
// that is not in its clean form ("//", "." or ".." segments) is answered
// 404 by write, not redirected, so a client never gets an answer of
// another shape. The prefix must lie under /api/ or /.well-known/ (a
// document served to programs, such as published keys).
func (s *Server) SetAPIErrors(prefix string, write APIErrorWriter) {
	if !strings.HasPrefix(prefix, "/api/") && !strings.HasPrefix(prefix, "/.well-known/") {
		panic("web: API errors outside /api/ and /.well-known/: " + prefix)
	}
	s.apiErrors = append(s.apiErrors, apiErrors{prefix, write})
}

// apiErrorsFor returns the API error writer for r's address, or nil.
func (s *Server) apiErrorsFor(r *http.Request) *apiErrors {
	for i, a := range s.apiErrors {
		if strings.HasPrefix(r.URL.Path, a.prefix) {
			return &s.apiErrors[i]
		}
	}
	return nil
}

// uncleanPath reports whether the router would redirect r to a cleaned
// address: an empty, "." or ".." segment (the router's own rule).
func uncleanPath(r *http.Request) bool {
	p := r.URL.EscapedPath()
	if r.Method == http.MethodConnect || p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c != p
}

func isAPI(r *http.Request) bool {
	return r.URL.Path == "/api" || strings.HasPrefix(r.URL.Path, "/api/")
}

// errorTitle is the heading of an error page.
func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusBadRequest:
		return "This request cannot be answered"
	case http.StatusForbidden:
		return "Request refused"
	case http.StatusMethodNotAllowed:
		return "Method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "Request too large"
	}
	if t := http.StatusText(status); t != "" && status < 500 {
		return t
	}
	return "Something went wrong"
}

// serveMux runs the router and replaces the plain-text 404 and 405 answers
// it gives for addresses no route matches with our own pages (or JSON under
// /api/). Redirects the router makes (such as cleaning "//" in paths) pass
// through untouched, but for addresses whose errors an API answers (see
// SetAPIErrors).
func (s *Server) serveMux(w http.ResponseWriter, r *http.Request) {
	if uncleanPath(r) && s.apiErrorsFor(r) != nil {
		s.writeError(w, r, &Error{Status: http.StatusNotFound,
			Message: "This address has an empty, \".\" or \"..\" segment: ask for the address as the API's document spells it."})
		return
	}
	fw := &fallbackWriter{ResponseWriter: w, r: r}
	s.mux.ServeHTTP(fw, r)
	switch fw.caught {
	case 0:
	case http.StatusMethodNotAllowed:
		// The router has set the Allow header, which we keep.
		s.writeError(w, r, &Error{Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("This address does not accept %s requests. Follow a link on the site instead.", r.Method)})
	default:
		s.writeError(w, r, &Error{Status: http.StatusNotFound, Message: MsgNotFound})
	}
}

// fallbackWriter swallows the router's own 404 and 405 answers. It can tell
// them from a handler's because the router sets r.Pattern before calling a
// matched handler and leaves it empty otherwise.
type fallbackWriter struct {
	http.ResponseWriter
	r      *http.Request
	caught int
}

func (f *fallbackWriter) WriteHeader(code int) {
	if f.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		f.caught = code
		return
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *fallbackWriter) Write(b []byte) (int, error) {
	if f.caught != 0 {
		return len(b), nil
	}
	return f.ResponseWriter.Write(b)
}

func (f *fallbackWriter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// NoStore marks a response as never to be cached: pages with personal
// data or one-time secrets.
func NoStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
