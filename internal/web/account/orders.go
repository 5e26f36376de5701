package account

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

// shop is the order processing of this site, for the buyer's own orders:
// paying again and cancelling.
func (s *handler) shop(r *http.Request) (orders.Shop, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return orders.Shop{}, err
	}
	// No fallback text: without bank details the order page links to the
	// support address itself.
	return orders.NewShop(s.db, v.Name, "", s.BaseURL().String(), s.payments, s.paymentInstructions, s.licenses), nil
}

// orderPage is the content of order.html.
type orderPage struct {
	Order       orders.Order
	Events      []orders.Event
	Invoices    []orders.Invoice
	Corrections []orders.Correction
	Placed      bool // just placed (manual invoice sent)
	Returned    bool // just back from the payment page
	Notice      string
	// Transfer is set when the buyer asked to pay an order paid by bank
	// transfer: the invoice to pay and the bank details.
	Transfer *orders.Resumption
}

// orderNotices are the confirmations of the order page's forms.
var orderNotices = web.Notices{
	"cancelled":       "Your order is cancelled. Nothing was charged; if an invoice was issued, a credit note reverses it.",
	"renewal-waiting": "This renewal of your license was placed before and is waiting for payment: pay it here, or cancel it to place another.",
}

// msgNoOrder answers an order that is not the customer's, or not at all.
const msgNoOrder = "There is no such order in your account. Your orders are listed on your account page."

// pathNumber reads a document or order number from the path. Text that
// no number can be (not UTF-8, control characters) is answered as a
// number that does not exist, before any database sees it.
func pathNumber(r *http.Request, msg string) (string, error) {
	n, err := input.Line("number", "The number", 40, r.PathValue("number"))
	if err != nil || n == "" {
		return "", web.NotFound(msg)
	}
	return n, nil
}

// customerOrder loads one of the signed-in customer's orders; another
// customer's order is answered as if it did not exist.
func (s *handler) customerOrder(w http.ResponseWriter, r *http.Request) (orders.Order, bool, error) {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return orders.Order{}, false, err
	}
	number, err := pathNumber(r, msgNoOrder)
	if err != nil {
		return orders.Order{}, false, err
	}
	o, err := orders.ForCustomerByNumber(r.Context(), s.db, c.ID, number)
	if errors.Is(err, orders.ErrNotFound) {
		return o, false, web.NotFound(msgNoOrder)
	}
	return o, err == nil, err
}

func (s *handler) accountOrder(w http.ResponseWriter, r *http.Request) error {
	o, ok, err := s.customerOrder(w, r)
	if err != nil || !ok {
		return err
	}
	q := r.URL.Query()
	return s.renderOrder(w, r, http.StatusOK, orderPage{Order: o, Placed: q.Get("placed") == "1", Returned: q.Get("paid") == "1",
		Notice: orderNotices.For(r)})
}

func (s *handler) renderOrder(w http.ResponseWriter, r *http.Request, status int, page orderPage) error {
	ctx, o := r.Context(), page.Order
	var err error
	if page.Events, err = orders.Events(ctx, s.db, o.ID); err != nil {
		return err
	}
	if page.Invoices, err = orders.Invoices(ctx, s.db, o.ID); err != nil {
		return err
	}
	if page.Corrections, err = orders.Corrections(ctx, s.db, o.ID); err != nil {
		return err
	}
	return s.render(w, r, status, "order.html", "Order "+o.Number, page)
}

// accountOrderPay lets the buyer pay a pending order again: back to the
// same open checkout at the processor, or the invoice and bank details of
// an order paid by transfer. A payment page that expired is 410, an order
// no longer pending 409 (orders' refusals).
func (s *handler) accountOrderPay(w http.ResponseWriter, r *http.Request) error {
	o, ok, err := s.customerOrder(w, r)
	if err != nil || !ok {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	res, err := shop.Resume(r.Context(), o.CustomerID, o.Number)
	if err != nil {
		return err
	}
	if res.RedirectURL != "" {
		http.Redirect(w, r, res.RedirectURL, http.StatusSeeOther)
		return nil
	}
	return s.renderOrder(w, r, http.StatusOK, orderPage{Order: res.Order, Transfer: &res})
}

// accountOrderCancel cancels the buyer's own pending order (the
// processor's checkout is closed first). One no longer pending, or whose
// payment is on its way, is refused with 409 and stays as it is.
func (s *handler) accountOrderCancel(w http.ResponseWriter, r *http.Request) error {
	o, ok, err := s.customerOrder(w, r)
	if err != nil || !ok {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	if _, err := shop.CancelByCustomer(r.Context(), o.CustomerID, o.Number, s.clock.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/orders/"+o.Number+"?done=cancelled", http.StatusSeeOther)
	return nil
}

// accountInvoice shows an invoice or credit note for printing or saving;
// ?download=1 offers it as a file.
func (s *handler) accountInvoice(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	number, err := pathNumber(r, "There is no such invoice in your account.")
	if err != nil {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, number)
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
	number, err := pathNumber(r, "There is no such document in your account.")
	if err != nil {
		return err
	}
	c, o, err := invoice.CorrectionFor(r.Context(), s.db, number)
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != cu.ID) {
		return web.NotFound("There is no such document in your account.")
	}
	if err != nil {
		return err
	}
	return s.invoices.Correction(w, r, c, o)
}
