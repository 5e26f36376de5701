package checkout

import (
	"errors"
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

// demoPayment finds the order of a demo checkout session. A session
// that does not exist is a 404; a database error stays a 500.
func (s *handler) demoPayment(r *http.Request) (orders.Order, error) {
	if !s.hasDemoProvider() {
		return orders.Order{}, web.NotFound(web.MsgNotFound)
	}
	session := r.PathValue("session")
	if !payments.IsDemoSessionRef(session) {
		return orders.Order{}, errNoDemoPayment
	}
	o, err := orders.BySession(r.Context(), s.db, "demo", session)
	if errors.Is(err, orders.ErrNotFound) {
		return orders.Order{}, errNoDemoPayment
	}
	return o, err
}

var errNoDemoPayment = web.NotFound("This test payment does not exist or has ended.")

// pendingDemoPayment is demoPayment for paying: only a pending order can
// be paid. A cancelled order must not become paid by a test payment (a
// real processor's checkout is closed before its order is cancelled), and
// a paid one is paid.
func (s *handler) pendingDemoPayment(r *http.Request) (orders.Order, error) {
	o, err := s.demoPayment(r)
	if err == nil && o.Status != orders.Pending {
		return o, orders.ErrNotPending.Withf("Order %s is %s, so this test payment has ended. Its page in your account shows where it stands.", o.Number, o.Status)
	}
	return o, err
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
	o, err := s.pendingDemoPayment(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "demo_pay.html", "Test payment", demoPayPage{Order: o, Session: r.PathValue("session")})
}

func (s *handler) demoPay(w http.ResponseWriter, r *http.Request) error {
	action := r.PathValue("action")
	if action != "pay" && action != "cancel" {
		return web.NotFound(web.MsgNotFound)
	}
	var o orders.Order
	var err error
	if action == "pay" {
		o, err = s.pendingDemoPayment(r)
	} else {
		o, err = s.demoPayment(r)
	}
	if err != nil {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	target := "/account/orders/" + o.Number
	if action == "pay" {
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
