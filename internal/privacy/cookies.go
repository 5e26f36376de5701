package privacy

import "slices"

// CookieCategory is why a cookie is set. The four are the groups cookie
// policies and consent banners commonly use, so a visitor meets the words
// they know; only Necessary needs no consent.
type CookieCategory string

// The cookie categories, in the order the policy and the banner list them.
const (
	// Necessary cookies make a service the person asked for work (staying
	// signed in, remembering a consent choice): exempt from consent.
	Necessary CookieCategory = "necessary"
	// Preferences remember a choice that changes how the site looks or
	// behaves, without which it would still work (a language, a theme).
	Preferences CookieCategory = "preferences"
	// Statistics count and measure visits to improve the site.
	Statistics CookieCategory = "statistics"
	// Marketing follow a visitor to show or measure advertising.
	Marketing CookieCategory = "marketing"
)

// cookieCategories are the categories with their words, in order.
var cookieCategories = []struct {
	c            CookieCategory
	label, about string
}{
	{Necessary, "Strictly necessary",
		"make something you asked for work, such as staying signed in to your account; they need no consent and cannot be switched off"},
	{Preferences, "Preferences",
		"remember choices that change how the site looks or behaves for you; the site works without them"},
	{Statistics, "Statistics",
		"help us understand how the site is used, by counting and measuring visits"},
	{Marketing, "Marketing",
		"are used to show or measure advertising, on this site or elsewhere"},
}

// OptionalCategories are the categories that need consent, in order.
var OptionalCategories = []CookieCategory{Preferences, Statistics, Marketing}

// Known reports whether c is one of the cookie categories.
func (c CookieCategory) Known() bool {
	for _, k := range cookieCategories {
		if k.c == c {
			return true
		}
	}
	return false
}

// Label is the category's name in words ("Statistics").
func (c CookieCategory) Label() string {
	for _, k := range cookieCategories {
		if k.c == c {
			return k.label
		}
	}
	return string(c)
}

// About says what cookies of the category do, as the end of a sentence
// that starts with the category's cookies ("... help us understand how
// the site is used").
func (c CookieCategory) About() string {
	for _, k := range cookieCategories {
		if k.c == c {
			return k.about
		}
	}
	return ""
}

func cookieCategoryNames() []string {
	out := make([]string, len(cookieCategories))
	for i, k := range cookieCategories {
		out[i] = string(k.c)
	}
	return out
}

// WithCookies returns the inventory with extra cookie declarations added:
// how a deployment (or a test) configures a cookie that is not part of
// Declared. The banner, the gate and the cookie policy read the result,
// so a declaration is all it takes.
func (inv Inventory) WithCookies(extra ...Cookie) Inventory {
	out := inv
	out.Cookies = append(slices.Clone(inv.Cookies), extra...)
	return out
}

// AsksConsent reports whether the registry holds a cookie that needs
// consent: only then is there a banner, a consent cookie and a record.
func (inv Inventory) AsksConsent() bool {
	return slices.ContainsFunc(inv.Cookies, func(c Cookie) bool { return !c.Essential() })
}

// ActiveCookies are the cookies the site may set: every declared one,
// less those that remember consent when nothing asks for it.
func (inv Inventory) ActiveCookies() []Cookie {
	asks := inv.AsksConsent()
	var out []Cookie
	for _, c := range inv.Cookies {
		if c.OnlyWithOptionalCookies && !asks {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Cookie returns the declaration of the cookie called name.
func (inv Inventory) Cookie(name string) (Cookie, bool) {
	for _, c := range inv.Cookies {
		if c.Name == name {
			return c, true
		}
	}
	return Cookie{}, false
}

// ConsentCategories are the categories needing consent that the registry
// uses, in order: the ones the banner offers a choice for.
func (inv Inventory) ConsentCategories() []CookieCategory {
	var out []CookieCategory
	for _, k := range OptionalCategories {
		if slices.ContainsFunc(inv.Cookies, func(c Cookie) bool { return c.Category == k }) {
			out = append(out, k)
		}
	}
	return out
}

// CookieGroup is one category of cookies as the cookie policy lists it.
type CookieGroup struct {
	Category CookieCategory
	Cookies  []Cookie
}

// CookieGroups are the policy's cookies grouped by category, in the
// categories' order; categories without cookies are left out.
func (p Policy) CookieGroups() []CookieGroup {
	var out []CookieGroup
	for _, k := range cookieCategories {
		g := CookieGroup{Category: k.c}
		for _, c := range p.Cookies {
			if c.Category == k.c {
				g.Cookies = append(g.Cookies, c)
			}
		}
		if len(g.Cookies) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// AsksConsent reports whether the policy lists a cookie that needs
// consent.
func (p Policy) AsksConsent() bool {
	return slices.ContainsFunc(p.Cookies, func(c Cookie) bool { return !c.Essential() })
}
