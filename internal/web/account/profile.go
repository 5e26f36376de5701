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
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// accountHomePage is the content of home.html: the portal.
type accountHomePage struct {
	Customer customers.Customer
	// Orders are the customer's orders, newest first.
	Orders []orders.Order
	Notice string
	// The email change form: what was typed and what is wrong with it.
	NewEmail, EmailError string
}

// accountNotices are the messages ?done= shows after a redirect.
var accountNotices = map[string]string{
	"welcome":    "Welcome! Your account is ready. Add your billing details under “Edit profile” to have them filled in at checkout.",
	"profile":    "Your profile is saved.",
	"email-sent": "We sent a confirmation link to the new address. Your email address changes when you open that link, within 24 hours.",
}

// accountOrders lists the customer's orders for the portal.
func (s *handler) accountOrders(r *http.Request, c *customers.Customer) ([]orders.Order, error) {
	return orders.ForCustomer(r.Context(), s.db, c.ID)
}

func (s *handler) accountHome(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	return s.renderAccountHome(w, r, http.StatusOK, c, accountHomePage{Notice: accountNotices[r.URL.Query().Get("done")]})
}

func (s *handler) renderAccountHome(w http.ResponseWriter, r *http.Request, status int, c *customers.Customer, page accountHomePage) error {
	list, err := s.accountOrders(r, c)
	if err != nil {
		return err
	}
	page.Customer, page.Orders = *c, list
	return s.render(w, r, status, "home.html", "Your account", page)
}

// accountProfilePage is the content of profile.html.
type accountProfilePage struct {
	Email                  string
	Invalid                bool // nothing was saved: the fields say why
	Who, Address, Business []formField
	Country                formField
	Countries              []customers.Country
}

// formField is one text input of a form with its value and what is wrong
// with it.
type formField struct {
	Name, Label, Autocomplete string
	Max                       int
	Value, Error              string
}

// newProfilePage lays out the profile form with values p and errors errs
// (keyed by field name).
func newProfilePage(email string, p customers.Profile, errs map[string]string) accountProfilePage {
	f := func(name, label, auto string, max int, value string) formField {
		return formField{Name: name, Label: label, Autocomplete: auto, Max: max, Value: value, Error: errs[name]}
	}
	return accountProfilePage{
		Email: email, Invalid: len(errs) > 0, Countries: customers.Countries(),
		Who: []formField{
			f("name", "Name", "name", 200, p.Name),
			f("company", "Company (optional)", "organization", 200, p.Company),
		},
		Address: []formField{
			f("address_line1", "Street and number", "address-line1", 200, p.AddressLine1),
			f("address_line2", "Address line 2 (optional)", "address-line2", 200, p.AddressLine2),
			f("postal_code", "Postal code", "postal-code", 16, p.PostalCode),
			f("city", "City", "address-level2", 100, p.City),
			f("region", "State, province or region (where addresses use one)", "address-level1", 100, p.Region),
		},
		Country: f("country", "Country", "country", 2, p.Country),
		Business: []formField{
			f("vat_id", "VAT ID (optional), with its country prefix, such as DE123456789", "off", 30, p.VATID),
		},
	}
}

func (s *handler) accountProfileForm(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	return s.render(w, r, http.StatusOK, "profile.html", "Edit profile", newProfilePage(c.Email, c.Profile, nil))
}

// accountProfile saves the profile; when anything is wrong the form comes
// back with the typed values and a message at each field, and nothing is
// saved.
func (s *handler) accountProfile(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := r.PostForm.Get
	var p customers.Profile
	// Every field goes through package input first: the profile's own
	// check refuses control characters, but not the invisible ones that
	// reorder text on screen.
	refused := map[string]string{}
	for _, fl := range []struct {
		field, label string
		max          int
		dst          *string
	}{
		{"name", "The name", 200, &p.Name}, {"company", "The company name", 200, &p.Company},
		{"address_line1", "The address", 200, &p.AddressLine1}, {"address_line2", "The second address line", 200, &p.AddressLine2},
		{"postal_code", "The postal code", 16, &p.PostalCode}, {"city", "The city", 100, &p.City}, {"region", "The region", 100, &p.Region},
		{"country", "The country", 100, &p.Country}, {"vat_id", "The VAT ID", 100, &p.VATID},
	} {
		v, err := input.Line(fl.field, fl.label, fl.max, f(fl.field))
		if rf, ok := refuse.As(err); ok {
			refused[fl.field] = rf.Msg
		}
		*fl.dst = v
	}
	if len(refused) > 0 {
		shown, _ := p.Normalise()
		return s.render(w, r, http.StatusUnprocessableEntity, "profile.html", "Edit profile", newProfilePage(c.Email, shown, refused))
	}
	ctx := r.Context()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := customers.UpdateProfile(ctx, tx, c.ID, p, s.clock.Now())
		return err
	})
	var invalid *customers.ValidationError
	if errors.As(err, &invalid) {
		shown, _ := p.Normalise()
		return s.render(w, r, http.StatusUnprocessableEntity, "profile.html", "Edit profile", newProfilePage(c.Email, shown, invalid.Fields))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=profile", http.StatusSeeOther)
	return nil
}

