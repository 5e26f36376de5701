package web

import (
	"database/sql"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
)

// loginPage is the content of staff_login.html.
type loginPage struct {
	Email, Next, Error string
}

func (s *Server) staffLoginForm(w http.ResponseWriter, r *http.Request) error {
	if sess, err := s.lookupSession(r); err != nil {
		return err
	} else if sess != nil && sess.Level == staff.LevelFull {
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "staff_login.html", "Staff sign-in", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}

// staffLogin checks the password. Every failure reads the same, whether the
// address is unknown, the password wrong or the account disabled.
func (s *Server) staffLogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	pw := r.PostForm.Get("password")
	page := loginPage{Email: email, Next: safeNext(r.PostForm.Get("next"))}
	if email == "" || pw == "" {
		page.Error = "Enter your email address and password."
		return s.render(w, r, http.StatusBadRequest, "staff_login.html", "Staff sign-in", page)
	}
	ok, err := s.allow(r, limitCheck{s.limiter.Key("login:account", email), limitLoginAccount}, s.networkBucket("login", r))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = msgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "staff_login.html", "Staff sign-in", page)
	}
	ctx := r.Context()
	a, err := staff.CheckPassword(ctx, s.db, email, pw)
	if errors.Is(err, staff.ErrBadCredentials) {
		if known, kerr := staff.ByEmail(ctx, s.db, email); kerr == nil {
			if err := s.recordAlone(r, known.ID, "staff.login_failed", "staff", itoa(known.ID), "wrong password"); err != nil {
				return err
			}
		}
		page.Error = "The email address or password is wrong."
		return s.render(w, r, http.StatusUnauthorized, "staff_login.html", "Staff sign-in", page)
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
		level, next = staff.LevelPassword, "/staff/2fa?next="+urlEscape(page.Next)
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
			return s.record(ctx, tx, r, a.ID, "staff.login", "staff", itoa(a.ID), "password")
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.setStaffCookie(w, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// secondFactorPage is the content of staff_2fa.html.
type secondFactorPage struct {
	Next, Error string
}

func (s *Server) staffSecondFactorForm(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if !sess.Account.HasTOTP {
		http.Redirect(w, r, "/staff/2fa/setup", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "staff_2fa.html", "Two-factor authentication", secondFactorPage{Next: safeNext(r.URL.Query().Get("next"))})
}

// staffSecondFactor checks a TOTP or recovery code and, when it is right,
// replaces the password-only session with a full one (a new token, so a
// token seen before the second factor is worth nothing after it).
func (s *Server) staffSecondFactor(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := secondFactorPage{Next: safeNext(r.PostForm.Get("next"))}
	ok, err := s.allow(r, limitCheck{s.limiter.Key("2fa:account", itoa(sess.Account.ID)), limitSecondFactor}, s.networkBucket("2fa", r))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = msgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "staff_2fa.html", "Two-factor authentication", page)
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
		return s.record(ctx, tx, r, sess.Account.ID, "staff.login", "staff", itoa(sess.Account.ID), method)
	})
	if err != nil {
		return err
	}
	if bad {
		if err := s.recordAlone(r, sess.Account.ID, "staff.2fa_failed", "staff", itoa(sess.Account.ID), ""); err != nil {
			return err
		}
		page.Error = "The code is wrong or was used already. Enter the current code from your app, or a recovery code."
		return s.render(w, r, http.StatusUnauthorized, "staff_2fa.html", "Two-factor authentication", page)
	}
	s.setStaffCookie(w, token)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

// upgrade ends the current session and starts a full one.
func (s *Server) upgrade(tx *sql.Tx, r *http.Request, sess *staff.Session) (string, error) {
	now := s.clock.Now()
	if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, sess.ID, now); err != nil {
		return "", err
	}
	return staff.StartSession(r.Context(), tx, sess.Account.ID, staff.LevelFull, now)
}

// enrolPage is the content of staff_2fa_setup.html.
type enrolPage struct {
	Secret, SecretGroups, URI, Error string
	Required                         bool
}

var base32Secret = regexp.MustCompile(`^[A-Z2-7]{32}$`)

