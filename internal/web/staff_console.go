package web

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func urlEscape(s string) string { return url.QueryEscape(s) }

// notices are the confirmations shown after a form succeeds (POST, then
// redirect with ?done=key, then GET): fixed texts, so nothing a request
// carries is reflected into the page.
var notices = map[string]string{
	"saved":                  "Your changes are saved.",
	"password":               "Your password is changed. Your other sessions were signed out.",
	"signed-out":             "Your other sessions are signed out.",
	"session-ended":          "That session is signed out.",
	"role":                   "The role is changed.",
	"disabled":               "The account is disabled and its sessions are signed out.",
	"enabled":                "The account can sign in again.",
	"2fa-reset":              "Two-factor authentication is reset; the person sets it up again at the next sign-in.",
	"order-paid":             "The order is marked paid; the confirmation email is queued.",
	"order-cancelled":        "The order is cancelled.",
	"corrected":              "The correction is issued as a document of its own; the invoice stays as it was.",
	"order-refund-requested": "The refund is requested; the order changes when the payment provider confirms it.",
	"policy-notice":          "The latest privacy policy version is marked as a significant change; the policy page announces it for 30 days.",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("done")] }

// dashboardPage is the content of staff_dashboard.html.
type dashboardPage struct {
	Notice        string
	ActiveStaff   int
	AuditToday    int
	PolicyUpdated time.Time
	PolicyVersion int
	Role          staff.Role
	RoleText      string
	NeedsTwoFA    bool
}

func (s *Server) staffDashboard(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	ctx, now := r.Context(), s.clock.Now()
	page := dashboardPage{Notice: notice(r), Role: sess.Account.Role, RoleText: sess.Account.Role.Describe(), NeedsTwoFA: !sess.Account.HasTOTP}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM staff WHERE disabled_at IS NULL`).Scan(&page.ActiveStaff); err != nil {
		return err
	}
	day := now.UTC().Truncate(24 * time.Hour)
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE at >= $1`, day).Scan(&page.AuditToday); err != nil {
		return err
	}
	v, err := privacy.LatestVersion(ctx, s.db, privacy.PrivacyPolicy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	page.PolicyUpdated, page.PolicyVersion = v.PublishedAt, v.Seq
	return s.render(w, r, http.StatusOK, "staff_dashboard.html", "Dashboard", page)
}

// areaPage is the content of staff_area.html: a console section whose
// screens arrive with a later capability.
type areaPage struct {
	Name, Text string
}

// staffArea renders a section that has no screens yet: the navigation,
// permissions and audit hooks are in place, the content comes with the
// capability that owns it.
func (s *Server) staffArea(name, text string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.render(w, r, http.StatusOK, "staff_area.html", name, areaPage{Name: name, Text: text})
	}
}

// accountPage is the content of staff_account.html.
type accountPage struct {
	Notice, Error string
	Account       staff.Account
	Sessions      []staff.Session
	CurrentID     int64
	RecoveryLeft  int
}

func (s *Server) staffAccount(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "")
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	sess := staffSession(r)
	ctx := r.Context()
	sessions, err := staff.ActiveSessions(ctx, s.db, sess.Account.ID, s.clock.Now())
	if err != nil {
		return err
	}
	left, err := staff.RecoveryCodesLeft(ctx, s.db, sess.Account.ID)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "staff_account.html", "My account", accountPage{
		Notice: notice(r), Error: problem, Account: sess.Account, Sessions: sessions, CurrentID: sess.ID, RecoveryLeft: left})
}

// staffChangePassword needs the current password, so a borrowed unlocked
// browser cannot take the account over.
func (s *Server) staffChangePassword(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	ok, err := s.allow(r, limitCheck{s.limiter.Key("login:account", sess.Account.Email), limitLoginAccount})
	if err != nil {
		return err
	}
	if !ok {
		return s.renderAccount(w, r, http.StatusTooManyRequests, msgRateLimited)
	}
	ctx, now := r.Context(), s.clock.Now()
	if _, err := staff.CheckPassword(ctx, s.db, sess.Account.Email, r.PostForm.Get("current")); err != nil {
		return s.renderAccount(w, r, http.StatusUnauthorized, "Your current password is wrong.")
	}
	pw := r.PostForm.Get("password")
	if staff.CheckPasswordPolicy(pw) != nil {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, "Choose a new password of at least 12 characters.")
	}
	if pw != r.PostForm.Get("confirm") {
		return s.renderAccount(w, r, http.StatusUnprocessableEntity, "The two new passwords differ.")
	}
	var token string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := staff.SetPassword(ctx, tx, sess.Account.ID, pw, now); err != nil {
			return err
		}
		var err error
		if token, err = staff.StartSession(ctx, tx, sess.Account.ID, staff.LevelFull, now); err != nil {
			return err
		}
		return s.record(ctx, tx, r, sess.Account.ID, "staff.password_changed", "staff", itoa(sess.Account.ID), "")
	})
	if err != nil {
		return err
	}
	s.setStaffCookie(w, token)
	http.Redirect(w, r, "/staff/account?done=password", http.StatusSeeOther)
	return nil
}

func (s *Server) staffLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		if err := staff.RevokeAll(r.Context(), tx, sess.Account.ID, sess.ID, s.clock.Now()); err != nil {
			return err
		}
		return s.record(r.Context(), tx, r, sess.Account.ID, "staff.logout_everywhere", "staff", itoa(sess.Account.ID), "")
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/account?done=signed-out", http.StatusSeeOther)
	return nil
}

func (s *Server) staffRevokeSession(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return NotFound("There is no such session.")
	}
	err = s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		// RevokeSession only matches the signed-in person's own sessions.
		if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, id, s.clock.Now()); err != nil {
			return err
		}
		return s.record(r.Context(), tx, r, sess.Account.ID, "staff.session_revoked", "staff_session", itoa(id), "")
	})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/account?done=session-ended", http.StatusSeeOther)
	return nil
}

// pathID reads a positive numeric path value.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound("There is no such record.")
	}
	return id, nil
}

// recordView records that the signed-in staff member viewed a data
// subject's personal data. Every console page that shows a customer's
// personal data calls it before rendering.
func (s *Server) recordView(ctx context.Context, r *http.Request, subjectType, subjectID, what string) error {
	sess := staffSession(r)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: s.clock.Now(), ActorType: audit.ActorStaff, ActorID: sess.Account.ID,
			Action: "personal_data.view", SubjectType: subjectType, SubjectID: subjectID, Detail: what, SourceNet: audit.Network(clientIP(r))})
		return err
	})
}
