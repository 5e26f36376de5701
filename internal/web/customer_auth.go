package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/ratelimit"
)

// Customer sign-in sends mail, so its limits guard the recipients as much
// as the accounts: a few links per address, more per network (an office
// shares one), and a cap on link uses per network like the console's.
var (
	limitCustomerLinkAddress = ratelimit.Limit{Max: 5, Window: 15 * time.Minute}
	limitCustomerLinkNetwork = ratelimit.Limit{Max: 30, Window: 15 * time.Minute}
	limitCustomerEmailChange = ratelimit.Limit{Max: 5, Window: time.Hour}
)

// networkOf is the client's network (IPv4 /24, IPv6 /48), the unit of the
// per-network limits.
func networkOf(r *http.Request) string { return audit.Network(clientIP(r)) }

// customerCookieName is __Host- prefixed over HTTPS, like the staff
// cookie: browsers then insist on Secure, Path=/ and no Domain.
func (s *Server) customerCookieName() string {
	if s.https {
		return "__Host-sk_customer"
	}
	return "sk_customer"
}

func (s *Server) setCustomerCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.customerCookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: int(customers.AbsoluteTimeout / time.Second),
	})
}

func (s *Server) clearCustomerCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.customerCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// customerSession returns the request's live customer session, or nil.
func (s *Server) customerSession(r *http.Request) (*customers.Session, error) {
	c, err := r.Cookie(s.customerCookieName())
	if err != nil {
		return nil, nil
	}
	sess, err := customers.LookupSession(r.Context(), s.db, c.Value, s.clock.Now())
	if errors.Is(err, customers.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// currentCustomer returns the signed-in customer, or nil, nil when the
// request carries no live customer session (no cookie, a forged, revoked
// or expired one). Use it on pages that work for everyone but show more to
// a customer.
func (s *Server) currentCustomer(r *http.Request) (*customers.Customer, error) {
	sess, err := s.customerSession(r)
	if err != nil || sess == nil {
		return nil, err
	}
	return &sess.Customer, nil
}

// requireCustomer returns the signed-in customer for pages that need one.
// Without a session it answers the request itself and returns ok false: a
// GET or HEAD is redirected to /account/login?next=<this page> (for pages
// under /account, /buy and /checkout, which sign-in returns to), any other
// method gets a 401 error to return. Use it as
//
//	c, ok, err := s.requireCustomer(w, r)
//	if err != nil || !ok {
//		return err
//	}
func (s *Server) requireCustomer(w http.ResponseWriter, r *http.Request) (c *customers.Customer, ok bool, err error) {
	c, err = s.currentCustomer(r)
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
	if next := safeAccountNext(r.URL.RequestURI()); next != "/account" {
		target += "?next=" + url.QueryEscape(next)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil, false, nil
}

// accountNextPrefixes are the areas a customer may be sent back to after
// signing in.
var accountNextPrefixes = []string{"/account", "/buy", "/checkout"}

// safeAccountNext accepts only a local path in the customer's areas as the
// place to return to after signing in; anything else (another site, a
// scheme, a protocol-relative or backslashed path, the sign-in pages
// themselves) becomes /account.
func safeAccountNext(next string) string {
	const fallback = "/account"
	if next == "" || len(next) > 1000 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	p := u.Path
	if strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/./") {
		return fallback
	}
	for _, no := range []string{"/account/login", "/account/verify", "/account/logout", "/account/email/confirm"} {
		if p == no || strings.HasPrefix(p, no+"/") {
			return fallback
		}
	}
	for _, prefix := range accountNextPrefixes {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return next
		}
	}
	return fallback
}
