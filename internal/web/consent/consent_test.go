package consent_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, "consent") }

// statsCookie is the test registry's one cookie that needs consent.
var statsCookie = privacy.Cookie{Name: "sk_stats", Category: privacy.Statistics, Subject: privacy.Visitor,
	Purpose: "counts visits for the test", Duration: "1 day"}

var marketingCookie = privacy.Cookie{Name: "sk_ads", Category: privacy.Marketing, Subject: privacy.Visitor,
	Purpose: "measures advertising for the test", Duration: "1 day"}

// bannerSite is a site whose registry holds statsCookie (and extra), with
// a route that tries to set it through the gate and answers whether it
// did.
func bannerSite(t *testing.T, d *db.DB, extra ...privacy.Cookie) *webtest.Site {
	t.Helper()
	s := webtest.NewSite(t, d, webtest.WithExtraCookies(append([]privacy.Cookie{statsCookie}, extra...)...))
	mountGate(s)
	return s
}

func mountGate(s *webtest.Site) {
	s.Srv.Handle("GET /test/optional", func(w http.ResponseWriter, r *http.Request) error {
		set := s.Srv.SetOptionalCookie(w, r, &http.Cookie{Name: "sk_stats", Value: "counted", Path: "/", MaxAge: 86400})
		_, err := fmt.Fprint(w, set)
		return err
	})
}

const bannerMark = `class="consent-banner"`

// banner is the banner's markup in a page.
func banner(page string) string {
	_, after, ok := strings.Cut(page, bannerMark)
	if !ok {
		return ""
	}
	b, _, _ := strings.Cut(after, "</section>")
	return b
}