// accountEmail asks for an email change: a link goes to the new address,
// and the address changes only when it is used. Whether another account
// has the new address is not said here (that would reveal the account);
// the link's page tells the owner of the address.
func (s *handler) accountEmail(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	typed, err := input.Line("email", "The email address", emailaddr.MaxLength, r.PostForm.Get("email"))
	page := accountHomePage{NewEmail: typed}
	newEmail, nerr := emailaddr.NormaliseEmail(typed)
	switch {
	case err != nil:
		page.EmailError = err.Error()
	case nerr != nil:
		page.EmailError = "Enter the new email address, such as name@example.com."
	case newEmail == c.Email:
		page.EmailError = "This is your email address already."
	}
	if page.EmailError != "" {
		return s.renderAccountHome(w, r, http.StatusUnprocessableEntity, c, page)
	}
	ok, err = s.Allow(r, s.Bucket(limitCustomerEmailChange, "customer-email-change", web.Itoa(c.ID)))
	if err != nil {
		return err
	}
	if !ok {
		page.EmailError = "You asked for several changes in a short time. Wait an hour, then try again."
		return s.renderAccountHome(w, r, http.StatusTooManyRequests, c, page)
	}
	ctx, now := r.Context(), s.clock.Now()
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		token, err := customers.RequestEmailChange(ctx, tx, c.ID, newEmail, now)
		if err != nil {
			return err
		}
		m, err := mail.Compose("email_change", newEmail, mail.EmailChangeData{SiteName: v.Name, NewEmail: newEmail,
			Link: s.BaseURL().String() + "/account/email/confirm?token=" + url.QueryEscape(token)})
		if err != nil {
			return err
		}
		m.CustomerID = c.ID
		_, err = mail.Enqueue(ctx, tx, m, now)
		return err
	})
	if errors.Is(err, customers.ErrSameEmail) {
		page.EmailError = "This is your email address already."
		return s.renderAccountHome(w, r, http.StatusUnprocessableEntity, c, page)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=email-sent", http.StatusSeeOther)
	return nil
}

// emailLinkGone answers an email change link that cannot be used.
func (s *handler) emailLinkGone(w http.ResponseWriter, r *http.Request) error {
	web.NoStore(w)
	return s.render(w, r, http.StatusGone, "message.html", "Link expired", accountMessagePage{
		Heading: "This link cannot be used",
		Text:    "This confirmation link is unknown, expired or was used already, so your email address did not change. Sign in and ask for the change again.",
		Link:    "/account", LinkText: "Go to your account"})
}

// accountEmailConfirmForm is where an email change link leads: a page with
// a button, like the sign-in link's. It needs no session: the link itself
// proves the new address is the customer's.
func (s *handler) accountEmailConfirmForm(w http.ResponseWriter, r *http.Request) error {
	token, err := linkToken(r.URL.Query().Get("token"))
	var t customers.Token
	if err == nil {
		t, err = customers.PeekToken(r.Context(), s.db, token, customers.EmailChange, s.clock.Now())
	}
	if errors.Is(err, customers.ErrInvalidToken) {
		return s.emailLinkGone(w, r)
	}
	if err != nil {
		return err
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "confirm.html", "Confirm your new email address", accountConfirmPage{
		Heading: "Confirm your new email address", Text: "Use " + t.NewEmail + " as the email address of your " + v.Name + " account?",
		Button: "Confirm the new address", Action: "/account/email/confirm", Token: token})
}

func (s *handler) accountEmailConfirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ok, err := s.Allow(r, s.Bucket(limitTokenNetwork, "customer-verify:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	ctx := r.Context()
	var c customers.Customer
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		link, err := linkToken(r.PostForm.Get("token"))
		if err != nil {
			return err
		}
		c, err = customers.ConfirmEmailChange(ctx, tx, link, s.clock.Now())
		return err
	})
	web.NoStore(w)
	switch {
	case errors.Is(err, customers.ErrInvalidToken):
		return s.emailLinkGone(w, r)
	case errors.Is(err, customers.ErrEmailTaken):
		// Whoever holds this link reads this address's mail, so they may
		// learn that it has an account.
		return s.render(w, r, http.StatusConflict, "message.html", "Address in use", accountMessagePage{
			Heading: "This address has an account already",
			Text:    "Another account with us uses this email address, so nothing changed. To use that account, sign in with this address.",
			Link:    "/account/login", LinkText: "Sign in"})
	case err != nil:
		return err
	}
	return s.render(w, r, http.StatusOK, "message.html", "Email address changed", accountMessagePage{
		Heading: "Your email address is changed",
		Text:    "Your account now uses " + c.Email + ". Sign-in links and emails about your orders go there from now on.",
		Link:    "/account", LinkText: "Go to your account"})
}
