package console

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/web"
)

// staffInvoicePDF sends any invoice, credit note or correction as a PDF
// file to finance; the view is recorded as the HTML view is.
func (s *handler) staffInvoicePDF(w http.ResponseWriter, r *http.Request) error {
	const msg = "There is no invoice, credit note or correction with this number."
	number, err := pathNumber(r, msg)
	if err != nil {
		return err
	}
	l, err := s.invoices.Load(r.Context(), number)
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound(msg)
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "customer", web.Itoa(l.Order.CustomerID), string(l.Kind)+" "+l.Number+" (PDF)"); err != nil {
		return err
	}
	return s.invoices.PDF(w, l)
}
