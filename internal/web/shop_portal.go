package web

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/settings"
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
func (s *Server) customerOrder(w http.ResponseWriter, r *http.Request) (orders.Order, bool, error) {
	c, ok, err := s.requireCustomer(w, r)
	if err != nil || !ok {
		return orders.Order{}, false, err
	}
	o, err := orders.ByNumber(r.Context(), s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != c.ID) {
		return o, false, NotFound("There is no such order in your account. Your orders are listed on your account page.")
	}
	return o, err == nil, err
}

func (s *Server) accountOrder(w http.ResponseWriter, r *http.Request) error {
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

// invoicePage is the content of invoice.html: a printable document.
type invoicePage struct {
	Invoice orders.Invoice
	Order   orders.Order
	Vendor  settings.Vendor
	// Correction, when set, is the document shown: a correction of
	// Invoice with its own number and the corrected billing details.
	Correction *orders.Correction
	// Billing is what the document is addressed to.
	Billing orders.Billing
}

// accountInvoice shows an invoice or credit note for printing or saving;
// ?download=1 offers it as a file.
func (s *Server) accountInvoice(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.requireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, r.PathValue("number"))
	var o orders.Order
	if err == nil {
		o, err = orders.ByID(r.Context(), s.db, inv.OrderID)
	}
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != c.ID) {
		return NotFound("There is no such invoice in your account.")
	}
	if err != nil {
		return err
	}
	return s.renderInvoice(w, r, inv, o)
}

func (s *Server) renderInvoice(w http.ResponseWriter, r *http.Request, inv orders.Invoice, o orders.Order) error {
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("download") == "1" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+string(inv.Kind)+"-"+inv.Number+`.html"`)
	}
	return s.render(w, r, http.StatusOK, "invoice.html", "Invoice "+inv.Number, invoicePage{Invoice: inv, Order: o, Vendor: v, Billing: o.Billing})
}

// renderCorrection shows a correction of an invoice.
func (s *Server) renderCorrection(w http.ResponseWriter, r *http.Request, c orders.Correction, o orders.Order) error {
	v, err := s.vendor(r)
	if err != nil {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, c.InvoiceNumber)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "invoice.html", "Correction "+c.Number, invoicePage{Invoice: inv, Order: o, Vendor: v, Correction: &c, Billing: c.Billing})
}

// correctionFor loads a correction and its order by the path's number.
func (s *Server) correctionFor(r *http.Request) (orders.Correction, orders.Order, error) {
	c, orderID, err := orders.CorrectionByNumber(r.Context(), s.db, r.PathValue("number"))
	if err != nil {
		return c, orders.Order{}, err
	}
	o, err := orders.ByID(r.Context(), s.db, orderID)
	return c, o, err
}

func (s *Server) accountCorrection(w http.ResponseWriter, r *http.Request) error {
	cu, ok, err := s.requireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	c, o, err := s.correctionFor(r)
	if errors.Is(err, orders.ErrNotFound) || (err == nil && o.CustomerID != cu.ID) {
		return NotFound("There is no such document in your account.")
	}
	if err != nil {
		return err
	}
	return s.renderCorrection(w, r, c, o)
}

// demoPayPage is the content of demo_pay.html.
type demoPayPage struct {
	Order   orders.Order
	Session string
}

// demoPayment finds the pending order of a demo checkout session.
func (s *Server) demoPayment(r *http.Request) (orders.Order, error) {
	if !s.hasDemoProvider() {
		return orders.Order{}, NotFound(msgNotFound)
	}
	session := r.PathValue("session")
	if !payments.IsDemoSessionRef(session) {
		return orders.Order{}, NotFound("This test payment does not exist or has ended.")
	}
	var number string
	err := s.db.QueryRowContext(r.Context(), `SELECT number FROM orders WHERE processor_session = $1 AND provider = 'demo'`, session).Scan(&number)
	if err != nil {
		return orders.Order{}, NotFound("This test payment does not exist or has ended.")
	}
	return orders.ByNumber(r.Context(), s.db, number)
}

func (s *Server) hasDemoProvider() bool { return s.demoProvider() != nil }

func (s *Server) demoProvider() *payments.Demo {
	for _, p := range s.payments {
		if d, ok := p.(*payments.Demo); ok && d.IsDemo() {
			return d
		}
	}
	return nil
}

// demoPayForm imitates a processor's hosted payment page, for the demo
// only: it says so, asks for no card, and moves no money.
func (s *Server) demoPayForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.demoPayment(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "demo_pay.html", "Test payment", demoPayPage{Order: o, Session: r.PathValue("session")})
}

func (s *Server) demoPay(w http.ResponseWriter, r *http.Request) error {
	o, err := s.demoPayment(r)
	if err != nil {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	target := "/account/orders/" + o.Number
	if r.PathValue("action") == "pay" {
		// The same path a processor's webhook takes.
		ev := s.demoProvider().NewEvent(payments.CheckoutCompleted, r.PathValue("session"), o.Number, o.TotalMinor, o.Currency)
		_, err = shop.Apply(r.Context(), ev, s.clock.Now())
		target += "?paid=1"
	} else {
		if o.Status == orders.Pending {
			err = shop.Cancel(r.Context(), o.ID, "customer", "test payment cancelled", s.clock.Now())
		}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}
