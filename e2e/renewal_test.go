package e2e

import (
	"context"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/testutil"
)

var renewLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/account/licenses/(lic_[a-z2-7]+)/renew`)

// demoDB opens the SQLite file of the demo at site (started by startDemo),
// closed when the test ends.
func demoDB(t *testing.T, site string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), demoPath(t, site))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// demoKeys loads the license keys the demo at site signs with.
func demoKeys(t *testing.T, site string) *licensing.Keyring {
	t.Helper()
	keys, err := licensing.LoadKeyring(filepath.Join(filepath.Dir(demoPath(t, site)), "license-keys"))
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// demoPath is the database file of the demo at site.
func demoPath(t *testing.T, site string) string {
	t.Helper()
	path, ok := demoDatabases.Load(site)
	if !ok {
		t.Fatalf("no database known for %s: start it with startDemo", site)
	}
	return path.(string)
}

// demoLicense reads a license's key and expiry from the demo's database.
func demoLicense(t *testing.T, site, lic string) (key string, expires time.Time) {
	t.Helper()
	err := demoDB(t, site).QueryRowContext(context.Background(), `SELECT license_key, expires_at FROM licenses WHERE lic = $1`, lic).Scan(&key, &expires)
	if err != nil {
		t.Fatalf("license %s: %v", lic, err)
	}
	return key, expires.UTC()
}

// TestCustomerRenewsFromTheReminder: the demo's customer whose yearly
// license expires within 30 days gets the reminder by mail when the site
// starts, follows its link, signs in, renews with the demo's test payment
// and finds the license running a year longer under the same key, as the
// confirmation says.
func TestCustomerRenewsFromTheReminder(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	const email = "eli@example.com"

	reminder := sink.WaitForTo(email, 1, 20*time.Second)[0]
	m := renewLink.FindStringSubmatch(reminder.Text)
	if m == nil || !strings.Contains(reminder.Subject, "your license expires in") || !strings.Contains(reminder.HTML, m[0]) {
		t.Fatalf("the reminder %q has no renewal link:\n%s", reminder.Subject, reminder.Text)
	}
	link, lic := m[0], m[1]
	key, expires := demoLicense(t, site, lic)
	if !strings.Contains(reminder.Text, expires.Format("2 January 2006")) {
		t.Errorf("the reminder does not say the expiry %s:\n%s", expires.Format("2 January 2006"), reminder.Text)
	}

	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, b); !strings.HasPrefix(loc, site+"/account/login?next=") {
		t.Fatalf("the reminder's link leads a visitor to %s, want the sign-in page", loc)
	}
	signInByEmail(t, b, sink, email, 1)
	if loc := location(t, b); loc != link {
		t.Fatalf("after signing in the customer is at %s, want the renewal page %s", loc, link)
	}
	renewed := expires.AddDate(1, 0, 0).Format("2 January 2006")
	if got := visibleText(t, b, "#renew-until"); got != "Until "+renewed {
		t.Fatalf("the renewal page says %q, want Until %s", got, renewed)
	}
	if got := visibleText(t, b, "#renew-price"); got != "€49.00" {
		t.Errorf("the renewal price is %q, want the catalog's €49.00", got)
	}
	if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("name"))); err != nil || got != "Eli Expiring" {
		t.Errorf("the billing name is %q (%v), want the profile's", got, err)
	}
	shoot(t, b, "renew.png")
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("method-demo"))); err != nil {
		t.Fatalf("choose the test payment: %v", err)
	}
	click(t, b, "#renew-submit")
	if loc := location(t, b); !strings.Contains(loc, "/demo-pay/demo_") {
		t.Fatalf("placing the renewal leads to %s, want the test payment page", loc)
	}
	click(t, b, "#demo-pay")
	if status := visibleText(t, b, "#order-status"); status != "paid" {
		t.Fatalf("order status %q after paying, want paid", status)
	}
	if text := visibleText(t, b, "main"); !strings.Contains(text, "(yearly renewal)") || !strings.Contains(text, "Service period "+expires.Format("2 January 2006")+" to "+renewed) {
		t.Errorf("the paid renewal order does not show its service period:\n%s", text)
	}
	shoot(t, b, "renewal-paid.png")

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/licenses/"+lic)); err != nil {
		t.Fatal(err)
	}
	page := visibleText(t, b, "main")
	if !strings.Contains(page, "Until "+renewed) {
		t.Fatalf("the license page does not show the new expiry %s:\n%s", renewed, page)
	}
	got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#license-key")))
	if err != nil || got != key {
		t.Fatalf("the key changed with the renewal (%v)", err)
	}
	shoot(t, b, "license-renewed.png")
	confirmation := sink.WaitForTo(email, 3, 20*time.Second)[2]
	if !strings.Contains(confirmation.Text, "renewed, until "+renewed) || !strings.Contains(confirmation.Text, key) {
		t.Errorf("the confirmation %q does not say renewed with the key:\n%s", confirmation.Subject, confirmation.Text)
	}
	b.checkStayedOnSite(t, site)
}

// TestCustomerTurnsAutomaticRenewalOffAndOn: a yearly license bought by
// card through Stripe (stripe-mock, with Stripe's signed webhook sent as
// Stripe would) renews automatically; the customer turns that off in the
// account, sees until when the license runs, and turns it on again.
func TestCustomerTurnsAutomaticRenewalOffAndOn(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startStripeDemo(t, sink)
	var price int64
	if err := demoDB(t, site).QueryRowContext(context.Background(), `SELECT pr.id FROM prices pr JOIN editions e ON e.id = pr.edition_id
		WHERE e.slug = 'standard' AND pr.currency = 'EUR' AND pr.billing = 'yearly'`).Scan(&price); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/checkout?price="+strconv.FormatInt(price, 10))); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, b, sink, "sub@example.com", 0)
	fill(t, b, map[string]string{"name": "Sue Subscriber", "address": "1 Main St\nSpringfield", "country": "US"})
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("method-stripe"))); err != nil {
		t.Fatalf("choose Stripe: %v", err)
	}
	// Stripe's hosted page is out of this closed network's reach.
	_ = chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("place-order")))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(offSiteNow(b, site), " "), "cs_") && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond) // the browser's navigation, outside any clock of ours
	}
	number, session := pendingStripeOrder(t, site, b)
	ev := testutil.StripeCheckoutCompleted("evt_e2e_sub", testutil.StripeSession{ID: session, PaymentIntent: "pi_e2e_sub", Customer: "cus_e2e_sub",
		OrderNumber: number, AmountTotal: 4900, Currency: "eur", Subscription: "sub_e2e"})
	deliverStripeEvent(t, site, ev)

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/licenses")); err != nil {
		t.Fatal(err)
	}
	if text := visibleText(t, b, "main table"); !strings.Contains(text, "Renews automatically on") {
		t.Fatalf("the licenses list does not say the license renews automatically:\n%s", text)
	}
	click(t, b, `main table a[href^="/account/licenses/lic_"]`)
	state := visibleText(t, b, "#renewal-state")
	if !strings.HasPrefix(state, "Renews automatically on ") {
		t.Fatalf("the license page says %q, want that it renews automatically", state)
	}
	date := strings.TrimSuffix(strings.TrimPrefix(state, "Renews automatically on "), ".")
	shoot(t, b, "auto-renew-on.png")

	click(t, b, "#auto-renew-off")
	if got := visibleText(t, b, "#renewal-state"); got != "Automatic renewal is off: the license runs until "+date+"." {
		t.Fatalf("after turning it off the page says %q", got)
	}
	if notice := visibleText(t, b, "main .notice"); !strings.Contains(notice, "Automatic renewal is off") {
		t.Errorf("no confirmation after turning it off: %q", notice)
	}
	shoot(t, b, "auto-renew-off.png")

	click(t, b, "#auto-renew-on")
	if got := visibleText(t, b, "#renewal-state"); got != "Renews automatically on "+date+"." {
		t.Fatalf("after turning it on again the page says %q", got)
	}
	shoot(t, b, "auto-renew-on-again.png")
}