// The real registry holds strictly necessary cookies only: no banner and
// no "Cookie settings" on any page, the consent routes answer 404, the
// policies do not speak of consent records or the consent cookie, and
// nothing is recorded.
func TestNoBannerWhileEveryCookieIsNecessary(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		if s.Srv.Inventory().AsksConsent() {
			t.Fatal("the real registry asks for consent: every declared cookie should be strictly necessary")
		}
		b := webtest.NewBrowser(s)
		for _, target := range []string{"/", "/", "/products/mailguard", "/pricing", "/privacy", "/cookies", "/support", "/account/login", "/no/such/page"} {
			res, body := b.Get(t, target)
			webtest.MustNotContain(t, body, bannerMark, "Cookie settings", "Accept all")
			if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
				t.Errorf("GET %s set cookies %v", target, c)
			}
		}
		res, _ := b.Get(t, web.ConsentSettingsPath)
		webtest.WantStatus(t, res, "", http.StatusNotFound)
		res, _ = b.Post(t, web.ConsentPath, url.Values{"choice": {"accept"}})
		webtest.WantStatus(t, res, "", http.StatusNotFound)
		if _, ok := b.Cookies["sk_consent"]; ok {
			t.Error("a consent cookie was set with nothing to consent to")
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM cookie_consents`); n != 0 {
			t.Errorf("%d consent records with nothing to consent to", n)
		}
		_, cookies := b.Get(t, "/cookies")
		webtest.MustContain(t, cookies, "<h2 id=\"cookies-necessary\">Strictly necessary</h2>", "<code>sk_customer</code>", "That is why you see no cookie banner here")
		webtest.MustNotContain(t, cookies, "sk_consent", "Statistics")
		_, policy := b.Get(t, "/privacy")
		webtest.MustNotContain(t, policy, "Proof of cookie consent", "cookie consent")
	})
}

// consentRecord is a row of cookie_consents.
type consentRecord struct {
	ID, Action  string
	Seq         int
	Preferences sql.NullBool
	Statistics  sql.NullBool
	Marketing   sql.NullBool
}

func records(t *testing.T, d *db.DB) []consentRecord {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT consent_id, action, policy_seq, preferences, statistics, marketing FROM cookie_consents ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []consentRecord
	for rows.Next() {
		var r consentRecord
		if err := rows.Scan(&r.ID, &r.Action, &r.Seq, &r.Preferences, &r.Statistics, &r.Marketing); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func cookiePolicySeq(t *testing.T, d *db.DB) int {
	t.Helper()
	v, err := privacy.LatestVersion(context.Background(), d, privacy.CookiePolicy)
	if err != nil {
		t.Fatal(err)
	}
	return v.Seq
}

// consentID is the record id the browser's consent cookie names.
func consentID(t *testing.T, b *webtest.Browser) string {
	t.Helper()
	v, ok := b.Cookies["sk_consent"]
	if !ok {
		t.Fatal("the browser has no consent cookie")
	}
	id, _, _ := strings.Cut(v, ".")
	return id
}

func gate(t *testing.T, b *webtest.Browser) bool {
	t.Helper()
	_, body := b.Get(t, "/test/optional")
	return body == "true"
}

// With a cookie that needs consent the banner shows on public and account
// pages, cached or not, with Accept all and Reject all side by side and an
// unticked box per category; the cookie policy lists the cookie under its
// category and the consent cookie beside the necessary ones. Until a
// choice is made the gate sets nothing.
func TestBannerShowsWithAnOptionalCookie(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d)
		b := webtest.NewBrowser(s)
		for _, target := range []string{"/", "/", "/products/mailguard", "/pricing", "/privacy", "/cookies", "/support", "/account/login", "/no/such/page"} {
			_, body := b.Get(t, target)
			webtest.MustContain(t, body, bannerMark,
				`<button type="submit" name="choice" value="accept">Accept all</button>`,
				`<button type="submit" name="choice" value="reject">Reject all</button>`,
				`<input type="checkbox" id="consent-banner-statistics" name="category" value="statistics">`,
				`value="save">Save choices</button>`,
				`<form method="post" action="/cookies/consent" class="consent-form">`,
				`<input type="hidden" name="back" value="`+strings.Split(target, "?")[0]+`">`,
				`href="/cookies/settings"`, "Cookie settings")
			webtest.MustNotContain(t, banner(body), "checked", "Marketing", "Preferences")
		}
		if gate(t, b) {
			t.Error("the gate set an optional cookie before any choice")
		}
		if _, ok := b.Cookies["sk_stats"]; ok {
			t.Error("sk_stats set before any choice")
		}
		_, cookies := b.Get(t, "/cookies")
		webtest.MustContain(t, cookies, `<h2 id="cookies-statistics">Statistics</h2>`, "<code>sk_stats</code>",
			"Statistics: set only with your consent", "<code>sk_consent</code>", `href="/cookies/settings"`)
		webtest.MustNotContain(t, cookies, "That is why you see no cookie banner here")
		if strings.Index(cookies, "sk_consent") > strings.Index(cookies, "sk_stats") {
			t.Error("the cookie policy does not list the necessary cookies before the statistics ones")
		}
		_, policy := b.Get(t, "/privacy")
		webtest.MustContain(t, policy, "Proof of cookie consent")
		// The console has its own layout and no banner.
		_, login := b.Get(t, "/staff/login")
		webtest.MustNotContain(t, login, bannerMark)
	})
}

// Reject all: a record with the policy version and every category
// refused, the banner gone on the next pages (the page cache serves each
// browser its variant), and the gate never sets the cookie.
func TestRejectAll(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d)
		b := webtest.NewBrowser(s)
		b.Get(t, "/pricing") // renders the banner variant into the cache
		res, _ := b.Post(t, web.ConsentPath, url.Values{"choice": {"reject"}, "back": {"/pricing"}})
		webtest.WantStatus(t, res, "", http.StatusSeeOther)
		if loc := res.Header.Get("Location"); loc != "/pricing" {
			t.Errorf("after the choice, Location %q, want /pricing", loc)
		}
		recs := records(t, d)
		if len(recs) != 1 {
			t.Fatalf("%d records, want 1", len(recs))
		}
		r := recs[0]
		if r.Action != "reject_all" || !r.Statistics.Valid || r.Statistics.Bool || r.Preferences.Valid || r.Marketing.Valid {
			t.Errorf("record %+v, want reject_all with statistics false and the categories not offered NULL", r)
		}
		if seq := cookiePolicySeq(t, d); r.Seq != seq || seq == 0 {
			t.Errorf("record names cookie policy version %d, the current one is %d", r.Seq, seq)
		}
		if r.ID != consentID(t, b) || len(r.ID) < 22 {
			t.Errorf("the cookie names record %q, the record is %q", consentID(t, b), r.ID)
		}
		for _, target := range []string{"/pricing", "/", "/cookies", "/account/login"} {
			_, body := b.Get(t, target)
			webtest.MustNotContain(t, body, bannerMark)
			webtest.MustContain(t, body, `href="/cookies/settings"`)
		}
		if gate(t, b) {
			t.Error("the gate set the optional cookie after Reject all")
		}
		if _, ok := b.Cookies["sk_stats"]; ok {
			t.Error("sk_stats set after Reject all")
		}
		// Another browser, without a choice, still gets the banner from
		// the same cache.
		_, body := webtest.NewBrowser(s).Get(t, "/pricing")
		webtest.MustContain(t, body, bannerMark)
	})
}

// Accept all: the record says so and the gate sets the cookie.
func TestAcceptAll(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d, marketingCookie)
		b := webtest.NewBrowser(s)
		_, body := b.Get(t, "/")
		webtest.MustContain(t, body, "for statistics and marketing.", `value="marketing"`)
		res, _ := b.Post(t, web.ConsentPath, url.Values{"choice": {"accept"}, "back": {"/products/mailguard"}})
		if loc := res.Header.Get("Location"); loc != "/products/mailguard" {
			t.Errorf("Location %q", loc)
		}
		recs := records(t, d)
		if len(recs) != 1 || recs[0].Action != "accept_all" || !recs[0].Statistics.Bool || !recs[0].Marketing.Bool || recs[0].Preferences.Valid {
			t.Fatalf("records %+v, want one accept_all with statistics and marketing true", recs)
		}
		if !gate(t, b) || b.Cookies["sk_stats"] != "counted" {
			t.Error("the gate did not set the optional cookie after Accept all")
		}
		_, body = b.Get(t, "/")
		webtest.MustNotContain(t, body, bannerMark)
	})
}

// Save choices records one choice per category; nothing is ticked unless
// the visitor ticks it.
func TestChoicePerCategory(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d, marketingCookie)
		b := webtest.NewBrowser(s)
		b.Post(t, web.ConsentPath, url.Values{"choice": {"save"}, "category": {"statistics"}, "back": {"/"}})
		recs := records(t, d)
		if len(recs) != 1 || recs[0].Action != "choose" || !recs[0].Statistics.Bool || !recs[0].Marketing.Valid || recs[0].Marketing.Bool {
			t.Fatalf("records %+v, want one choose with statistics true and marketing false", recs)
		}
		if !gate(t, b) {
			t.Error("statistics were chosen, but the gate refused")
		}
		// Save with nothing ticked refuses everything.
		other := webtest.NewBrowser(s)
		other.Post(t, web.ConsentPath, url.Values{"choice": {"save"}, "back": {"/"}})
		recs = records(t, d)
		if r := recs[len(recs)-1]; r.Statistics.Bool || r.Marketing.Bool || !r.Statistics.Valid {
			t.Errorf("save with nothing ticked recorded %+v", r)
		}
		if gate(t, other) {
			t.Error("nothing was ticked, but the gate set the cookie")
		}
		// A category the registry does not use is ignored, not recorded.
		third := webtest.NewBrowser(s)
		third.Post(t, web.ConsentPath, url.Values{"choice": {"save"}, "category": {"preferences", "necessary"}, "back": {"/"}})
		if r := records(t, d)[2]; r.Preferences.Valid || r.Statistics.Bool {
			t.Errorf("unknown categories were recorded: %+v", r)
		}
		res, _ := third.Post(t, web.ConsentPath, url.Values{"choice": {"maybe"}})
		webtest.WantStatus(t, res, "", http.StatusBadRequest)
		if n := len(records(t, d)); n != 3 {
			t.Errorf("%d records after a refused form, want 3", n)
		}
	})
}

// The footer's link reopens the choices as they were made; changing one's
// mind there writes a new record, points the cookie at it, removes the
// cookie withdrawn and closes the gate: withdrawing takes one form, like
// giving.
func TestChangingOnesMind(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d)
		b := webtest.NewBrowser(s)
		_, settings := b.Get(t, web.ConsentSettingsPath)
		webtest.MustContain(t, settings, "<h1>Cookie settings</h1>", "You have not made a choice in this browser yet",
			`<input type="checkbox" id="consent-statistics" name="category" value="statistics">`)
		webtest.MustNotContain(t, settings, bannerMark, "checked")

		b.Post(t, web.ConsentPath, url.Values{"choice": {"accept"}, "back": {"/"}})
		if !gate(t, b) {
			t.Fatal("accepted, but the gate refused")
		}
		first := consentID(t, b)
		_, body := b.Get(t, "/")
		webtest.MustContain(t, body, `<a href="/cookies/settings">Cookie settings</a>`)
		_, settings = b.Get(t, web.ConsentSettingsPath)
		webtest.MustContain(t, settings, `value="statistics" checked>`, "<code>"+first+"</code>",
			fmt.Sprintf("with version %d of the cookie policy", cookiePolicySeq(t, d)))

		res, _ := b.Post(t, web.ConsentPath, url.Values{"choice": {"save"}, "back": {web.ConsentSettingsPath}})
		if loc := res.Header.Get("Location"); loc != web.ConsentSettingsPath+"?done=saved" {
			t.Errorf("Location %q", loc)
		}
		removed := false
		for _, c := range res.Cookies() {
			removed = removed || (c.Name == "sk_stats" && c.MaxAge < 0)
		}
		if !removed {
			t.Error("withdrawing did not remove the statistics cookie")
		}
		if _, ok := b.Cookies["sk_stats"]; ok {
			t.Error("the browser still holds sk_stats")
		}
		recs := records(t, d)
		if len(recs) != 2 || recs[1].Statistics.Bool || recs[1].ID == first || recs[1].ID != consentID(t, b) {
			t.Fatalf("records %+v, want a second one refusing statistics that the cookie names", recs)
		}
		if gate(t, b) {
			t.Error("withdrawn, but the gate still sets the cookie")
		}
		_, settings = b.Get(t, web.ConsentSettingsPath+"?done=saved")
		webtest.MustContain(t, settings, "Your choice is saved.")
		webtest.MustNotContain(t, settings, "checked")
	})
}

// A consent cookie the site did not sign as it stands is no choice: the
// banner asks again and the gate stays shut. So does one past its six
// months, and one that never answered for a category added since.
func TestForgedConsentIsIgnored(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d)
		real := webtest.NewBrowser(s)
		real.Post(t, web.ConsentPath, url.Values{"choice": {"reject"}, "back": {"/"}})
		valid := real.Cookies["sk_consent"]
		parts := strings.Split(valid, ".")
		if len(parts) != 4 || parts[2] != "statistics=0" {
			t.Fatalf("consent cookie %q, want id.time.choices.signature", valid)
		}
		for name, value := range map[string]string{
			"garbled":             "not-a-consent",
			"empty":               "",
			"choice flipped":      parts[0] + "." + parts[1] + ".statistics=1." + parts[3],
			"no signature":        parts[0] + "." + parts[1] + ".statistics=1.",
			"another id":          "AAAAAAAAAAAAAAAAAAAAAA." + parts[1] + "." + parts[2] + "." + parts[3],
			"unknown category":    parts[0] + "." + parts[1] + ".statistics=1+tracking=1." + parts[3],
			"extra part":          valid + ".x",
			"signed by stranger":  parts[0] + "." + parts[1] + ".statistics=1.c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZSwgbm90IHVz",
			"very long":           strings.Repeat("a", 400),
			"dated in the future": parts[0] + ".99999999999." + parts[2] + "." + parts[3],
		} {
			b := webtest.NewBrowser(s)
			b.Cookies["sk_consent"] = value
			_, body := b.Get(t, "/")
			if !strings.Contains(body, bannerMark) {
				t.Errorf("%s: a forged consent cookie hid the banner", name)
			}
			if gate(t, b) {
				t.Errorf("%s: a forged consent cookie opened the gate", name)
			}
		}

		// Six months on, the choice has lapsed.
		s.Clock.Advance(181 * 24 * time.Hour)
		_, body := real.Get(t, "/")
		webtest.MustContain(t, body, bannerMark)
		s.Clock.Advance(-181 * 24 * time.Hour)

		// A category added to the registry since is asked about; the
		// old answer still stands for the category it covered.
		more := s.Another(t, webtest.WithExtraCookies(statsCookie, marketingCookie))
		mountGate(more)
		b := webtest.NewBrowser(more)
		b.Cookies["sk_consent"] = valid
		_, body = b.Get(t, "/")
		webtest.MustContain(t, body, bannerMark, `value="marketing"`)
	})
}

// The choice is a state-changing form: another site cannot make it for
// the visitor.
func TestCrossSiteChoiceIsRefused(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := bannerSite(t, d)
		b := webtest.NewBrowser(s)
		for name, h := range map[string]http.Header{
			"cross-site":     {"Sec-Fetch-Site": {"cross-site"}},
			"foreign Origin": {"Origin": {"https://evil.example"}},
		} {
			res, _ := b.Do(t, http.MethodPost, web.ConsentPath, url.Values{"choice": {"accept"}, "back": {"/"}}, h)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s: status %d, want 403", name, res.StatusCode)
			}
		}
		if n := len(records(t, d)); n != 0 {
			t.Errorf("%d records from refused requests", n)
		}
		if _, ok := b.Cookies["sk_consent"]; ok {
			t.Error("a refused request set the consent cookie")
		}
		if gate(t, b) {
			t.Error("a refused request opened the gate")
		}
	})
}

// After a choice the browser goes back only to a page of this site.
func TestBackIsALocalPage(t *testing.T) {
	for in, want := range map[string]string{
		"/pricing":               "/pricing",
		"/products/mailguard":    "/products/mailguard",
		"":                       "/",
		"//evil.example/":        "/",
		"https://evil.example/":  "/",
		"/\\evil.example":        "/",
		"/staff/orders":          "/",
		"/cookies/consent":       "/",
		"/a/../staff":            "/",
		"/cookies/settings":      "/cookies/settings",
		"javascript:alert(1)":    "/",
		"/account/licenses?x=1#": "/account/licenses?x=1#",
	} {
		if got := web.SafeConsentBack(in); got != want {
			t.Errorf("SafeConsentBack(%q) = %q, want %q", in, got, want)
		}
	}
}

// Over HTTPS the consent cookie is __Host- prefixed and Secure.
func TestConsentCookieOverHTTPS(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d, webtest.WithBaseURL("https://shop.example"), webtest.WithExtraCookies(statsCookie))
	b := webtest.NewBrowser(s)
	res, _ := b.Do(t, http.MethodPost, web.ConsentPath, url.Values{"choice": {"reject"}, "back": {"/"}}, http.Header{"Origin": {"https://shop.example"}})
	webtest.WantStatus(t, res, "", http.StatusSeeOther)
	var found bool
	for _, c := range res.Cookies() {
		if c.Name == "__Host-sk_consent" {
			found = c.Secure && c.HttpOnly && c.Path == "/" && c.SameSite == http.SameSiteLaxMode && c.MaxAge == 180*24*3600
		}
	}
	if !found {
		t.Errorf("no __Host-sk_consent cookie with Secure, HttpOnly, Path=/, Lax and 180 days: %v", res.Header.Values("Set-Cookie"))
	}
}
