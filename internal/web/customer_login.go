package web

import (
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/mail"
)

// accountLoginPage is the content of account_login.html: the form that asks
// for a sign-in link, also shown when a link did not work.
type accountLoginPage struct {
	Email, Next string
	Error       string // what to correct in the form
	Gone        bool   // shown because a link was unknown, expired or used
}

// accountMessagePage is the content of account_message.html: a short
// result with an optional link onwards.
type accountMessagePage struct {
	Heading, Text, Link, LinkText string
}

// accountConfirmPage is the content of account_confirm.html: the page a
// one-time link opens. It uses nothing; its button posts the token, so a
// mail scanner that fetches links does not spend them.
type accountConfirmPage struct {
	Heading, Text, Button string
	Action, Token, Next   string
}

// noStore marks an answer that must not be cached: account pages and
// pages that carry a one-time link's token.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }

func (s *Server) accountLoginForm(w http.ResponseWriter, r *http.Request) error {
	next := safeAccountNext(r.URL.Query().Get("next"))
	if c, err := s.currentCustomer(r); err != nil {
		return err
	} else if c != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "account_login.html", "Sign in", accountLoginPage{Next: next})
}

// accountLogin mails a sign-in link. The answer is the same whether or not
// the address has an account, and so is the work done: either way a link
// is made and mailed, and the account is created when it is first used.
func (s *Server) accountLogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	typed := strings.TrimSpace(r.PostForm.Get("email"))
	page := accountLoginPage{Email: typed, Next: safeAccountNext(r.PostForm.Get("next"))}
	if len(page.Email) > emailaddr.MaxLength {
		page.Email = ""
	}
	email, err := emailaddr.NormaliseEmail(typed)
	if err != nil {
		page.Error = "Enter your email address, such as name@example.com."
		return s.render(w, r, http.StatusUnprocessableEntity, "account_login.html", "Sign in", page)
	}
	ok, err := s.allow(r,
		limitCheck{s.limiter.Key("customer-link:address", email), limitCustomerLinkAddress},
		limitCheck{s.limiter.Key("customer-link:net", networkOf(r)), limitCustomerLinkNetwork})
	if err != nil {
		return err
	}
	if !ok {
		page.Error = msgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "account_login.html", "Sign in", page)
	}
	ctx, now := r.Context(), s.clock.Now()
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		token, err := customers.RequestSignIn(ctx, tx, email, now)
		if err != nil {
			return err
		}
		link := s.baseURL.String() + "/account/verify?token=" + url.QueryEscape(token)
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
	noStore(w)
	return s.render(w, r, http.StatusOK, "account_message.html", "Check your inbox", accountMessagePage{
		Heading: "Check your inbox",
		Text: "If " + email + " is the right address, a sign-in link is on its way to it. The link works once, within " +
			itoa(int64(customers.SignInTTL.Minutes())) + " minutes. Nothing arrived? Check your spam folder, or ask for a new link.",
		Link: "/account/login", LinkText: "Ask for a new link"})
}

// accountLinkGone answers a sign-in link that cannot be used, with the form
// to ask for a new one.
func (s *Server) accountLinkGone(w http.ResponseWriter, r *http.Request, next string) error {
	noStore(w)
	return s.render(w, r, http.StatusGone, "account_login.html", "Sign-in link expired", accountLoginPage{Next: safeAccountNext(next), Gone: true})
}

// accountVerifyForm is where a sign-in link leads: a page with a button.
func (s *Server) accountVerifyForm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	t, err := customers.PeekToken(r.Context(), s.db, q.Get("token"), customers.SignIn, s.clock.Now())
	if errors.Is(err, customers.ErrInvalidToken) {
		return s.accountLinkGone(w, r, q.Get("next"))
	}
	if err != nil {
		return err
	}
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	noStore(w)
	return s.render(w, r, http.StatusOK, "account_confirm.html", "Sign in", accountConfirmPage{
		Heading: "Sign in", Text: "Sign in to your " + v.Name + " account as " + t.Email + "?", Button: "Sign in",
		Action: "/account/verify", Token: q.Get("token"), Next: safeAccountNext(q.Get("next"))})
}

// accountVerify uses a sign-in link: it opens (or, the first time, creates)
// the account and starts a session in place of any this browser had.
func (s *Server) accountVerify(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return BadRequest("The form could not be read. Reload the page and try again.")
	}
	next := safeAccountNext(r.PostForm.Get("next"))
	ok, err := s.allow(r, limitCheck{s.limiter.Key("customer-verify:net", networkOf(r)), limitTokenNetwork})
	if err != nil {
		return err
	}
	if !ok {
		return &Error{Status: http.StatusTooManyRequests, Message: msgRateLimited}
	}
	old, err := s.customerSession(r)
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	var token string
	var created bool
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, isNew, err := customers.CompleteSignIn(ctx, tx, r.PostForm.Get("token"), now)
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
	s.setCustomerCookie(w, token)
	if created && next == "/account" {
		next = "/account?done=welcome"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// accountLogout ends this browser's session, if it has one.
func (s *Server) accountLogout(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.customerSession(r)
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
	s.clearCustomerCookie(w)
	noStore(w)
	return s.render(w, r, http.StatusOK, "account_message.html", "Signed out", accountMessagePage{
		Heading: "You are signed out", Text: "This browser is no longer signed in to your account.",
		Link: "/account/login", LinkText: "Sign in again"})
}
