package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

var signInLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/account/verify\?token=[^\s"<>]+`)

// click clicks the element and waits for the page it leads to.
func click(t *testing.T, b *browser, css string) {
	t.Helper()
	if _, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
}

func fill(t *testing.T, b *browser, fields map[string]string) {
	t.Helper()
	for id, v := range fields {
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID(id), v)); err != nil {
			t.Fatalf("fill #%s: %v", id, err)
		}
	}
}

// signInByEmail asks for a sign-in link, reads it from the SMTP relay and
// follows it, as a buyer does from their mailbox. already is the number of
// messages the address received before (the demo mails its own sample
// customers too, so only the address's own mail counts).
func signInByEmail(t *testing.T, b *browser, sink *testutil.SMTPSink, email string, already int) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.ID("email")), chromedp.SendKeys(chromedp.ID("email"), email)); err != nil {
		t.Fatalf("the sign-in form: %v", err)
	}
	click(t, b, `main button[type="submit"]`)
	if text := visibleText(t, b, "main"); !strings.Contains(strings.ToLower(text), "link") {
		t.Fatalf("after asking for a link the page says:\n%s", text)
	}
	// The first message with a link after those before: another mail to
	// the address may arrive in between (the demo's sample customers'
	// old confirmations, when the mail worker sends them before the demo
	// drops them).
	var link string
	for n := already + 1; link == "" && n <= already+3; n++ {
		msgs := sink.WaitForTo(email, n, 20*time.Second)
		link = signInLink.FindString(msgs[n-1].Text)
	}
	if link == "" {
		t.Fatalf("none of the emails to %s after the first %d has a sign-in link", email, already)
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	// Opening the link shows a button; only pressing it signs in.
	click(t, b, `main button[type="submit"]`)
}

// TestBuyerPaysWithTheDemoProvider: open the demo, choose an edition, sign
// in by the emailed link, pay on the demo's test payment page, see the
// order paid and receive the confirmation email.
func TestBuyerPaysWithTheDemoProvider(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/products/quillguard")); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main a.buy`)
	if loc := location(t, b); !strings.HasPrefix(loc, site+"/account/login?next=") {
		t.Fatalf("choosing an edition without an account leads to %s, want the sign-in page", loc)
	}
	signInByEmail(t, b, sink, "buyer@example.com", 0)
	if loc := location(t, b); !strings.HasPrefix(loc, site+"/checkout?price=") {
		t.Fatalf("after signing in the buyer is at %s, want the checkout", loc)
	}
	fill(t, b, map[string]string{"name": "Bea Buyer", "address": "Hauptstr. 5\n10115 Berlin", "country": "DE"})
	// The demo vendor is established in Germany with prices including
	// VAT: the total before paying shows the German VAT in it.
	click(t, b, "#quote")
	if text := visibleText(t, b, "main"); !strings.Contains(text, "19 %") || !strings.Contains(text, "VAT") {
		t.Errorf("the checkout does not show the VAT before payment:\n%s", text)
	}
	shoot(t, b, "checkout.png")
	click(t, b, "#place-order")
	if loc := location(t, b); !strings.Contains(loc, "/demo-pay/demo_") {
		t.Fatalf("placing the order leads to %s, want the test payment page", loc)
	}
	if text := visibleText(t, b, "main"); !strings.Contains(text, "no money moves") {
		t.Errorf("the test payment page does not say it is a test:\n%s", text)
	}
	click(t, b, "#demo-pay")
	if status := visibleText(t, b, "#order-status"); status != "paid" {
		t.Fatalf("order status %q after paying, want paid", status)
	}
	shoot(t, b, "order-paid.png")
	msgs := sink.WaitForTo("buyer@example.com", 2, 20*time.Second)
	if !strings.Contains(msgs[1].Subject, "thank you for your order") || !strings.Contains(msgs[1].Text, "Invoice") {
		t.Fatalf("second email = %q:\n%s", msgs[1].Subject, msgs[1].Text)
	}
	// The portal lists the order and its invoice opens.
	click(t, b, `main a[href^="/account/invoices/"]`)
	if h1 := visibleText(t, b, "h1"); !strings.HasPrefix(h1, "Invoice ") {
		t.Fatalf("invoice page h1 = %q", h1)
	}
	// The license the payment issued is in the account, with the key the
	// confirmation carried.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account")); err != nil {
		t.Fatal(err)
	}
	click(t, b, "#licenses-link")
	click(t, b, `main table a[href^="/account/licenses/lic_"]`)
	key, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#license-key")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "SK1.") || !strings.Contains(msgs[1].Text, key) {
		t.Fatalf("license page key %q is not the one the confirmation carried", key)
	}
	shoot(t, b, "license.png")
	b.checkStayedOnSite(t, site)
}

