package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestOwnerRecordsABreachTellsThePeopleAndReviews: in Chromium the owner
// records a breach (a record without its discovery time is refused),
// sees the 72-hour deadline, decides the people affected must be told,
// drafts their notice (a script in it is refused), sends it — the real
// SMTP relay receives it — and then does the month's data review.
func TestOwnerRecordsABreachTellsThePeopleAndReviews(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	click(t, b, `nav a[href="/staff/breaches"]`)
	click(t, b, `#record-breach`)

	fill(t, b, map[string]string{"title": "Support export left on a public share",
		"what_happened": "A CSV export of support tickets was reachable by link for two days.", "discovered_at": ""})
	click(t, b, `#breach-form button[type="submit"]`)
	if text := visibleText(t, b, `main p.form-error`); !strings.Contains(text, "when the breach was discovered") {
		t.Fatalf("a breach without a discovery time: %q", text)
	}
	b.expectRefused(t, 422)
	discovered := time.Now().UTC().Add(-3 * time.Hour).Format("2006-01-02T15:04")
	fill(t, b, map[string]string{"discovered_at": discovered, "subjects_affected": "40", "records_affected": "55",
		"consequences": "Names and addresses could be used for phishing.", "measures": "The share was removed; the link no longer works."})
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`input[name="categories"][value="user.contact.email"]`))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("subjects"), "required")); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "breach-form.png")
	click(t, b, `#breach-form button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "in the register") {
		t.Fatalf("recording says %q", text)
	}
	deadline := visibleText(t, b, "#deadline")
	if !strings.Contains(deadline, "Tell the authority by") || !regexp.MustCompile(`6[89] hours left`).MatchString(deadline) {
		t.Fatalf("the deadline shows %q", deadline)
	}
	shoot(t, b, "breach-deadline.png")

	fill(t, b, map[string]string{"notice_subject": "Your support ticket was exposed",
		"notice_body": "Some of your **support tickets** were reachable by link.\n\n<script>document.title='owned'</script>", "notice_addresses": "pia@customer.example"})
	click(t, b, `#notice-form button[type="submit"]`)
	if text := visibleText(t, b, `#action-error`); !strings.Contains(text, "Markdown only") {
		t.Fatalf("a notice with a script: %q", text)
	}
	b.expectRefused(t, 422)
	if title, _ := chromedp.Run(b.ctx, chromedp.Title()); title == "owned" {
		t.Fatal("the notice's script ran in the console")
	}
	fill(t, b, map[string]string{"notice_body": "Some of your **support tickets** were reachable by link for two days.\n\nWrite to privacy@quillfeather.example with any question."})
	click(t, b, `#notice-form button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "Nothing has been sent") {
		t.Fatalf("drafting says %q", text)
	}
	preview, err := chromedp.Run(b.ctx, chromedp.InnerHTML(chromedp.ID("notice-preview")))
	if err != nil || !strings.Contains(preview, "<strong>support tickets</strong>") {
		t.Fatalf("preview %q, %v", preview, err)
	}
	if got := sink.Messages(); len(got) > 0 {
		for _, m := range got {
			if m.To[0] == "pia@customer.example" {
				t.Fatal("the draft was sent before the owner pressed send")
			}
		}
	}
	shoot(t, b, "breach-notice-draft.png")
	click(t, b, `#notice-send button[type="submit"]`)
	if text := visibleText(t, b, "#notice-sent"); !strings.Contains(text, "to 1 person") {
		t.Fatalf("after sending: %q", text)
	}
	got := sink.WaitForTo("pia@customer.example", 1, 30*time.Second)
	if got[0].Subject != "Your support ticket was exposed" || !strings.Contains(got[0].HTML, "<strong>support tickets</strong>") {
		t.Fatalf("the relay received %q\n%s", got[0].Subject, got[0].HTML)
	}
	shoot(t, b, "breach-notice-sent.png")

	click(t, b, `nav a[href="/staff/review"]`)
	if text := visibleText(t, b, "#review-breaches"); !strings.Contains(text, "Support export left on a public share") {
		t.Fatalf("the review's open breaches: %q", text)
	}
	fill(t, b, map[string]string{"notes": "Purge runs hourly; breach No. 1 open, authority to be told."})
	click(t, b, `#review-form button[type="submit"]`)
	if text := visibleText(t, b, "#reviews-done"); !strings.Contains(text, "breach No. 1 open") || !strings.Contains(text, "Olivia Owner") {
		t.Fatalf("the reviews done: %q", text)
	}
	shoot(t, b, "review.png")
	b.checkStayedOnSite(t, site)
}
