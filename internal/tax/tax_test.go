package tax_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/testutil"
)

// german is a vendor in Germany with its VAT number.
func german() tax.Settings {
	s := tax.Defaults()
	s.HomeCountry, s.SellerVATID = "DE", "DE123456789"
	return s
}

func TestDecideRules(t *testing.T) {
	viesValid := tax.Check{Number: "FR12345678901", FormatOK: true, VIES: &tax.VIESResult{Valid: true}}
	viesInvalid := tax.Check{Number: "FR12345678901", FormatOK: true, VIES: &tax.VIESResult{Valid: false}}
	cases := []struct {
		name, country, vat string
		check              tax.Check
		want               tax.Treatment
		wantCountry        string
		wantRate           int
		wantField          string // a refusal of this field
	}{
		{"consumer at home", "DE", "", tax.Check{}, tax.Domestic, "DE", 1900, ""},
		{"business at home", "DE", "DE 987.654-321", tax.Check{}, tax.Domestic, "DE", 1900, ""},
		{"business in France", "FR", "FR12345678901", tax.Check{}, tax.ReverseCharge, "FR", 0, ""},
		{"business in France, VIES valid", "FR", "FR12345678901", viesValid, tax.ReverseCharge, "FR", 0, ""},
		{"business in France, VIES invalid", "FR", "FR12345678901", viesInvalid, "", "", 0, "vat_id"},
		{"business in Greece with EL", "GR", "EL123456789", tax.Check{}, tax.ReverseCharge, "GR", 0, ""},
		{"consumer in France", "FR", "", tax.Check{}, tax.EUConsumer, "FR", 2000, ""},
		{"consumer in Hungary", "HU", "", tax.Check{}, tax.EUConsumer, "HU", 2700, ""},
		{"consumer in Finland", "FI", "", tax.Check{}, tax.EUConsumer, "FI", 2550, ""},
		{"consumer in Luxembourg", "lu", "", tax.Check{}, tax.EUConsumer, "LU", 1700, ""},
		{"consumer in the US", "US", "", tax.Check{}, tax.Export, "", 0, ""},
		{"business in Switzerland", "CH", "CHE123456789", tax.Check{}, tax.Export, "", 0, ""},
		{"business in the UK", "GB", "GB123456789", tax.Check{}, tax.Export, "", 0, ""},
		{"German number, French address", "FR", "DE123456789", tax.Check{}, "", "", 0, "vat_id"},
		{"Greek number with GR", "GR", "GR123456789", tax.Check{}, "", "", 0, "vat_id"},
		{"malformed French number", "FR", "FR123", tax.Check{}, "", "", 0, "vat_id"},
		// Monaco is in France's VAT territory, the Isle of Man in the
		// United Kingdom's (VAT Directive, Art. 7): a Monegasque consumer
		// pays French VAT, a Monegasque business has a French number.
		{"consumer in Monaco", "MC", "", tax.Check{}, tax.EUConsumer, "FR", 2000, ""},
		{"business in Monaco", "MC", "FR12345678901", tax.Check{}, tax.ReverseCharge, "FR", 0, ""},
		{"business on the Isle of Man", "IM", "GB123456789", tax.Check{}, tax.Export, "", 0, ""},
		{"Monaco with a German number", "MC", "DE123456789", tax.Check{}, "", "", 0, "vat_id"},
		// Northern Ireland's XI numbers are for goods: services to it are
		// supplied to the United Kingdom.
		{"business in Northern Ireland", "GB", "XI123456789", tax.Check{}, tax.Export, "", 0, ""},
		{"lower case, spaces", "fr", " fr 12 345 678 901 ", tax.Check{}, tax.ReverseCharge, "FR", 0, ""},
		{"a VAT number of spaces", "FR", "   ", tax.Check{}, tax.EUConsumer, "FR", 2000, ""},
		{"no country", "", "", tax.Check{}, "", "", 0, "country"},
		{"three letters", "DEU", "", tax.Check{}, "", "", 0, "country"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := tax.Decide(german(), c.country, c.vat, c.check)
			if c.wantField != "" {
				rf, ok := refuse.As(err)
				if !ok || rf.Field != c.wantField {
					t.Fatalf("Decide = %+v, %v; want a refusal of %s", d, err, c.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Treatment != c.want || d.Country != c.wantCountry || d.RateBP != c.wantRate {
				t.Errorf("Decide = %+v, want %s %s %d", d, c.want, c.wantCountry, c.wantRate)
			}
			if (d.Statement != "") != (c.want == tax.ReverseCharge) || c.want == tax.ReverseCharge && !strings.Contains(d.Statement, "Reverse charge") {
				t.Errorf("statement %q for %s", d.Statement, d.Treatment)
			}
		})
	}
}

func TestDecideTaxOffAndChangedRates(t *testing.T) {
	d, err := tax.Decide(tax.Defaults(), "FR", "", tax.Check{})
	if err != nil || d.Treatment != tax.None || d.RateBP != 0 {
		t.Errorf("tax off: %+v, %v; want no tax", d, err)
	}
	// Tax off still refuses a malformed number: the form checks it always.
	if _, err := tax.Decide(tax.Defaults(), "FR", "FR1", tax.Check{}); !errors.Is(err, tax.ErrVATID) {
		t.Errorf("tax off, malformed number: %v", err)
	}
	s := german()
	s.Rates["FR"] = 550
	if d, _ := tax.Decide(s, "FR", "", tax.Check{}); d.RateBP != 550 {
		t.Errorf("changed French rate: %+v", d)
	}
}

func TestComputeRounding(t *testing.T) {
	de := tax.Decision{Treatment: tax.Domestic, Country: "DE", RateBP: 1900}
	cases := []struct {
		name      string
		items     []tax.Item
		d         tax.Decision
		inclusive bool
		want      []tax.Amounts
	}{
		// 49900 * 19 % = 9481 exactly.
		{"net price", []tax.Item{{49900, 1}}, de, false, []tax.Amounts{{NetMinor: 49900, TaxMinor: 9481, GrossMinor: 59381, RateBP: 1900, UnitGrossMinor: 59381}}},
		// 50 * 19 % = 9.5: half away from zero is 10.
		{"half rounds up", []tax.Item{{50, 1}}, de, false, []tax.Amounts{{NetMinor: 50, TaxMinor: 10, GrossMinor: 60, RateBP: 1900, UnitGrossMinor: 60}}},
		// 33 * 19 % = 6.27 per unit: 6, times 3.
		{"per unit times quantity", []tax.Item{{33, 3}}, de, false, []tax.Amounts{{NetMinor: 99, TaxMinor: 18, GrossMinor: 117, RateBP: 1900, UnitGrossMinor: 39}}},
		// 11900 gross at 19 %: net 10000, tax 1900.
		{"gross price", []tax.Item{{11900, 2}}, de, true, []tax.Amounts{{NetMinor: 20000, TaxMinor: 3800, GrossMinor: 23800, RateBP: 1900, UnitGrossMinor: 11900}}},
		// 100 gross at 19 %: net 84.03 → 84, tax 16.
		{"gross price rounds the net", []tax.Item{{100, 1}}, de, true, []tax.Amounts{{NetMinor: 84, TaxMinor: 16, GrossMinor: 100, RateBP: 1900, UnitGrossMinor: 100}}},
		{"reverse charge, gross price", []tax.Item{{11900, 1}}, tax.Decision{Treatment: tax.ReverseCharge}, true, []tax.Amounts{{NetMinor: 11900, GrossMinor: 11900, UnitGrossMinor: 11900}}},
		{"export, net price", []tax.Item{{10000, 2}}, tax.Decision{Treatment: tax.Export}, false, []tax.Amounts{{NetMinor: 20000, GrossMinor: 20000, UnitGrossMinor: 10000}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := tax.Compute(c.items, c.d, c.inclusive)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.want {
				if got[i] != c.want[i] {
					t.Errorf("line %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
			var sum tax.Amounts
			for _, a := range got {
				sum.NetMinor += a.NetMinor
				sum.TaxMinor += a.TaxMinor
				sum.GrossMinor += a.GrossMinor
			}
			if total != sum {
				t.Errorf("total %+v, sum of lines %+v", total, sum)
			}
		})
	}
	if _, _, err := tax.Compute([]tax.Item{{100, 0}}, de, false); err == nil {
		t.Error("quantity 0 accepted")
	}
	if _, _, err := tax.Compute([]tax.Item{{100, 1}}, tax.Decision{RateBP: 10001}, false); err == nil {
		t.Error("a rate over 100 % accepted")
	}
}

func TestRoundDiv(t *testing.T) {
	for _, c := range []struct{ a, b, want int64 }{{5, 10, 1}, {4, 10, 0}, {15, 10, 2}, {-5, 10, -1}, {-4, 10, 0}, {-15, 10, -2}, {0, 7, 0}, {14, 7, 2}} {
		if got := tax.RoundDiv(c.a, c.b); got != c.want {
			t.Errorf("RoundDiv(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*tax.Settings)
		field string
	}{
		{"defaults: tax off", func(*tax.Settings) {}, ""},
		{"a German vendor", func(s *tax.Settings) { *s = german() }, ""},
		{"VAT number with separators", func(s *tax.Settings) { *s = german(); s.SellerVATID = "de 123.456-789" }, ""},
		{"unknown home country", func(s *tax.Settings) { *s = german(); s.HomeCountry = "XX" }, "home_country"},
		{"home country outside the EU", func(s *tax.Settings) { *s = german(); s.HomeCountry = "US"; s.SellerVATID = "US123456789" }, "home_country"},
		{"no seller VAT number", func(s *tax.Settings) { *s = german(); s.SellerVATID = "" }, "seller_vat_id"},
		{"malformed seller VAT number", func(s *tax.Settings) { *s = german(); s.SellerVATID = "DE12345" }, "seller_vat_id"},
		{"seller VAT number of another country", func(s *tax.Settings) { *s = german(); s.SellerVATID = "FR12345678901" }, "seller_vat_id"},
		{"VAT number without home country", func(s *tax.Settings) { s.SellerVATID = "DE123456789" }, "home_country"},
		{"Stripe Tax without home country", func(s *tax.Settings) { s.StripeTax = true }, "home_country"},
		{"rate over 100 %", func(s *tax.Settings) { *s = german(); s.Rates["FR"] = 10001 }, "rate_FR"},
		{"negative rate", func(s *tax.Settings) { *s = german(); s.Rates["DE"] = -1 }, "rate_DE"},
		{"rate of an unknown country", func(s *tax.Settings) { *s = german(); s.Rates["XX"] = 1000 }, "rate_XX"},
		{"rate of a non-EU country", func(s *tax.Settings) { *s = german(); s.Rates["CH"] = 810 }, "rate_CH"},
		{"rate 0 and 100 %", func(s *tax.Settings) { *s = german(); s.Rates["FR"], s.Rates["IT"] = 0, 10000 }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := tax.Defaults()
			c.edit(&s)
			got, err := s.Normalised()
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.SellerVATID != "" && got.SellerVATID != "DE123456789" {
					t.Errorf("seller VAT number %q", got.SellerVATID)
				}
				if len(got.Rates) != 27 {
					t.Errorf("%d rates, want 27", len(got.Rates))
				}
				return
			}
			rf, ok := refuse.As(err)
			if !ok || rf.Field != c.field || rf.Msg == "" {
				t.Fatalf("Normalised: %v; want a refusal of %s", err, c.field)
			}
		})
	}
}

func TestParseAndFormatRate(t *testing.T) {
	for text, want := range map[string]int{"19": 1900, "25.5": 2550, "7,7": 770, "0": 0, "100": 10000, " 21 % ": 2100, "5.55": 555} {
		if got, ok := tax.ParseRate(text); !ok || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", text, got, ok, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "100.01", "1.234", "1e2", "19.", ".5", "1000"} {
		if got, ok := tax.ParseRate(bad); ok {
			t.Errorf("ParseRate(%q) = %d, accepted", bad, got)
		}
	}
	for bp, want := range map[int]string{1900: "19", 2550: "25.5", 555: "5.55", 0: "0", 10000: "100", 1: "0.01"} {
		if got := tax.FormatRate(bp); got != want {
			t.Errorf("FormatRate(%d) = %q, want %q", bp, got, want)
		}
	}
}

func TestDefaultRatesAreTheMemberStates(t *testing.T) {
	rates := tax.DefaultRates()
	if len(rates) != 27 || len(tax.EUCountries()) != 27 {
		t.Fatalf("%d rates, %d member states", len(rates), len(tax.EUCountries()))
	}
	for _, c := range tax.EUCountries() {
		if r := rates[c]; r < 1500 || r > 2700 {
			t.Errorf("%s: standard rate %d bp is not a standard rate", c, r)
		}
	}
	rates["DE"] = 1
	if tax.DefaultRates()["DE"] != 1900 {
		t.Error("DefaultRates returns the package's own map")
	}
}

func TestSaveAndLoadSettings(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		got, err := tax.Load(ctx, d)
		if err != nil || got.Enabled() || got.Rate("DE") != 1900 {
			t.Fatalf("fresh database: %+v, %v; want tax off with default rates", got, err)
		}
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		s := german()
		s.SellerVATID = "de 123 456 789"
		s.PricesIncludeTax = true
		s.Rates["FR"] = 550
		if err := d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, s, now); return err }); err != nil {
			t.Fatal(err)
		}
		bad := german()
		bad.Rates["FR"] = 20000
		err = d.Tx(ctx, func(tx *sql.Tx) error { _, err := tax.Save(ctx, tx, bad, now); return err })
		if rf, ok := refuse.As(err); !ok || rf.Field != "rate_FR" {
			t.Fatalf("invalid save: %v", err)
		}
		got, err = tax.Load(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got.HomeCountry != "DE" || got.SellerVATID != "DE123456789" || !got.PricesIncludeTax || got.Rate("FR") != 550 || got.Rate("IT") != 2200 {
			t.Errorf("loaded %+v", got)
		}
	})
}
