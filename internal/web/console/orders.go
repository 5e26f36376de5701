package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
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
	// CanMarkPaid: the order waits for a payment that arrives outside
	// Storekeep (its provider is payments.Offline).
	CanMarkPaid bool
	// CanRefund: a paid order and orders.manage. RefundThrough names the
	// processor that returns the money (a payments.Refunder); "" when
	// staff return it outside and record that they did.
	CanRefund     bool
	RefundThrough string
	// ProviderLabel names the order's way to pay as checkout did; "" when
	// it is no longer configured.
	ProviderLabel string
	// RefundError is the refusal of the refund form's note.
	RefundError string
	// Correct is a refused correction form, shown again with what was
	// typed and why it was refused.
	Correct *correctionForm
	// Choices are the buyer's privacy choices; staff must see a
	// restriction before they process anything.
	Choices privacy.Choices
	// Refunds are the order's refunds and what is left (refunds.go).
	Refunds orders.RefundStatus
}

// correctionForm is the correction form of one invoice.
type correctionForm struct {
	Invoice     string
	Billing     orders.Billing
	Reason      string
	Errors      []string
	FieldErrors map[string]string
	Open        bool
}

// CorrectionForm is the correction form of invoice number: the refused
// one when it is that invoice's, else the order's billing details.
func (p staffOrderPage) CorrectionForm(number string) correctionForm {
	if p.Correct != nil && p.Correct.Invoice == number {
		return *p.Correct
	}
	return correctionForm{Invoice: number, Billing: p.Order.Billing}
}

// orderNotices are the confirmations of the order page's actions.
var orderNotices = web.Notices{
	"order-paid":             "The order is marked paid; the confirmation email is queued.",
	"order-cancelled":        "The order is cancelled.",
	"corrected":              "The correction is issued as a document of its own; the invoice stays as it was.",
	"order-refund-requested": "The payment processor made the refund: the order is refunded and its credit note is issued.",
	"order-refund-recorded":  "The refund is recorded: the order is refunded and its credit note is issued.",
}

// msgNoOrder answers an order number that no order has.
const msgNoOrder = "There is no order with this number."

// pathNumber reads an order or document number from the path. Text no
// number can be (not UTF-8, control characters) is answered as a number
// that does not exist, before any database sees it.
func pathNumber(r *http.Request, msg string) (string, error) {
	n, err := input.Line("number", "The number", 40, r.PathValue("number"))
	if err != nil || n == "" {
		return "", web.NotFound(msg)
	}
	return n, nil
}

// staffOrderByPath loads the order the path names.
func (s *handler) staffOrderByPath(r *http.Request) (orders.Order, error) {
	number, err := pathNumber(r, msgNoOrder)
	if err != nil {
		return orders.Order{}, err
	}
	o, err := orders.ByNumber(r.Context(), s.db, number)
	if errors.Is(err, orders.ErrNotFound) {
		return o, web.NotFound(msgNoOrder)
	}
	return o, err
}

func (s *handler) staffOrder(w http.ResponseWriter, r *http.Request) error {
	o, err := s.staffOrderByPath(r)
	if err != nil {
		return err
	}
	return s.renderOrder(w, r, http.StatusOK, staffOrderPage{Order: o, Notice: orderNotices.For(r)})
}

// renderOrder shows the order page.Order with its history, documents and
// the actions the member may take. It shows billing details: a view of
// personal data, recorded.
func (s *handler) renderOrder(w http.ResponseWriter, r *http.Request, status int, page staffOrderPage) error {
	ctx, o := r.Context(), page.Order
	if err := s.RecordView(r, "customer", web.Itoa(o.CustomerID), "order "+o.Number+" billing details"); err != nil {
		return err
	}
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
	if page.Refunds, err = orders.RefundStatusOf(ctx, s.db, o.ID); err != nil {
		return err
	}
	if o.CustomerID != 0 {
		if page.Choices, err = privacy.LoadChoices(ctx, s.db, o.CustomerID); err != nil {
			return err
		}
	}
	p := s.provider(o.Provider)
	if p != nil {
		page.ProviderLabel = p.Label()
	}
	page.CanManage = web.StaffSession(r).Account.Role.Can(staff.PermOrdersManage)
	_, offline := p.(payments.Offline)
	page.CanMarkPaid = page.CanManage && offline && o.Status == orders.Pending
	page.CanRefund = page.CanManage && o.Status == orders.Paid
	if _, ok := p.(payments.Refunder); ok && page.CanRefund {
		page.RefundThrough = p.Label()
	}
	return s.render(w, r, status, "order.html", "Order "+o.Number, page)
}

