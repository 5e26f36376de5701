package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
)

// customersPage is the content of staff_customers.html.
type customersPage struct {
	Query     string
	Customers []customers.Customer
	Searched  bool
}

// staffCustomers finds customers by address or name. It lists nobody until
// asked: staff look up the person they are helping, they do not browse.
func (s *Server) staffCustomers(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page := customersPage{Query: q}
	if q != "" {
		if len(q) < 3 || len(q) > 254 {
			return BadRequest("Search with at least three characters of the email address or name.")
		}
		var err error
		if page.Customers, err = customers.Search(r.Context(), s.db, q, 50); err != nil {
			return err
		}
		page.Searched = true
		if err := s.recordView(r.Context(), r, "customers", "search", "search matched "+itoa(int64(len(page.Customers)))); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "staff_customers.html", "Customers", page)
}

// customerPage is the content of staff_customer.html.
type customerPage struct {
	Customer    customers.Customer
	Choices     privacy.Choices
	Orders      []orders.Order
	ShowBilling bool // finance and owners see billing details; support does not
}

func (s *Server) staffCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	c, err := customers.ByID(ctx, s.db, id)
	if errors.Is(err, customers.ErrNotFound) {
		return NotFound("There is no such customer.")
	}
	if err != nil {
		return err
	}
	if err := s.recordView(ctx, r, "customer", itoa(c.ID), "customer record"); err != nil {
		return err
	}
	page := customerPage{Customer: c, ShowBilling: staffSession(r).Account.Role.Can(staff.PermBillingView)}
	if page.Choices, err = privacy.LoadChoices(ctx, s.db, c.ID); err != nil {
		return err
	}
	if page.Orders, err = orders.ForCustomer(ctx, s.db, c.ID); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "staff_customer.html", c.Label(), page)
}
