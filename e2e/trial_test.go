package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

var trialLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/downloads/confirm/[A-Za-z0-9_-]{43}`)

// demoMailText returns the text of the newest message to the address in
// the outbox of the demo at site.
func demoMailText(t *testing.T, site, to string) string {
	t.Helper()
	var text string
	if err := demoDB(t, site).QueryRowContext(context.Background(), `SELECT text_body FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, to).Scan(&text); err != nil {
		t.Fatal(err)
	}
	return text
}

// TestVisitorDownloadsATrial: a visitor without an account goes from the
// product page to the trial form, reads what the address is used for,
// asks for the link, opens it from the mail, confirms with the button and
// sees the files with their checksums and signatures.
func TestVisitorDownloadsATrial(t *testing.T) {
	site := startDemo(t)
	b := newBrowser(t)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/products/quillguard")); err != nil {
		t.Fatal(err)
	}
	click(t, b, `a[href="/products/quillguard/download"]`)
	if h1 := visibleText(t, b, "h1"); !strings.HasPrefix(h1, "Download QuillGuard") {
		t.Fatalf("h1 = %q", h1)
	}
	if got := visibleText(t, b, "#email-use"); !strings.Contains(got, "no marketing") {
		t.Fatalf("the form does not say what the address is for: %q", got)
	}
	fill(t, b, map[string]string{"email": "trial.visitor@example.com"})
	shoot(t, b, "trial-form.png")
	click(t, b, `main form button[type="submit"]`)
	if h1 := visibleText(t, b, "h1"); h1 != "Check your inbox" {
		t.Fatalf("after asking: h1 = %q", h1)
	}
	link := trialLink.FindString(demoMailText(t, site, "trial.visitor@example.com"))
	if link == "" {
		t.Fatal("no confirmation link in the mail")
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	click(t, b, `main form button[type="submit"]`)
	if got := visibleText(t, b, "main p.lead"); !strings.Contains(got, "Your address is confirmed") {
		t.Fatalf("after confirming: %q", got)
	}
	if got := visibleText(t, b, "table.files tbody"); !strings.Contains(got, "quillguard-milter-2.4.0-linux-amd64.tar.gz") ||
		!strings.Contains(got, ".minisig") {
		t.Fatalf("files: %q", got)
	}
	shoot(t, b, "trial-files.png")
	b.checkStayedOnSite(t, site)
}
