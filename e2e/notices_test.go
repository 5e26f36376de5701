package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestOwnerComposesTestsAndSendsANotice: in Chromium the owner writes a
// security notice in Markdown with a script in it, sees the safe preview
// and its audience, sends a test to their own address, which the real
// SMTP relay receives with both parts, and sends the notice. (The demo
// serves http, and bulk mail needs an https unsubscribe link, so the
// demo's dispatcher does not run: the delivery of the notice itself to a
// real SMTP server is TestARealSMTPServerReceivesTheNotice in
// internal/web/notices.)
func TestOwnerComposesTestsAndSendsANotice(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	// Enough license holders that the notice is still being sent when
	// the owner pauses it: the demo's own two are queued within the
	// dispatcher's first second (10 a second), and the pause could come
	// after; 60 more take six seconds.
	for i := range 60 {
		seedLicense(t, site, fmt.Sprintf("holder-%02d@example.net", i))
	}
	b := newBrowser(t)
	owner := "owner@quillfeather.example"
	signInEnrolled(t, b, site, owner)
	click(t, b, `nav a[href="/staff/notices"]`)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/staff/notices/new?kind=security")); err != nil {
		t.Fatal(err)
	}
	fill(t, b, map[string]string{"subject": "Quillguard: update to the latest release",
		"body": "A fix for **everyone**.\n\n<script>document.title='owned'</script>\n\n[details](javascript:alert(1))"})
	click(t, b, `#compose button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "draft is saved") {
		t.Fatalf("saving says %q", text)
	}
	preview, err := chromedp.Run(b.ctx, chromedp.InnerHTML(chromedp.ID("preview")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(preview, "<strong>everyone</strong>") || strings.Contains(preview, "<script") || strings.Contains(preview, "javascript:") {
		t.Fatalf("preview:\n%s", preview)
	}
	if title, _ := chromedp.Run(b.ctx, chromedp.Title()); title == "owned" {
		t.Fatal("the notice's script ran in the console")
	}
	count := visibleText(t, b, "#audience-count")
	if !strings.Contains(count, "would go to") {
		t.Fatalf("the demo's license holders are not counted: %q", count)
	}
	shoot(t, b, "notice-preview.png")

	// The owner may have mail already (the demo's monthly review
	// reminder goes out at start-up): wait for one more than that.
	before := 0
	for _, m := range sink.Messages() {
		if len(m.To) > 0 && m.To[0] == owner {
			before++
		}
	}
	click(t, b, `#test-send button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "test copy") {
		t.Fatalf("test send says %q", text)
	}
	got := sink.WaitForTo(owner, before+1, 30*time.Second)
	var test *testutil.Received
	for i := range got {
		if strings.HasPrefix(got[i].Subject, "[Test] Quillguard") {
			test = &got[i]
		}
	}
	if test == nil {
		t.Fatalf("the relay received no test copy for %s", owner)
	}
	if !strings.Contains(test.HTML, "<strong>everyone</strong>") || strings.Contains(test.HTML, "<script") || !strings.Contains(test.Text, "A fix for **everyone**.") {
		t.Fatalf("test copy: HTML\n%s\ntext\n%s", test.HTML, test.Text)
	}

	click(t, b, `#send button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "being sent") {
		t.Fatalf("sending says %q", text)
	}
	if st := visibleText(t, b, "#status"); st != "sending" {
		t.Fatalf("status %q", st)
	}
	click(t, b, `#pause button[type="submit"]`)
	if st := visibleText(t, b, "#status"); st != "paused" {
		t.Fatalf("after pausing: %q", st)
	}
	shoot(t, b, "notice-paused.png")
	b.checkStayedOnSite(t, site)
}
