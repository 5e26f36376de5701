package tax_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
)

// validNumbers is one well-formed number per member state (made up; the
// shapes are the member states').
var validNumbers = map[string]string{
	"AT": "ATU12345678", "BE": "BE0123456789", "BG": "BG123456789", "CY": "CY12345678X", "CZ": "CZ12345678",
	"DE": "DE123456789", "DK": "DK12345678", "EE": "EE123456789", "GR": "EL123456789", "ES": "ESX1234567X",
	"FI": "FI12345678", "FR": "FRAB123456789", "HR": "HR12345678901", "HU": "HU12345678", "IE": "IE1234567WA",
	"IT": "IT12345678901", "LT": "LT123456789", "LU": "LU12345678", "LV": "LV12345678901", "MT": "MT12345678",
	"NL": "NL123456789B01", "PL": "PL1234567890", "PT": "PT123456789", "RO": "RO1234", "SE": "SE123456789001",
	"SI": "SI12345678", "SK": "SK1234567890",
}

func TestVATFormats(t *testing.T) {
	for _, c := range tax.EUCountries() {
		id, ok := validNumbers[c]
		if !ok {
			t.Errorf("no sample number for %s", c)
			continue
		}
		if err := tax.CheckVATID(c, id, "vat_id"); err != nil {
			t.Errorf("%s %s refused: %v", c, id, err)
		}
	}
	bad := []struct{ country, id, says string }{
		{"DE", "DE12345678", "format of a VAT number from Germany"},
		{"DE", "DE1234567890", "format"},
		{"AT", "AT12345678", "format"},
		{"FR", "FRIO123456789", "format"}, // I and O are not used
		{"NL", "NL123456789012", "format"},
		{"SE", "SE123456789012", "format"}, // ends in 01
		{"GR", "GR123456789", "start with EL"},
		{"FR", "DE123456789", "another country"},
		{"DE", "123456789", "country prefix"},
		{"DE", "DE12345678!", "country prefix"},
		{"DE", "", "country prefix"},
		{"DE", "DE" + strings.Repeat("1", 19), "country prefix"},
	}
	for _, b := range bad {
		err := tax.CheckVATID(b.country, b.id, "vat_id")
		rf, ok := refuse.As(err)
		if !ok || rf.Field != "vat_id" || !errors.Is(err, tax.ErrVATID) || !strings.Contains(rf.Msg, b.says) {
			t.Errorf("CheckVATID(%s, %q) = %v; want a vat_id refusal saying %q", b.country, b.id, err, b.says)
		}
	}
	// Northern Ireland's XI numbers go with the United Kingdom.
	if err := tax.CheckVATID("GB", "XI123456789", "vat_id"); err != nil {
		t.Errorf("XI number for GB: %v", err)
	}
	if got := tax.NormaliseVATID(" de 123.456-789 "); got != "DE123456789" {
		t.Errorf("NormaliseVATID = %q", got)
	}
}

var canonical = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{2,18}$`)

// FuzzVATID: whatever is typed, a number CheckVATID accepts for a country
// is in canonical form, carries that country's prefix and has the member
// state's format; normalising twice changes nothing; and separators
// people copy from letterheads never change the verdict.
func FuzzVATID(f *testing.F) {
	for c, id := range validNumbers {
		f.Add(c, id)
		f.Add(c, strings.ToLower(id[:2])+" "+id[2:4]+"."+id[4:]+"-")
	}
	f.Add("FR", "DE123456789")
	f.Add("GR", "GR123456789")
	f.Add("DE", "DE\u00a0123456789")
	f.Add("GB", "XI123456789")
	f.Add("US", "US12")
	f.Fuzz(func(t *testing.T, country, raw string) {
		id := tax.NormaliseVATID(raw)
		if tax.NormaliseVATID(id) != id {
			t.Fatalf("normalising %q twice gives %q, then %q", raw, id, tax.NormaliseVATID(id))
		}
		err := tax.CheckVATID(country, id, "vat_id")
		if err != nil {
			if rf, ok := refuse.As(err); !ok || rf.Field != "vat_id" || rf.Msg == "" {
				t.Fatalf("refusal %v is not a vat_id field refusal", err)
			}
		} else {
			if !canonical.MatchString(id) {
				t.Fatalf("accepted %q, not canonical", id)
			}
			if p := id[:2]; p != tax.VATPrefix(country) && !(p == "XI" && country == "GB") {
				t.Fatalf("accepted %q for country %q", id, country)
			}
			if known, ok := tax.FormatKnown(id); known && !ok {
				t.Fatalf("accepted %q against its member state's format", id)
			}
		}
		spaced := strings.Join(strings.Split(id, ""), " ")
		if (tax.CheckVATID(country, tax.NormaliseVATID(spaced), "vat_id") == nil) != (err == nil) {
			t.Fatalf("spaces change the verdict on %q", id)
		}
	})
}
