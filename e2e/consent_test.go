package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestConsentBannerReject shows the cookie consent banner in Chromium and
// rejects. The real binary declares strictly necessary cookies only, so it
// never shows the banner (and has no switch to: a cookie that needs
// consent is configured in code); this test therefore serves the whole
// site in-process, as the scenario tests build it, with a test registry
// holding one statistics cookie and a route that tries to set it through
// the consent gate. It clicks Reject all, checks that the banner is gone
// on the next page and that the gate sets nothing, and keeps screenshots
// on a desktop and a phone-sized screen.
func TestConsentBannerReject(t *testing.T) {
	b := newBrowser(t)
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithExtraCookies(privacy.Cookie{
		Name: "sk_stats", Category: privacy.Statistics, Subject: privacy.Visitor,
		Purpose: "counts visits (test)", Duration: "1 day"}))
	s.Srv.Handle("GET /test/optional", func(w http.ResponseWriter, r *http.Request) error {
		set := s.Srv.SetOptionalCookie(w, r, &http.Cookie{Name: "sk_stats", Value: "counted", Path: "/", MaxAge: 86400})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := fmt.Fprintf(w, `<!doctype html><html lang="en"><title>gate</title><link rel="icon" href="data:,"><h1>set=%v</h1>`, set)
		return err
	})
	srv := httptest.NewServer(s.H)
	t.Cleanup(srv.Close)
	site := srv.URL

	// On a phone: the banner sits above the page, in its flow, so the page
	// can be read (and scrolled to) without answering.
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2)),
		chromedp.Navigate(site+"/products/mailguard"), chromedp.WaitVisible(chromedp.CSS(".consent-banner"))); err != nil {
		t.Fatalf("open a product page with the banner: %v", err)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "consent-banner-390x844.png", png)
	position, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".consent-banner")).position`))
	if err != nil {
		t.Fatal(err)
	}
	if position == "fixed" || position == "sticky" {
		t.Errorf("the banner is %s: it would cover the page until answered", position)
	}
	width, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > 390 {
		t.Errorf("with the banner the page is %d px wide on a 390 px screen", width)
	}
	checkPageStructure(t, b)

	// Accept all and Reject all are alike: the same size, colour and weight.
	looks, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".consent-buttons button")].map(e => {
		const s = getComputedStyle(e), r = e.getBoundingClientRect();
		return [e.textContent.trim(), Math.round(r.width), Math.round(r.height), s.backgroundColor, s.color, s.fontWeight, s.fontSize].join(" ");
	})`))
	if err != nil {
		t.Fatal(err)
	}
	if len(looks) != 2 || !strings.HasPrefix(looks[0], "Accept all ") || !strings.HasPrefix(looks[1], "Reject all ") ||
		strings.TrimPrefix(looks[0], "Accept all ") != strings.TrimPrefix(looks[1], "Reject all ") {
		t.Errorf("the banner's first buttons differ: %q", looks)
	}
	// Nothing is ticked, even when the choices are opened.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(".consent-choices summary")),
		chromedp.WaitVisible(chromedp.CSS(`#consent-banner-statistics`))); err != nil {
		t.Fatalf("open the choices: %v", err)
	}
	ticked, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".consent-banner input[type=checkbox]:checked").length`))
	if err != nil {
		t.Fatal(err)
	}
	if ticked != 0 {
		t.Errorf("%d boxes ticked before the visitor touched them", ticked)
	}
	png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "consent-banner-choices-390x844.png", png)

	// On a desktop screen.
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(site+"/"),
		chromedp.WaitVisible(chromedp.CSS(".consent-banner"))); err != nil {
		t.Fatal(err)
	}
	png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "consent-banner-1280x800.png", png)

	// Reject all: back on the same page, without the banner.
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(`.consent-banner button[value="reject"]`)))
	if err != nil {
		t.Fatalf("click Reject all: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("after Reject all: HTTP %d", resp.Status)
	}
	checkLocation(t, b, site+"/")
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/pricing"), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	banners, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll(".consent-banner").length`))
	if err != nil {
		t.Fatal(err)
	}
	if banners != 0 {
		t.Error("the banner is still shown after Reject all")
	}
	if footer := visibleText(t, b, "footer"); !strings.Contains(footer, "Cookie settings") {
		t.Errorf("the footer has no Cookie settings link: %q", footer)
	}
	png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "consent-after-reject-1280x800.png", png)

	// The gate sets nothing for this browser.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/test/optional"), chromedp.WaitVisible(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, b, "h1"); got != "set=false" {
		t.Errorf("after Reject all the gate answered %q", got)
	}

	// The cookie settings page, from the footer, offers the choice again.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/"), chromedp.WaitVisible(chromedp.CSS("h1")),
		chromedp.Click(chromedp.CSS(`footer a[href="/cookies/settings"]`)), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
		t.Fatal(err)
	}
	if h1 := visibleText(t, b, "h1"); h1 != "Cookie settings" {
		t.Errorf("the footer link opened %q", h1)
	}
	checkPageStructure(t, b)
	png, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "consent-settings-1280x800.png", png)

	b.checkStayedOnSite(t, site)
}
