package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/privacy"
)

// Cookie consent, in the core because every page's layout asks it whether
// to show the banner and any area may want to set an optional cookie. The
// banner's own pages and the recording of a choice are the consent area
// (internal/web/consent); docs/cookies.md tells the whole story.
//
// The site asks for consent only when its cookie registry (Inventory:
// privacy.Declared plus Options.ExtraCookies) holds a cookie that needs
// it. Today none does: no banner, no consent cookie, no record.

// The consent area's addresses, which the layout's banner and footer link
// to.
const (
	ConsentPath         = "/cookies/consent"  // POST: record a choice
	ConsentSettingsPath = "/cookies/settings" // GET: the choices again
)

// consentCookieTTL is how long a choice is remembered; then the banner
// asks again (the registry's entry for sk_consent says so).
const consentCookieTTL = 180 * 24 * time.Hour

// Inventory is the site's data inventory with its active cookie registry:
// the one the cookie policy, the banner and SetOptionalCookie read.
func (s *Server) Inventory() privacy.Inventory { return s.inventory }

// ConsentCookieName is the consent cookie's name: __Host- prefixed over
// HTTPS, like the session cookies.
func (s *Server) ConsentCookieName() string {
	if s.https {
		return "__Host-sk_consent"
	}
	return "sk_consent"
}

// Consent is a browser's recorded choice about optional cookies, as its
// consent cookie carries it.
type Consent struct {
	// ID names the record of the choice (privacy.CookieConsent).
	ID    string
	Given time.Time
	// Choices are the categories the browser was asked about, each with
	// whether it agreed.
	Choices map[privacy.CookieCategory]bool
}

// consentKey signs consent cookies, derived from the installation secret
// so that no other signature of the site can stand for one.
func (s *Server) consentKey() []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("cookie consent v1"))
	return m.Sum(nil)
}

