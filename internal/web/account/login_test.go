package account_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// acctMail returns the text of the newest email to to, with its template.
func acctMail(t *testing.T, d *db.DB, to string) (template, text string) {
	t.Helper()
	err := d.QueryRowContext(context.Background(), `SELECT template, text_body FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, to).
		Scan(&template, &text)
	if err != nil {
		t.Fatalf("no email to %s: %v", to, err)
	}
	return template, text
}

var (
	signInLinkRE  = regexp.MustCompile(`http://127\.0\.0\.1:8080(/account/verify\?token=([A-Za-z0-9_-]+)(?:&next=(\S+))?)`)
	confirmLinkRE = regexp.MustCompile(`http://127\.0\.0\.1:8080(/account/email/confirm\?token=([A-Za-z0-9_-]+))`)
)

// acctRequestLink asks for a sign-in link for email and returns the path it
// leads to and its token, read from the outbox.
func acctRequestLink(t *testing.T, b *webtest.Browser, email, next string) (path, token string) {
	t.Helper()
	form := url.Values{"email": {email}}
	if next != "" {
		form.Set("next", next)
	}
	res, body := b.Post(t, "/account/login", form)
	webtest.WantStatus(t, res, body, http.StatusOK)
	tmpl, text := acctMail(t, b.Site.DB, strings.ToLower(email))
	m := signInLinkRE.FindStringSubmatch(text)
	if tmpl != "signin" || m == nil {
		t.Fatalf("sign-in mail (%s) has no link:\n%s", tmpl, text)
	}
	return m[1], m[2]
}

// acctSignIn signs b in as email through the emailed link and the button.
func acctSignIn(t *testing.T, b *webtest.Browser, email string) {
	t.Helper()
	path, token := acctRequestLink(t, b, email, "")
	res, body := b.Get(t, path)
	webtest.WantStatus(t, res, body, http.StatusOK)
	res, body = b.Post(t, "/account/verify", url.Values{"token": {token}})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account") {
		t.Fatalf("sign-in: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

func TestCustomerSignInByEmailedLink(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)

		res, _ := b.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")
		if loc := res.Header.Get("Location"); loc != "/account/login" {
			t.Fatalf("redirect to %q", loc)
		}
		res, body := b.Get(t, "/account/login")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `action="/account/login"`, `name="email"`, `value="/account"`, `href="/account"`)
		if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
			t.Fatalf("the sign-in page set cookies %v", c)
		}

		path, token := acctRequestLink(t, b, "Ada@Example.com", "")
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers`); n != 0 {
			t.Fatalf("asking for a link created %d accounts", n)
		}
		_, text := acctMail(t, d, "ada@example.com")
		webtest.MustContain(t, text, "Milterworks", "15 minutes")
		if strings.Contains(path, "next=") {
			t.Fatalf("link %q carries a next without one being asked", path)
		}

		// Opening the link (as a mail scanner would) uses nothing.
		for range 2 {
			res, body = b.Get(t, path)
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `action="/account/verify"`, `value="`+token+`"`, "ada@example.com", "<button")
			if c := res.Header.Values("Set-Cookie"); len(c) > 0 {
				t.Fatalf("opening the link set cookies %v", c)
			}
			if res.Header.Get("Cache-Control") != "no-store" {
				t.Fatal("the link's page may be cached")
			}
		}
		res, _ = b.Post(t, "/account/verify", url.Values{"token": {token}})
		webtest.WantRedirect(t, res, "/account?done=welcome")
		var cookie *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "sk_customer" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
			t.Fatalf("session cookie %+v", cookie)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE email = 'ada@example.com'`); n != 1 {
			t.Fatalf("%d accounts after the first sign-in, want 1", n)
		}
		res, body = b.Get(t, "/account?done=welcome")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "<h1>Your account</h1>", "ada@example.com", "Welcome!", "No orders yet.", `action="/account/logout"`)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the account page may be cached")
		}
		// Signed in, the sign-in page sends the browser on.
		res, _ = b.Get(t, "/account/login")
		webtest.WantRedirect(t, res, "/account")

		// The link is spent: another browser gets a 410 with a way to ask
		// for a new one.
		other := webtest.NewBrowser(s)
		res, body = other.Post(t, "/account/verify", url.Values{"token": {token}})
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "cannot be used", `action="/account/login"`, `name="email"`)
		res, body = other.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusGone)
		if _, ok := other.Cookies["sk_customer"]; ok {
			t.Fatal("a spent link gave a session")
		}

		// The second sign-in opens the same account.
		b2 := webtest.NewBrowser(s)
		acctSignIn(t, b2, "ada@example.com")
		res, body = b2.Get(t, "/account")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustNotContain(t, body, "Welcome!")
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers`); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
	})
}

func TestCustomerSignInReturnsToTheRequestedPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		res, _ := b.Get(t, "/account/profile")
		webtest.WantRedirect(t, res, "/account/login?next=%2Faccount%2Fprofile")
		res, body := b.Get(t, "/account/login?next=/account/profile")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `value="/account/profile"`)

		path, token := acctRequestLink(t, b, "ada@example.com", "/account/profile")
		res, body = b.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `name="next" value="/account/profile"`)
		res, _ = b.Post(t, "/account/verify", url.Values{"token": {token}, "next": {"/account/profile"}})
		webtest.WantRedirect(t, res, "/account/profile")

		// Anywhere else is replaced by the account page.
		for _, next := range []string{"https://evil.example/", "//evil.example/account", `/\evil.example`, "/staff", "/account/login",
			"/accountant", "javascript:alert(1)", "/account/../staff"} {
			res, body := webtest.NewBrowser(s).Get(t, "/account/login?next="+url.QueryEscape(next))
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `name="next" value="/account"`)
		}
		for _, next := range []string{"/checkout?price=1", "/buy/mailguard", "/account/orders/A-1"} {
			res, body := webtest.NewBrowser(s).Get(t, "/account/login?next="+url.QueryEscape(next))
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `name="next" value="`+next+`"`)
		}
		// A POST without a session is refused rather than redirected.
		res, body = webtest.NewBrowser(s).Post(t, "/account/profile", url.Values{"name": {"X"}})
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)
	})
}

// TestCustomerSignInRevealsNoAccount: a known and an unknown address get
// the same answer, and each a link.
func TestCustomerSignInRevealsNoAccount(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		acctSignIn(t, webtest.NewBrowser(s), "known@example.com")
		answers := map[string]string{}
		for _, email := range []string{"known@example.com", "unknown@example.com"} {
			res, body := webtest.NewBrowser(s).Post(t, "/account/login", url.Values{"email": {email}})
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, "a sign-in link is on its way")
			answers[email] = strings.ReplaceAll(body, email, "ADDRESS")
			if tmpl, _ := acctMail(t, d, email); tmpl != "signin" {
				t.Fatalf("%s got a %s mail", email, tmpl)
			}
		}
		if answers["known@example.com"] != answers["unknown@example.com"] {
			t.Fatal("the answer differs between a known and an unknown address")
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers`); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
		res, body := webtest.NewBrowser(s).Post(t, "/account/login", url.Values{"email": {"not an address"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Enter your email address", `value="not an address"`)
	})
}

func TestCustomerSignInIsRateLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		acctSignIn(t, webtest.NewBrowser(s), "known@example.com")
		b := webtest.NewBrowser(s)
		sent := webtest.Count(t, d, `SELECT count(*) FROM outbox`)
		hits := 1
		// Per address, known or not: five links in 15 minutes.
		for _, email := range []string{"known@example.com", "unknown@example.com"} {
			for i := range 6 {
				res, body := b.Post(t, "/account/login", url.Values{"email": {email}})
				hits++
				want := http.StatusOK
				if email == "known@example.com" && i >= 4 || email == "unknown@example.com" && i >= 5 {
					want = http.StatusTooManyRequests
				} else {
					sent++
				}
				webtest.WantStatus(t, res, body, want)
				if want == http.StatusTooManyRequests {
					webtest.MustContain(t, body, "Too many attempts", `action="/account/login"`)
				}
			}
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox`); n != sent {
			t.Fatalf("%d emails queued, want %d: a limited request sent mail", n, sent)
		}
		// Per network: thirty in 15 minutes, whatever the addresses.
		for ; hits < 30; hits++ {
			res, body := b.Post(t, "/account/login", url.Values{"email": {"person" + webtest.Itoa(int64(hits)) + "@example.com"}})
			webtest.WantStatus(t, res, body, http.StatusOK)
		}
		res, body := b.Post(t, "/account/login", url.Values{"email": {"fresh@example.com"}})
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)

		s.Clock.Advance(15 * time.Minute)
		res, body = b.Post(t, "/account/login", url.Values{"email": {"known@example.com"}})
		webtest.WantStatus(t, res, body, http.StatusOK)
	})
}

func TestCustomerSignInLinkExpiresAndForeignLinksFail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		path, token := acctRequestLink(t, b, "ada@example.com", "/account/profile")
		s.Clock.Advance(customers.SignInTTL)
		res, body := b.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "Enter your email address to get a new one", `name="next" value="/account/profile"`)
		res, body = b.Post(t, "/account/verify", url.Values{"token": {token}})
		webtest.WantStatus(t, res, body, http.StatusGone)
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers`); n != 0 {
			t.Fatal("an expired link created an account")
		}
		for _, bad := range []string{"", "made-up", strings.Repeat("A", 43)} {
			res, body = b.Get(t, "/account/verify?token="+bad)
			webtest.WantStatus(t, res, body, http.StatusGone)
			res, body = b.Post(t, "/account/verify", url.Values{"token": {bad}})
			webtest.WantStatus(t, res, body, http.StatusGone)
		}
		// A link of the other kind does not sign in.
		acctSignIn(t, b, "ada@example.com")
		res, _ = b.Post(t, "/account/email", url.Values{"email": {"ada@new.example"}})
		webtest.WantRedirect(t, res, "/account?done=email-sent")
		_, text := acctMail(t, d, "ada@new.example")
		change := confirmLinkRE.FindStringSubmatch(text)[2]
		res, body = webtest.NewBrowser(s).Post(t, "/account/verify", url.Values{"token": {change}})
		webtest.WantStatus(t, res, body, http.StatusGone)
		_, signin := acctRequestLink(t, webtest.NewBrowser(s), "bob@example.com", "")
		res, body = webtest.NewBrowser(s).Post(t, "/account/email/confirm", url.Values{"token": {signin}})
		webtest.WantStatus(t, res, body, http.StatusGone)
	})
}