// TestBuyerPaysWithStripe: the same purchase through the Stripe provider
// against stripe-mock. The browser is sent to Stripe's hosted page (which
// this closed network cannot load); Stripe's signed webhook, sent by the
// test as Stripe would, pays the order, and the page the buyer returns to
// shows it paid.
func TestBuyerPaysWithStripe(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startStripeDemo(t, sink)

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/products/quillguard")); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main a.buy`)
	signInByEmail(t, b, sink, "card@example.com", 0)
	fill(t, b, map[string]string{"name": "Carl Card", "address": "1 Main St\nSpringfield", "country": "US"})
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("method-stripe"))); err != nil {
		t.Fatalf("choose Stripe: %v", err)
	}
	// The hosted page is on Stripe's domain: the navigation fails here, but
	// the browser must have been sent there.
	_ = chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("place-order")))
	deadline := time.Now().Add(10 * time.Second)
	var stripeURL string
	for stripeURL == "" && time.Now().Before(deadline) {
		for _, u := range offSiteNow(b, site) {
			if strings.Contains(u, "stripe") {
				stripeURL = u
			}
		}
		if stripeURL == "" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if stripeURL == "" {
		t.Fatalf("the browser was not sent to Stripe's hosted checkout; requests: %v", offSiteNow(b, site))
	}

	// The order waits; find its number and session the way Stripe knows them.
	number, session := pendingStripeOrder(t, site, b)
	ev := testutil.StripeCheckoutCompleted("evt_e2e_1", testutil.StripeSession{ID: session, PaymentIntent: "pi_e2e", Customer: "cus_e2e",
		OrderNumber: number, AmountTotal: quillguardStandardEUR, Currency: "eur"})
	for range 2 { // Stripe may deliver twice
		deliverStripeEvent(t, site, ev)
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/orders/"+number+"?paid=1")); err != nil {
		t.Fatal(err)
	}
	if status := visibleText(t, b, "#order-status"); status != "paid" {
		t.Fatalf("order status %q after Stripe's webhook, want paid", status)
	}
	// Both deliveries of the webhook were answered, and the confirmation
	// is queued in the same transaction as the payment: a second one would
	// be in the outbox now. So the outbox holds all the mail there will
	// be, and the relay must have received exactly that.
	queued := outboxMessageIDs(t, site, "card@example.com")
	if len(queued) != 2 {
		t.Fatalf("%d messages in the outbox, want 2 (a sign-in link and one confirmation)", len(queued))
	}
	msgs := sink.WaitForTo("card@example.com", len(queued), 20*time.Second)
	if n := len(msgs); n != 2 || !strings.Contains(msgs[1].Subject, number) {
		t.Fatalf("%d emails (want a sign-in link and one confirmation); last: %q", n, msgs[len(msgs)-1].Subject)
	}
	for i, m := range msgs {
		if !strings.HasPrefix(m.MessageID, "<"+queued[i]+"@") {
			t.Errorf("email %d has Message-ID %s, the outbox row %s", i, m.MessageID, queued[i])
		}
	}
}

// quillguardStandardEUR is the demo's first buy link: Standard, EUR, one-time.
const quillguardStandardEUR = 19000

// pendingStripeOrder reads the order number and checkout session from the
// buyer's account page and the order page.
func pendingStripeOrder(t *testing.T, site string, b *browser) (number, session string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account")); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`[A-Z0-9]{4}-[A-Z0-9]{4}`).FindString(visibleText(t, b, "main"))
	if m == "" {
		t.Fatal("the account page lists no order")
	}
	for _, u := range offSiteNow(b, site) {
		if i := strings.Index(u, "cs_"); i >= 0 {
			session = strings.FieldsFunc(u[i:], func(r rune) bool { return r == '/' || r == '?' || r == '#' })[0]
		}
	}
	if session == "" {
		t.Fatal(fmt.Sprintf("no checkout session in the Stripe URL: %v", offSiteNow(b, site)))
	}
	return m, session
}

// offSiteNow is offSite under the events lock, for use while the browser
// is still running.
func offSiteNow(b *browser, site string) []string {
	b.events.mu.Lock()
	defer b.events.mu.Unlock()
	return b.events.offSite(site)
}
