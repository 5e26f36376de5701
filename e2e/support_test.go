package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

var supportConfirmLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/support/confirm\?t=[A-Za-z0-9_%-]+`)

// TestSupportDeskInTheBrowser: a visitor asks for help on the support
// page, confirms their address from the mail and gets a ticket; support
// staff find it in the console and answer; the answer reaches the
// visitor's mailbox threaded, with the reply address of the ticket. A
// customer sees their ticket and the staff's answer in the account, without
// internal notes, and answers there; staff see the answer and the
// customer's licenses beside it.
func TestSupportDeskInTheBrowser(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)

	// The visitor's request, confirmed by mail.
	v := newBrowser(t)
	if err := chromedp.Do(v.ctx, chromedp.Navigate(site+"/support")); err != nil {
		t.Fatal(err)
	}
	if got := visibleText(t, v, "#email-use"); !strings.Contains(got, "link") {
		t.Fatalf("the form does not say the address is confirmed first: %q", got)
	}
	fill(t, v, map[string]string{"name": "Vera Visitor", "email": "vera@visitor.example", "subject": "Does QuillGuard run on FreeBSD?",
		"message": "We run Postfix 3.8 on FreeBSD 14. Is there a package?"})
	shoot(t, v, "support-form.png")
	click(t, v, `main form button[type="submit"]`)
	if got := visibleText(t, v, "main"); !strings.Contains(strings.ToLower(got), "mail") {
		t.Fatalf("after sending: %q", got)
	}
	var link string
	for _, m := range sink.WaitForTo("vera@visitor.example", 1, 20*time.Second) {
		link = supportConfirmLink.FindString(m.Text)
	}
	if link == "" {
		t.Fatal("no confirmation link mailed")
	}
	if err := chromedp.Do(v.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	click(t, v, `main form button[type="submit"]`)
	opened := visibleText(t, v, "main")
	number := regexp.MustCompile(`#(\d+)`).FindStringSubmatch(opened)
	if number == nil {
		t.Fatalf("the confirmation names no ticket: %q", opened)
	}
	shoot(t, v, "support-opened.png")
	v.checkStayedOnSite(t, site)

	// Support staff find it and answer.
	s := newBrowser(t)
	signInEnrolled(t, s, site, "support@quillfeather.example")
	click(t, s, `nav[aria-label="Console"] a[href="/staff/support"]`)
	if err := chromedp.Do(s.ctx, chromedp.SendKeys(chromedp.ID("q"), "vera@visitor.example")); err != nil {
		t.Fatal(err)
	}
	click(t, s, `main form[role="search"] button[type="submit"]`)
	shoot(t, s, "support-console-list.png")
	click(t, s, `main table a[href="/staff/support/`+number[1]+`"]`)
	if got := visibleText(t, s, "main"); !strings.Contains(got, "FreeBSD 14") {
		t.Fatalf("the ticket page lacks the visitor's message:\n%s", got)
	}
	fill(t, s, map[string]string{"reply-text": "Hello Vera, yes: the FreeBSD package is on the downloads page of the release."})
	click(t, s, `#reply button[type="submit"]`)
	if got := visibleText(t, s, "main"); !strings.Contains(got, "the FreeBSD package is on the downloads page") {
		t.Fatalf("the reply is not in the thread:\n%s", got)
	}
	shoot(t, s, "support-console-ticket.png")
	var reply testutil.Received
	for _, m := range sink.WaitForTo("vera@visitor.example", 2, 30*time.Second) {
		if strings.Contains(m.Text, "FreeBSD package") {
			reply = m
		}
	}
	if reply.Subject != "Re: Does QuillGuard run on FreeBSD? [Support #"+number[1]+"]" || !strings.Contains(reply.Header.Get("Reply-To"), "support+") ||
		reply.Header.Get("Auto-Submitted") != "" || reply.MessageID == "" {
		t.Fatalf("the reply as mailed: subject %q, headers %v", reply.Subject, reply.Header)
	}

	// A customer reads and answers in the account.
	c := newBrowser(t)
	if err := chromedp.Do(c.ctx, chromedp.Navigate(site+"/account/login")); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, c, sink, "ada@example.com", len(sink.WaitForTo("ada@example.com", 0, time.Second)))
	click(t, c, `a#support-link`)
	if got := visibleText(t, c, "main"); !strings.Contains(got, "Milter adds two seconds per message") {
		t.Fatalf("the account's tickets:\n%s", got)
	}
	click(t, c, `main table a[href^="/account/support/"]`)
	page := visibleText(t, c, "main")
	if !strings.Contains(page, "reputation check") || !strings.Contains(page, "dns timeout") {
		t.Fatalf("the thread lacks the staff's answer or the customer's message:\n%s", page)
	}
	fill(t, c, map[string]string{"message": "Raising the resolver timeout fixed it."})
	click(t, c, `main form[action^="/account/support/"] button[type="submit"]`)
	if got := visibleText(t, c, "main"); !strings.Contains(got, "Raising the resolver timeout fixed it.") {
		t.Fatalf("the answer is not in the thread:\n%s", got)
	}
	shoot(t, c, "support-account-ticket.png")
	c.checkStayedOnSite(t, site)

	// Staff see the answer and the customer's licenses beside it.
	click(t, s, `nav[aria-label="Console"] a[href="/staff/support"]`)
	if err := chromedp.Do(s.ctx, chromedp.SetValue(chromedp.ID("q"), "ada@example.com")); err != nil {
		t.Fatal(err)
	}
	click(t, s, `main form[role="search"] button[type="submit"]`)
	click(t, s, `main table a[href^="/staff/support/"]`)
	if got := visibleText(t, s, "main"); !strings.Contains(got, "Raising the resolver timeout fixed it.") {
		t.Fatalf("staff do not see the customer's answer:\n%s", got)
	}
	if got := visibleText(t, s, "#customer"); !strings.Contains(got, "quillguard professional") || !strings.Contains(got, "active") {
		t.Fatalf("the customer's licenses are not beside the ticket:\n%s", got)
	}
	shoot(t, s, "support-console-customer.png")
	s.checkStayedOnSite(t, site)
}