// staffOrderAction marks an order paid by transfer as paid, cancels a
// pending order, or refunds a paid one: through its processor when the
// processor can (the refund's event then moves the order), else recorded
// as returned outside Storekeep, with its credit note at once. Refusals
// are the orders domain's (a 409 for a state that does not allow it).
func (s *handler) staffOrderAction(w http.ResponseWriter, r *http.Request) error {
	action := r.PathValue("action")
	if action != "mark-paid" && action != "cancel" && action != "refund" {
		return web.NotFound(web.MsgNotFound)
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	sess := web.StaffSession(r)
	ctx := r.Context()
	o, err := s.staffOrderByPath(r)
	if err != nil {
		return err
	}
	shop, err := s.shop(r)
	if err != nil {
		return err
	}
	cause, now := "staff:"+web.Itoa(sess.Account.ID), s.clock.Now()
	var done, detail string
	switch action {
	case "mark-paid":
		_, err = shop.MarkPaid(ctx, o.ID, cause, now)
		done = "paid"
	case "cancel":
		err, done = shop.Cancel(ctx, o.ID, cause, "cancelled by staff", now), "cancelled"
	case "refund":
		note, nerr := input.Line("note", "The note", 300, r.PostForm.Get("note"))
		if nerr != nil {
			rf, _ := refuse.As(nerr)
			return s.renderOrder(w, r, http.StatusUnprocessableEntity, staffOrderPage{Order: o, RefundError: rf.Msg})
		}
		var out orders.RefundOutcome
		out, err = shop.Refund(ctx, o.ID, cause, note, now)
		done, detail = "refund-"+string(out), string(out)
		if note != "" {
			detail += ": " + note
		}
	}
	if err != nil {
		return err
	}
	// The domain runs each action in a transaction of its own, so the
	// record follows it.
	if err := s.AuditAlone(r, audit.Entry{Action: "order." + strings.ReplaceAll(action, "-", "_"), SubjectType: "order", SubjectID: o.Number, Detail: detail}); err != nil {
		return err
	}
	http.Redirect(w, r, "/staff/orders/"+o.Number+"?done=order-"+done, http.StatusSeeOther)
	return nil
}

// staffInvoice shows any invoice to finance.
func (s *handler) staffInvoice(w http.ResponseWriter, r *http.Request) error {
	number, err := pathNumber(r, "There is no invoice with this number.")
	if err != nil {
		return err
	}
	inv, err := orders.InvoiceByNumber(r.Context(), s.db, number)
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

// staffCatalogChange applies one catalog form. Every text goes through
// package input first; refused input (input's or the catalog's refusals)
// re-renders the catalog with the reason and changes nothing. Any other
// error is ours: a 500.
func (s *handler) staffCatalogChange(w http.ResponseWriter, r *http.Request) error {
	what := r.PathValue("what")
	if what != "product" && what != "edition" && what != "price" {
		return web.NotFound(web.MsgNotFound)
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	form, problem := catalogInput(r, what)
	if problem == nil {
		problem = s.db.Tx(ctx, func(tx *sql.Tx) error {
			if err := applyCatalogChange(ctx, tx, what, form, now); err != nil {
				return err
			}
			return s.Audit(ctx, tx, r, audit.Entry{Action: "catalog." + what + "_saved", SubjectType: what, SubjectID: idText(form.id), Detail: form.slug})
		})
	}
	if problem == nil {
		http.Redirect(w, r, "/staff/catalog?done=saved", http.StatusSeeOther)
		return nil
	}
	rf, ok := refuse.As(problem)
	switch {
	case !ok:
		return problem
	case rf.Kind == refuse.NotFound:
		return web.NotFound("That catalog entry does not exist.")
	}
	// Invalid input and an entry that exists already are both answered
	// in the form, for the person to change what they typed.
	return s.renderCatalog(w, r, http.StatusUnprocessableEntity, rf.Msg)
}

// catalogForm is one catalog form's values, checked.
type catalogForm struct {
	id, parentID                       int64
	slug, name, tagline, description   string
	summary, currency, billing, amount string
	features                           []string
	amountMinor                        int64
	active                             bool
}

// catalogInput reads and checks the form of what. The description is
// Markdown: it is checked like any text, but its lines keep their
// indentation (input trims each line, which would break code blocks and
// nested lists).
func catalogInput(r *http.Request, what string) (catalogForm, error) {
	f := r.PostForm.Get
	var c catalogForm
	var p input.Problems
	var err error
	if c.id, err = formID(f("id")); err != nil {
		return c, err
	}
	parent := "product_id"
	if what == "price" {
		parent = "edition_id"
	}
	if c.parentID, err = formID(f(parent)); err != nil {
		return c, err
	}
	c.active = f("active") == "on"
	line := func(field, label string, max int, dst *string) {
		*dst = f(field)
		p.Clean(input.Spec{Field: field, Label: label, Max: max}, dst)
	}
	switch what {
	case "product":
		line("slug", "The slug", 100, &c.slug)
		line("name", "The name", 200, &c.name)
		line("tagline", "The tagline", 300, &c.tagline)
		c.description = strings.ReplaceAll(strings.ReplaceAll(f("description"), "\r\n", "\n"), "\r", "\n")
		if _, err := input.Text("description", "The description", 20000, c.description); err != nil {
			p.Add(err)
		}
	case "edition":
		line("slug", "The slug", 100, &c.slug)
		line("name", "The name", 200, &c.name)
		line("summary", "The summary", 500, &c.summary)
		features := f("features")
		p.Clean(input.Spec{Field: "features", Label: "The list of features", Max: 5000, Multiline: true}, &features)
		if features != "" {
			c.features = strings.Split(features, "\n")
		}
	case "price":
		line("currency", "The currency", 3, &c.currency)
		line("billing", "The billing", 20, &c.billing)
		line("amount", "The amount", 30, &c.amount)
		if p.Err() == nil {
			if c.amountMinor, err = parseAmount(c.amount); err != nil {
				p.Add(err)
			}
		}
	}
	return c, p.Err()
}

// applyCatalogChange stores one checked catalog form in tx.
func applyCatalogChange(ctx context.Context, tx *sql.Tx, what string, c catalogForm, now time.Time) error {
	switch what {
	case "product":
		if c.id == 0 {
			_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: c.slug, Name: c.name, Tagline: c.tagline, Description: c.description}, now)
			return err
		}
		return catalog.UpdateProduct(ctx, tx, c.id, catalog.ProductChange{Name: c.name, Tagline: c.tagline, Description: c.description, Active: c.active}, now)
	case "edition":
		if c.id == 0 {
			if err := catalogParent(ctx, tx, `SELECT count(*) FROM products WHERE id = $1`, c.parentID); err != nil {
				return err
			}
			_, err := catalog.AddEdition(ctx, tx, c.parentID, catalog.NewEdition{Slug: c.slug, Name: c.name, Summary: c.summary, Features: c.features}, now)
			return err
		}
		return catalog.UpdateEdition(ctx, tx, c.id, catalog.EditionChange{Name: c.name, Summary: c.summary, Features: c.features, Active: c.active}, now)
	default:
		if c.id == 0 {
			if err := catalogParent(ctx, tx, `SELECT count(*) FROM editions WHERE id = $1`, c.parentID); err != nil {
				return err
			}
			_, err := catalog.AddPrice(ctx, tx, c.parentID, catalog.Price{Currency: strings.ToUpper(c.currency), AmountMinor: c.amountMinor, Billing: catalog.Billing(c.billing)}, now)
			return err
		}
		if err := catalog.SetPriceAmount(ctx, tx, c.id, c.amountMinor); err != nil {
			return err
		}
		return catalog.SetPriceActive(ctx, tx, c.id, c.active)
	}
}

// catalogParent refuses a new edition or price for a product or edition
// that does not exist (the foreign key would fail as a database error).
func catalogParent(ctx context.Context, tx *sql.Tx, query string, id int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, query, id).Scan(&n); err != nil {
		return fmt.Errorf("catalog: %w", err)
	}
	if n == 0 {
		return catalog.ErrNotFound
	}
	return nil
}

