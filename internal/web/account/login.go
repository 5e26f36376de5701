package account

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/web"
)

// accountLoginPage is the content of login.html: the form that asks
// for a sign-in link, also shown when a link did not work.
type accountLoginPage struct {
	Email, Next string
	Error       string // what to correct in the form
	Gone        bool   // shown because a link was unknown, expired or used
}

// accountMessagePage is the content of message.html: a short
// result with an optional link onwards.
type accountMessagePage struct {
	Heading, Text, Link, LinkText string
}

// accountConfirmPage is the content of confirm.html: the page a
// one-time link opens. It uses nothing; its button posts the token, so a
// mail scanner that fetches links does not spend them.
type accountConfirmPage struct {
	Heading, Text, Button string
	Action, Token, Next   string
}

// nextPath is where to go after signing in: a path of this site, checked
// as text first (input), else the account page.
func nextPath(v string) string {
	v, err := input.Line("next", "The address", 2000, v)
	if err != nil {
		return "/account"
	}
	return web.SafeAccountNext(v)
}

// linkToken checks the token of a one-time link as text; one that is not
// is no token we made (customers.ErrInvalidToken).
func linkToken(v string) (string, error) {
	v, err := input.Line("token", "The link", 200, v)
	if err != nil {
		return "", customers.ErrInvalidToken
	}
	return v, nil
}

func (s *handler) accountLoginForm(w http.ResponseWriter, r *http.Request) error {
	next := nextPath(r.URL.Query().Get("next"))
	if c, err := s.CurrentCustomer(r); err != nil {
		return err
	} else if c != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "login.html", "Sign in", accountLoginPage{Next: next})
}

// accountLogin mails a sign-in link. The answer is the same whether or not
// the address has an account, and so is the work done: either way a link
// is made and mailed, and the account is created when it is first used.
func (s *handler) accountLogin(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	typed, err := input.Line("email", "The email address", emailaddr.MaxLength, r.PostForm.Get("email"))
	page := accountLoginPage{Email: typed, Next: nextPath(r.PostForm.Get("next"))}
	if err != nil {
		page.Error = err.Error()
		return s.render(w, r, http.StatusUnprocessableEntity, "login.html", "Sign in", page)
	}
	email, err := emailaddr.NormaliseEmail(typed)
	if err != nil {
		page.Error = "Enter your email address, such as name@example.com."
		return s.render(w, r, http.StatusUnprocessableEntity, "login.html", "Sign in", page)
	}
	ok, err := s.Allow(r,
		s.Bucket(limitCustomerLinkAddress, "customer-link:address", email),
		s.Bucket(limitCustomerLinkNetwork, "customer-link:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = web.MsgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "login.html", "Sign in", page)
	}
	ctx, now := r.Context(), s.clock.Now()
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		token, err := customers.RequestSignIn(ctx, tx, email, now)
		if err != nil {
			return err
		}
		link := s.BaseURL().String() + "/account/verify?token=" + url.QueryEscape(token)
		if page.Next != "/account" {
			link += "&next=" + url.QueryEscape(page.Next)
		}
		m, err := mail.Compose("signin", email, mail.SignInData{SiteName: v.Name, Link: link,
			ExpiresMinutes: int(customers.SignInTTL.Minutes())})
		if err != nil {
			return err
		}
		// Linking the message to an existing account puts it in that
		// account's export and erasure; it changes nothing visible.
		if c, err := customers.ByEmail(ctx, tx, email); err == nil {
			m.CustomerID = c.ID
		} else if !errors.Is(err, customers.ErrNotFound) {
			return err
		}
		_, err = mail.Enqueue(ctx, tx, m, now)
		return err
	})
	if err != nil {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "message.html", "Check your inbox", accountMessagePage{
		Heading: "Check your inbox",
		Text: "If " + email + " is the right address, a sign-in link is on its way to it. The link works once, within " +
			web.Itoa(int64(customers.SignInTTL.Minutes())) + " minutes. Nothing arrived? Check your spam folder, or ask for a new link.",
		Link: "/account/login", LinkText: "Ask for a new link"})
}

// accountLinkGone answers a sign-in link that cannot be used, with the form
// to ask for a new one.
func (s *handler) accountLinkGone(w http.ResponseWriter, r *http.Request, next string) error {
	web.NoStore(w)
	return s.render(w, r, http.StatusGone, "login.html", "Sign-in link expired", accountLoginPage{Next: nextPath(next), Gone: true})
}

// accountVerifyForm is where a sign-in link leads: a page with a button.
func (s *handler) accountVerifyForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	token, err := linkToken(q.Get("token"))
	var t customers.Token
	if err == nil {
		t, err = customers.PeekToken(r.Context(), s.db, token, customers.SignIn, s.clock.Now())
	}
	if errors.Is(err, customers.ErrInvalidToken) {
		return s.accountLinkGone(w, r, q.Get("next"))
	}
	if err != nil {
		return err
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "confirm.html", "Sign in", accountConfirmPage{
		Heading: "Sign in", Text: "Sign in to your " + v.Name + " account as " + t.Email + "?", Button: "Sign in",
		Action: "/account/verify", Token: token, Next: nextPath(q.Get("next"))})
}

// accountVerify uses a sign-in link: it opens (or, the first time, creates)
// the account and starts a session in place of any this browser had.
func (s *handler) accountVerify(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	next := nextPath(r.PostForm.Get("next"))
	ok, err := s.Allow(r, s.Bucket(limitTokenNetwork, "customer-verify:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	old, err := s.CustomerSession(r)
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	var token string
	var created bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		link, err := linkToken(r.PostForm.Get("token"))
		if err != nil {
			return err
		}
		c, isNew, err := customers.CompleteSignIn(ctx, tx, link, now)
		if err != nil {
			return err
		}
		created = isNew
		if old != nil {
			if err := customers.RevokeSession(ctx, tx, old.Customer.ID, old.ID, now); err != nil {
				return err
			}
		}
		token, err = customers.StartSession(ctx, tx, c.ID, now)
		return err
	})
	if errors.Is(err, customers.ErrInvalidToken) {
		return s.accountLinkGone(w, r, next)
	}
	if err != nil {
		return err
	}
	s.SetCustomerCookie(w, token)
	if created && next == "/account" {
		next = "/account?done=welcome"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// accountLogout ends this browser's session, if it has one.
func (s *handler) accountLogout(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.CustomerSession(r)
	if err != nil {
		return err
	}
	if sess != nil {
		err := s.db.Tx(r.Context(), func(tx *sql.Tx) error {
			return customers.RevokeSession(r.Context(), tx, sess.Customer.ID, sess.ID, s.clock.Now())
		})
		if err != nil {
			return err
		}
	}
	s.ClearCustomerCookie(w)
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "message.html", "Signed out", accountMessagePage{
		Heading: "You are signed out", Text: "This browser is no longer signed in to your account.",
		Link: "/account/login", LinkText: "Sign in again"})
}
