package console

import (
	"errors"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/catalog"
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
	Customers []customerRow
	Searched  bool
	// ShowTotals: the amounts paid are billing details (finance and
	// owners); support sees how many orders, not how much.
	ShowTotals  bool
	Next, First string
}

// customerRow is a customer of the list with what they ordered.
type customerRow struct {
	customers.Customer
	Orders int
	Paid   string // the paid totals per currency, "" for none
}

const customersPageSize = 50

// staffCustomers lists customers newest first, a page at a time, each
// with their orders' count and totals; or finds them by address or name.
// The list and every search are views of personal data, recorded.
func (s *handler) staffCustomers(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, err := input.Line("q", "The search", 254, v.Get("q"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	page := customersPage{Query: q, ShowTotals: web.StaffSession(r).Account.Role.Can(staff.PermBillingView)}
	var list []customers.Customer
	if q != "" {
		if utf8.RuneCountInString(q) < 3 {
			return web.BadRequest("Search with at least three characters of the email address or name.")
		}
		if list, err = customers.Search(ctx, s.db, q, 50); err != nil {
			return err
		}
		page.Searched = true
		if err := s.RecordView(r, "customers", "search", "search matched "+web.Itoa(int64(len(list)))); err != nil {
			return err
		}
	} else {
		after, err := orders.ParseCursor(v.Get("after"))
		if err != nil {
			return web.BadRequest(msgBadPageLink)
		}
		if list, err = customers.Page(ctx, s.db, after.At, after.ID, customersPageSize+1); err != nil {
			return err
		}
		if len(list) > customersPageSize {
			list = list[:customersPageSize]
			last := list[len(list)-1]
			page.Next = "/staff/customers?after=" + orders.Cursor{At: last.CreatedAt, ID: last.ID}.String()
		}
		if !after.IsZero() {
			page.First = "/staff/customers"
		}
		if len(list) > 0 {
			if err := s.RecordView(r, "customers", "list", "customer list of "+web.Itoa(int64(len(list)))); err != nil {
				return err
			}
		}
	}
	ids := make([]int64, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	totals, err := orders.TotalsByCustomer(ctx, s.db, ids)
	if err != nil {
		return err
	}
	for _, c := range list {
		t := totals[c.ID]
		row := customerRow{Customer: c, Orders: t.Orders}
		curs := make([]string, 0, len(t.Paid))
		for cur := range t.Paid {
			curs = append(curs, cur)
		}
		slices.Sort(curs)
		for i, cur := range curs {
			if i > 0 {
				row.Paid += ", "
			}
			row.Paid += catalog.FormatMoney(t.Paid[cur], cur)
		}
		page.Customers = append(page.Customers, row)
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
