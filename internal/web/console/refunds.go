package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// Refunds per line (orders.RefundOrder): finance chooses lines and
// quantities of a paid order with a reason, sees what will go back and
// how (through the processor, or recorded as returned outside), and
// confirms. Amounts always come from the stored lines: the form sends
// line ids and quantities only, and the confirmation is worked out again
// when it is submitted.

// refundPage is the content of refund.html.
type refundPage struct {
	Order  orders.Order
	Status orders.RefundStatus
	// Quantities are what the form chose, by line id (text as typed, for
	// the form shown again).
	Quantities map[int64]string
	Reason     string
	Error      string
	// Preview is the refund to confirm; nil on the form.
	Preview *refundPreview
	// Through names the processor that returns the money; "" when finance
	// returns it and records that.
	Through string
}

// refundPreview is a worked-out refund, formatted.
type refundPreview struct {
	Lines           []refundPreviewLine
	Net, Tax, Gross string
	Everything      bool
}

type refundPreviewLine struct {
	ID          int64
	Quantity    int
	Description string
	Gross       string
}

// refundChoice reads the chosen quantities (qty-<line id>) and reason.
// Unknown line ids are passed on, for the domain to refuse.
func refundChoice(r *http.Request) (lines []orders.LineRefund, typed map[int64]string, reason string, err error) {
	typed = map[int64]string{}
	for k, vs := range r.PostForm {
		id, ok := strings.CutPrefix(k, "qty-")
		if !ok || len(vs) == 0 {
			continue
		}
		lineID, perr := strconv.ParseInt(id, 10, 64)
		v := strings.TrimSpace(vs[0])
		if perr != nil || lineID <= 0 {
			return nil, typed, "", orders.ErrUnknownLine
		}
		typed[lineID] = v
		if v == "" || v == "0" {
			continue
		}
		q, qerr := strconv.Atoi(v)
		if qerr != nil || q <= 0 {
			err = orders.ErrRefundTooBig.With("Enter how many to refund as a whole number, or 0 for none.")
			continue
		}
		lines = append(lines, orders.LineRefund{LineID: lineID, Quantity: q})
	}
	reason, rerr := input.Line("reason", "The reason", 300, r.PostForm.Get("reason"))
	if err == nil && rerr != nil {
		err = rerr
	}
	if err == nil && reason == "" {
		err = orders.ErrRefundReason
	}
	if err == nil && len(lines) == 0 && r.PostForm.Get("all") != "on" {
		err = orders.ErrNothingLeft.With("Choose how many of which lines to refund, or everything that is left.")
	}
	if r.PostForm.Get("all") == "on" {
		lines = nil // everything left
	}
	return lines, typed, reason, err
}

// staffRefundForm shows the lines of a paid order with what is left.
func (s *handler) staffRefundForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.staffOrderByPath(r)
	if err != nil {
		return err
	}
	return s.renderRefund(w, r, http.StatusOK, refundPage{Order: o})
}

func (s *handler) renderRefund(w http.ResponseWriter, r *http.Request, status int, page refundPage) error {
	var err error
	if page.Status, err = orders.RefundStatusOf(r.Context(), s.db, page.Order.ID); err != nil {
		return err
	}
	if p := s.provider(page.Order.Provider); p != nil {
		if _, ok := p.(payments.Refunder); ok {
			page.Through = p.Label()
		}
	}
	if page.Quantities == nil {
		page.Quantities = map[int64]string{}
	}
	// The lines name the buyer's purchase; the billing details are not
	// shown here, so this is no view of personal data.
	return s.render(w, r, status, "refund.html", "Refund order "+page.Order.Number, page)
}

// staffRefund works out the chosen refund and asks to confirm it; with
// confirm=yes it makes it (through the processor, or recorded) and goes
// back to the order page. A refusal shows the form again with the reason
// and changes nothing.
func (s *handler) staffRefund(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	o, err := s.staffOrderByPath(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	lines, typed, reason, err := refundChoice(r)
	page := refundPage{Order: o, Quantities: typed, Reason: reason}
	var preview orders.Refund
	if err == nil {
		preview, err = orders.PreviewRefund(ctx, s.db, o.ID, lines)
	}
	if err == nil && r.PostForm.Get("confirm") == "yes" {
		var shop orders.Shop
		if shop, err = s.shop(r); err != nil {
			return err
		}
		sess := web.StaffSession(r)
		by := audit.Staff(sess.Account.ID).From(web.Network(r))
		if _, err = shop.RefundOrder(ctx, orders.RefundRequest{OrderID: o.ID, Lines: lines, Reason: reason, By: by}, s.clock.Now()); err == nil {
			http.Redirect(w, r, "/staff/orders/"+o.Number+"?done=refund-made", http.StatusSeeOther)
			return nil
		}
		if errors.Is(err, orders.ErrRefundNotMade) {
			s.log.Warn("refund not made by the processor", "order", o.Number, "error", err)
		}
	}
	if err != nil {
		rf, ok := refuse.As(err)
		if !ok || errors.Is(err, orders.ErrNotFound) {
			return err
		}
		page.Error = rf.Msg
		return s.renderRefund(w, r, web.StatusOf(rf), page)
	}
	pv := &refundPreview{Net: catalog.FormatMoney(preview.NetMinor, o.Currency), Tax: catalog.FormatMoney(preview.TaxMinor, o.Currency),
		Gross: catalog.FormatMoney(preview.GrossMinor, o.Currency), Everything: len(lines) == 0}
	for _, l := range preview.Lines {
		pv.Lines = append(pv.Lines, refundPreviewLine{ID: l.OrderLineID, Quantity: l.Quantity, Description: l.Description, Gross: catalog.FormatMoney(l.GrossMinor, o.Currency)})
	}
	page.Preview = pv
	return s.renderRefund(w, r, http.StatusOK, page)
}

func init() {
	orderNotices["refund-made"] = "The refund is made: its credit note is issued and the licenses of the lines refunded in full are suspended."
}
