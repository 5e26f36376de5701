package orders

import (
	"fmt"

	"github.com/storekeep/storekeep/internal/mail"
)

func (s Shop) portalURL(o Order) string { return s.BaseURL + "/account/orders/" + o.Number }

func mailLines(o Order) []mail.OrderLine {
	out := make([]mail.OrderLine, len(o.Lines))
	for i, l := range o.Lines {
		out[i] = mail.OrderLine{Name: l.Description, Amount: l.Amount(o.Currency)}
	}
	return out
}

// confirmation is the purchase confirmation.
func (s Shop) confirmation(o Order, inv Invoice, lics []IssuedLicense) (mail.Message, error) {
	m, err := mail.Compose("order_confirmation", o.Billing.Email, mail.OrderConfirmationData{
		SiteName: s.SiteName, OrderNumber: o.Number, Lines: mailLines(o), Total: o.Total(),
		InvoiceNumber: inv.Number, PortalURL: s.portalURL(o), Licenses: mailLicenses(lics)})
	m.CustomerID, m.Purpose = o.CustomerID, "delivery"
	return m, err
}

// manualInvoice asks for payment by bank transfer.
func (s Shop) manualInvoice(o Order, inv Invoice) (mail.Message, error) {
	m, err := mail.Compose("manual_invoice", o.Billing.Email, mail.ManualInvoiceData{
		SiteName: s.SiteName, OrderNumber: o.Number, Total: o.Total(), InvoiceNumber: inv.Number,
		PaymentInstructions: s.PaymentInstructions, PortalURL: s.portalURL(o)})
	// An invoice is sent because the law requires one: a restriction does
	// not stop it.
	m.CustomerID, m.Purpose = o.CustomerID, "legal"
	return m, err
}

// mailLicenses says the issued licenses as the confirmation shows them.
func mailLicenses(lics []IssuedLicense) []mail.LicenseKey {
	var out []mail.LicenseKey
	for _, l := range lics {
		if l.Key == "" {
			continue
		}
		k := mail.LicenseKey{Name: l.Description, Key: l.Key, Machines: "any number of machines", Term: "perpetual", Renewed: l.Renewed}
		switch {
		case l.MaxMachines == 1:
			k.Machines = "1 machine"
		case l.MaxMachines > 1:
			k.Machines = fmt.Sprintf("up to %d machines", l.MaxMachines)
		}
		if !l.Expires.IsZero() {
			k.Term = "until " + l.Expires.UTC().Format("2 January 2006")
		}
		out = append(out, k)
	}
	return out
}
