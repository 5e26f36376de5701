package support

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// formPage is the content of form.html, the support page.
type formPage struct {
	// Customer is the signed-in customer, nil for a visitor: their
	// ticket opens at once, with files, under the account's address.
	Customer *customers.Customer
	// Restricted: the customer restricted processing, so no new ticket.
	Restricted   bool
	SupportEmail string
	Name         string
	Email        string
	Subject      string
	Message      string
	Errors       fieldErrors
	Error        string // about the whole form (a limit reached)
	MaxUploads   int
	MaxMiB       int
	MaxSubject   int
	MaxMessage   int
}

// sentPage is the content of sent.html.
type sentPage struct {
	Email        string
	Hours        int
	SupportEmail string
}

func (s *handler) newFormPage(r *http.Request, c *customers.Customer) (formPage, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return formPage{}, err
	}
	p := formPage{Customer: c, SupportEmail: v.SupportEmail, Errors: fieldErrors{}, MaxUploads: support.MaxUploads,
		MaxMiB: support.MaxUploadBytes >> 20, MaxSubject: support.MaxSubjectRunes, MaxMessage: maxMessageRunes}
	if c != nil {
		p.Name, p.Email = c.Name, c.Email
		p.Restricted, err = support.CustomerRestricted(r.Context(), s.DB(), c.ID)
		if err != nil {
			return formPage{}, err
		}
	}
	return p, nil
}

const formTitle = "Support"

func (s *handler) form(w http.ResponseWriter, r *http.Request) error {
	c, err := s.CurrentCustomer(r)
	if err != nil {
		return err
	}
	p, err := s.newFormPage(r, c)
	if err != nil {
		return err
	}
	if c != nil {
		web.NoStore(w)
	}
	return s.render(w, r, http.StatusOK, "form.html", formTitle, p)
}

// submit opens a signed-in customer's ticket at once, or holds a
// visitor's message until they confirm their address (desk.Submit). A
// refused form comes back with everything typed in it.
func (s *handler) submit(w http.ResponseWriter, r *http.Request) error {
	c, err := s.CurrentCustomer(r)
	if err != nil {
		return err
	}
	f, err := readForm(r, c != nil)
	if err != nil {
		return err
	}
	p, err := s.newFormPage(r, c)
	if err != nil {
		return err
	}
	web.NoStore(w)
	p.Name, p.Subject, p.Message = f.get("name"), f.get("subject"), f.get("message")
	if c == nil {
		p.Email = f.get("email")
	}
	again := func(status int) error { return s.render(w, r, status, "form.html", formTitle, p) }
	if p.Restricted {
		return again(http.StatusConflict)
	}

	name, err := input.Line("name", "Your name", 100, p.Name)
	p.Errors.add(err)
	subject, err := input.Spec{Field: "subject", Label: "The subject", Max: support.MaxSubjectRunes, Required: true,
		Missing: "The subject is empty: say in a few words what it is about."}.Clean(p.Subject)
	p.Errors.add(err)
	text, err := input.Spec{Field: "message", Label: "Your message", Max: maxMessageRunes, Multiline: true, Required: true,
		Missing: "The message is empty: write what you need help with."}.Clean(p.Message)
	p.Errors.add(err)
	email := p.Email
	if c == nil {
		if email, err = emailaddr.NormaliseEmail(p.Email); err != nil {
			p.Errors["email"] = "Enter your email address, such as name@example.com, so that we can answer."
		}
	}
	p.Errors.add(f.fileErr)
	if len(p.Errors) > 0 {
		return again(http.StatusUnprocessableEntity)
	}
	n := support.NewTicket{Email: email, Name: name, Subject: subject, Text: text, Channel: support.Web}

	if c == nil {
		err := s.desk.Submit(r.Context(), n, web.Network(r))
		if errors.Is(err, support.ErrPendingLimited) {
			p.Error = sentence(support.ErrPendingLimited.Msg)
			return again(http.StatusTooManyRequests)
		}
		if p.Errors.add(err) {
			return again(http.StatusUnprocessableEntity)
		}
		if err != nil {
			return err
		}
		// The same answer whether or not the address has an account.
		return s.render(w, r, http.StatusOK, "sent.html", "Check your mail",
			sentPage{Email: email, Hours: int(support.PendingTTL.Hours()), SupportEmail: p.SupportEmail})
	}

	ok, err := s.Allow(r, s.Bucket(limitOpen, "support-open:customer", strconv.FormatInt(c.ID, 10)))
	if err != nil {
		return err
	}
	if !ok {
		p.Error = fmt.Sprintf("You have opened %d tickets today, the most we take in one day. Add to one of your tickets in your account, "+
			"or write to %s; you can open new tickets here again tomorrow.", limitOpen.Max, orUs(p.SupportEmail))
		return again(http.StatusTooManyRequests)
	}
	n.CustomerID, n.Uploads, n.By = c.ID, f.uploads, audit.Customer(c.ID).From(web.Network(r))
	t, err := s.desk.Open(r.Context(), n)
	if p.Errors.add(err) {
		return again(http.StatusUnprocessableEntity)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account/support/"+web.Itoa(t.ID)+"?done=opened", http.StatusSeeOther)
	return nil
}

// orUs is the support address, or words for it when none is set.
func orUs(addr string) string {
	if addr == "" {
		return "us by email"
	}
	return addr
}

// confirmPage is the content of confirm.html.
type confirmPage struct {
	Token string
}

// openedPage is the content of opened.html.
type openedPage struct {
	Ticket       support.Ticket
	SignIn       string // the sign-in link that returns to the ticket; "" when the address has no account
	SupportEmail string
}

// gonePage is the content of gone.html.
type gonePage struct {
	Message      string
	SupportEmail string
}

// confirmToken reads the link's token as text; anything else is no token
// the desk made.
func confirmToken(v string) string {
	t, err := input.Line("t", "The link", 100, v)
	if err != nil {
		return ""
	}
	return t
}

func (s *handler) gone(w http.ResponseWriter, r *http.Request, msg string) error {
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusGone, "gone.html", "Link not valid", gonePage{Message: msg, SupportEmail: v.SupportEmail})
}

// confirmForm is where the mailed link leads: a page with a button, so
// that a mail system's scanner fetching the link opens no ticket.
func (s *handler) confirmForm(w http.ResponseWriter, r *http.Request) error {
	token := confirmToken(r.URL.Query().Get("t"))
	if token == "" {
		return s.gone(w, r, "This link is incomplete: open the link in our mail again, or copy all of it into the address bar.")
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "confirm.html", "Confirm your support request", confirmPage{Token: token})
}

// confirm opens the ticket of the held message (once; the same link
// again shows the same ticket).
func (s *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ok, err := s.Allow(r, s.Bucket(limitConfirm, "support-confirm:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	token := confirmToken(r.PostForm.Get("t"))
	t, err := s.desk.Confirm(r.Context(), token)
	switch {
	case errors.Is(err, support.ErrPendingUsed):
		return s.gone(w, r, sentence(support.ErrPendingUsed.Msg))
	case errors.Is(err, support.ErrRestricted):
		return refuse.New(refuse.Conflict, "support_restricted",
			"The account with this address has restricted the processing of its data, so no new ticket can be opened. "+
				"Sign in and lift the restriction in the privacy center (/account/privacy), or write to us by email.")
	case err != nil:
		return err
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	p := openedPage{Ticket: t, SupportEmail: v.SupportEmail}
	if t.CustomerID != 0 {
		p.SignIn = "/account/login?next=" + url.QueryEscape("/account/support/"+web.Itoa(t.ID))
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "opened.html", "Ticket "+t.Number()+" opened", p)
}
