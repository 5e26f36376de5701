package console

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/pquerna/otp"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// loginPage is the content of login.html.
type loginPage struct {
	Email, Next, Error string
}

// staffLoginForm shows the sign-in form. A browser past the password but
// not the second factor goes on to that step (or to enrolment, for an
// account without one) wherever it was headed: no console page opens
// before it.
func (s *handler) staffLoginForm(w http.ResponseWriter, r *http.Request) error {
	next := web.SafeStaffNext(r.URL.Query().Get("next"))
	if sess, err := s.LookupStaffSession(r); err != nil {
		return err
	} else if sess != nil && sess.Level == staff.LevelFull {
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return nil
	} else if sess != nil {
		http.Redirect(w, r, "/staff/2fa?next="+url.QueryEscape(next), http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login.html", "Staff sign-in", loginPage{Next: next})
}

// staffLogin checks the password. Every failure reads the same, whether the
// address is unknown, the password wrong or the account disabled. Attempts
// are limited per trusted browser or, without a device cookie for the
// address, per network and account (device.go).
func (s *handler) staffLogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := loginPage{Next: web.SafeStaffNext(r.PostForm.Get("next"))}
	email, err := input.Line("email", "The email address", 254, r.PostForm.Get("email"))
	if rf, ok := refuse.As(err); ok {
		page.Error = rf.Msg
		return s.render(w, r, http.StatusBadRequest, "login.html", "Staff sign-in", page)
	}
	email = strings.ToLower(email)
	page.Email = email
	pw := r.PostForm.Get("password")
	if email == "" || pw == "" {
		page.Error = "Enter your email address and password."
		return s.render(w, r, http.StatusBadRequest, "login.html", "Staff sign-in", page)
	}
	ok, err := s.Allow(r, s.loginLimits(r, email)...)
	if err != nil {
		return err
	}
	if !ok {
		page.Error = msgLoginLimited
		return s.render(w, r, http.StatusTooManyRequests, "login.html", "Staff sign-in", page)
	}
	ctx := r.Context()
	a, err := staff.CheckPassword(ctx, s.db, email, pw)
	if errors.Is(err, staff.ErrBadCredentials) {
		if known, kerr := staff.ByEmail(ctx, s.db, email); kerr == nil {
			if err := s.AuditAlone(r, audit.Entry{Action: "staff.login_failed", SubjectType: "staff", SubjectID: web.Itoa(known.ID), Detail: "wrong password"}.By(audit.Staff(known.ID))); err != nil {
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
			return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: "password"}.By(audit.Staff(a.ID)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.SetStaffCookie(w, token)
	if level == staff.LevelFull {
		s.issueDevice(w, a.Email)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// msgLoginLimited answers an attempt over a sign-in limit. Browsers that
// signed in to the account before have limits of their own, which another
// person's attempts do not use up.
const msgLoginLimited = web.MsgRateLimited + " A browser you have signed in with before is not held up by attempts from elsewhere."

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
	ok, err := s.Allow(r, s.secondFactorLimits(r, sess.Account.ID, sess.Account.Email)...)
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
		return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID), Detail: method}.By(audit.Staff(sess.Account.ID)))
	})
	if err != nil {
		return err
	}
	if bad {
		if err := s.AuditAlone(r, audit.Entry{Action: "staff.2fa_failed", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}.By(audit.Staff(sess.Account.ID))); err != nil {
			return err
		}
		page.Error = "The code is wrong or was used already. Enter the current code from your app, or a recovery code."
		return s.render(w, r, http.StatusUnauthorized, "2fa.html", "Two-factor authentication", page)
	}
	s.SetStaffCookie(w, token)
	s.issueDevice(w, sess.Account.Email)
	http.Redirect(w, r, page.Next, http.StatusSeeOther)
	return nil
}

// upgrade ends the current session and starts a full one.
func (s *handler) upgrade(tx *sql.Tx, r *http.Request, sess *staff.Session) (string, error) {
	now := s.clock.Now()
	err := staff.RevokeSession(r.Context(), tx, sess.Account.ID, sess.ID, now)
	if errors.Is(err, staff.ErrSessionNotFound) {
		// Ended meanwhile (signed out everywhere, or by an owner).
		return "", staff.ErrNoSession
	}
	if err != nil {
		return "", err
	}
	return staff.StartSession(r.Context(), tx, sess.Account.ID, staff.LevelFull, now)
}

