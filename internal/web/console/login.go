package console

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// loginPage is the content of login.html.
type loginPage struct {
	Email, Next, Error string
}

func (s *handler) staffLoginForm(w http.ResponseWriter, r *http.Request) error {
	if sess, err := s.LookupStaffSession(r); err != nil {
		return err
	} else if sess != nil && sess.Level == staff.LevelFull {
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login.html", "Staff sign-in", loginPage{Next: web.SafeStaffNext(r.URL.Query().Get("next"))})
}

// staffLogin checks the password. Every failure reads the same, whether the
// address is unknown, the password wrong or the account disabled.
func (s *handler) staffLogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	pw := r.PostForm.Get("password")
	page := loginPage{Email: email, Next: web.SafeStaffNext(r.PostForm.Get("next"))}
	if email == "" || pw == "" {
		page.Error = "Enter your email address and password."
		return s.render(w, r, http.StatusBadRequest, "login.html", "Staff sign-in", page)
	}
	ok, err := s.Allow(r, s.Bucket(limitLoginAccount, "login:account", email), s.Bucket(limitLoginNetwork, "login"+":net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = web.MsgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "login.html", "Staff sign-in", page)
	}
	ctx := r.Context()
	a, err := staff.CheckPassword(ctx, s.db, email, pw)
	if errors.Is(err, staff.ErrBadCredentials) {
		if known, kerr := staff.ByEmail(ctx, s.db, email); kerr == nil {
			if err := s.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, ActorID: known.ID, Action: "staff.login_failed", SubjectType: "staff", SubjectID: web.Itoa(known.ID), Detail: "wrong password"}); err != nil {
				return err
			}
		}
		page.Error = "The email address or password is wrong."
		return s.render(w, r, http.StatusUnauthorized, "login.html", "Staff sign-in", page)
	}
	if err != nil {
		return err
	}
	required, err := settings.RequireTwoFactor(ctx, s.db)
	if err != nil {
		return err
	}
	level, next := staff.LevelFull, page.Next
	switch {
	case a.HasTOTP:
		level, next = staff.LevelPassword, "/staff/2fa?next="+url.QueryEscape(page.Next)
	case required || a.Role.RequiresTwoFactor():
		level, next = staff.LevelPassword, "/staff/2fa/setup"
	}
	var token string
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if token, err = staff.StartSession(ctx, tx, a.ID, level, s.clock.Now()); err != nil {
			return err
		}
		if level == staff.LevelFull {
			return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: a.ID, Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: "password"})
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.SetStaffCookie(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// secondFactorPage is the content of 2fa.html.
type secondFactorPage struct {
	Next, Error string
}

func (s *handler) staffSecondFactorForm(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if !sess.Account.HasTOTP {
		http.Redirect(w, r, "/staff/2fa/setup", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "2fa.html", "Two-factor authentication", secondFactorPage{Next: web.SafeStaffNext(r.URL.Query().Get("next"))})
}

// staffSecondFactor checks a TOTP or recovery code and, when it is right,
// replaces the password-only session with a full one (a new token, so a
// token seen before the second factor is worth nothing after it).
func (s *handler) staffSecondFactor(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := secondFactorPage{Next: web.SafeStaffNext(r.PostForm.Get("next"))}
	ok, err := s.Allow(r, s.Bucket(limitSecondFactor, "2fa:account", web.Itoa(sess.Account.ID)), s.Bucket(limitLoginNetwork, "2fa"+":net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = web.MsgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "2fa.html", "Two-factor authentication", page)
	}
	ctx, now := r.Context(), s.clock.Now()
	var token string
	var bad bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		recovery, err := staff.VerifySecondFactor(ctx, tx, sess.Account.ID, r.PostForm.Get("code"), now)
		if errors.Is(err, staff.ErrBadCode) {
			bad = true
			return nil
		}
		if err != nil {
			return err
		}
		if token, err = s.upgrade(tx, r, sess); err != nil {
			return err
		}
		method := "totp"
		if recovery {
			method = "recovery code"
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID), Detail: method})
	})
	if err != nil {
		return err
	}
	if bad {
		if err := s.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "staff.2fa_failed", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}); err != nil {
			return err
		}
		page.Error = "The code is wrong or was used already. Enter the current code from your app, or a recovery code."
		return s.render(w, r, http.StatusUnauthorized, "2fa.html", "Two-factor authentication", page)
	}
	s.SetStaffCookie(w, token)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

// upgrade ends the current session and starts a full one.
func (s *handler) upgrade(tx *sql.Tx, r *http.Request, sess *staff.Session) (string, error) {
	now := s.clock.Now()
	if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, sess.ID, now); err != nil {
		return "", err
	}
	return staff.StartSession(r.Context(), tx, sess.Account.ID, staff.LevelFull, now)
}

// enrolPage is the content of 2fa_setup.html.
type enrolPage struct {
	Secret, SecretGroups, URI, Error string
	Required                         bool
}

var base32Secret = regexp.MustCompile(`^[A-Z2-7]{32}$`)

func (s *handler) staffEnrolForm(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if sess.Account.HasTOTP {
		http.Redirect(w, r, "/staff/account", http.StatusSeeOther)
		return nil
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	k, err := staff.NewTOTPKey(v.Name+" staff", sess.Account.Email)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "2fa_setup.html", "Set up two-factor authentication", enrolPage{
		Secret: k.Secret(), SecretGroups: groups(k.Secret()), URI: k.URL(), Required: sess.Level != staff.LevelFull})
}

