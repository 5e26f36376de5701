package orders

import (
	"fmt"
	"strings"

	"github.com/storekeep/storekeep/internal/mail"
)

func (s Shop) portalURL(o Order) string { return s.BaseURL + "/account/orders/" + o.Number }

func (s Shop) lines(o Order) string {
	var b strings.Builder
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "  %s  %s\n", l.Description, l.Amount(o.Currency))
	}
	return b.String()
}

// confirmation is the purchase confirmation.
func (s Shop) confirmation(o Order, inv Invoice) mail.Message {
	text := fmt.Sprintf(`Thank you for your purchase.

Order %s
%s
Total paid: %s
Invoice: %s

Your order, its invoice and (as licensing arrives) your license key and
download links are in your account: %s

%s
`, o.Number, s.lines(o), o.Total(), inv.Number, s.portalURL(o), s.SiteName)
	return mail.Message{Kind: mail.Transactional, Template: "order_confirmation", To: o.Billing.Email,
		Subject: fmt.Sprintf("%s: your order %s is paid", s.SiteName, o.Number), Text: text, CustomerID: o.CustomerID}
}

// manualInvoice asks for payment by bank transfer.
func (s Shop) manualInvoice(o Order, inv Invoice) mail.Message {
	text := fmt.Sprintf(`Thank you for your order.

Order %s, invoice %s
%s
Amount due: %s

How to pay:
%s

Please give the invoice number %s as the reference. We confirm by email
when the payment has arrived. The invoice is in your account:
%s

%s
`, o.Number, inv.Number, s.lines(o), o.Total(), s.PaymentInstructions, inv.Number, s.portalURL(o), s.SiteName)
	return mail.Message{Kind: mail.Transactional, Template: "manual_invoice", To: o.Billing.Email,
		Subject: fmt.Sprintf("%s: invoice %s for order %s", s.SiteName, inv.Number, o.Number), Text: text, CustomerID: o.CustomerID}
}
