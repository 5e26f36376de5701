package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/unsubscribe"
)

var listConfirmLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/newsletter/confirm\?t=[A-Za-z0-9_-]+`)

// listUnsubscribeLink is the link a bulk message from list key would carry
// for email (the notices area puts it in List-Unsubscribe and the footer):
// made from the demo's database and installation secret.
func listUnsubscribeLink(t *testing.T, site, key, email string) (string, unsubscribe.Token) {
	t.Helper()
	ctx := context.Background()
	d := demoDB(t, site)
	l, err := lists.Find(ctx, d, key)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := settings.InstallSecret(ctx, d, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(site)
	for r, err := range lists.Recipients(ctx, d, l.ID) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Email == email {
			tok := r.Token(l.ID, 0)
			return unsubscribe.URL(base, secret, tok), tok
		}
	}
	t.Fatalf("%s is not on %s", email, key)
	return "", unsubscribe.Token{}
}

// subscribeInBrowser subscribes email to the first product's release
// announcements on the newsletter page and confirms from the mail, taking
// screenshots named with suffix.
func subscribeInBrowser(t *testing.T, b *browser, sink *testutil.SMTPSink, site, email, suffix string) string {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/newsletter")); err != nil {
		t.Fatal(err)
	}
	key, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`input[name="list"][value^="releases:"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`input[name="list"][value="`+key+`"]`))); err != nil {
		t.Fatal(err)
	}
	wording := visibleText(t, b, "#wording-"+strings.ReplaceAll(key, ":", `\:`))
	if !strings.HasPrefix(wording, "Yes, send me announcements of new releases of ") {
		t.Fatalf("the consent's words: %q", wording)
	}
	fill(t, b, map[string]string{"email": email})
	shoot(t, b, "lists-form"+suffix+".png")
	click(t, b, `main form button[type="submit"]`)
	if got := visibleText(t, b, "main"); !strings.Contains(got, "Check your mail") {
		t.Fatalf("after subscribing: %q", got)
	}
	shoot(t, b, "lists-sent"+suffix+".png")
	var link string
	for _, m := range sink.WaitForTo(email, 1, 20*time.Second) {
		link = listConfirmLink.FindString(m.Text)
		if !strings.Contains(m.Text, wording) {
			t.Errorf("the mail does not repeat the consent's words:\n%s", m.Text)
		}
	}
	if link == "" {
		t.Fatal("no confirmation link mailed")
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "lists-confirm"+suffix+".png")
	click(t, b, `main form button[type="submit"]`)
	if got := visibleText(t, b, "main"); !strings.Contains(got, "You are subscribed") {
		t.Fatalf("after confirming: %q", got)
	}
	shoot(t, b, "lists-confirmed"+suffix+".png")
	// The same link again changes nothing and says so.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, b, "main"); !strings.Contains(got, "Already confirmed") {
		t.Fatalf("the used link: %q", got)
	}
	return key
}

