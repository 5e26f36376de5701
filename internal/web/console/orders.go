package console

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/reports"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/invoice"
)

// staffOrdersPage is the content of orders.html.
type staffOrdersPage struct {
	Form     orderSearchForm
	Statuses []orders.Status
	Products []catalog.Product
	Orders   []orders.Order
	// Next is the link to the following page ("" on the last); First the
	// link back to the first page when this is a later one.
	Next, First string
	CSV         string // the export of the same search
}

// orderSearchForm is the search as typed, shown back in the form.
type orderSearchForm struct {
	Number, Customer, Product, Status, From, To string
}

var orderStatuses = []orders.Status{orders.Pending, orders.Paid, orders.Refunded, orders.Disputed, orders.Cancelled}

const orderPageSize = 50

// msgBadPageLink answers a page link that is not one of ours.
const msgBadPageLink = "The page link is damaged; start again from the first page."

// parseOrderSearch reads the search of the orders page and of its export
// (the same query string). The dates are days in UTC, both included.
func parseOrderSearch(v url.Values) (orders.Query, orderSearchForm, error) {
	f := orderSearchForm{Status: v.Get("status"), Product: v.Get("product"), From: v.Get("from"), To: v.Get("to")}
	var q orders.Query
	var err error
	if f.Number, err = input.Line("number", "The order number", 40, v.Get("number")); err != nil {
		return q, f, err
	}
	if f.Customer, err = input.Line("customer", "The customer", 254, v.Get("customer")); err != nil {
		return q, f, err
	}
	q.Number, q.Customer = f.Number, f.Customer
	if f.Customer != "" && utf8.RuneCountInString(f.Customer) < 3 {
		return q, f, web.BadRequest("Search for a customer with at least three characters of the email address or name.")
	}
	if f.Status != "" {
		if !containsStatus(orders.Status(f.Status)) {
			return q, f, web.BadRequest("Unknown order state; choose one of the filters.")
		}
		q.Status = orders.Status(f.Status)
	}
	if f.Product != "" {
		if q.ProductID, err = strconv.ParseInt(f.Product, 10, 64); err != nil || q.ProductID <= 0 {
			return q, f, web.BadRequest("Choose a product from the list.")
		}
	}
	for _, d := range []struct {
		text string
		to   *time.Time
		next bool
	}{{f.From, &q.From, false}, {f.To, &q.To, true}} {
		if d.text == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.text)
		if err != nil {
			return q, f, web.BadRequest("Give dates as year-month-day, such as 2027-01-31.")
		}
		if d.next {
			t = t.AddDate(0, 0, 1) // the last day is included
		}
		*d.to = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, f, web.BadRequest("The first day is after the last.")
	}
	if q.After, err = orders.ParseCursor(v.Get("after")); err != nil {
		return q, f, web.BadRequest(msgBadPageLink)
	}
	return q, f, nil
}

func (s *handler) staffOrders(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	q, form, err := parseOrderSearch(v)
	if err != nil {
		return err
	}
	q.Limit = orderPageSize
	ctx := r.Context()
	list, next, err := orders.Search(ctx, s.db, q)
	if err != nil {
		return err
	}
	page := staffOrdersPage{Form: form, Statuses: orderStatuses, Orders: list}
	if page.Products, err = catalog.All(ctx, s.db); err != nil {
		return err
	}
	v.Del("after")
	for k, vs := range v {
		if len(vs) == 0 || vs[0] == "" {
			v.Del(k)
		}
	}
	page.CSV = "/staff/orders.csv"
	if len(v) > 0 {
		page.CSV += "?" + v.Encode()
	}
	if !q.After.IsZero() {
		page.First = "/staff/orders"
		if len(v) > 0 {
			page.First += "?" + v.Encode()
		}
	}
	if !next.IsZero() {
		v.Set("after", next.String())
		page.Next = "/staff/orders?" + v.Encode()
	}
	// The list shows buyers' names: a view of personal data.
	if err := s.RecordView(r, "orders", "list", "search "+strings.TrimPrefix(r.URL.RawQuery, "?")); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "orders.html", "Orders", page)
}

