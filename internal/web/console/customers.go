package console

import (
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// customersPage is the content of customers.html.
type customersPage struct {
	Query     string
	Customers []customers.Customer
	Searched  bool
}

// staffCustomers finds customers by address or name. It lists nobody until
// asked: staff look up the person they are helping, they do not browse.
func (s *handler) staffCustomers(w http.ResponseWriter, r *http.Request) error {
	q, err := input.Line("q", "The search", 254, r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	page := customersPage{Query: q}
	if q != "" {
		if utf8.RuneCountInString(q) < 3 {
			return web.BadRequest("Search with at least three characters of the email address or name.")
		}
		if page.Customers, err = customers.Search(r.Context(), s.db, q, 50); err != nil {
			return err
		}
		page.Searched = true
		if err := s.RecordView(r, "customers", "search", "search matched "+web.Itoa(int64(len(page.Customers)))); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "customers.html", "Customers", page)
}

// customerPage is the content of customer.html.
type customerPage struct {
	Customer    customers.Customer
	Choices     privacy.Choices
	Orders      []orders.Order
	ShowBilling bool // finance and owners see billing details; support does not
}

func (s *handler) staffCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := customers.ByID(ctx, s.db, id)
	if errors.Is(err, customers.ErrNotFound) {
		return web.NotFound("There is no such customer.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "customer", web.Itoa(c.ID), "customer record"); err != nil {
		return err
	}
	page := customerPage{Customer: c, ShowBilling: web.StaffSession(r).Account.Role.Can(staff.PermBillingView)}
	if page.Choices, err = privacy.LoadChoices(ctx, s.db, c.ID); err != nil {
		return err
	}
	if page.Orders, err = orders.ForCustomer(ctx, s.db, c.ID); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "customer.html", c.Label(), page)
}