// TestMailingListInTheBrowser: a visitor subscribes to a product's release
// announcements, confirms from the mail the SMTP relay received, and
// unsubscribes through the link of a bulk message: the page asks, the
// button does it. On a phone the same, and the mailbox provider's
// one-click POST works against the real server without cookies.
func TestMailingListInTheBrowser(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)

	b := newBrowser(t)
	key := subscribeInBrowser(t, b, sink, site, "nora@reader.example", "")
	link, tok := listUnsubscribeLink(t, site, key, "nora@reader.example")
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, b, "main"); !strings.Contains(got, "Stop receiving “Release announcements for ") {
		t.Fatalf("the unsubscribe page: %q", got)
	}
	shoot(t, b, "lists-unsubscribe.png")
	if n := countRows(t, site, `SELECT count(*) FROM unsubscribes`); n != 0 {
		t.Fatal("opening the link unsubscribed")
	}
	click(t, b, `main form button[type="submit"]`)
	if got := visibleText(t, b, "main"); !strings.Contains(got, "You are unsubscribed") {
		t.Fatalf("after unsubscribing: %q", got)
	}
	shoot(t, b, "lists-unsubscribed.png")
	if n := countRows(t, site, `SELECT count(*) FROM unsubscribes WHERE subscriber_id = $1 AND via = 'page'`, tok.Subscriber); n != 1 {
		t.Fatalf("%d unsubscribes recorded", n)
	}
	b.checkStayedOnSite(t, site)

	// On a phone.
	m := newBrowser(t)
	if err := chromedp.Do(m.ctx, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	key = subscribeInBrowser(t, m, sink, site, "otto@reader.example", "-390")
	width, err := chromedp.Run(m.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 390 {
		t.Errorf("the page is %d px wide on a 390 px screen (%v)", width, err)
	}
	link, tok = listUnsubscribeLink(t, site, key, "otto@reader.example")
	if err := chromedp.Do(m.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	shoot(t, m, "lists-unsubscribe-390.png")

	// The mailbox provider's one-click POST (RFC 8058): its own Origin, no
	// cookie, no Sec-Fetch-Site; answered 200 without a redirect.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return errors.New("redirected") }}
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://mail.provider.example")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(res.Cookies()) != 0 {
		t.Fatalf("one-click: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	if n := countRows(t, site, `SELECT count(*) FROM unsubscribes WHERE subscriber_id = $1 AND via = 'one-click'`, tok.Subscriber); n != 1 {
		t.Fatalf("%d one-click unsubscribes recorded", n)
	}
	// The page the person then opens says it is done already.
	if err := chromedp.Do(m.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, m, "main"); !strings.Contains(got, "Already unsubscribed") {
		t.Fatalf("after the one-click: %q", got)
	}
	shoot(t, m, "lists-already-390.png")
	m.checkStayedOnSite(t, site)

	// A customer's subscription shows on their privacy page, with the
	// words they agreed to, and ends with its button.
	c := newBrowser(t)
	if err := chromedp.Do(c.ctx, chromedp.Navigate(site+"/account/login")); err != nil {
		t.Fatal(err)
	}
	already := len(sink.WaitForTo("ada@example.com", 0, time.Second))
	signInByEmail(t, c, sink, "ada@example.com", already)
	subscribeInBrowserAfter(t, c, sink, site, "ada@example.com")
	if err := chromedp.Do(c.ctx, chromedp.Navigate(site+"/account/privacy#lists")); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, c, "main"); !strings.Contains(got, "you agreed on") || !strings.Contains(got, "Yes, send me announcements of new releases of ") {
		t.Fatalf("the privacy page's subscriptions:\n%s", got)
	}
	// The choices section only: the whole privacy page is long.
	png, err := chromedp.Run(c.ctx, chromedp.Screenshot(chromedp.CSS(`section:has(#lists)`)))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "lists-account-privacy.png", png)
	click(t, c, `main form[action$="/leave"] button[type="submit"]`)
	if got := visibleText(t, c, "main"); !strings.Contains(got, "You are unsubscribed from that list.") || !strings.Contains(got, "You are on none of our mailing lists") {
		t.Fatalf("after leaving:\n%s", got)
	}
	c.checkStayedOnSite(t, site)
}

// subscribeInBrowserAfter is subscribeInBrowser for a signed-in customer
// whose address has received mail before.
func subscribeInBrowserAfter(t *testing.T, b *browser, sink *testutil.SMTPSink, site, email string) {
	t.Helper()
	already := len(sink.WaitForTo(email, 0, time.Second))
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/newsletter")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`input[name="list"][value^="releases:"]`))); err != nil {
		t.Fatal(err)
	}
	if v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("email"))); err != nil || v != email {
		t.Fatalf("the form does not offer the account's address: %q %v", v, err)
	}
	click(t, b, `main form button[type="submit"]`)
	var link string
	for n := already + 1; link == "" && n <= already+3; n++ {
		msgs := sink.WaitForTo(email, n, 20*time.Second)
		link = listConfirmLink.FindString(msgs[n-1].Text)
	}
	if link == "" {
		t.Fatal("no confirmation link mailed")
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main form button[type="submit"]`)
	if got := visibleText(t, b, "main"); !strings.Contains(got, "You are subscribed") {
		t.Fatalf("after confirming: %q", got)
	}
}

func countRows(t *testing.T, site, q string, args ...any) int {
	t.Helper()
	var n int
	if err := demoDB(t, site).QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
