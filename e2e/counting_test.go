package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// desktopChrome is the user agent the counting test browses with: headless
// Chromium calls itself HeadlessChrome, which the analytics rightly take
// for a robot and do not count.
const desktopChrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"

// TestVisitsAreCountedWithoutCookies browses the demo in Chromium: the
// counting script loads on public pages without a CSP violation or an
// off-site request, sets no cookie and stores nothing in the browser, and
// its beacons reach the database as page views with engaged time, the
// referring site's host only and the campaign tag; the visitor number is
// the same for the visit's pages. The statistics page's button then
// stops the counting for this browser.
func TestVisitsAreCountedWithoutCookies(t *testing.T) {
	b := newBrowser(t)
	site := startDemo(t)
	ctx := b.ctx
	setUA := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: desktopChrome})
		return err
	})
	// Headless windows never have the focus; a visitor's has.
	focus := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	})
	if err := chromedp.Do(ctx, setUA, focus); err != nil {
		t.Fatal(err)
	}
	for _, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(site + "/?utm_source=Fediverse&utm_medium=social&ref=ada@example.org"),
		chromedp.WaitVisible(chromedp.CSS(`main`)),
	} {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	// The visitor clicks through to the product.
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`main a[href="`+productPath+`"]`))); err != nil {
		t.Fatal(err)
	}
	for _, step := range []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible(chromedp.CSS(`h1`)),
		chromedp.Navigate(site + "/pricing"),
		chromedp.WaitVisible(chromedp.CSS(`h1`)),
		// The visitor reads the prices for a while (the script reports
		// engaged time from a second on) ...
		chromedp.Sleep(1500 * time.Millisecond),
		// ... and leaves the site, which hides the page: its engaged
		// time is sent.
		chromedp.Navigate("about:blank"),
	} {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatal(err)
		}
	}
	d := demoDB(t, site)
	type row struct{ path, source, medium, browser string }
	var rows []row
	var visitors int
	deadline := time.Now().Add(15 * time.Second) // the demo's writer stores within a second
	for {
		rows = rows[:0]
		res, err := d.QueryContext(context.Background(), `SELECT path, utm_source, utm_medium, browser FROM analytics_views ORDER BY at, id`)
		if err != nil {
			t.Fatal(err)
		}
		for res.Next() {
			var r row
			if err := res.Scan(&r.path, &r.source, &r.medium, &r.browser); err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r)
		}
		if err := res.Close(); err != nil {
			t.Fatal(err)
		}
		var engaged int
		if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM analytics_engaged`).Scan(&engaged); err != nil {
			t.Fatal(err)
		}
		if len(rows) >= 3 && engaged >= 1 || time.Now().After(deadline) {
			if engaged == 0 {
				t.Error("no engaged time arrived")
			}
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(rows) != 3 || rows[0].path != "/" || rows[1].path != productPath || rows[2].path != "/pricing" {
		t.Fatalf("views stored: %+v", rows)
	}
	if rows[0].source != "fediverse" || rows[0].medium != "social" || rows[0].browser != "Chrome" {
		t.Errorf("the first view: %+v", rows[0])
	}
	if err := d.QueryRowContext(context.Background(), `SELECT count(DISTINCT visitor) FROM analytics_views`).Scan(&visitors); err != nil || visitors != 1 {
		t.Errorf("%d visitor numbers for one visit (%v)", visitors, err)
	}
	var longest int64
	if err := d.QueryRowContext(context.Background(), `SELECT COALESCE(MAX(ms), 0) FROM analytics_engaged`).Scan(&longest); err != nil || longest < 1000 || longest > 60000 {
		t.Errorf("engaged time on the pricing page: %d ms (%v), want the second and a half it was read", longest, err)
	}
	var leaked int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM analytics_views WHERE path LIKE '%ada%' OR utm_source LIKE '%ada%' OR referrer_host LIKE '%ada%'`).Scan(&leaked); err != nil || leaked != 0 {
		t.Errorf("the address typed into the query reached the table (%d, %v)", leaked, err)
	}

	// Nothing kept in the browser: no cookie, no storage.
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/"), chromedp.WaitVisible(chromedp.CSS(`main`))); err != nil {
		t.Fatal(err)
	}
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie + "|" + localStorage.length + "|" + sessionStorage.length`))
	if err != nil {
		t.Fatal(err)
	}
	if stored != "|0|0" {
		t.Errorf("the browser holds %q after the visit", stored)
	}

	// "Do not count my visits": later views are not counted.
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/statistics"), chromedp.WaitVisible(chromedp.CSS(`main form button`)),
		chromedp.Click(chromedp.CSS(`main form button`)), chromedp.WaitVisible(chromedp.CSS(`.notice`))); err != nil {
		t.Fatal(err)
	}
	if text := visibleText(t, b, ".notice"); !strings.Contains(text, "not counted") {
		t.Errorf("after the button: %q", text)
	}
	var before, after int
	time.Sleep(1500 * time.Millisecond) // the views before the choice are stored by now
	_ = d.QueryRowContext(context.Background(), `SELECT count(*) FROM analytics_views`).Scan(&before)
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/pricing"), chromedp.WaitVisible(chromedp.CSS(`h1`)), chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // longer than the writer's interval: a counted view would be stored by now
	_ = d.QueryRowContext(context.Background(), `SELECT count(*) FROM analytics_views`).Scan(&after)
	if after != before {
		t.Errorf("counted after the visitor asked not to be: %d views, then %d", before, after)
	}
	b.checkStayedOnSite(t, site)
}
