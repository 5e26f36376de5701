package orders

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/refuse"
)

// ProfileAddress writes a profile's address as the checkout form's billing
// address: the lines of an envelope, without the country (asked for
// separately). SaveToProfile reads it back.
func ProfileAddress(p customers.Profile) string {
	var lines []string
	for _, l := range []string{p.AddressLine1, p.AddressLine2, strings.TrimSpace(p.PostalCode + " " + p.City), p.Region} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// SaveToProfile stores the billing details a buyer gave at checkout as
// their profile, when they ticked "save": name, company, country and VAT ID
// as given, and the address split into the profile's fields. The checkout
// form has one address box; its first line becomes the street, its last
// the postal code and city (the postal code is the first or last word with
// a digit in it), any lines between the second address line. An address
// unchanged from the profile's (ProfileAddress) keeps the profile's fields
// as they were, region included. Refusals are refuse.Field errors; nothing
// is saved then.
func SaveToProfile(ctx context.Context, tx *sql.Tx, customerID int64, b Billing, now time.Time) (customers.Customer, error) {
	b, probs := b.Check()
	if len(probs) > 0 {
		return customers.Customer{}, probs[0]
	}
	c, err := customers.ByID(ctx, tx, customerID)
	if errors.Is(err, customers.ErrNotFound) {
		return customers.Customer{}, refuse.New(refuse.NotFound, "customer_not_found", "Your account no longer exists.")
	}
	if err != nil {
		return customers.Customer{}, err
	}
	p := c.Profile
	p.Name, p.Company, p.Country, p.VATID = b.Name, b.Company, b.Country, b.VATID
	if b.Address != ProfileAddress(c.Profile) {
		var lines []string
		for _, l := range strings.Split(b.Address, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) < 2 {
			return customers.Customer{}, refuse.Field("address",
				"To save the address to your profile, write the street on the first line and the postal code and city on the last.")
		}
		p.AddressLine1 = lines[0]
		p.AddressLine2 = strings.Join(lines[1:len(lines)-1], ", ")
		p.PostalCode, p.City = splitPostalCity(lines[len(lines)-1])
		p.Region = ""
	}
	saved, err := customers.UpdateProfile(ctx, tx, customerID, p, now)
	var ve *customers.ValidationError
	if errors.As(err, &ve) {
		fields := make([]string, 0, len(ve.Fields))
		for f := range ve.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		field := fields[0]
		msg := ve.Fields[field]
		switch field {
		case "address_line1", "address_line2", "postal_code", "city", "region":
			// The form has one address box: name it.
			return customers.Customer{}, refuse.Field("address", "The address could not be saved to your profile: "+msg)
		}
		return customers.Customer{}, refuse.Field(field, msg)
	}
	if errors.Is(err, customers.ErrNotFound) {
		return customers.Customer{}, refuse.New(refuse.NotFound, "customer_not_found", "Your account no longer exists.")
	}
	return saved, err
}

// splitPostalCity reads "10115 Berlin" and "Springfield, 62701": the
// postal code is the first word when it has a digit, else the last; a line
// without digits is the city alone.
func splitPostalCity(line string) (postal, city string) {
	words := strings.Fields(line)
	hasDigit := func(w string) bool { return strings.IndexFunc(w, unicode.IsDigit) >= 0 }
	switch {
	case len(words) > 1 && hasDigit(words[0]):
		return words[0], strings.Join(words[1:], " ")
	case len(words) > 1 && hasDigit(words[len(words)-1]):
		return words[len(words)-1], strings.TrimRight(strings.Join(words[:len(words)-1], " "), ",")
	}
	return "", line
}
