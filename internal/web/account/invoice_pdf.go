package account

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/web"
)

// accountInvoicePDF sends one of the customer's invoices, credit notes or
// corrections as a PDF file; another customer's is answered as if it did
// not exist.
func (s *handler) accountInvoicePDF(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	const msg = "There is no such document in your account."
	number, err := pathNumber(r, msg)
	if err != nil {
		return err
	}
	l, err := s.invoices.Load(r.Context(), number)
	if errors.Is(err, orders.ErrNotFound) || (err == nil && (l.Order.CustomerID == 0 || l.Order.CustomerID != c.ID)) {
		return web.NotFound(msg)
	}
	if err != nil {
		return err
	}
	return s.invoices.PDF(w, l)
}