// groups splits a secret into blocks of four for typing.
func groups(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// recoveryPage is the content of recovery.html.
type recoveryPage struct {
	Codes []string
}

// staffEnrol stores the second factor once a code from the app proves it
// works, shows the recovery codes once, and completes the session.
func (s *handler) staffEnrol(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	if sess.Account.HasTOTP {
		return &web.Error{Status: http.StatusConflict, Message: "Two-factor authentication is already set up for your account."}
	}
	secret := r.PostForm.Get("secret")
	if !base32Secret.MatchString(secret) {
		return web.BadRequest("The setup form is damaged. Open the setup page again.")
	}
	ok, err := s.Allow(r, s.Bucket(limitSecondFactor, "2fa:account", web.Itoa(sess.Account.ID)))
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	var codes []string
	var token string
	bad := !ok
	if ok {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			codes, err = staff.EnrolTOTP(ctx, tx, sess.Account.ID, secret, r.PostForm.Get("code"), now)
			if errors.Is(err, staff.ErrBadCode) {
				bad = true
				return nil
			}
			if err != nil {
				return err
			}
			if token, err = s.upgrade(tx, r, sess); err != nil {
				return err
			}
			if err := s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "staff.2fa_enrolled", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}); err != nil {
				return err
			}
			if sess.Level == staff.LevelFull {
				return nil
			}
			// Enrolling completed a sign-in that stopped after the password.
			return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID), Detail: "password and new second factor"})
		})
		if err != nil {
			return err
		}
	}
	if bad {
		page := enrolPage{Secret: secret, SecretGroups: groups(secret), Required: sess.Level != staff.LevelFull,
			Error: "That code does not match. Check that your phone's clock is right and enter the current code."}
		status := http.StatusUnprocessableEntity
		if !ok {
			page.Error, status = web.MsgRateLimited, http.StatusTooManyRequests
		}
		return s.render(w, r, status, "2fa_setup.html", "Set up two-factor authentication", page)
	}
	s.SetStaffCookie(w, token)
	// The new full session is not in this request's context yet; the
	// recovery page shows no console navigation, which is fine.
	return s.render(w, r, http.StatusOK, "recovery.html", "Your recovery codes", recoveryPage{Codes: codes})
}

// staffLogout ends this browser's session.
func (s *handler) staffLogout(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, sess.ID, s.clock.Now()); err != nil {
			return err
		}
		return s.Audit(r.Context(), tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "staff.logout", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)})
	})
	if err != nil {
		return err
	}
	s.ClearStaffCookie(w)
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
	return nil
}

// passwordPage is the content of setup.html: choosing a password
// from a one-time link.
type passwordPage struct {
	Token, Email, Error string
}

// tokenAccount finds the account of a setup or reset link.
func (s *handler) tokenAccount(r *http.Request, token string) (staff.Account, staff.TokenPurpose, error) {
	now := s.clock.Now()
	for _, p := range []staff.TokenPurpose{staff.SetupToken, staff.ResetToken} {
		if a, err := staff.PeekToken(r.Context(), s.db, token, p, now); err == nil {
			return a, p, nil
		}
	}
	return staff.Account{}, "", &web.Error{Status: http.StatusGone, Message: "This link is unknown, expired or was used already. Ask an owner for a new one."}
}

func (s *handler) staffSetupForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	a, _, err := s.tokenAccount(r, token)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "setup.html", "Choose your password", passwordPage{Token: token, Email: a.Email})
}

// staffSetup sets the password from a one-time link and uses the link up.
func (s *handler) staffSetup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	ok, err := s.Allow(r, s.Bucket(limitTokenNetwork, "token:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	token := r.PostForm.Get("token")
	a, purpose, err := s.tokenAccount(r, token)
	if err != nil {
		return err
	}
	pw := r.PostForm.Get("password")
	page := passwordPage{Token: token, Email: a.Email}
	if perr := staff.CheckPasswordPolicy(pw); perr != nil {
		page.Error = "Choose a password of at least 12 characters; a phrase of several words works well."
	} else if pw != r.PostForm.Get("confirm") {
		page.Error = "The two passwords differ. Type the same password twice."
	}
	if page.Error != "" {
		return s.render(w, r, http.StatusUnprocessableEntity, "setup.html", "Choose your password", page)
	}
	ctx, now := r.Context(), s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := staff.UseToken(ctx, tx, token, purpose, now); err != nil {
			return err
		}
		if err := staff.SetPassword(ctx, tx, a.ID, pw, now); err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: a.ID, Action: "staff.password_set", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: string(purpose) + " link"})
	})
	if errors.Is(err, staff.ErrInvalidToken) {
		return &web.Error{Status: http.StatusGone, Message: "This link was used already. Ask an owner for a new one."}
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "message.html", "Password saved", messagePage{
		Heading: "Your password is saved", Text: "Sign in with your email address and the new password.", Link: "/staff/login", LinkText: "Sign in"})
}

// messagePage is the content of message.html: a short result with
// an optional link (for example a one-time link to pass on).
type messagePage struct {
	Heading, Text, Link, LinkText, Copy string
}