// TestCustomerSignInLinkRace posts one link from several clients at once:
// one is signed in, the others get the 410 page.
func TestCustomerSignInLinkRace(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		_, token := acctRequestLink(t, webtest.NewBrowser(s), "ada@example.com", "")
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res := s.Do(t, http.MethodPost, "/account/verify", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
					strings.NewReader(url.Values{"token": {token}}.Encode()))
				codes[i] = res.StatusCode
			})
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case http.StatusSeeOther:
				won++
			case http.StatusGone:
			default:
				t.Errorf("status %d", c)
			}
		}
		if won != 1 || webtest.Count(t, d, `SELECT count(*) FROM customer_sessions`) != 1 {
			t.Fatalf("%d of %d racing uses signed in (statuses %v), want 1", won, n, codes)
		}
	})
}

func TestCustomerSessionsEnd(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		acctSignIn(t, b, "ada@example.com")
		s.Clock.Advance(customers.IdleTimeout - time.Minute)
		if res, body := b.Get(t, "/account"); res.StatusCode != http.StatusOK {
			t.Fatalf("session ended before the idle timeout: %d\n%s", res.StatusCode, body)
		}
		s.Clock.Advance(customers.IdleTimeout)
		res, _ := b.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")

		// Active every day, the session still ends after 30 days.
		acctSignIn(t, b, "ada@example.com")
		for elapsed := time.Duration(0); elapsed < customers.AbsoluteTimeout-24*time.Hour; elapsed += 24 * time.Hour {
			s.Clock.Advance(24 * time.Hour)
			if res, _ := b.Get(t, "/account"); res.StatusCode != http.StatusOK {
				t.Fatalf("session ended early, after %v", elapsed)
			}
		}
		s.Clock.Advance(24 * time.Hour)
		res, _ = b.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")

		f := webtest.NewBrowser(s)
		f.Cookies["sk_customer"] = "forged-token"
		res, _ = f.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")

		// Signing out ends the session, also for a copy of the cookie.
		acctSignIn(t, b, "ada@example.com")
		stolen := b.Cookies["sk_customer"]
		res, body := b.Post(t, "/account/logout", nil)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "You are signed out")
		if _, ok := b.Cookies["sk_customer"]; ok {
			t.Fatal("sign-out left the cookie")
		}
		res, _ = b.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")
		f.Cookies["sk_customer"] = stolen
		res, _ = f.Get(t, "/account")
		webtest.WantRedirect(t, res, "/account/login")
		// Signing out without a session is harmless.
		res, body = webtest.NewBrowser(s).Post(t, "/account/logout", nil)
		webtest.WantStatus(t, res, body, http.StatusOK)
	})
}

