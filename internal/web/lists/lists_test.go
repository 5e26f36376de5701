package lists_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, "lists") }

var confirmRE = regexp.MustCompile(`http://127\.0\.0\.1:8080/newsletter/confirm\?t=([A-Za-z0-9_-]+)`)

// mailedToken is the token of the newest confirmation mailed to to.
func mailedToken(t *testing.T, d *db.DB, to string) string {
	t.Helper()
	var text string
	if err := d.QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE template = 'list-confirm' AND to_addr = $1 ORDER BY id DESC LIMIT 1`, to).Scan(&text); err != nil {
		t.Fatal(err)
	}
	m := confirmRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	return m[1]
}

// unsubscribePath is the path of the unsubscribe link of list key's mail
// to its only recipient.
func unsubscribePath(t *testing.T, s *webtest.Site, key string) (string, unsubscribe.Token) {
	t.Helper()
	l, err := lists.Find(context.Background(), s.DB, key)
	if err != nil {
		t.Fatal(err)
	}
	for r, err := range lists.Recipients(context.Background(), s.DB, l.ID) {
		if err != nil {
			t.Fatal(err)
		}
		tok := r.Token(l.ID, 0)
		return strings.TrimPrefix(unsubscribe.URL(s.Srv.BaseURL(), s.Srv.Secret(), tok), webtest.BaseURL), tok
	}
	t.Fatalf("no recipient on %s", key)
	return "", unsubscribe.Token{}
}

// oneClick posts as a mailbox provider does (RFC 8058): no cookies, the
// one-click body, a foreign Origin or none, no Sec-Fetch-Site.
func oneClick(t *testing.T, s *webtest.Site, path string, origin string) (*http.Response, string) {
	t.Helper()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return webtest.NewBrowser(s).Do(t, http.MethodPost, path, url.Values{"List-Unsubscribe": {"One-Click"}}, h)
}

// TestSubscribeConfirmUnsubscribe: the whole way of a visitor without an
// account, with every replay and forgery on the way.
func TestSubscribeConfirmUnsubscribe(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		res, body := b.Get(t, "/newsletter")
		webtest.WantStatus(t, res, body, http.StatusOK)
		l := lists.List{Key: lists.NewsletterKey, Name: "Newsletter"}
		webtest.MustContain(t, body, `action="/newsletter"`, `value="newsletter" checked`, html.EscapeString(lists.Wording(l, "Milterworks")), "Release announcements for ")
		webtest.MustNotContain(t, body, "<script")
		_, home := b.Get(t, "/")
		webtest.MustContain(t, home, `<a href="/newsletter">Newsletter</a>`) // every page's footer

		res, body = b.Post(t, "/newsletter", url.Values{"list": {"nope"}, "email": {"x"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Choose one of the lists", "Enter your email address")

		res, body = b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"Vera@Example.com"}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Check your mail", "vera@example.com")
		tok := mailedToken(t, d, "vera@example.com")

		// The link's page asks; a GET subscribes no one.
		res, body = b.Get(t, "/newsletter/confirm?t="+tok)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `action="/newsletter/confirm"`, `name="t" value="`+tok+`"`, "Yes, subscribe me")
		if n := webtest.Count(t, d, `SELECT count(*) FROM list_members`); n != 0 {
			t.Fatal("opening the link subscribed")
		}
		for _, bad := range []string{"", tok + "A", "abc"} {
			res, body = b.Get(t, "/newsletter/confirm?t="+bad)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustContain(t, body, "This confirmation link is not valid")
			res, body = b.Post(t, "/newsletter/confirm", url.Values{"t": {bad}})
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}
		s.Clock.Advance(time.Minute)
		res, body = webtest.NewBrowser(s).Post(t, "/newsletter/confirm", url.Values{"t": {tok}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "You are subscribed", "vera@example.com")
		var confirmed time.Time
		var wording string
		if err := d.QueryRowContext(context.Background(), `SELECT confirmed_at, wording FROM list_members WHERE email = 'vera@example.com'`).Scan(&confirmed, &wording); err != nil {
			t.Fatal(err)
		}
		if !confirmed.Equal(s.Clock.Now()) || wording != lists.Wording(l, "Milterworks") {
			t.Fatalf("proof: %v %q", confirmed, wording)
		}
		// Replayed: a clear page, nothing changed.
		res, body = b.Post(t, "/newsletter/confirm", url.Values{"t": {tok}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Already confirmed", "Nothing was changed")
		res, body = b.Get(t, "/newsletter/confirm?t="+tok)
		webtest.MustContain(t, body, "Already confirmed")
		if n := webtest.Count(t, d, `SELECT count(*) FROM list_members`); n != 1 {
			t.Fatalf("%d members after a replay", n)
		}

		// The unsubscribe link: GET asks and changes nothing.
		path, utok := unsubscribePath(t, s, lists.NewsletterKey)
		res, body = webtest.NewBrowser(s).Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Stop receiving “Newsletter”?", `action="`+path+`/confirm"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM unsubscribes`); n != 0 {
			t.Fatal("GET unsubscribed")
		}
		// Tampered links are 404 with a clear message.
		for _, bad := range []string{path[:len(path)-2] + "xx", "/unsubscribe/abc", "/unsubscribe/" + unsubscribe.Sign([]byte("another secret"), utok)} {
			res, body = oneClick(t, s, bad, "")
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustContain(t, body, "This unsubscribe link is not valid")
			res, body = webtest.NewBrowser(s).Get(t, bad)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}
		// One click, as a mailbox provider sends it: no cookie, no form
		// token, a foreign Origin; 200 and no redirect.
		s.Clock.Advance(time.Hour)
		res, body = oneClick(t, s, path, "https://mail.provider.example")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if res.Header.Get("Location") != "" || len(res.Cookies()) != 0 {
			t.Fatalf("one-click answered with a redirect or cookies: %v", res.Header)
		}
		webtest.MustContain(t, body, "You are unsubscribed")
		var processed time.Time
		if err := d.QueryRowContext(context.Background(), `SELECT processed_at FROM unsubscribes WHERE subscriber_id = $1 AND via = 'one-click'`, utok.Subscriber).Scan(&processed); err != nil {
			t.Fatal(err)
		}
		if !processed.Equal(s.Clock.Now()) {
			t.Fatalf("processed at %v, the clock says %v", processed, s.Clock.Now())
		}
		// Again, by one click or by the page: already unsubscribed.
		res, body = oneClick(t, s, path, "")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Already unsubscribed")
		res, body = webtest.NewBrowser(s).Get(t, path)
		webtest.MustContain(t, body, "Already unsubscribed")
		res, body = webtest.NewBrowser(s).Post(t, path+"/confirm", nil)
		webtest.MustContain(t, body, "Already unsubscribed")
		if n := webtest.Count(t, d, `SELECT count(*) FROM unsubscribes`); n != 1 {
			t.Fatalf("%d unsubscribes recorded", n)
		}
		// Subscribing again works, with a new confirmation.
		res, body = b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"vera@example.com"}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, body = b.Post(t, "/newsletter/confirm", url.Values{"t": {mailedToken(t, d, "vera@example.com")}})
		webtest.MustContain(t, body, "You are subscribed")
		// The page's button unsubscribes too (via page).
		path, _ = unsubscribePath(t, s, lists.NewsletterKey)
		res, body = webtest.NewBrowser(s).Post(t, path+"/confirm", nil)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "You are unsubscribed")
		if n := webtest.Count(t, d, `SELECT count(*) FROM unsubscribes WHERE via = 'page'`); n != 1 {
			t.Fatalf("%d page unsubscribes", n)
		}
	})
}

// TestOneClickExemptionIsExactlyOneRoute: a cross-site POST is refused
// everywhere but the one-click route, and that route does nothing without
// the one-click body.
func TestOneClickExemptionIsExactlyOneRoute(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	b := webtest.NewBrowser(s)
	b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"wim@example.com"}})
	b.Post(t, "/newsletter/confirm", url.Values{"t": {mailedToken(t, s.DB, "wim@example.com")}})
	path, _ := unsubscribePath(t, s, lists.NewsletterKey)

	crossSite := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	for _, target := range []string{path + "/confirm", "/newsletter", "/newsletter/confirm", "/account/privacy/choices"} {
		res, body := webtest.NewBrowser(s).Do(t, http.MethodPost, target, url.Values{"List-Unsubscribe": {"One-Click"}, "list": {"newsletter"}, "email": {"x@example.com"}}, crossSite)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
	}
	// Without the one-click body the exempt route changes nothing.
	for _, form := range []url.Values{{}, {"List-Unsubscribe": {"one-click"}}, {"List-Unsubscribe": {"One-Click "}}} {
		res, body := webtest.NewBrowser(s).Do(t, http.MethodPost, path, form, crossSite)
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
	}
	if n := webtest.Count(t, s.DB, `SELECT count(*) FROM unsubscribes`); n != 0 {
		t.Fatal("a refused request unsubscribed")
	}
	// With it, even a browser-marked cross-site request goes through.
	res, body := webtest.NewBrowser(s).Do(t, http.MethodPost, path, url.Values{"List-Unsubscribe": {"One-Click"}}, crossSite)
	webtest.WantStatus(t, res, body, http.StatusOK)
	if n := webtest.Count(t, s.DB, `SELECT count(*) FROM unsubscribes WHERE via = 'one-click'`); n != 1 {
		t.Fatalf("%d one-click unsubscribes", n)
	}
	// A multipart body, as some providers send, works the same.
	b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"wim@example.com"}})
	b.Post(t, "/newsletter/confirm", url.Values{"t": {mailedToken(t, s.DB, "wim@example.com")}})
	path, _ = unsubscribePath(t, s, lists.NewsletterKey)
	req := strings.NewReader("--XX\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XX--\r\n")
	rec := httptestPost(t, s, path, "multipart/form-data; boundary=XX", req)
	if rec.StatusCode != http.StatusOK {
		t.Fatalf("multipart one-click: %d", rec.StatusCode)
	}
}

// TestSubscribeRateLimits: confirmations to one address are capped per day.
func TestSubscribeRateLimits(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	b := webtest.NewBrowser(s)
	for i := range 4 {
		res, body := b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"flood@example.com"}})
		want := http.StatusOK
		if i == 3 {
			want = http.StatusTooManyRequests
			webtest.MustContain(t, body, "We have sent many confirmation links lately")
		}
		webtest.WantStatus(t, res, body, want)
	}
	if n := webtest.Count(t, s.DB, `SELECT count(*) FROM outbox WHERE to_addr = 'flood@example.com'`); n != 3 {
		t.Fatalf("%d mails to one address", n)
	}
	s.Clock.Advance(25 * time.Hour)
	res, body := b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"flood@example.com"}})
	webtest.WantStatus(t, res, body, http.StatusOK)
	// Per network: many addresses from one network.
	s.Clock.Advance(2 * time.Hour)
	limited := 0
	for i := range 25 {
		res, _ := b.Post(t, "/newsletter", url.Values{"list": {"newsletter"}, "email": {"n" + webtest.Itoa(int64(i)) + "@example.com"}})
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("%d of 25 refused from one network, want 5", limited)
	}
}

// TestCustomerSubscriptions: a customer's subscription shows on their
// privacy page with its words; its button ends it; withdrawing the
// consent ends them all; a notice's link records an objection.
func TestCustomerSubscriptions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "kim@example.com")
		res, body := b.Get(t, "/newsletter")
		webtest.MustContain(t, body, `value="kim@example.com"`)
		offered, _ := lists.Offered(context.Background(), d)
		for _, l := range offered {
			res, body = b.Post(t, "/newsletter", url.Values{"list": {l.Key}, "email": {"kim@example.com"}})
			webtest.WantStatus(t, res, body, http.StatusOK)
			res, body = b.Post(t, "/newsletter/confirm", url.Values{"t": {mailedToken(t, d, "kim@example.com")}})
			webtest.MustContain(t, body, "You are subscribed", "/account/privacy")
		}
		if len(offered) < 2 {
			t.Fatalf("offered %+v", offered)
		}
		res, body = b.Get(t, "/account/privacy")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your subscriptions", html.EscapeString(lists.Wording(offered[1], "Milterworks")), "Unsubscribe from "+offered[1].Name)
		ms, _ := lists.OfCustomer(context.Background(), d, c.ID)
		res, _ = b.Post(t, "/account/privacy/lists/"+webtest.Itoa(ms[0].ID)+"/leave", nil)
		webtest.WantRedirect(t, res, "/account/privacy?done=unsubscribed")
		res, body = b.Get(t, "/account/privacy?done=unsubscribed")
		webtest.MustContain(t, body, "You are unsubscribed from that list.")
		if n := webtest.Count(t, d, `SELECT count(*) FROM unsubscribes WHERE customer_id = $1 AND via = 'account'`, c.ID); n != 1 {
			t.Fatalf("%d account unsubscribes", n)
		}
		// Another's subscription is not theirs to end.
		other, _ := webtest.SignedInCustomer(t, s, "lou@example.com")
		res, body = other.Post(t, "/account/privacy/lists/"+webtest.Itoa(ms[1].ID)+"/leave", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		// Withdrawing the consent ends the rest.
		res, _ = b.Post(t, "/account/privacy/choices", url.Values{"choice": {"consent"}, "purpose": {"marketing"}, "on": {"0"}})
		webtest.WantRedirect(t, res, "/account/privacy")
		if left, _ := lists.OfCustomer(context.Background(), d, c.ID); len(left) != 0 {
			t.Fatalf("still subscribed after withdrawing the consent: %+v", left)
		}
		res, body = b.Get(t, "/account/privacy")
		webtest.MustContain(t, body, "You are on none of our mailing lists")

		// A security notice's link (no list): an objection, once.
		path := strings.TrimPrefix(unsubscribe.URL(s.Srv.BaseURL(), s.Srv.Secret(), unsubscribe.Token{Customer: c.ID, Purpose: "notices", Notice: 9}), webtest.BaseURL)
		res, body = webtest.NewBrowser(s).Get(t, path)
		webtest.MustContain(t, body, "Stop receiving “Product updates and security notices”?")
		res, body = oneClick(t, s, path, "")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if ch, _ := privacy.LoadChoices(context.Background(), d, c.ID); ch.Objections["notices"].IsZero() {
			t.Fatal("no objection recorded")
		}
		res, body = oneClick(t, s, path, "")
		webtest.MustContain(t, body, "Already unsubscribed")
		if len(webtest.AuditActions(t, d, "privacy.unsubscribed")) != 2 {
			t.Fatalf("audit entries: %+v", webtest.AuditActions(t, d, "privacy.unsubscribed"))
		}
	})
}

// httptestPost sends a body of content type ct without any cookie.
func httptestPost(t *testing.T, s *webtest.Site, path, ct string, body *strings.Reader) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, body)
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	s.H.ServeHTTP(rec, req)
	return rec.Result()
}

// TestOneClickIsNeverRateLimited: a mailbox provider unsubscribing many
// recipients of one notice from one network is never refused.
func TestOneClickIsNeverRateLimited(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	ctx := context.Background()
	l := lists.List{Key: lists.NewsletterKey, Name: "Newsletter"}
	const n = 40
	for i := range n {
		email := "r" + webtest.Itoa(int64(i)) + "@example.com"
		if err := lists.Subscribe(ctx, s.DB, lists.Request{List: l, Email: email, Wording: "w", SiteName: "M", BaseURL: webtest.BaseURL}, s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := lists.Confirm(ctx, s.DB, mailedToken(t, s.DB, email), s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	l, _ = lists.Find(ctx, s.DB, lists.NewsletterKey)
	for r, err := range lists.Recipients(ctx, s.DB, l.ID) {
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(unsubscribe.URL(s.Srv.BaseURL(), s.Srv.Secret(), r.Token(l.ID, 0)), webtest.BaseURL)
		res, body := oneClick(t, s, path, "")
		webtest.WantStatus(t, res, body, http.StatusOK)
	}
	if got := webtest.Count(t, s.DB, `SELECT count(*) FROM unsubscribes WHERE via = 'one-click'`); got != n {
		t.Fatalf("%d of %d unsubscribed", got, n)
	}
}