// enrolPage is the content of 2fa_setup.html. URI is the otpauth link
// and QR a PNG of it as a data: URL, both built here (enrolment).
type enrolPage struct {
	Secret, SecretGroups, Error string
	URI, QR                     template.URL
	Required                    bool
}

var base32Secret = regexp.MustCompile(`^[A-Z2-7]{32}$`)

func (s *handler) staffEnrolForm(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if sess.Account.HasTOTP {
		http.Redirect(w, r, "/staff/account", http.StatusSeeOther)
		return nil
	}
	page, err := s.enrolment(r, "")
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "2fa_setup.html", "Set up two-factor authentication", page)
}

// enrolment is the setup page for a new secret (secret "") or, after a
// wrong code, for the one the form carried, so the person keeps the key,
// link and QR code their app may already hold.
func (s *handler) enrolment(r *http.Request, secret string) (enrolPage, error) {
	sess := web.StaffSession(r)
	v, err := s.Vendor(r)
	if err != nil {
		return enrolPage{}, err
	}
	issuer := v.Name + " staff"
	var k *otp.Key
	if secret == "" {
		k, err = staff.NewTOTPKey(issuer, sess.Account.Email)
	} else {
		k, err = staff.TOTPKey(issuer, sess.Account.Email, secret)
	}
	if err != nil {
		return enrolPage{}, err
	}
	uri, err := otpauthURL(k)
	if err != nil {
		return enrolPage{}, err
	}
	img, err := k.Image(240, 240)
	if err != nil {
		return enrolPage{}, fmt.Errorf("QR code of the TOTP key: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return enrolPage{}, fmt.Errorf("QR code of the TOTP key: %w", err)
	}
	return enrolPage{Secret: k.Secret(), SecretGroups: groups(k.Secret()), URI: uri,
		// The CSP allows data: images; the PNG is ours, never input.
		QR:       template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), // built here from our own key (.ci/gosec-allow.txt)
		Required: sess.Level != staff.LevelFull}, nil
}

// otpauthURL is the key's otpauth: link in a form html/template puts in an
// href as it is (it refuses schemes it does not know, writing #ZgotmplZ).
// It is marked safe only after checking it is the TOTP link of this key.
func otpauthURL(k *otp.Key) (template.URL, error) {
	u, err := url.Parse(k.URL())
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != k.Secret() || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("TOTP key: unexpected link %q", u.Redacted())
	}
	return template.URL(u.String()), nil // checked above (.ci/gosec-allow.txt)
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
	ok, err := s.Allow(r, s.secondFactorLimits(r, sess.Account.ID, sess.Account.Email)...)
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
			if err := s.Audit(ctx, tx, r, audit.Entry{Action: "staff.2fa_enrolled", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}.By(audit.Staff(sess.Account.ID))); err != nil {
				return err
			}
			if sess.Level == staff.LevelFull {
				return nil
			}
			// Enrolling completed a sign-in that stopped after the password.
			return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.login", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID), Detail: "password and new second factor"}.By(audit.Staff(sess.Account.ID)))
		})
		if err != nil {
			return err
		}
	}
	if bad {
		// The same key again, with the link and QR code: the app may
		// have it already, and only the code was mistyped.
		page, err := s.enrolment(r, secret)
		if err != nil {
			return err
		}
		page.Error = "That code does not match. Check that your phone's clock is right and enter the current code."
		status := http.StatusUnprocessableEntity
		if !ok {
			page.Error, status = web.MsgRateLimited, http.StatusTooManyRequests
		}
		return s.render(w, r, status, "2fa_setup.html", "Set up two-factor authentication", page)
	}
	s.SetStaffCookie(w, token)
	s.issueDevice(w, sess.Account.Email)
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
		return s.Audit(r.Context(), tx, r, audit.Entry{Action: "staff.logout", SubjectType: "staff", SubjectID: web.Itoa(sess.Account.ID)}.By(audit.Staff(sess.Account.ID)))
	})
	// A session that ended meanwhile is signed out already: nothing to
	// record, and the browser forgets its cookie all the same.
	if err != nil && !errors.Is(err, staff.ErrSessionNotFound) {
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
		return s.Audit(ctx, tx, r, audit.Entry{Action: "staff.password_set", SubjectType: "staff", SubjectID: web.Itoa(a.ID), Detail: string(purpose) + " link"}.By(audit.Staff(a.ID)))
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
