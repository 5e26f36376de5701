package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

// staffOrdersPage is the content of orders.html.
type staffOrdersPage struct {
	Status   string
	Statuses []orders.Status
	Orders   []orders.Order
}

var orderStatuses = []orders.Status{orders.Pending, orders.Paid, orders.Refunded, orders.Disputed, orders.Cancelled}

func (s *handler) staffOrders(w http.ResponseWriter, r *http.Request) error {
	st := r.URL.Query().Get("status")
	if st != "" && !containsStatus(orders.Status(st)) {
		return web.BadRequest("Unknown order state; choose one of the filters.")
	}
	list, err := orders.List(r.Context(), s.db, orders.Filter{Status: orders.Status(st), Limit: 200})
	if err != nil {
		return err
	}
	// The list shows buyers' names: a view of personal data.
	if err := s.RecordView(r, "orders", "list", "status="+st); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "orders.html", "Orders", staffOrdersPage{Status: st, Statuses: orderStatuses, Orders: list})
}

func containsStatus(st orders.Status) bool {
	for _, x := range orderStatuses {
		if x == st {
			return true
		}
	}
	return false
}

// staffOrderPage is the content of order.html.
type staffOrderPage struct {
	Notice      string
	Order       orders.Order
	Events      []orders.Event
	Invoices    []orders.Invoice
	Corrections []orders.Correction
	CanManage   bool
	CanRefund   bool
	// Choices are the buyer's privacy choices; staff must see a
	// restriction before they process anything.
	Choices privacy.Choices
}

func (s *handler) staffOrder(w http.ResponseWriter, r *http.Request) error {
	o, err := orders.ByNumber(r.Context(), s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound("There is no order with this number.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "customer", web.Itoa(o.CustomerID), "order "+o.Number+" billing details"); err != nil {
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
	role := web.StaffSession(r).Account.Role
	_, refunds := s.provider(o.Provider).(payments.Refunder)
	cors, err := orders.Corrections(r.Context(), s.db, o.ID)
	if err != nil {
		return err
	}
	var choices privacy.Choices
	if o.CustomerID != 0 {
		if choices, err = privacy.LoadChoices(r.Context(), s.db, o.CustomerID); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "order.html", "Order "+o.Number, staffOrderPage{
		Notice: notices.For(r), Order: o, Events: evs, Invoices: invs, Choices: choices, Corrections: cors,
		CanManage: role.Can(staff.PermOrdersManage), CanRefund: refunds && role.Can(staff.PermOrdersManage) && o.Status == orders.Paid})
}

// staffOrderAction marks a manual order paid, cancels a pending order, or
// asks the processor to refund a paid one (the refund's webhook then moves
// the order).
func (s *handler) staffOrderAction(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	ctx := r.Context()
	o, err := orders.ByNumber(ctx, s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound("There is no order with this number.")
	}
	if err != nil {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	cause, now := "staff:"+web.Itoa(sess.Account.ID), s.clock.Now()
	action, done := r.PathValue("action"), ""
	switch action {
	case "mark-paid":
		if _, offline := s.provider(o.Provider).(payments.Offline); !offline && o.Provider != "manual" {
			return &web.Error{Status: http.StatusConflict, Message: "Only orders paid by invoice are marked paid by hand; card payments are confirmed by the processor."}
		}
		_, err = shop.MarkPaid(ctx, o.ID, cause, now)
		done = "paid"
	case "cancel":
		err, done = shop.Cancel(ctx, o.ID, cause, "cancelled by staff", now), "cancelled"
	case "refund":
		rf, ok := s.provider(o.Provider).(payments.Refunder)
		if !ok || o.Status != orders.Paid || o.ProcessorPayment == "" {
			return &web.Error{Status: http.StatusConflict, Message: "This order cannot be refunded through its payment provider."}
		}
		err, done = rf.Refund(ctx, o.ProcessorPayment), "refund-requested"
	default:
		return web.NotFound(web.MsgNotFound)
	}
	if errors.Is(err, orders.ErrInvalidState) {
		return &web.Error{Status: http.StatusConflict, Message: "The order is " + string(o.Status) + ", which does not allow this."}
	}
	if err != nil {
		return err
	}
	if err := s.AuditAlone(r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "order." + strings.ReplaceAll(action, "-", "_"), SubjectType: "order", SubjectID: o.Number}); err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/orders/"+o.Number+"?done=order-"+done, http.StatusSeeOther)
	return nil
}

// staffInvoice shows any invoice to finance.
func (s *handler) staffInvoice(w http.ResponseWriter, r *http.Request) error {
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, r.PathValue("number"))
	var o orders.Order
	if err == nil {
		o, err = orders.ByID(r.Context(), s.db, inv.OrderID)
	}
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound("There is no invoice with this number.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "customer", web.Itoa(o.CustomerID), "invoice "+inv.Number); err != nil {
		return err
	}
	return s.invoices.Invoice(w, r, inv, o)
}

// catalogPage is the content of catalog.html.
type catalogPage struct {
	Notice, Error string
	Products      []catalog.Product
}

func (s *handler) staffCatalog(w http.ResponseWriter, r *http.Request) error {
	return s.renderCatalog(w, r, http.StatusOK, "")
}

func (s *handler) renderCatalog(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	ps, err := catalog.All(r.Context(), s.db)
	if err != nil {
		return err
	}
	return s.render(w, r, status, "catalog.html", "Catalog", catalogPage{Notice: notices.For(r), Error: problem, Products: ps})
}

// staffCatalogChange applies one catalog form. Refused input re-renders
// the catalog with the reason and changes nothing.
func (s *handler) staffCatalogChange(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	f := r.PostForm.Get
	ctx, now := r.Context(), s.clock.Now()
	what := r.PathValue("what")
	id, _ := strconv.ParseInt(f("id"), 10, 64)
	var problem error
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		switch what {
		case "product":
			if id == 0 {
				_, err = catalog.Create(ctx, tx, catalog.NewProduct{Slug: f("slug"), Name: f("name"), Tagline: f("tagline"), Description: f("description")}, now)
			} else {
				err = catalog.UpdateProduct(ctx, tx, id, catalog.ProductChange{Name: f("name"), Tagline: f("tagline"), Description: f("description"), Active: f("active") == "on"}, now)
			}
		case "edition":
			features := strings.Split(strings.ReplaceAll(f("features"), "\r\n", "\n"), "\n")
			if id == 0 {
				pid, _ := strconv.ParseInt(f("product_id"), 10, 64)
				_, err = catalog.AddEdition(ctx, tx, pid, catalog.NewEdition{Slug: f("slug"), Name: f("name"), Summary: f("summary"), Features: features}, now)
			} else {
				err = catalog.UpdateEdition(ctx, tx, id, catalog.EditionChange{Name: f("name"), Summary: f("summary"), Features: features, Active: f("active") == "on"}, now)
			}
		case "price":
			amount, perr := parseAmount(f("amount"))
			if perr != nil {
				problem = perr
				return nil
			}
			if id == 0 {
				eid, _ := strconv.ParseInt(f("edition_id"), 10, 64)
				_, err = catalog.AddPrice(ctx, tx, eid, catalog.Price{Currency: strings.ToUpper(strings.TrimSpace(f("currency"))), AmountMinor: amount, Billing: catalog.Billing(f("billing"))}, now)
			} else {
				if err = catalog.SetPriceAmount(ctx, tx, id, amount); err == nil {
					err = catalog.SetPriceActive(ctx, tx, id, f("active") == "on")
				}
			}
		default:
			return web.NotFound(web.MsgNotFound)
		}
		if err != nil {
			problem = err
			return errRollback
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "catalog." + what + "_saved", SubjectType: what, SubjectID: f("id"), Detail: f("slug")})
	})
	if problem != nil {
		if errors.Is(problem, catalog.ErrNotFound) {
			return web.NotFound("That catalog entry does not exist.")
		}
		return s.renderCatalog(w, r, http.StatusUnprocessableEntity, problem.Error())
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/catalog?done=saved", http.StatusSeeOther)
	return nil
}

