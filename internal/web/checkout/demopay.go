package checkout

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/web"
)

// demoPayPage is the content of demo_pay.html.
type demoPayPage struct {
	Order   orders.Order
	Session string
}

// demoPayment finds the pending order of a demo checkout session.
func (s *handler) demoPayment(r *http.Request) (orders.Order, error) {
	if !s.hasDemoProvider() {
		return orders.Order{}, web.NotFound(web.MsgNotFound)
	}
	session := r.PathValue("session")
	if !payments.IsDemoSessionRef(session) {
		return orders.Order{}, web.NotFound("This test payment does not exist or has ended.")
	}
	var number string
	err := s.db.QueryRowContext(r.Context(), `SELECT number FROM orders WHERE processor_session = $1 AND provider = 'demo'`, session).Scan(&number)
	if err != nil {
		return orders.Order{}, web.NotFound("This test payment does not exist or has ended.")
	}
	return orders.ByNumber(r.Context(), s.db, number)
}

func (s *handler) hasDemoProvider() bool { return s.demoProvider() != nil }

func (s *handler) demoProvider() *payments.Demo {
	for _, p := range s.payments {
		if d, ok := p.(*payments.Demo); ok && d.IsDemo() {
			return d
		}
	}
	return nil
}

// demoPayForm imitates a processor's hosted payment page, for the demo
// only: it says so, asks for no card, and moves no money.
func (s *handler) demoPayForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.demoPayment(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "demo_pay.html", "Test payment", demoPayPage{Order: o, Session: r.PathValue("session")})
}

func (s *handler) demoPay(w http.ResponseWriter, r *http.Request) error {
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
