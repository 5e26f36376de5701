package web

import (
	"github.com/storekeep/storekeep/internal/payments"
	"github.com/storekeep/storekeep/internal/refuse"
)

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

// Provider returns the way to pay named name among methods, or nil.
func Provider(methods []payments.Provider, name string) payments.Provider {
	for _, p := range methods {
		if p != nil && p.Name() == name {
			return p
		}
	}
	return nil
}

// Refused adds refusals of the form's fields: each to the list, and the
// first per field to be shown at it.
func (p *PayForm) Refused(probs []*refuse.Error) {
	if p.FieldErrors == nil {
		p.FieldErrors = map[string]string{}
	}
	for _, e := range probs {
		p.Errors = append(p.Errors, e.Msg)
		if _, seen := p.FieldErrors[e.Field]; !seen {
			p.FieldErrors[e.Field] = e.Msg
		}
	}
}

// Chosen returns the way to pay the form chose (Method) among Methods;
// when it names none of them, Method is cleared, the refusal added and
// Chosen is nil. Method is compared with the offered names only, so no
// typed text of it is ever shown.
func (p *PayForm) Chosen() payments.Provider {
	if m := Provider(p.Methods, p.Method); m != nil {
		return m
	}
	p.Method = ""
	p.Refused([]*refuse.Error{refuse.Field("method", "Choose a way to pay.")})
	return nil
}
