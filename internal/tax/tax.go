// Package tax decides how an order is taxed under the EU's VAT rules for
// electronically supplied services (software sold for download) and
// computes net, tax and gross per line. The vendor's settings say who the
// seller is (home country, VAT number), the standard rate of each member
// state and whether catalog prices include tax. docs/tax.md explains the
// rules and where they come from.
//
// Nothing here reaches the database but Load and Save (the settings), or
// the network but VIES (the optional VAT number check).
package tax

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
)

// Treatment is how an order is taxed; the values are those the orders
// table stores (migration 00022).
type Treatment string

// The treatments.
const (
	None          Treatment = ""               // no tax computed: the vendor has not configured tax
	Domestic      Treatment = "domestic"       // the seller's country's rate
	ReverseCharge Treatment = "reverse_charge" // EU business in another member state: no tax, the buyer accounts for it
	EUConsumer    Treatment = "eu_consumer"    // the buyer's member state's rate
	Export        Treatment = "export"         // buyer outside the EU: no EU VAT
	Processor     Treatment = "processor"      // the payment processor computes it (Stripe Tax)
)

// standardRates are the EU member states' standard VAT rates in basis
// points (1900 = 19 %), as the European Commission's "VAT rates in the
// EU" table lists them, as compared on 1 December 2026 with two published
// tables of the 2025 rates (the Commission's own page cannot be reached
// from where this was built): EE 24 % from July 2025, FI 25.5 %, RO 21 %,
// SK 23 %. Check them against the Commission's table before going live. They are defaults: the
// owner changes a rate in the console when a member state does.
var standardRates = map[string]int{
	"AT": 2000, "BE": 2100, "BG": 2000, "CY": 1900, "CZ": 2100, "DE": 1900, "DK": 2500,
	"EE": 2400, "ES": 2100, "FI": 2550, "FR": 2000, "GR": 2400, "HR": 2500, "HU": 2700,
	"IE": 2300, "IT": 2200, "LT": 2100, "LU": 1700, "LV": 2100, "MT": 1800, "NL": 2100,
	"PL": 2300, "PT": 2300, "RO": 2100, "SE": 2500, "SI": 2200, "SK": 2300,
}

// euNames names the member states (ISO 3166-1 codes: Greece is GR here,
// EL only in VAT numbers).
var euNames = map[string]string{
	"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany",
	"DK": "Denmark", "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France", "GR": "Greece",
	"HR": "Croatia", "HU": "Hungary", "IE": "Ireland", "IT": "Italy", "LT": "Lithuania", "LU": "Luxembourg",
	"LV": "Latvia", "MT": "Malta", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania",
	"SE": "Sweden", "SI": "Slovenia", "SK": "Slovakia",
}

// IsEU reports whether code (ISO 3166-1 alpha-2, upper case) is an EU
// member state.
func IsEU(code string) bool { _, ok := euNames[code]; return ok }

// EUCountries lists the member states' codes in alphabetical order.
func EUCountries() []string { return slices.Sorted(maps.Keys(euNames)) }

// CountryName names a member state; "" for any other code.
func CountryName(code string) string { return euNames[code] }

// DefaultRates returns a copy of the standard rates shipped as defaults.
func DefaultRates() map[string]int { return maps.Clone(standardRates) }

// Settings are the vendor's tax settings.
type Settings struct {
	// HomeCountry is the member state the seller is established in; ""
	// means tax is off: orders carry no tax, as before tax was computed.
	HomeCountry string `json:"home_country"`
	// SellerVATID is the seller's VAT number, printed on invoices and
	// kept with every order; required once HomeCountry is set.
	SellerVATID string `json:"seller_vat_id"`
	// Rates are the standard rates by member state in basis points; a
	// member state missing here has its default rate.
	Rates map[string]int `json:"rates"`
	// PricesIncludeTax says catalog prices are gross (what a consumer
	// pays, tax included); otherwise they are net and tax is added.
	PricesIncludeTax bool `json:"prices_include_tax"`
	// StripeTax lets Stripe Tax compute the tax of orders paid through
	// Stripe Checkout; orders paid otherwise are computed here.
	StripeTax bool `json:"stripe_tax"`
}