func TestCustomerCookieOverHTTPS(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithBaseURL("https://shop.example"))
	b := webtest.NewBrowser(s)
	res, body := b.Post(t, "/account/login", url.Values{"email": {"ada@example.com"}})
	webtest.WantStatus(t, res, body, http.StatusOK)
	_, text := acctMail(t, s.DB, "ada@example.com")
	m := regexp.MustCompile(`https://shop\.example/account/verify\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no https link in:\n%s", text)
	}
	res, _ = b.Post(t, "/account/verify", url.Values{"token": {m[1]}})
	webtest.WantRedirect(t, res, "/account")
	cs := res.Cookies()
	if len(cs) != 1 || cs[0].Name != "__Host-sk_customer" || !cs[0].Secure || !cs[0].HttpOnly || cs[0].Path != "/" || cs[0].Domain != "" {
		t.Fatalf("cookies over https: %+v", cs)
	}
	res, body = b.Get(t, "/account")
	webtest.WantStatus(t, res, body, http.StatusOK)
}

func TestCustomerProfile(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		acctSignIn(t, b, "ada@example.com")
		res, body := b.Get(t, "/account/profile")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `name="address_line1"`, `<option value="DE">Germany</option>`, `name="vat_id"`)

		good := url.Values{"name": {"Ada Lovelace"}, "company": {"Engines GmbH"}, "address_line1": {"Hauptstraße 1"},
			"postal_code": {"10115"}, "city": {"Berlin"}, "country": {"DE"}, "vat_id": {"DE 123 456 789"}}
		for _, tc := range []struct {
			field, value, message string
		}{
			{"country", "XX", "Choose the country from the list."},
			{"name", strings.Repeat("n", 201), "The name is too long"},
			{"city", strings.Repeat("c", 101), "The city is too long"},
			{"postal_code", strings.Repeat("1", 17), "The postal code is too long"},
			{"vat_id", "DE12345", "not the format of a VAT ID from Germany"},
			{"vat_id", "12345", "with its country prefix"},
		} {
			res, body := b.Post(t, "/account/profile", webtest.WithForm(good, tc.field, tc.value))
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
			webtest.MustContain(t, body, "Nothing was saved", tc.message, `aria-describedby="`+tc.field+`-error"`, `value="Engines GmbH"`)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE name <> '' OR city <> '' OR vat_id <> ''`); n != 0 {
			t.Fatal("an invalid profile was saved")
		}
		res, _ = b.Post(t, "/account/profile", good)
		webtest.WantRedirect(t, res, "/account?done=profile")
		res, body = b.Get(t, "/account?done=profile")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your profile is saved.", "Ada Lovelace", "Engines GmbH", "Hauptstraße 1", "10115 Berlin", "Germany", "DE123456789")
		res, body = b.Get(t, "/account/profile")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `<option value="DE" selected>Germany</option>`, `value="DE123456789"`)
	})
}