func (s *Server) staffEnrolForm(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if sess.Account.HasTOTP {
		http.Redirect(w, r, "/staff/account", http.StatusSeeOther)
		return nil
	}
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	k, err := staff.NewTOTPKey(v.Name+" staff", sess.Account.Email)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "staff_2fa_setup.html", "Set up two-factor authentication", enrolPage{
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

// recoveryPage is the content of staff_recovery.html.
type recoveryPage struct {
	Codes []string
}

// staffEnrol stores the second factor once a code from the app proves it
// works, shows the recovery codes once, and completes the session.
func (s *Server) staffEnrol(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	if sess.Account.HasTOTP {
		return &Error{Status: http.StatusConflict, Message: "Two-factor authentication is already set up for your account."}
	}
	secret := r.PostForm.Get("secret")
	if !base32Secret.MatchString(secret) {
		return BadRequest("The setup form is damaged. Open the setup page again.")
	}
	ok, err := s.allow(r, limitCheck{s.limiter.Key("2fa:account", itoa(sess.Account.ID)), limitSecondFactor})
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
			if err := s.record(ctx, tx, r, sess.Account.ID, "staff.2fa_enrolled", "staff", itoa(sess.Account.ID), ""); err != nil {
				return err
			}
			if sess.Level == staff.LevelFull {
				return nil
			}
			// Enrolling completed a sign-in that stopped after the password.
			return s.record(ctx, tx, r, sess.Account.ID, "staff.login", "staff", itoa(sess.Account.ID), "password and new second factor")
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
			page.Error, status = msgRateLimited, http.StatusTooManyRequests
		}
		return s.render(w, r, status, "staff_2fa_setup.html", "Set up two-factor authentication", page)
	}
	s.setStaffCookie(w, token)
	// The new full session is not in this request's context yet; the
	// recovery page shows no console navigation, which is fine.
	return s.render(w, r, http.StatusOK, "staff_recovery.html", "Your recovery codes", recoveryPage{Codes: codes})
}

// staffLogout ends this browser's session.
func (s *Server) staffLogout(w http.ResponseWriter, r *http.Request) error {
	sess := staffSession(r)
	err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
		if err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, sess.ID, s.clock.Now()); err != nil {
			return err
		}
		return s.record(r.Context(), tx, r, sess.Account.ID, "staff.logout", "staff", itoa(sess.Account.ID), "")
	})
	if err != nil {
		return err
	}
	s.clearStaffCookie(w)
	http.Redirect(w, r, "/staff/login", http.StatusSeeOther)
	return nil
}

// passwordPage is the content of staff_setup.html: choosing a password
// from a one-time link.
type passwordPage struct {
	Token, Email, Error string
}

// tokenAccount finds the account of a setup or reset link.
func (s *Server) tokenAccount(r *http.Request, token string) (staff.Account, staff.TokenPurpose, error) {
	now := s.clock.Now()
	for _, p := range []staff.TokenPurpose{staff.SetupToken, staff.ResetToken} {
		if a, err := staff.PeekToken(r.Context(), s.db, token, p, now); err == nil {
			return a, p, nil
		}
	}
	return staff.Account{}, "", &Error{Status: http.StatusGone, Message: "This link is unknown, expired or was used already. Ask an owner for a new one."}
}

func (s *Server) staffSetupForm(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	a, _, err := s.tokenAccount(r, token)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "staff_setup.html", "Choose your password", passwordPage{Token: token, Email: a.Email})
}

// staffSetup sets the password from a one-time link and uses the link up.
func (s *Server) staffSetup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	ok, err := s.allow(r, limitCheck{s.networkBucket("token", r).bucket, limitTokenNetwork})
	if err != nil {
		return err
	}
	if !ok {
		return &Error{Status: http.StatusTooManyRequests, Message: msgRateLimited}
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
		return s.render(w, r, http.StatusUnprocessableEntity, "staff_setup.html", "Choose your password", page)
	}
	ctx, now := r.Context(), s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := staff.UseToken(ctx, tx, token, purpose, now); err != nil {
			return err
		}
		if err := staff.SetPassword(ctx, tx, a.ID, pw, now); err != nil {
			return err
		}
		return s.record(ctx, tx, r, a.ID, "staff.password_set", "staff", itoa(a.ID), string(purpose)+" link")
	})
	if errors.Is(err, staff.ErrInvalidToken) {
		return &Error{Status: http.StatusGone, Message: "This link was used already. Ask an owner for a new one."}
	}
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "staff_message.html", "Password saved", messagePage{
		Heading: "Your password is saved", Text: "Sign in with your email address and the new password.", Link: "/staff/login", LinkText: "Sign in"})
}

// messagePage is the content of staff_message.html: a short result with
// an optional link (for example a one-time link to pass on).
type messagePage struct {
	Heading, Text, Link, LinkText, Copy string
}