// Defaults are the settings of a new installation: tax off, the standard
// rates ready for when the owner sets the home country.
func Defaults() Settings { return Settings{Rates: DefaultRates()} }

// Enabled reports whether orders are taxed.
func (s Settings) Enabled() bool { return s.HomeCountry != "" }

// Rate returns the standard rate of a member state in basis points.
func (s Settings) Rate(country string) int {
	if r, ok := s.Rates[country]; ok {
		return r
	}
	return standardRates[country]
}

// Refusals of the settings, one per field of the console's form.
var (
	ErrHomeCountry = refuse.Field("home_country", "Choose the EU member state the business is established in, or none to leave tax off.")
	ErrSellerVATID = refuse.Field("seller_vat_id", "Enter the business's VAT number with its country prefix, such as DE123456789.")
)

// Normalised returns the settings in canonical form (codes and the VAT
// number upper case, separators dropped) and the first refusal naming
// the field at fault: an unknown or non-EU country, a rate outside
// 0-100 %, a malformed seller VAT number or one of another country.
func (s Settings) Normalised() (Settings, error) {
	s.HomeCountry = strings.ToUpper(strings.TrimSpace(s.HomeCountry))
	s.SellerVATID = NormaliseVATID(s.SellerVATID)
	rates := DefaultRates()
	for _, code := range slices.Sorted(maps.Keys(s.Rates)) {
		c := strings.ToUpper(strings.TrimSpace(code))
		if !IsEU(c) {
			return s, refuse.Field("rate_"+c, fmt.Sprintf("%q is not an EU member state: rates are kept for the 27 member states only.", code))
		}
		if r := s.Rates[code]; r < 0 || r > 10000 {
			return s, refuse.Field("rate_"+c, fmt.Sprintf("The rate of %s must be between 0 and 100 %%.", euNames[c]))
		}
		rates[c] = s.Rates[code]
	}
	s.Rates = rates
	if s.HomeCountry == "" {
		if s.SellerVATID != "" {
			return s, ErrHomeCountry.With("Choose the member state the business is established in: a VAT number without a home country taxes nothing.")
		}
		if s.StripeTax {
			return s, ErrHomeCountry.With("Choose the member state the business is established in before letting Stripe Tax compute the tax.")
		}
		return s, nil
	}
	if !IsEU(s.HomeCountry) {
		return s, ErrHomeCountry.With("The home country must be an EU member state (two letters, such as DE): these rules are the EU's VAT rules.")
	}
	if s.SellerVATID == "" {
		return s, ErrSellerVATID.With("Enter the business's VAT number: invoices with tax must name it.")
	}
	if err := CheckVATID(s.HomeCountry, s.SellerVATID, "seller_vat_id"); err != nil {
		return s, err
	}
	return s, nil
}

// FormatRate writes a rate in basis points as a percentage: 1900 is
// "19", 2550 "25.5".
func FormatRate(bp int) string {
	s := strconv.Itoa(bp/100) + "." + fmt.Sprintf("%02d", bp%100)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" {
		return "0"
	}
	return s
}

// ParseRate reads a percentage such as "19", "25.5" or "7,7" (at most two
// decimals) as basis points; ok is false for anything else and for
// values outside 0-100.
func ParseRate(text string) (bp int, ok bool) {
	t := strings.TrimSuffix(strings.TrimSpace(strings.ReplaceAll(text, ",", ".")), "%")
	t = strings.TrimSpace(t)
	whole, frac, dot := strings.Cut(t, ".")
	if whole == "" || dot && frac == "" || len(whole) > 3 || len(frac) > 2 || !digits(whole) || !digits(frac) {
		return 0, false
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, _ := strconv.Atoi(whole)
	f, _ := strconv.Atoi(frac)
	bp = w*100 + f
	return bp, bp <= 10000
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