// staffOrdersCSV exports the orders of a search for the accountant, every
// page of it, streamed as it is read (orders.Each reads 500 at a time):
// nothing is held in memory but a page. The export is recorded first; a
// database error half-way ends the file early (the status line is sent),
// and is logged.
func (s *handler) staffOrdersCSV(w http.ResponseWriter, r *http.Request) error {
	q, _, err := parseOrderSearch(r.URL.Query())
	if err != nil {
		return err
	}
	if err := s.AuditAlone(r, audit.Entry{Action: "orders.exported", SubjectType: "orders", Detail: strings.TrimPrefix(r.URL.RawQuery, "?")}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="orders-`+s.clock.Now().Format("2006-01-02")+`.csv"`)
	out := reports.NewCSV(w)
	if err := out.Write("number", "placed_at", "paid_at", "status", "provider", "currency", "net", "tax", "gross",
		"tax_treatment", "tax_country", "buyer_name", "buyer_company", "buyer_email", "buyer_country", "buyer_vat_id", "items"); err != nil {
		return nil
	}
	err = orders.Each(r.Context(), s.db, q, func(list []orders.Order) error {
		for _, o := range list {
			paid := ""
			if !o.PaidAt.IsZero() {
				paid = o.PaidAt.UTC().Format(time.RFC3339)
			}
			if err := out.Write(o.Number, o.CreatedAt.UTC().Format(time.RFC3339), paid, string(o.Status), o.Provider, o.Currency,
				reports.Decimal(o.SubtotalMinor, o.Currency), reports.Decimal(o.TaxMinor, o.Currency), reports.Decimal(o.TotalMinor, o.Currency),
				string(o.Tax.Treatment), o.Tax.Country, o.Billing.Name, o.Billing.Company, o.Billing.Email, o.Billing.Country, o.Billing.VATID, o.Summary()); err != nil {
				return err
			}
		}
		return out.Flush()
	})
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "orders export ended early", "error", err)
	}
	return nil
}

// salesPage is the content of sales.html.
type salesPage struct {
	Month      string // "2027-01"
	Title      string
	Sales      reports.Sales
	Prev, Next string
	CSV        string
}

// salesMonth reads ?month=YYYY-MM; the current month when absent.
func (s *handler) salesMonth(r *http.Request) (time.Time, error) {
	m := r.URL.Query().Get("month")
	if m == "" {
		return db.PeriodStart(db.Month, s.clock.Now()), nil
	}
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return t, web.BadRequest("Give the month as year-month, such as 2027-01.")
	}
	return t, nil
}

// staffSales is the monthly sales report: net, tax and gross per
// country, treatment and rate, and the reverse-charge sales per buyer,
// the figures of a VAT return and an EC Sales List.
func (s *handler) staffSales(w http.ResponseWriter, r *http.Request) error {
	month, err := s.salesMonth(r)
	if err != nil {
		return err
	}
	sales, err := reports.SalesReport(r.Context(), s.db, month)
	if err != nil {
		return err
	}
	m := month.Format("2006-01")
	page := salesPage{Month: m, Title: month.Format("January 2006"), Sales: sales, CSV: "/staff/reports/sales.csv?month=" + m,
		Prev: "/staff/reports/sales?month=" + month.AddDate(0, -1, 0).Format("2006-01")}
	if month.Before(db.PeriodStart(db.Month, s.clock.Now())) {
		page.Next = "/staff/reports/sales?month=" + month.AddDate(0, 1, 0).Format("2006-01")
	}
	return s.render(w, r, http.StatusOK, "sales.html", "Sales report "+page.Title, page)
}

// staffSalesCSV is the sales report as CSV: the rows by country and rate,
// then the reverse-charge rows per buyer, then the totals per currency.
func (s *handler) staffSalesCSV(w http.ResponseWriter, r *http.Request) error {
	month, err := s.salesMonth(r)
	if err != nil {
		return err
	}
	sales, err := reports.SalesReport(r.Context(), s.db, month)
	if err != nil {
		return err
	}
	if err := s.AuditAlone(r, audit.Entry{Action: "sales_report.exported", SubjectType: "sales_report", SubjectID: month.Format("2006-01")}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="sales-`+month.Format("2006-01")+`.csv"`)
	out := reports.NewCSV(w)
	_ = out.Write("section", "country", "treatment", "rate_percent", "buyer_vat_id", "currency", "net", "tax", "gross", "orders")
	for _, row := range sales.Rows {
		_ = out.Write("sales", row.Country, row.Treatment, row.Rate(), "", row.Currency, reports.Decimal(row.NetMinor, row.Currency),
			reports.Decimal(row.TaxMinor, row.Currency), reports.Decimal(row.GrossMinor(), row.Currency), strconv.Itoa(row.Orders))
	}
	for _, row := range sales.ReverseCharge {
		_ = out.Write("reverse_charge", row.Country, "reverse_charge", "0", row.VATID, row.Currency, reports.Decimal(row.NetMinor, row.Currency),
			"0.00", reports.Decimal(row.NetMinor, row.Currency), strconv.Itoa(row.Orders))
	}
	for _, row := range sales.Totals {
		_ = out.Write("total", "", "", "", "", row.Currency, reports.Decimal(row.NetMinor, row.Currency),
			reports.Decimal(row.TaxMinor, row.Currency), reports.Decimal(row.GrossMinor(), row.Currency), strconv.Itoa(row.Orders))
	}
	if err := out.Flush(); err != nil {
		s.log.ErrorContext(r.Context(), "sales report export failed", "error", err)
	}
	return nil
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
		reason := "refunded in full"
		if note != "" {
			reason = note
		}
		// The refund writes its own audit entry (refund.issued) in its
		// transaction, as this staff member from this network.
		var rfd orders.Refund
		rfd, err = shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Reason: reason,
			By: audit.Staff(sess.Account.ID).From(web.Network(r))}, now)
		out := orders.RefundRecorded
		if rfd.ProviderRef != "" {
			out = orders.RefundRequested
		}
		done = "refund-" + string(out)
	}
	if err != nil {
		return err
	}
	// The domain runs mark-paid and cancel in a transaction of its own, so
	// their record follows it.
	if action != "refund" {
		if err := s.AuditAlone(r, audit.Entry{Action: "order." + strings.ReplaceAll(action, "-", "_"), SubjectType: "order", SubjectID: o.Number, Detail: detail}); err != nil {
			return err
		}
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