// formID reads an optional record ID of a form: "" is 0 (a new entry).
func formID(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, web.NotFound("That catalog entry does not exist.")
	}
	return id, nil
}

func idText(id int64) string {
	if id == 0 {
		return ""
	}
	return web.Itoa(id)
}

// errAmount refuses an amount that is not a number of money.
var errAmount = refuse.Field("amount", "Enter the amount as a number such as 490 or 490.00.")

// parseAmount reads "490", "490.5" or "1,290.00" as minor units.
func parseAmount(s string) (int64, error) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, errAmount
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(whole, "-") || strings.HasPrefix(whole, "+") {
		return 0, errAmount
	}
	return n, nil
}

// staffCorrectInvoice issues a correction of an invoice's billing details:
// a new document; the invoice stays as it was issued. A refused form
// comes back on the order page with what was typed and each field's
// message (422), and nothing is issued.
func (s *handler) staffCorrectInvoice(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	number, err := pathNumber(r, "There is no invoice with this number.")
	if err != nil {
		return err
	}
	ctx := r.Context()
	inv, err := orders.InvoiceByNumber(ctx, s.db, number)
	var o orders.Order
	if err == nil {
		o, err = orders.ByID(ctx, s.db, inv.OrderID)
	}
	if errors.Is(err, orders.ErrNotFound) {
		return web.NotFound("There is no invoice with this number.")
	}
	if err != nil {
		return err
	}
	f := r.PostForm.Get
	form := correctionForm{Invoice: inv.Number, FieldErrors: map[string]string{}, Open: true}
	refused := func(e *refuse.Error) {
		form.Errors = append(form.Errors, e.Msg)
		if _, seen := form.FieldErrors[e.Field]; !seen && e.Field != "" {
			form.FieldErrors[e.Field] = e.Msg
		}
	}
	// Checked here for the form's messages; CorrectInvoice checks again.
	var probs []*refuse.Error
	form.Billing, probs = orders.Billing{Name: f("name"), Company: f("company"), Address: f("address"), Country: f("country"), VATID: f("vat_id")}.Check()
	for _, p := range probs {
		refused(p)
	}
	if form.Reason, err = input.Line("reason", "The reason", 500, f("reason")); err != nil {
		rf, _ := refuse.As(err)
		refused(rf)
	} else if form.Reason == "" {
		refused(orders.ErrNoReason)
	}
	var c orders.Correction
	if len(form.Errors) == 0 {
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			if c, err = orders.CorrectInvoice(ctx, tx, inv.Number, form.Billing, form.Reason, s.clock.Now()); err != nil {
				return err
			}
			return s.Audit(ctx, tx, r, audit.Entry{Action: "invoice.corrected", SubjectType: "invoice", SubjectID: inv.Number, Detail: "correction " + c.Number + ": " + c.Reason})
		})
		if rf, ok := refuse.As(err); ok && !errors.Is(err, orders.ErrNotFound) {
			refused(rf)
		} else if err != nil {
			return err
		}
	}
	if len(form.Errors) > 0 {
		return s.renderOrder(w, r, http.StatusUnprocessableEntity, staffOrderPage{Order: o, Correct: &form})
	}
	http.Redirect(w, r, "/staff/orders/"+o.Number+"?done=corrected", http.StatusSeeOther)
	return nil
}

func (s *handler) staffCorrection(w http.ResponseWriter, r *http.Request) error {
	number, err := pathNumber(r, "There is no correction with this number.")
	if err != nil {
		return err
	}
	c, o, err := invoice.CorrectionFor(r.Context(), s.db, number)
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
