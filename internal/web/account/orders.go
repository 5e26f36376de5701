package account

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

// orderPage is the content of order.html.
type orderPage struct {
	Order       orders.Order
	Events      []orders.Event
	Invoices    []orders.Invoice
	Corrections []orders.Correction
	Placed      bool // just placed (manual invoice sent)
	Returned    bool // just back from the payment page
}

// customerOrder loads one of the signed-in customer's orders; another
// customer's order is answered as if it did not exist.
func (s *handler) customerOrder(w http.ResponseWriter, r *http.Request) (orders.Order, bool, error) {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return orders.Order{}, false, err
	}
	o, err := orders.ByNumber(r.Context(), s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != c.ID) {
		return o, false, web.NotFound("There is no such order in your account. Your orders are listed on your account page.")
	}
	return o, err == nil, err
}

func (s *handler) accountOrder(w http.ResponseWriter, r *http.Request) error {
	o, ok, err := s.customerOrder(w, r)
	if err != nil || !ok {
		return err
	}
	evs, err := orders.Events(r.Context(), s.db, o.ID)
	if err != nil {
		return err
	}
	invs, err := orders.Invoices(r.Context(), s.db, o.ID)
	if err != nil {
		return err
	}
	cors, err := orders.Corrections(r.Context(), s.db, o.ID)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	return s.render(w, r, http.StatusOK, "order.html", "Order "+o.Number, orderPage{
		Order: o, Events: evs, Invoices: invs, Corrections: cors, Placed: q.Get("placed") == "1", Returned: q.Get("paid") == "1"})
}

// accountInvoice shows an invoice or credit note for printing or saving;
// ?download=1 offers it as a file.
func (s *handler) accountInvoice(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, r.PathValue("number"))
	var o orders.Order
	if err == nil {
		o, err = orders.ByID(r.Context(), s.db, inv.OrderID)
	}
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != c.ID) {
		return web.NotFound("There is no such invoice in your account.")
	}
	if err != nil {
		return err
	}
	return s.invoices.Invoice(w, r, inv, o)
}

func (s *handler) accountCorrection(w http.ResponseWriter, r *http.Request) error {
	cu, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	c, o, err := invoice.CorrectionFor(r.Context(), s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != cu.ID) {
		return web.NotFound("There is no such document in your account.")
	}
	if err != nil {
		return err
	}
	return s.invoices.Correction(w, r, c, o)
}
