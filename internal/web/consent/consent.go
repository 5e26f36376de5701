// Package consent is the cookie consent banner's side of the site: the
// form the banner and the cookie settings page submit, which records the
// choice and remembers it in the consent cookie, and the settings page the
// footer's "Cookie settings" link opens to change it. The banner itself is
// part of the public layout (the core decides per request whether to show
// it: web.Server.ConsentNeeded); the records are privacy.CookieConsent.
//
// While the cookie registry holds only strictly necessary cookies there is
// nothing to choose: no banner, and both routes answer 404.
package consent

import (
	"embed"
	"errors"
	"net/http"
	"slices"

	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

type handler struct {
	*web.Server
	pages *web.Pages
}

// Mount registers the cookie consent routes on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("consent", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, pages: pages}
	s.Handle("GET "+web.ConsentSettingsPath, h.settings)
	s.Handle("POST "+web.ConsentPath, h.choose)
	return nil
}

var notices = web.Notices{"saved": "Your choice is saved. You can change it here at any time."}

// errNothingToChoose answers both routes while no cookie needs consent.
var errNothingToChoose = web.NotFound("This site sets no cookies that need your consent, so there is nothing to choose.")

// settingsPage is the content of settings.html.
type settingsPage struct {
	Notice string
	// Options are the categories with the browser's current choice.
	Options []option
	// Current is the browser's recorded choice; nil when it has none.
	Current *privacy.CookieConsent
}

type option struct {
	Category privacy.CookieCategory
	On       bool // the browser agreed to it before; never set for a new visitor
}

// settings shows the choices again, as the browser last made them.
func (h *handler) settings(w http.ResponseWriter, r *http.Request) error {
	cats := h.Inventory().ConsentCategories()
	if len(cats) == 0 {
		return errNothingToChoose
	}
	page := settingsPage{Notice: notices.For(r)}
	got, ok := h.Consent(r)
	if ok {
		rec, err := privacy.LoadCookieConsent(r.Context(), h.DB(), got.ID)
		switch {
		case err == nil:
			page.Current = &rec
		case errors.Is(err, privacy.ErrNoConsentRecord):
			// A signed cookie whose record the purge removed: the cookie
			// still says what was chosen.
			page.Current = &privacy.CookieConsent{ID: got.ID, GivenAt: got.Given, Choices: got.Choices}
		default:
			return err
		}
	}
	for _, k := range cats {
		page.Options = append(page.Options, option{Category: k, On: got.Choices[k]})
	}
	w.Header().Set("Cache-Control", "no-store")
	return h.Render(w, r, http.StatusOK, h.pages, "settings.html", "Cookie settings", page)
}

// choose records a choice from the banner or the settings page: Accept
// all, Reject all, or the ticked categories (Save choices). Every choice
// is a new record with a new id, and the consent cookie then names it;
// cookies of the categories refused are removed from the browser.
func (h *handler) choose(w http.ResponseWriter, r *http.Request) error {
	cats := h.Inventory().ConsentCategories()
	if len(cats) == 0 {
		return errNothingToChoose
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	choices := map[privacy.CookieCategory]bool{}
	var action privacy.ConsentAction
	switch r.PostForm.Get("choice") {
	case "accept":
		action = privacy.AcceptAll
		for _, k := range cats {
			choices[k] = true
		}
	case "reject":
		action = privacy.RejectAll
		for _, k := range cats {
			choices[k] = false
		}
	case "save":
		action = privacy.Choose
		ticked := r.PostForm["category"]
		for _, k := range cats {
			choices[k] = slices.Contains(ticked, string(k))
		}
	default:
		return web.BadRequest("Choose “Accept all”, “Reject all” or “Save choices”.")
	}
	ctx, now := r.Context(), h.Clock().Now()
	// The version of the cookie policy that describes the cookies offered:
	// the page cache renders the banner from the same registry, and a
	// change of the policy renders it again.
	policy, err := privacy.CurrentOf(ctx, h.DB(), h.Inventory(), privacy.CookiePolicy, privacy.Facts{HTTPS: h.HTTPS()}, now)
	if err != nil {
		return err
	}
	rec := privacy.CookieConsent{ID: privacy.NewConsentID(), GivenAt: now, PolicySeq: policy.Version.Seq, Action: action, Choices: choices}
	if err := privacy.RecordCookieConsent(ctx, h.DB(), rec); err != nil {
		return err
	}
	h.SetConsentCookie(w, web.Consent{ID: rec.ID, Given: now, Choices: choices})
	h.ClearOptionalCookies(w, r, choices)
	back := web.SafeConsentBack(r.PostForm.Get("back"))
	if back == web.ConsentSettingsPath {
		back += "?done=saved"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