// errRollback ends a transaction whose refusal is reported separately.
var errRollback = errors.New("rolled back")

// parseAmount reads "490", "490.5" or "1,290.00" as minor units.
func parseAmount(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	bad := errors.New("enter the amount as a number such as 490 or 490.00")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, bad
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") {
		return 0, bad
	}
	return n, nil
}

// staffCorrectInvoice issues a correction of an invoice's billing details:
// a new document; the invoice stays as it was issued.
func (s *handler) staffCorrectInvoice(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	f := r.PostForm.Get
	b := orders.Billing{Name: f("name"), Company: f("company"), Address: f("address"), Country: f("country"), VATID: f("vat_id")}
	ctx, number := r.Context(), r.PathValue("number")
	var c orders.Correction
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = orders.CorrectInvoice(ctx, tx, number, b, f("reason"), s.clock.Now()); err != nil {
			return err
		}
		return s.Audit(ctx, tx, r, audit.Entry{ActorType: audit.ActorStaff, ActorID: sess.Account.ID, Action: "invoice.corrected", SubjectType: "invoice", SubjectID: number, Detail: "correction " + c.Number + ": " + c.Reason})
	})
	switch {
	case errors.Is(err, orders.ErrNotFound):
		return web.NotFound("There is no invoice with this number.")
	case errors.Is(err, orders.ErrNoReason), errors.Is(err, orders.ErrBadBilling), errors.Is(err, orders.ErrInvalidState):
		return &web.Error{Status: http.StatusUnprocessableEntity, Message: "The correction was not issued: " + err.Error() + ". Go back and complete the form (name, address, two-letter country, and the reason)."}
	case err != nil:
		return err
	}
	_, orderID, err := orders.CorrectionByNumber(ctx, s.db, c.Number)
	if err != nil {
		return err
	}
	o, err := orders.ByID(ctx, s.db, orderID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/orders/"+o.Number+"?done=corrected", http.StatusSeeOther)
	return nil
}

func (s *handler) staffCorrection(w http.ResponseWriter, r *http.Request) error {
	c, o, err := invoice.CorrectionFor(r.Context(), s.db, r.PathValue("number"))
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound("There is no correction with this number.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "customer", web.Itoa(o.CustomerID), "correction "+c.Number); err != nil {
		return err
	}
	return s.invoices.Correction(w, r, c, o)
}
