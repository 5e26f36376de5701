package web

import "github.com/storekeep/storekeep/internal/payments"

// PayForm is what every form that places an order shares: the ways to pay
// offered and the one chosen, and the form's refusals in order and by
// field. A page embeds it next to its own Billing (orders.Billing) and
// lays the fields out with the core's "billing-fields" and
// "payment-methods" templates (templates/forms.html), so that checkout and
// the account's renewal ask for the same details in the same words.
type PayForm struct {
	Methods []payments.Provider
	Method  string
	// Errors are the refusals of the form, in order; FieldErrors the same
	// by form field, shown at each field.
	Errors      []string
	FieldErrors map[string]string
}

// FormField is one text input of a form with its value and what is wrong
// with it.
type FormField struct {
	Name, Label, Autocomplete string
	Max                       int
	Value, Error              string
}

// Field lays out one input of the form.
func (p PayForm) Field(name, label, autocomplete string, max int, value string) FormField {
	return FormField{Name: name, Label: label, Autocomplete: autocomplete, Max: max, Value: value, Error: p.FieldErrors[name]}
}

// Offline reports whether some way to pay on the form is paid outside
// Storekeep (an invoice by bank transfer), for the page's wording.
func (p PayForm) Offline() bool {
	for _, m := range p.Methods {
		if _, ok := m.(payments.Offline); ok {
			return true
		}
	}
	return false
}

// Hosted reports whether some way to pay on the form sends the buyer to a
// processor's own payment page, where card details are entered.
func (p PayForm) Hosted() bool {
	for _, m := range p.Methods {
		if _, ok := m.(payments.HostedPage); ok {
			return true
		}
	}
	return false
}
