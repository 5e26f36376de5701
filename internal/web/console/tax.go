package console

import (
	"database/sql"
	"net/http"
	"slices"
	"strings"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/tax"
	"github.com/storekeep/storekeep/internal/web"
)

// mountTax registers the tax settings page (owners: settings.manage) and
// its navigation entry.
func (s *handler) mountTax(w *web.Server) {
	w.HandleStaff("GET /staff/settings/tax", web.AccessFull, staff.PermSettingsManage, s.staffTax)
	w.HandleStaff("POST /staff/settings/tax", web.AccessFull, staff.PermSettingsManage, s.staffSaveTax)
	w.AddStaffNav(web.NavItem{Label: "Tax", Href: "/staff/settings/tax", Perm: staff.PermSettingsManage, Order: 111})
}

// taxPage is the content of tax.html.
type taxPage struct {
	Notice   string
	Settings tax.Settings
	// Rates are the form's rate fields, as typed when refused.
	Rates       []taxRate
	Errors      []string
	FieldErrors map[string]string
}

type taxRate struct {
	Code, Name, Value, Error string
	Default                  string
}

var taxNotices = web.Notices{"saved": "The tax settings are saved. Orders placed from now on are taxed with them; placed orders keep theirs."}

func ratesOf(s tax.Settings) []taxRate {
	var out []taxRate
	def := tax.DefaultRates()
	for _, c := range tax.EUCountries() {
		out = append(out, taxRate{Code: c, Name: tax.CountryName(c), Value: tax.FormatRate(s.Rate(c)), Default: tax.FormatRate(def[c])})
	}
	// In the order people look for them: by name.
	slices.SortFunc(out, func(a, b taxRate) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func (s *handler) staffTax(w http.ResponseWriter, r *http.Request) error {
	settings, err := tax.Load(r.Context(), s.db)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "tax.html", "Tax", taxPage{Notice: taxNotices.For(r), Settings: settings, Rates: ratesOf(settings)})
}

// staffSaveTax stores the tax settings, audited, in one transaction. Each
// choice is explicit (the home country "none" turns tax off; the two
// yes/no questions must be answered), so no form that leaves a field out
// turns tax off or changes how prices are read.
func (s *handler) staffSaveTax(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	f := r.PostForm.Get
	page := taxPage{FieldErrors: map[string]string{}}
	refused := func(e *refuse.Error) {
		page.Errors = append(page.Errors, e.Msg)
		if _, seen := page.FieldErrors[e.Field]; !seen {
			page.FieldErrors[e.Field] = e.Msg
		}
	}
	in := tax.Settings{SellerVATID: f("seller_vat_id"), Rates: map[string]int{}}
	switch home := strings.ToUpper(strings.TrimSpace(f("home_country"))); home {
	case "":
		refused(tax.ErrHomeCountry)
	case "NONE":
	default:
		in.HomeCountry = home
	}
	for _, q := range []struct {
		field, msg string
		v          *bool
	}{
		{"prices_include_tax", "Choose whether the catalog's prices include VAT.", &in.PricesIncludeTax},
		{"stripe_tax", "Choose whether Stripe Tax computes the tax of card payments.", &in.StripeTax},
	} {
		switch f(q.field) {
		case "yes":
			*q.v = true
		case "no":
		default:
			refused(refuse.Field(q.field, q.msg))
		}
	}
	page.Rates = ratesOf(tax.Defaults())
	for i := range page.Rates {
		rt := &page.Rates[i]
		text, present := r.PostForm["rate_"+rt.Code]
		if !present {
			continue // keeps the default
		}
		rt.Value = strings.TrimSpace(text[0])
		bp, ok := tax.ParseRate(rt.Value)
		if !ok {
			rt.Error = "Enter the rate of " + rt.Name + " as a percentage between 0 and 100, such as 19 or 25.5."
			refused(refuse.Field("rate_"+rt.Code, rt.Error))
			continue
		}
		in.Rates[rt.Code] = bp
	}
	page.Settings = in
	if len(page.Errors) == 0 {
		ctx, now := r.Context(), s.clock.Now()
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			saved, err := tax.Save(ctx, tx, in, now)
			if err != nil {
				return err
			}
			return s.Audit(ctx, tx, r, audit.Entry{Action: "settings.tax_changed", SubjectType: "settings", SubjectID: "tax", Detail: taxSummary(saved)})
		})
		if rf, ok := refuse.As(err); ok {
			refused(rf)
		} else if err != nil {
			return err
		} else {
			http.Redirect(w, r, "/staff/settings/tax?done=saved", http.StatusSeeOther)
			return nil
		}
	}
	for i := range page.Rates {
		if msg := page.FieldErrors["rate_"+page.Rates[i].Code]; msg != "" {
			page.Rates[i].Error = msg
		}
	}
	return s.render(w, r, http.StatusUnprocessableEntity, "tax.html", "Tax", page)
}

// taxSummary is the audit entry's detail: what tax is set to now.
func taxSummary(s tax.Settings) string {
	if !s.Enabled() {
		return "tax off"
	}
	var b strings.Builder
	b.WriteString("home " + s.HomeCountry + ", seller VAT number " + s.SellerVATID)
	if s.PricesIncludeTax {
		b.WriteString(", prices include tax")
	} else {
		b.WriteString(", prices exclude tax")
	}
	if s.StripeTax {
		b.WriteString(", Stripe Tax for card payments")
	}
	var changed []string
	def := tax.DefaultRates()
	for _, c := range tax.EUCountries() {
		if s.Rate(c) != def[c] {
			changed = append(changed, c+" "+tax.FormatRate(s.Rate(c))+" %")
		}
	}
	if len(changed) > 0 {
		b.WriteString("; rates changed from the defaults: " + strings.Join(changed, ", "))
	}
	return b.String()
}
