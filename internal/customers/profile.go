package customers

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/tax"
)

// Profile is what a customer tells us about themselves for invoices: a name,
// optionally a company, a billing address and, for businesses, a VAT ID.
// Every field may be empty; checkout decides what a purchase needs.
type Profile struct {
	Name         string
	Company      string
	AddressLine1 string
	AddressLine2 string
	PostalCode   string
	City         string
	Region       string // state, province or county, where addresses use one
	Country      string // ISO 3166-1 alpha-2, upper case; "" when not given
	VATID        string // normalised: upper case, no spaces, dots or dashes
}

// HasAddress reports whether the profile holds a billing address.
func (p Profile) HasAddress() bool { return p.AddressLine1 != "" && p.City != "" && p.Country != "" }

// CountryName is the billing country in words.
func (p Profile) CountryName() string { return CountryName(p.Country) }

// Field length limits, in characters.
const (
	maxNameLen       = 200
	maxAddressLen    = 200
	maxCityLen       = 100
	maxPostalCodeLen = 16
)

// ValidationError lists what is wrong with a profile, by form field name
// (name, company, address_line1, address_line2, postal_code, city, region,
// country, vat_id), each with a message that says what to do. It is a
// refusal: refuse.As finds an Invalid refuse.Error (ErrInvalidProfile,
// naming the first field at fault) in it, and errors.As with a
// *ValidationError gives every field's message for the form.
type ValidationError struct {
	Fields map[string]string
}

// Unwrap returns the refusal the error is: ErrInvalidProfile with this
// error's text and the first field at fault.
func (e *ValidationError) Unwrap() error {
	rf := ErrInvalidProfile.With(e.Error())
	if keys := e.fields(); len(keys) > 0 {
		rf.Field = keys[0]
	}
	return rf
}

func (e *ValidationError) fields() []string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (e *ValidationError) Error() string {
	keys := e.fields()
	msgs := make([]string, len(keys))
	for i, k := range keys {
		msgs[i] = k + ": " + e.Fields[k]
	}
	return "the profile is not valid: " + strings.Join(msgs, "; ")
}

// Normalise returns the profile as it would be stored (spaces trimmed,
// country and VAT ID in canonical form) and a *ValidationError when it is
// not acceptable.
func (p Profile) Normalise() (Profile, error) {
	errs := map[string]string{}
	text := func(field, label string, v *string, max int) {
		*v = strings.TrimSpace(*v)
		switch {
		case !utf8.ValidString(*v) || strings.ContainsFunc(*v, unicode.IsControl):
			errs[field] = label + " contains characters that cannot be used. Type it on one line, without special characters."
		case utf8.RuneCountInString(*v) > max:
			errs[field] = label + " is too long: use at most " + itoa(max) + " characters."
		}
	}
	text("name", "The name", &p.Name, maxNameLen)
	text("company", "The company name", &p.Company, maxNameLen)
	text("address_line1", "The address", &p.AddressLine1, maxAddressLen)
	text("address_line2", "The second address line", &p.AddressLine2, maxAddressLen)
	text("postal_code", "The postal code", &p.PostalCode, maxPostalCodeLen)
	text("city", "The city", &p.City, maxCityLen)
	text("region", "The region", &p.Region, maxCityLen)
	if _, bad := errs["postal_code"]; !bad && !postalCode.MatchString(p.PostalCode) {
		errs["postal_code"] = "A postal code has letters, digits, spaces and dashes only."
	}
	p.Country = strings.ToUpper(strings.TrimSpace(p.Country))
	if p.Country != "" && CountryName(p.Country) == "" {
		errs["country"] = "Choose the country from the list."
	}
	if p.AddressLine1 != "" || p.AddressLine2 != "" || p.PostalCode != "" || p.City != "" || p.Region != "" {
		if p.AddressLine1 == "" {
			errs["address_line1"] = "Enter the street and number, or leave the whole address empty."
		}
		if p.City == "" {
			errs["city"] = "Enter the city, or leave the whole address empty."
		}
		if p.Country == "" && errs["country"] == "" {
			errs["country"] = "Choose the country of the address."
		}
	}
	vat, msg := NormaliseVATID(p.VATID)
	p.VATID = vat
	if msg != "" {
		errs["vat_id"] = msg
	}
	if len(errs) > 0 {
		return p, &ValidationError{Fields: errs}
	}
	return p, nil
}

var postalCode = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} -]*$|^$`)

// NormaliseVATID returns a VAT ID in canonical form (upper case, without
// separators) and, when its format is wrong, a message saying what to do.
// EU numbers are checked against their country's format; other countries'
// tax numbers only for their general shape. An empty ID is valid.
func NormaliseVATID(s string) (id, problem string) {
	id = tax.NormaliseVATID(s)
	if id == "" {
		return "", ""
	}
	if !tax.Shape(id) {
		return id, "Enter the VAT ID with its country prefix, such as DE123456789."
	}
	if known, ok := tax.FormatKnown(id); known {
		if !ok {
			return id, "This is not the format of a VAT ID from " + vatCountryName(id[:2]) + ". Check it against your VAT registration."
		}
		return id, ""
	}
	if id[:2] == "GR" {
		return id, "Greek VAT IDs start with EL, not GR."
	}
	if CountryName(id[:2]) == "" {
		return id, "Enter the VAT ID with its country prefix, such as DE123456789."
	}
	return id, ""
}

// vatCountryName names the country of a VAT prefix.
func vatCountryName(prefix string) string {
	switch prefix {
	case "EL":
		return "Greece"
	case "XI":
		return "Northern Ireland"
	}
	return CountryName(prefix)
}
