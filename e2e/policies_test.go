package e2e

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestOwnerAnnouncesAPolicyChange: a signed-in customer reads the privacy
// policy; in Chromium the owner has a script refused, writes the policy's
// own Markdown, and marks the new version as a significant change to be
// mailed; a visitor sees the notice on the home page and follows it to the
// archive's differences; the customer's privacy page names the version
// they last read and the notice, which they dismiss.
func TestOwnerAnnouncesAPolicyChange(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)

	customer := newBrowser(t)
	if err := chromedp.Do(customer.ctx, chromedp.Navigate(site+"/account/login")); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, customer, sink, "reader@example.com", 0)
	if err := chromedp.Do(customer.ctx, chromedp.Navigate(site+"/privacy")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(customer.ctx, chromedp.Navigate(site+"/account/privacy")); err != nil {
		t.Fatal(err)
	}
	before := visibleText(t, customer, "#policies")
	read := regexp.MustCompile(`Privacy policy: you last read version (\d+)`).FindStringSubmatch(before)
	if read == nil {
		t.Fatalf("the privacy page does not say which version was read:\n%s", before)
	}

	owner := newBrowser(t)
	signInEnrolled(t, owner, site, "owner@quillfeather.example")
	click(t, owner, `nav a[href="/staff/policies"]`)
	fill(t, owner, map[string]string{"body-privacy": "Hello <script>document.title='owned'</script>"})
	click(t, owner, `form[action="/staff/policies/privacy/text"] button[type="submit"]`)
	if text := visibleText(t, owner, "#error-privacy"); !strings.Contains(text, "nothing was saved") {
		t.Fatalf("the script was not refused: %q", text)
	}
	owner.expectRefused(t, 422)
	shoot(t, owner, "policy-text-refused.png")
	fill(t, owner, map[string]string{"body-privacy": "## Our data protection officer\n\nWrite to **Jane Roe**, our data protection officer, at any time."})
	click(t, owner, `form[action="/staff/policies/privacy/text"] button[type="submit"]`)
	if text := visibleText(t, owner, `main p.notice[role="status"]`); !strings.Contains(text, "new version") {
		t.Fatalf("saving says %q", text)
	}
	fill(t, owner, map[string]string{"note-privacy": "We named a data protection officer."})
	if err := chromedp.Do(owner.ctx, chromedp.Click(chromedp.ID("mail-privacy"))); err != nil {
		t.Fatal(err)
	}
	click(t, owner, `form[action="/staff/policies/privacy/significant"] button[type="submit"]`)
	if text := visibleText(t, owner, `main p.notice[role="status"]`); !strings.Contains(text, "mail to customers is queued") {
		t.Fatalf("marking says %q", text)
	}
	if text := visibleText(t, owner, "#policy-privacy + p"); !strings.Contains(text, "Mailed to customers") {
		t.Fatalf("the mailing is not shown: %q", text)
	}
	shoot(t, owner, "policy-console.png")
	owner.checkStayedOnSite(t, site)

	visitor := newBrowser(t)
	if err := chromedp.Do(visitor.ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	banner := visibleText(t, visitor, ".policy-notice")
	if !strings.Contains(banner, "Our privacy policy changed on") || !strings.Contains(banner, "We named a data protection officer.") {
		t.Fatalf("the home page's notice: %q", banner)
	}
	shoot(t, visitor, "policy-notice-home.png")
	click(t, visitor, ".policy-notice a")
	added := visibleText(t, visitor, "ol.diff")
	if !strings.Contains(added, "Write to Jane Roe, our data protection officer, at any time.") {
		t.Fatalf("the differences lack the new text:\n%s", added)
	}
	ins, err := chromedp.Run(visitor.ctx, chromedp.Text(chromedp.CSS("ol.diff li.added")))
	if err != nil || ins == "" {
		t.Fatalf("no added line is marked: %v", err)
	}
	shoot(t, visitor, "policy-archive-diff.png")
	click(t, visitor, `main a[href="/privacy/archive"]`)
	if list := visibleText(t, visitor, "main"); !strings.Contains(list, "Significant change. We named a data protection officer.") {
		t.Fatalf("the archive:\n%s", list)
	}
	if title, _ := chromedp.Run(visitor.ctx, chromedp.Title()); title == "owned" {
		t.Fatal("the refused script ran")
	}

	// A browser's test time is bounded: the customer comes back in a new
	// one, signing in again.
	customer.checkStayedOnSite(t, site)
	customer = newBrowser(t)
	if err := chromedp.Do(customer.ctx, chromedp.Navigate(site+"/account/login")); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, customer, sink, "reader@example.com", 1)
	if err := chromedp.Do(customer.ctx, chromedp.Navigate(site+"/account/privacy")); err != nil {
		t.Fatal(err)
	}
	now := visibleText(t, customer, "#policies")
	if !strings.Contains(now, "you last read version "+read[1]) || !strings.Contains(now, "changed significantly") {
		t.Fatalf("the customer's privacy page:\n%s", now)
	}
	shoot(t, customer, "policy-account-unseen.png")
	click(t, customer, `form[action="/account/privacy/policies/privacy/seen"] button`)
	after := visibleText(t, customer, "#policies")
	if strings.Contains(after, "you last read version "+read[1]+" ") || strings.Contains(after, "changed significantly") {
		t.Fatalf("after dismissing:\n%s", after)
	}
	shoot(t, customer, "policy-account-seen.png")
	for _, b := range []*browser{customer, visitor} {
		b.checkStayedOnSite(t, site)
	}
}
