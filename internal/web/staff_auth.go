package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/serving"
	"github.com/storekeep/storekeep/internal/staff"
)

// Who may use a staff route. Every route under /staff is registered with
// one of these and, for full access, one permission; the wrapper below is
// the only place that checks them (deny by default).
type access int

const (
	// accessPublic routes work without a session: signing in, setting a
	// password from a one-time link.
	accessPublic access = iota
	// accessPartial routes need a session that has passed the password
	// but not yet the second factor.
	accessPartial
	// accessFull routes need a complete session and the route's permission.
	accessFull
)

// staffRule is one staff route with what it requires.
type staffRule struct {
	Pattern string
	Access  access
	Perm    staff.Permission // for accessFull
}

// Rate limits on everything that checks a secret. The account bucket is
// keyed by the address typed in, so limits apply to unknown addresses too
// and say nothing about which accounts exist.
var (
	limitLoginAccount = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	limitLoginNetwork = ratelimit.Limit{Max: 50, Window: 15 * time.Minute}
	limitSecondFactor = ratelimit.Limit{Max: 10, Window: 15 * time.Minute}
	limitTokenNetwork = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
)

const msgRateLimited = "Too many attempts. Wait 15 minutes, then try again."

// staffCookieName is __Host- prefixed over HTTPS, which makes browsers
// insist on Secure, Path=/ and no Domain: the cookie cannot be set or
// widened by a sibling subdomain.
func (s *Server) staffCookieName() string {
	if s.https {
		return "__Host-sk_staff"
	}
	return "sk_staff"
}

func (s *Server) setStaffCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.staffCookieName(), Value: token, Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: int(staff.AbsoluteTimeout / time.Second),
	})
}

func (s *Server) clearStaffCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.staffCookieName(), Value: "", Path: "/", HttpOnly: true, Secure: s.https,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

type sessionKey struct{}

// staffSession returns the session the wrapper found, or nil.
func staffSession(r *http.Request) *staff.Session {
	sess, _ := r.Context().Value(sessionKey{}).(*staff.Session)
	return sess
}

// lookupSession reads the session cookie; nil when there is no live session.
func (s *Server) lookupSession(r *http.Request) (*staff.Session, error) {
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

// staffHandle registers a staff route with its rule. It is the only way to
// add a route under /staff (TestEveryStaffRouteHasARule checks that).
func (s *Server) staffHandle(pattern string, acc access, perm staff.Permission, h handlerFunc) {
	if acc == accessFull && perm == "" {
		panic("web: staff route " + pattern + " needs a permission")
	}
	s.staffRules = append(s.staffRules, staffRule{Pattern: pattern, Access: acc, Perm: perm})
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		// Console pages show personal data and one-time secrets: never cache.
		w.Header().Set("Cache-Control", "no-store")
		sess, err := s.lookupSession(r)
		if err != nil {
			return err
		}
		switch acc {
		case accessPartial:
			if sess == nil {
				return s.toLogin(w, r)
			}
		case accessFull:
			if sess == nil || sess.Level != staff.LevelFull {
				return s.toLogin(w, r)
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

// toLogin sends a browser without a (complete) session to the sign-in page,
// remembering where it was going; other requests get a 401.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return &Error{Status: http.StatusUnauthorized, Message: "Your session has ended. Sign in again, then repeat what you were doing."}
	}
	http.Redirect(w, r, "/staff/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return nil
}

// safeNext accepts only a path within the console as a place to return to
// after signing in, never another site.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/staff") && !strings.HasPrefix(next, "//") && !strings.Contains(next, `\`) &&
		!strings.HasPrefix(next, "/staff/login") {
		return next
	}
	return "/staff"
}

// clientIP is the address of the person making the request: the TCP peer,
// or behind a trusted reverse proxy the client it names
// (serving.ClientIPMiddleware, which serve puts in front of the site).
func clientIP(r *http.Request) netip.Addr { return serving.ClientIP(r) }

// allow counts a hit against each bucket and reports whether all are
// within their limits.
func (s *Server) allow(r *http.Request, checks ...limitCheck) (bool, error) {
	ok := true
	for _, c := range checks {
		in, err := s.limiter.Allow(r.Context(), c.bucket, c.limit, s.clock.Now())
		if err != nil {
			return false, err
		}
		ok = ok && in
	}
	return ok, nil
}

type limitCheck struct {
	bucket string
	limit  ratelimit.Limit
}

func (s *Server) networkBucket(kind string, r *http.Request) limitCheck {
	return limitCheck{s.limiter.Key(kind+":net", audit.Network(clientIP(r))), limitLoginNetwork}
}

// record appends an audit entry for the signed-in staff member (or the
// account given) in tx.
func (s *Server) record(ctx context.Context, tx *sql.Tx, r *http.Request, actor int64, action, subjectType, subjectID, detail string) error {
	_, err := audit.Append(ctx, tx, audit.Entry{
		At: s.clock.Now(), ActorType: audit.ActorStaff, ActorID: actor, Action: action,
		SubjectType: subjectType, SubjectID: subjectID, Detail: detail, SourceNet: audit.Network(clientIP(r)),
	})
	return err
}

// recordAlone appends an audit entry in a transaction of its own.
func (s *Server) recordAlone(r *http.Request, actor int64, action, subjectType, subjectID, detail string) error {
	return s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		return s.record(r.Context(), tx, r, actor, action, subjectType, subjectID, detail)
	})
}

// auditDenied records a refused attempt; a failure to record is logged,
// the refusal stands either way.
func (s *Server) auditDenied(r *http.Request, sess *staff.Session, pattern string) {
	if err := s.recordAlone(r, sess.Account.ID, "staff.access_denied", "route", pattern, ""); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "audit access denied", slog.String("error", err.Error()))
	}
}

// consoleData is what the console layout shows: who is signed in and the
// areas their role may open.
type consoleData struct {
	Account staff.Account
	Nav     []navItem
}

type navItem struct {
	Label, Href string
}

// consoleAreas are the console's sections, each behind one permission.
var consoleAreas = []struct {
	Label, Href string
	Perm        staff.Permission
}{
	{"Dashboard", "/staff", staff.PermDashboard},
	{"Customers", "/staff/customers", staff.PermCustomersView},
	{"Orders", "/staff/orders", staff.PermBillingView},
	{"Catalog", "/staff/catalog", staff.PermCatalogManage},
	{"Licenses", "/staff/licenses", staff.PermLicensesView},
	{"Support", "/staff/support", staff.PermSupportTickets},
	{"Privacy requests", "/staff/requests", staff.PermPrivacyRequests},
	{"Outbox", "/staff/outbox", staff.PermCustomersView},
	{"Statistics", "/staff/stats", staff.PermStatsView},
	{"Staff", "/staff/team", staff.PermStaffManage},
	{"Settings", "/staff/settings", staff.PermSettingsManage},
	{"Audit log", "/staff/audit", staff.PermAuditView},
	{"My account", "/staff/account", staff.PermOwnAccount},
}

// console returns the layout's console state for a full session.
func (s *Server) console(r *http.Request) *consoleData {
	sess := staffSession(r)
	if sess == nil || sess.Level != staff.LevelFull {
		return nil
	}
	c := &consoleData{Account: sess.Account}
	for _, a := range consoleAreas {
		if sess.Account.Role.Can(a.Perm) {
			c.Nav = append(c.Nav, navItem{a.Label, a.Href})
		}
	}
	return c
}