func TestCustomerEmailChange(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		acctSignIn(t, webtest.NewBrowser(s), "bob@example.com")
		b := webtest.NewBrowser(s)
		acctSignIn(t, b, "ada@example.com")

		for _, bad := range []string{"not an address", "ADA@example.com"} {
			res, body := b.Post(t, "/account/email", url.Values{"email": {bad}})
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
			webtest.MustContain(t, body, `aria-describedby="new-email-error"`)
		}
		res, _ := b.Post(t, "/account/email", url.Values{"email": {"Ada@New.example"}})
		webtest.WantRedirect(t, res, "/account?done=email-sent")
		res, body := b.Get(t, "/account?done=email-sent")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "We sent a confirmation link to the new address", "ada@example.com")
		tmpl, text := acctMail(t, d, "ada@new.example")
		m := confirmLinkRE.FindStringSubmatch(text)
		if tmpl != "email_change" || m == nil {
			t.Fatalf("confirmation mail (%s):\n%s", tmpl, text)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE email = 'ada@example.com'`); n != 1 {
			t.Fatal("the address changed before confirmation")
		}
		// The link works without a session (it may be opened on a phone),
		// and its page uses nothing.
		phone := webtest.NewBrowser(s)
		res, body = phone.Get(t, m[1])
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `action="/account/email/confirm"`, "ada@new.example")
		res, body = phone.Post(t, "/account/email/confirm", url.Values{"token": {m[2]}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your account now uses ada@new.example")
		res, body = phone.Post(t, "/account/email/confirm", url.Values{"token": {m[2]}})
		webtest.WantStatus(t, res, body, http.StatusGone)
		res, body = phone.Get(t, m[1])
		webtest.WantStatus(t, res, body, http.StatusGone)
		res, body = b.Get(t, "/account")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "ada@new.example")

		// Asking for an address another account has looks the same as any
		// other request; its owner, opening the link, is told and nothing
		// changes.
		res, _ = b.Post(t, "/account/email", url.Values{"email": {"bob@example.com"}})
		webtest.WantRedirect(t, res, "/account?done=email-sent")
		_, text = acctMail(t, d, "bob@example.com")
		m = confirmLinkRE.FindStringSubmatch(text)
		res, body = webtest.NewBrowser(s).Post(t, "/account/email/confirm", url.Values{"token": {m[2]}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "nothing changed")
		if n := webtest.Count(t, d, `SELECT count(*) FROM customers WHERE email IN ('ada@new.example', 'bob@example.com')`); n != 2 {
			t.Fatal("a refused change changed an address")
		}

		// Five requests an hour.
		for i := range 5 {
			res, body = b.Post(t, "/account/email", url.Values{"email": {"ada" + webtest.Itoa(int64(i)) + "@example.net"}})
			if i < 3 {
				webtest.WantRedirect(t, res, "/account?done=email-sent")
			} else {
				webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
			}
		}
	})
}

func TestCookiePolicyListsTheCustomerCookie(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	res, body := s.Get(t, "/cookies")
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "<code>sk_customer</code>", "<code>sk_staff</code>", "7 days without activity")
	res, body = s.Get(t, "/privacy")
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "Your customer account")
}

// TestCustomerPostsFromOtherSitesRefused: cross-origin protection covers
// the account forms.
func TestCustomerPostsFromOtherSitesRefused(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	b := webtest.NewBrowser(s)
	acctSignIn(t, b, "ada@example.com")
	res, body := b.Do(t, http.MethodPost, "/account/email", url.Values{"email": {"evil@example.com"}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	webtest.WantStatus(t, res, body, http.StatusForbidden)
	if n := webtest.Count(t, s.DB, `SELECT count(*) FROM outbox WHERE to_addr = 'evil@example.com'`); n != 0 {
		t.Fatal("a cross-site post asked for an email change")
	}
}
