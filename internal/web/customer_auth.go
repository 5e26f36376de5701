package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
)

// customerCookieName is __Host- prefixed over HTTPS, like the staff
// cookie: browsers then insist on Secure, Path=/ and no Domain.
func (s *Server) customerCookieName() string {
	if s.https {
		return "__Host-sk_customer"
	}
	return "sk_customer"
}

// SetCustomerCookie sets the customer session cookie.
func (s *Server) SetCustomerCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.customerCookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: int(customers.AbsoluteTimeout / time.Second),
	})
}

// ClearCustomerCookie removes the customer session cookie.
func (s *Server) ClearCustomerCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.customerCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// CustomerCookie returns the value of the request's customer session
// cookie, and whether there is one; it says nothing of whether the session
// is live (CustomerSession does). For code that keys something on the
// session without looking it up every time.
func (s *Server) CustomerCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(s.customerCookieName())
	if err != nil {
		return "", false
	}
	return c.Value, true
}

// CustomerSession returns the request's live customer session, or nil.
func (s *Server) CustomerSession(r *http.Request) (*customers.Session, error) {
	token, ok := s.CustomerCookie(r)
	if !ok {
		return nil, nil
	}
	sess, err := customers.LookupSession(r.Context(), s.db, token, s.clock.Now())
	if errors.Is(err, customers.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// CurrentCustomer returns the signed-in customer, or nil, nil when the
// request carries no live customer session (no cookie, a forged, revoked
// or expired one). Use it on pages that work for everyone but show more to
// a customer.
func (s *Server) CurrentCustomer(r *http.Request) (*customers.Customer, error) {
	sess, err := s.CustomerSession(r)
	if err != nil || sess == nil {
		return nil, err
	}
	return &sess.Customer, nil
}

// RequireCustomer returns the signed-in customer for pages that need one.
// Without a session it answers the request itself and returns ok false: a
// GET or HEAD is redirected to /account/login?next=<this page> (for pages
// under /account, /buy and /checkout, which sign-in returns to), any other
// method gets a 401 error to return. Use it as
//
//	c, ok, err := s.RequireCustomer(w, r)
//	if err != nil || !ok {
//		return err
//	}
func (s *Server) RequireCustomer(w http.ResponseWriter, r *http.Request) (c *customers.Customer, ok bool, err error) {
	c, err = s.CurrentCustomer(r)
	if err != nil {
		return nil, false, err
	}
	if c != nil {
		// Pages of an account show personal data: never cache them.
		w.Header().Set("Cache-Control", "no-store")
		return c, true, nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil, false, &Error{Status: http.StatusUnauthorized,
			Message: "You are not signed in, or your session has ended. Sign in again from the account page, then repeat what you were doing."}
	}
	target := "/account/login"
	if next := SafeAccountNext(r.URL.RequestURI()); next != "/account" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil, false, nil
}

// SafeAccountNext accepts only a local path in the customer's areas
// (/account, /buy, /checkout) as the place to return to after signing in;
// anything else becomes /account.
func SafeAccountNext(next string) string {
	return safeNext(next, "/account", []string{"/account", "/buy", "/checkout"},
		[]string{"/account/login", "/account/verify", "/account/logout", "/account/email/confirm"})
}

// SafeStaffNext accepts only a path within the console as the place to
// return to after signing in; anything else becomes /staff.
func SafeStaffNext(next string) string {
	return safeNext(next, "/staff", []string{"/staff"},
		[]string{"/staff/login", "/staff/logout", "/staff/setup", "/staff/reset", "/staff/2fa"})
}

// safeNext is the one check of a place to send a browser back to after
// signing in: a local path under one of prefixes, never another site (a
// scheme, a host, a protocol-relative or backslashed path, control
// characters, dot segments) and never one of the sign-in pages themselves;
// anything else becomes fallback.
func safeNext(next, fallback string, prefixes, excluded []string) string {
	if next == "" || len(next) > 1000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	p := u.Path
	if strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/./") || strings.HasSuffix(p, "/.") {
		return fallback
	}
	for _, no := range excluded {
		if p == no || strings.HasPrefix(p, no+"/") {
			return fallback
		}
	}
	for _, prefix := range prefixes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return next
		}
	}
	return fallback
}
