package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The demo's fictional vendor and product (internal/demo).
const (
	vendorName       = "Quillfeather"
	vendorLegalName  = "Quillfeather Software Ltd (demo)"
	privacyEmail     = "privacy@quillfeather.example"
	productName      = "QuillGuard Milter"
	productPath      = "/products/quillguard"
	otherProductName = "QuillGuard Reports"
)

// TestVisitorBrowsesProductAndPrivacyPolicy walks the path of a first
// visit: the home page, a product page with its editions and prices, then
// the privacy policy from the footer. The browser must never leave the site
// and the pages must report no error (CSP violations included).
func TestVisitorBrowsesProductAndPrivacyPolicy(t *testing.T) {
	b := newBrowser(t)
	site := startSite(t)
	ctx := b.ctx

	// Home page.
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(site+"/"))
	if err != nil {
		t.Fatalf("open the home page: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("home page: HTTP %d", resp.Status)
	}
	home := visibleText(t, b, "body")
	for _, want := range []string{vendorName, productName, otherProductName} {
		if !strings.Contains(home, want) {
			t.Errorf("home page does not show %q; its text:\n%s", want, home)
		}
	}

	// The product link, by its address: the visitor clicks the first one.
	productLink := chromedp.CSS(`main a[href="` + productPath + `"]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(productLink)); err != nil {
		t.Fatalf("no visible link to %s in the home page's main content: %v", productPath, err)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(productLink))
	if err != nil {
		t.Fatalf("click the product link: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("product page: HTTP %d", resp.Status)
	}
	checkLocation(t, b, site+productPath)
	if h1 := visibleText(t, b, "h1"); !strings.Contains(h1, productName) {
		t.Errorf("product page h1 = %q, want it to name %q", h1, productName)
	}
	product := visibleText(t, b, "main")
	for _, edition := range []string{"Standard", "Professional", "Enterprise"} {
		if !strings.Contains(product, edition) {
			t.Errorf("product page does not show the %s edition; its text:\n%s", edition, product)
		}
	}
	// A price: an amount with a currency sign or code, e.g. "€190" or
	// "190.00 EUR".
	price := regexp.MustCompile(`(€|\$|EUR|USD)\s?\d[\d,.]*|\d[\d,.]*\s?(€|\$|EUR|USD)`)
	if !price.MatchString(product) {
		t.Errorf("product page shows no price; its text:\n%s", product)
	}

	// The privacy policy, through the footer link.
	privacyLink := chromedp.CSS(`footer a[href="/privacy"]`)
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(privacyLink))
	if err != nil {
		t.Fatalf("click the footer's privacy link: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("privacy policy: HTTP %d", resp.Status)
	}
	checkLocation(t, b, site+"/privacy")
	policy := visibleText(t, b, "main")
	for _, want := range []string{vendorLegalName, privacyEmail, "Last updated"} {
		if !strings.Contains(policy, want) {
			t.Errorf("privacy policy does not show %q", want)
		}
	}
	lowerPolicy := strings.ToLower(policy)
	for _, right := range []string{"access", "rectification", "erasure", "restriction", "portability", "object"} {
		if !strings.Contains(lowerPolicy, right) {
			t.Errorf("privacy policy does not mention the right of %s", right)
		}
	}
	lastUpdated := regexp.MustCompile(`Last updated:?\s+(\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4})`)
	if !lastUpdated.MatchString(policy) {
		t.Errorf("privacy policy has no \"Last updated\" followed by a date")
	}
	if !regexp.MustCompile(`(?i)(data protection|supervisory) authority`).MatchString(policy) {
		t.Errorf("privacy policy does not mention the right to complain to a data protection authority")
	}
	if t.Failed() {
		t.Logf("privacy policy text:\n%s", policy)
	}

	b.checkStayedOnSite(t, site)
}

// TestPagesOnPhone loads the main pages at a phone's size (390x844, as an
// iPhone 14), checks that nothing overflows sideways and that the basic
// accessibility structure is there, and keeps a full-page screenshot of each
// for a human to look at.
func TestPagesOnPhone(t *testing.T) {
	b := newBrowser(t)
	site := startSite(t)
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(390, 844,
		chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path string }{
		{"home", "/"},
		{"product", productPath},
		{"pricing", "/pricing"},
		{"privacy", "/privacy"},
	} {
		t.Run(p.name, func(t *testing.T) {
			if err := chromedp.Do(b.ctx, chromedp.Navigate(site+p.path), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatalf("open %s at 390x844: %v", p.path, err)
			}
			png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
			if err != nil {
				t.Fatalf("screenshot: %v", err)
			}
			saveScreenshot(t, p.name+"-390x844.png", png)

			// Without a viewport meta tag a phone lays the page out at
			// ~980 px and shrinks it; with one, nothing may be wider than
			// the screen.
			width, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if width > 390 {
				t.Errorf("%s is %d px wide on a 390 px screen: something overflows (or the viewport meta tag is missing)", p.path, width)
			}
			checkPageStructure(t, b)
		})
	}
	b.checkStayedOnSite(t, site)
}

// pageStructureProblems is a script that lists, for the current page, the
// structural accessibility mistakes a machine can find for certain. It is no
// audit; it catches regressions in the layout and templates.
const pageStructureProblems = `(() => {
	const p = [];
	if (!document.documentElement.lang) p.push("<html> has no lang attribute");
	if (!document.title.trim()) p.push("the title is empty");
	const h1 = document.querySelectorAll("h1").length;
	if (h1 !== 1) p.push(h1 + " h1 elements, want 1");
	if (document.querySelectorAll("main").length !== 1) p.push("not exactly one <main> landmark");
	for (const img of document.querySelectorAll("img")) {
		if (!img.hasAttribute("alt")) p.push("image without alt: " + img.src);
	}
	for (const a of document.querySelectorAll("a[href]")) {
		if (!a.textContent.trim() && !a.getAttribute("aria-label") && !a.querySelector("img[alt]:not([alt=''])")) {
			p.push("link without a name: " + a.href);
		}
	}
	for (const a of document.querySelectorAll('a[href^="#"]')) {
		const id = decodeURIComponent(a.getAttribute("href").slice(1));
		if (id && !document.getElementById(id)) p.push("in-page link to a missing #" + id);
	}
	const ids = new Set();
	for (const e of document.querySelectorAll("[id]")) {
		if (ids.has(e.id)) p.push("duplicate id " + e.id);
		ids.add(e.id);
	}
	let last = 0;
	for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
		const level = Number(h.tagName[1]);
		if (last && level > last + 1) p.push("heading level jumps from h" + last + " to h" + level + ": " + h.textContent.trim());
		last = level;
	}
	return p;
})()`

// checkPageStructure fails the test for each problem pageStructureProblems
// finds in the current page.
func checkPageStructure(t *testing.T, b *browser) {
	t.Helper()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](pageStructureProblems))
	if err != nil {
		t.Fatalf("check the page structure: %v", err)
	}
	for _, p := range problems {
		t.Errorf("accessibility: %s", p)
	}
}

// visibleText returns the rendered text (innerText) of the first element
// matching the CSS selector: hidden elements contribute nothing.
func visibleText(t *testing.T, b *browser, css string) string {
	t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("read the text of %s: %v", css, err)
	}
	return text
}

// checkLocation fails the test when the tab is not at want.
func checkLocation(t *testing.T, b *browser, want string) {
	t.Helper()
	got, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the browser is at %s, want %s", got, want)
	}
}