func (s *Server) consentSignature(id, issued, choices string) string {
	m := hmac.New(sha256.New, s.consentKey())
	for _, part := range []string{id, issued, choices} {
		m.Write([]byte(part))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// encodeChoices writes choices in the categories' order:
// "statistics=1+marketing=0".
func encodeChoices(choices map[privacy.CookieCategory]bool) string {
	var parts []string
	for _, k := range privacy.OptionalCategories {
		if on, ok := choices[k]; ok {
			v := "0"
			if on {
				v = "1"
			}
			parts = append(parts, string(k)+"="+v)
		}
	}
	return strings.Join(parts, "+")
}

func decodeChoices(s string) (map[privacy.CookieCategory]bool, bool) {
	out := map[privacy.CookieCategory]bool{}
	if s == "" {
		return out, true
	}
	for _, part := range strings.Split(s, "+") {
		name, v, ok := strings.Cut(part, "=")
		k := privacy.CookieCategory(name)
		if !ok || (v != "0" && v != "1") || !slices.Contains(privacy.OptionalCategories, k) {
			return nil, false
		}
		if _, dup := out[k]; dup {
			return nil, false
		}
		out[k] = v == "1"
	}
	return out, true
}

// SetConsentCookie remembers c in the browser: the record's id, the time,
// the choices and a signature over them.
func (s *Server) SetConsentCookie(w http.ResponseWriter, c Consent) {
	issued := strconv.FormatInt(c.Given.Unix(), 10)
	choices := encodeChoices(c.Choices)
	http.SetCookie(w, &http.Cookie{
		Name: s.ConsentCookieName(), Value: c.ID + "." + issued + "." + choices + "." + s.consentSignature(c.ID, issued, choices),
		Path: "/", HttpOnly: true, Secure: s.https, SameSite: http.SameSiteLaxMode,
		MaxAge: int(consentCookieTTL / time.Second),
	})
}

// Consent returns the browser's recorded choice, or false when its
// request carries none that the site signed and that is still current: a
// missing, garbled, forged or expired cookie counts as no choice, never
// as one.
func (s *Server) Consent(r *http.Request) (Consent, bool) {
	ck, err := r.Cookie(s.ConsentCookieName())
	if err != nil || len(ck.Value) > 300 {
		return Consent{}, false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 {
		return Consent{}, false
	}
	id, issued, choices, sig := parts[0], parts[1], parts[2], parts[3]
	if !hmac.Equal([]byte(sig), []byte(s.consentSignature(id, issued, choices))) {
		return Consent{}, false
	}
	at, err := strconv.ParseInt(issued, 10, 64)
	if err != nil {
		return Consent{}, false
	}
	given := time.Unix(at, 0).UTC()
	if age := s.clock.Now().Sub(given); age < -time.Minute || age > consentCookieTTL {
		return Consent{}, false
	}
	m, ok := decodeChoices(choices)
	if !ok || id == "" {
		return Consent{}, false
	}
	return Consent{ID: id, Given: given, Choices: m}, true
}

// Consented reports whether the browser agreed to cookies of category c.
// Strictly necessary cookies need no consent.
func (s *Server) Consented(r *http.Request, c privacy.CookieCategory) bool {
	if c == privacy.Necessary {
		return true
	}
	got, ok := s.Consent(r)
	return ok && got.Choices[c]
}

// ConsentNeeded reports whether the banner asks this browser: the
// registry holds a cookie that needs consent, and the browser has not yet
// answered for each of the categories it uses (a category added since is
// asked about again).
func (s *Server) ConsentNeeded(r *http.Request) bool {
	cats := s.inventory.ConsentCategories()
	if len(cats) == 0 {
		return false
	}
	got, ok := s.Consent(r)
	if !ok {
		return true
	}
	for _, k := range cats {
		if _, answered := got.Choices[k]; !answered {
			return true
		}
	}
	return false
}

// ConsentVariant is what a cache of rendered public pages adds to its key:
// the page with the banner differs from the page without it, and which one
// a browser gets is decided for each request.
func (s *Server) ConsentVariant(r *http.Request) string {
	if s.ConsentNeeded(r) {
		return "\x00consent-banner"
	}
	return ""
}

// SetOptionalCookie sets c only if the registry declares it and the
// browser agreed to its category (a strictly necessary one is set at
// once), and reports whether it did. Without consent it does nothing: no
// cookie, no error for the visitor. This is the one way for code to set a
// cookie that needs consent; the scenario-test harness fails any answer
// that sets one otherwise without the browser's consent.
func (s *Server) SetOptionalCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) bool {
	decl, ok := s.inventory.Cookie(strings.TrimPrefix(c.Name, "__Host-"))
	if !ok {
		s.log.LogAttrs(r.Context(), slog.LevelError, "refused to set a cookie the registry does not declare",
			slog.String("cookie", c.Name), slog.String("route", info(r).route))
		return false
	}
	if !s.Consented(r, decl.Category) {
		return false
	}
	http.SetCookie(w, c)
	return true
}

// ClearOptionalCookies removes from the browser the cookies of every
// category it does not (or no longer) agree to, under both the plain and
// the __Host- name: withdrawing consent takes away what it allowed.
func (s *Server) ClearOptionalCookies(w http.ResponseWriter, r *http.Request, choices map[privacy.CookieCategory]bool) {
	for _, c := range s.inventory.Cookies {
		if c.Essential() || choices[c.Category] {
			continue
		}
		for _, name := range []string{c.Name, "__Host-" + c.Name} {
			if _, err := r.Cookie(name); err != nil {
				continue
			}
			http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
				Secure: s.https || strings.HasPrefix(name, "__Host-"), MaxAge: -1})
		}
	}
}

// SafeConsentBack accepts only a local path outside the console and the
// API as the page to return to after a choice; anything else becomes /.
func SafeConsentBack(back string) string {
	return safeNext(back, "/", []string{""}, []string{"/staff", "/api", ConsentPath})
}

// ConsentBanner is what the layout's banner shows: the categories it
// offers a choice for and the page to come back to.
type ConsentBanner struct {
	Categories []privacy.CookieCategory
	Back       string
}

// consentBanner is the banner for the request, or nil.
func (s *Server) consentBanner(r *http.Request) *ConsentBanner {
	if r.URL.Path == ConsentSettingsPath || !s.ConsentNeeded(r) {
		return nil
	}
	return &ConsentBanner{Categories: s.inventory.ConsentCategories(), Back: r.URL.Path}
}
