package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/staff"
)

// Access says who may use a staff route. Every route under /staff is
// registered with one of these and, for full access, one permission;
// HandleStaff is the only place that checks them (deny by default).
type Access int

const (
	// AccessPublic routes work without a session: signing in, setting a
	// password from a one-time link.
	AccessPublic Access = iota
	// AccessPartial routes need a session that has passed the password
	// but not yet the second factor.
	AccessPartial
	// AccessFull routes need a complete session and the route's permission.
	AccessFull
)

// staffRule is one staff route with what it requires.
type staffRule struct {
	Pattern string
	Access  Access
	Perm    staff.Permission // for AccessFull
}

// StaffRule is a registered staff route and what it needs, for the
// permission tests (TestEveryStaffRouteHasARule).
type StaffRule struct {
	Pattern string
	Access  Access
	Perm    staff.Permission
}

// StaffRules lists the registered staff routes with their rules.
func (s *Server) StaffRules() []StaffRule {
	out := make([]StaffRule, len(s.staffRules))
	for i, r := range s.staffRules {
		out[i] = StaffRule(r)
	}
	return out
}

// MsgRateLimited is the answer to too many attempts at a secret.
const MsgRateLimited = "Too many attempts. Wait 15 minutes, then try again."

// staffCookieName is __Host- prefixed over HTTPS, which makes browsers
// insist on Secure, Path=/ and no Domain: the cookie cannot be set or
// widened by a sibling subdomain.
func (s *Server) staffCookieName() string {
	if s.https {
		return "__Host-sk_staff"
	}
	return "sk_staff"
}

// SetStaffCookie sets the console session cookie.
func (s *Server) SetStaffCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.staffCookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: int(staff.AbsoluteTimeout / time.Second),
	})
}

// ClearStaffCookie removes the console session cookie.
func (s *Server) ClearStaffCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.staffCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

type sessionKey struct{}

// StaffSession returns the session HandleStaff found, or nil.
func StaffSession(r *http.Request) *staff.Session {
	sess, _ := r.Context().Value(sessionKey{}).(*staff.Session)
	return sess
}

// LookupStaffSession reads the session cookie; nil when there is no live
// session. HandleStaff calls it; the sign-in pages use it to see whether a
// password step is done.
func (s *Server) LookupStaffSession(r *http.Request) (*staff.Session, error) {
	c, err := r.Cookie(s.staffCookieName())
	if err != nil {
		return nil, nil
	}
	sess, err := staff.LookupSession(r.Context(), s.db, c.Value, s.clock.Now())
	if errors.Is(err, staff.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// HandleStaff registers a staff route with its rule. It is the only way to
// add a route under /staff (Handle refuses them, and
// TestEveryStaffRouteHasARule checks every route has a rule).
func (s *Server) HandleStaff(pattern string, acc Access, perm staff.Permission, h HandlerFunc) {
	if !strings.Contains(pattern, " /staff") {
		panic("web: HandleStaff is for routes under /staff, not " + pattern)
	}
	if acc == AccessFull && perm == "" {
		panic("web: staff route " + pattern + " needs a permission")
	}
	s.staffRules = append(s.staffRules, staffRule{Pattern: pattern, Access: acc, Perm: perm})
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		// Console pages show personal data and one-time secrets: never cache.
		w.Header().Set("Cache-Control", "no-store")
		sess, err := s.LookupStaffSession(r)
		if err != nil {
			return err
		}
		switch acc {
		case AccessPartial:
			if sess == nil {
				return s.ToLogin(w, r)
			}
		case AccessFull:
			if sess == nil || sess.Level != staff.LevelFull {
				return s.ToLogin(w, r)
			}
			if !sess.Account.Role.Can(perm) {
				s.auditDenied(r, sess, pattern)
				return &Error{Status: http.StatusForbidden, Message: fmt.Sprintf(
					"Your role (%s) does not allow this. If you need it for your work, ask an owner to change your role.", sess.Account.Role)}
			}
		}
		if sess != nil {
			r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		}
		return h(w, r)
	})
}

// ToLogin sends a browser without a (complete) session to the sign-in page,
// remembering where it was going; other requests get a 401.
func (s *Server) ToLogin(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &Error{Status: http.StatusUnauthorized, Message: "Your session has ended. Sign in again, then repeat what you were doing."}
	}
	http.Redirect(w, r, "/staff/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil
}

// ClientIP is the address of the person making the request: the TCP peer,
// or behind a trusted reverse proxy the client it names
// (serving.ClientIPMiddleware, which serve puts in front of the site).
func ClientIP(r *http.Request) netip.Addr { return serving.ClientIP(r) }

// Network is the client's network (IPv4 /24, IPv6 /48): the unit of the
// per-network limits and what the audit log records.
func Network(r *http.Request) string { return audit.Network(ClientIP(r)) }

// Allow counts a hit against each bucket and reports whether all are
// within their limits.
func (s *Server) Allow(r *http.Request, checks ...LimitCheck) (bool, error) {
	ok := true
	for _, c := range checks {
		in, err := s.limiter.Allow(r.Context(), c.Bucket, c.Limit, s.clock.Now())
		if err != nil {
			return false, err
		}
		ok = ok && in
	}
	return ok, nil
}

// LimitCheck is one rate-limit bucket and its limit.
type LimitCheck struct {
	Bucket string
	Limit  ratelimit.Limit
}

// Bucket is the check of limit on the bucket of kind keyed by value (an
// address, an account, a network), kept in the database as a keyed hash.
func (s *Server) Bucket(limit ratelimit.Limit, kind, value string) LimitCheck {
	return LimitCheck{s.limiter.Key(kind, value), limit}
}

// auditDenied records a refused attempt; a failure to record is logged,
// the refusal stands either way.
func (s *Server) auditDenied(r *http.Request, sess *staff.Session, pattern string) {
	err := s.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID,
		Action: "staff.access_denied", SubjectType: "route", SubjectID: pattern})
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "audit access denied", slog.String("error", err.Error()))
	}
}

// ConsoleData is what the console layout shows: who is signed in and the
// areas their role may open.
type ConsoleData struct {
	Account staff.Account
	Nav     []NavItem
}

// NavItem is one entry of the console's navigation, behind a permission.
// Areas add theirs with AddStaffNav when they mount; Order sorts them.
type NavItem struct {
	Label, Href string
	Perm        staff.Permission
	Order       int
}

// AddStaffNav adds an entry to the console's navigation.
func (s *Server) AddStaffNav(n NavItem) {
	if n.Perm == "" {
		panic("web: console navigation entry " + n.Label + " needs a permission")
	}
	i, _ := slices.BinarySearchFunc(s.staffNav, n, func(a, b NavItem) int { return a.Order - b.Order })
	for i < len(s.staffNav) && s.staffNav[i].Order == n.Order {
		i++
	}
	s.staffNav = slices.Insert(s.staffNav, i, n)
}

// console returns the layout's console state for a full session.
func (s *Server) console(r *http.Request) *ConsoleData {
	sess := StaffSession(r)
	if sess == nil || sess.Level != staff.LevelFull {
		return nil
	}
	c := &ConsoleData{Account: sess.Account}
	for _, a := range s.staffNav {
		if sess.Account.Role.Can(a.Perm) {
			c.Nav = append(c.Nav, a)
		}
	}
	return c
}
