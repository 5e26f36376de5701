package tax

import (
	"regexp"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// vatFormats are the formats of EU VAT identification numbers after the
// two-letter prefix, as the European Commission's VIES help ("VAT number
// validation", the structure of VAT numbers per member state) lists them.
// Greece uses EL, Northern Ireland (goods only) XI. They check the shape
// only: whether a number is registered is what VIES answers.
var vatFormats = map[string]*regexp.Regexp{
	"AT": regexp.MustCompile(`^U\d{8}$`),
	"BE": regexp.MustCompile(`^[01]\d{9}$`),
	"BG": regexp.MustCompile(`^\d{9,10}$`),
	"CY": regexp.MustCompile(`^\d{8}[A-Z]$`),
	"CZ": regexp.MustCompile(`^\d{8,10}$`),
	"DE": regexp.MustCompile(`^\d{9}$`),
	"DK": regexp.MustCompile(`^\d{8}$`),
	"EE": regexp.MustCompile(`^\d{9}$`),
	"EL": regexp.MustCompile(`^\d{9}$`),
	"ES": regexp.MustCompile(`^[A-Z0-9]\d{7}[A-Z0-9]$`),
	"FI": regexp.MustCompile(`^\d{8}$`),
	"FR": regexp.MustCompile(`^[A-HJ-NP-Z0-9]{2}\d{9}$`),
	"HR": regexp.MustCompile(`^\d{11}$`),
	"HU": regexp.MustCompile(`^\d{8}$`),
	"IE": regexp.MustCompile(`^(\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W])$`),
	"IT": regexp.MustCompile(`^\d{11}$`),
	"LT": regexp.MustCompile(`^(\d{9}|\d{12})$`),
	"LU": regexp.MustCompile(`^\d{8}$`),
	"LV": regexp.MustCompile(`^\d{11}$`),
	"MT": regexp.MustCompile(`^\d{8}$`),
	"NL": regexp.MustCompile(`^\d{9}B\d{2}$`),
	"PL": regexp.MustCompile(`^\d{10}$`),
	"PT": regexp.MustCompile(`^\d{9}$`),
	"RO": regexp.MustCompile(`^[1-9]\d{1,9}$`),
	"SE": regexp.MustCompile(`^\d{10}01$`),
	"SI": regexp.MustCompile(`^\d{8}$`),
	"SK": regexp.MustCompile(`^\d{10}$`),
	"XI": regexp.MustCompile(`^(\d{9}|\d{12}|GD\d{3}|HA\d{3})$`),
}

// vatShape is the general shape of a tax number with a country prefix,
// which numbers of countries outside the EU are held to (such as
// CHE123456789MWST or GB123456789).
var vatShape = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{2,18}$`)

// vatSeparators are dropped from VAT numbers: people copy them with
// spaces, dots and dashes from letterheads.
var vatSeparators = strings.NewReplacer(" ", "", ".", "", "-", "", "\u00a0", "")

// NormaliseVATID returns a VAT number in canonical form: upper case,
// without spaces, dots or dashes.
func NormaliseVATID(s string) string {
	return strings.ToUpper(strings.TrimSpace(vatSeparators.Replace(s)))
}

// VATPrefix is the prefix of VAT numbers of a country: its ISO code, but
// EL for Greece (GR), and that of the country whose VAT territory it is
// part of for Monaco and the Isle of Man (VATCountry).
func VATPrefix(country string) string {
	country = VATCountry(country)
	if country == "GR" {
		return "EL"
	}
	return country
}

// vatTerritories are the countries with ISO codes of their own that are
// part of another's VAT territory: Monaco is treated as France, the Isle
// of Man as the United Kingdom (VAT Directive 2006/112/EC, Art. 7(1)).
// Territories that share their country's ISO code but are outside the
// EU's VAT territory (the Canary Islands, Ceuta, Melilla, Mount Athos,
// Livigno, Campione d'Italia, Büsingen, Heligoland, Art. 6) cannot be
// told from a billing country: docs/tax.md says so.
var vatTerritories = map[string]string{"MC": "FR", "IM": "GB"}

// VATCountry is the country whose VAT rules apply to a billing country:
// the country itself, or France for Monaco and the United Kingdom for the
// Isle of Man.
func VATCountry(country string) string {
	if c, ok := vatTerritories[country]; ok {
		return c
	}
	return country
}

// FormatKnown reports whether id (canonical form) has the prefix of an EU
// VAT number (a member state's, or XI), and if so whether the rest has
// that prefix's format.
func FormatKnown(id string) (known, ok bool) {
	if len(id) < 2 {
		return false, false
	}
	re, known := vatFormats[id[:2]]
	if !known {
		return false, false
	}
	return true, re.MatchString(id[2:])
}

// Shape reports whether id (canonical form) has the general shape of a
// tax number with a country prefix, at most 20 characters.
func Shape(id string) bool { return len(id) <= 20 && vatShape.MatchString(id) }

// ErrVATID refuses a buyer's VAT number (form field vat_id).
var ErrVATID = refuse.Field("vat_id", "Enter the VAT number with its country prefix, such as DE123456789.")

// CheckVATID checks a VAT number (canonical form) for the country it is
// registered in (the billing country, or the seller's home country):
// its shape, its prefix, which must be the country's (EL for Greece; XI
// is accepted for the United Kingdom's Northern Ireland), and for EU
// prefixes the member state's format. The refusal names field.
func CheckVATID(country, id, field string) error {
	bad := func(msg string) error {
		return &refuse.Error{Kind: refuse.Invalid, Code: ErrVATID.Code, Msg: msg, Field: field}
	}
	if !Shape(id) {
		return bad("Enter the VAT number with its country prefix, such as DE123456789.")
	}
	prefix := id[:2]
	if prefix == "GR" {
		return bad("Greek VAT numbers start with EL, not GR.")
	}
	if prefix != VATPrefix(country) && !(prefix == "XI" && country == "GB") {
		want := VATPrefix(country)
		return bad("This VAT number is from another country than the one given (" + country + "): a VAT number from there starts with " + want + ".")
	}
	if known, ok := FormatKnown(id); known && !ok {
		name := CountryName(VATCountry(country))
		if prefix == "XI" {
			name = "Northern Ireland"
		}
		return bad("This is not the format of a VAT number from " + name + ". Check it against the VAT registration.")
	}
	return nil
}
