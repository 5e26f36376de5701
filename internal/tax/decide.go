package tax

import (
	"regexp"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// ReverseChargeStatement is what an invoice under the reverse charge
// says (Article 226(11a) of the VAT Directive asks for the words
// "Reverse charge"; Article 196 is why the buyer owes the tax).
const ReverseChargeStatement = "Reverse charge: VAT to be accounted for by the recipient (Article 196 of Council Directive 2006/112/EC)."

// Decision is how one order is taxed.
type Decision struct {
	Treatment Treatment
	// Country is the country whose rate applies ("" when none does).
	Country string
	// RateBP is the rate in basis points.
	RateBP int
	// Statement is the text an invoice must carry (reverse charge).
	Statement string
}

// Label names the decision for a page: "19 % VAT (Germany)",
// "Reverse charge", "No VAT (outside the EU)".
func (d Decision) Label() string {
	switch d.Treatment {
	case Domestic, EUConsumer:
		return FormatRate(d.RateBP) + " % VAT (" + CountryName(d.Country) + ")"
	case ReverseCharge:
		return "Reverse charge (0 % VAT)"
	case Export:
		return "No VAT (outside the EU)"
	case Processor:
		return "Tax computed by the payment provider"
	}
	return ""
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// ErrCountry refuses a billing country that is not a two-letter code.
var ErrCountry = refuse.Field("country", "Enter the country as a two-letter code, such as DE or US.")

// ErrVATInvalid: VIES says the VAT number is not registered.
var ErrVATInvalid = refuse.Field("vat_id", "The EU's VIES service says this VAT number is not registered. Check it, or leave it empty to pay with VAT.")

// Decide says how a sale to a buyer in country (ISO code) with VAT number
// vatID ("" for none; canonical form) is taxed, given check, the result
// of Verify for that number:
//
//   - tax off (no home country): None, no tax;
//   - a buyer in the seller's home country: Domestic at the home rate,
//     businesses with a VAT number included;
//   - a buyer in another member state with a VAT number of that state
//     (format checked, and VIES valid when it was asked): ReverseCharge,
//     no tax, the statement on the invoice;
//   - a buyer in another member state without a VAT number: EUConsumer,
//     at that member state's rate;
//   - a buyer outside the EU: Export, no tax.
//
// A malformed VAT number, one of another country than the buyer's, and
// one VIES says is not registered are refused (field vat_id), and so is a
// country that is not a two-letter code (field country): nothing is
// decided from doubtful input.
func Decide(s Settings, country, vatID string, check Check) (Decision, error) {
	country = strings.ToUpper(strings.TrimSpace(country))
	vatID = NormaliseVATID(vatID)
	if !countryCode.MatchString(country) {
		return Decision{}, ErrCountry
	}
	if vatID != "" {
		if err := CheckVATID(country, vatID, "vat_id"); err != nil {
			return Decision{}, err
		}
		if check.VIES != nil && check.Number == vatID && !check.VIES.Valid {
			return Decision{}, ErrVATInvalid
		}
	}
	if !s.Enabled() {
		return Decision{Treatment: None}, nil
	}
	country = VATCountry(country) // Monaco is taxed as France, the Isle of Man as the UK
	switch {
	case country == s.HomeCountry:
		return Decision{Treatment: Domestic, Country: country, RateBP: s.Rate(country)}, nil
	case IsEU(country) && vatID != "":
		return Decision{Treatment: ReverseCharge, Country: country, Statement: ReverseChargeStatement}, nil
	case IsEU(country):
		return Decision{Treatment: EUConsumer, Country: country, RateBP: s.Rate(country)}, nil
	}
	return Decision{Treatment: Export}, nil
}
