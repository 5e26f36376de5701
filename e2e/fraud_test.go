package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestStaffReviewsAFraudCaseAndTheCustomerAnswers: a key-sharing signal
// opens a case in the demo's database; in Chromium the owner finds it in
// the console, reads its evidence and asks the customer, whose mail the
// real SMTP relay receives; the customer follows the mail's link, signs in
// and answers; the owner sees the answer and suspends the license with a
// reason; the customer is told by mail and finds the decision, and the
// way to contest it, on the same page. Nothing changed the license until
// the owner's decision.
func TestStaffReviewsAFraudCaseAndTheCustomerAnswers(t *testing.T) {
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	email := "nora.relay@example.net"
	lic := seedLicense(t, site, email)
	d := demoDB(t, site)
	ctx := context.Background()
	var caseID int64
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		caseID, _, err = fraud.Raise(ctx, tx, d.Dialect, fraud.Signal{Kind: fraud.KeySharing, Subject: fraud.Subject{LicenseID: lic.ID},
			Summary: "The license was checked in from many networks in a day.", Facts: []fraud.Fact{{Name: "networks in 24 hours", Value: "23"},
				{Name: "machines allowed", Value: "5"}}, Source: "e2e:key_sharing:" + lic.LicenseID, At: time.Now().UTC()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	licenseStatus := func() string {
		var s string
		if err := d.QueryRowContext(ctx, `SELECT status FROM licenses WHERE id = $1`, lic.ID).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if st := licenseStatus(); st != "active" {
		t.Fatalf("the signal changed the license to %s", st)
	}
	casePath := fmt.Sprintf("/staff/fraud/%d", caseID)

	staffB := newBrowser(t)
	signInEnrolled(t, staffB, site, "owner@quillfeather.example")
	click(t, staffB, `nav a[href="/staff/fraud"]`)
	if row := visibleText(t, staffB, "#cases tbody"); !strings.Contains(row, email) || !strings.Contains(row, "key sharing") {
		t.Fatalf("the case list: %q", row)
	}
	shoot(t, staffB, "fraud-list.png")
	click(t, staffB, `#cases a[href="`+casePath+`"]`)
	if ev := visibleText(t, staffB, "#signals"); !strings.Contains(ev, "networks in 24 hours") || !strings.Contains(ev, "23") {
		t.Fatalf("the evidence: %q", ev)
	}
	if n := visibleText(t, staffB, "#signal-count"); !strings.HasPrefix(n, "1, from ") {
		t.Fatalf("the case's signal count reads %q", n)
	}
	if err := chromedp.Do(staffB.ctx, chromedp.SendKeys(chromedp.ID("question"), "Is the license used by colleagues of yours, and on how many servers?")); err != nil {
		t.Fatal(err)
	}
	click(t, staffB, `#ask button[type="submit"]`)
	if text := visibleText(t, staffB, `main p.notice[role="status"]`); !strings.Contains(text, "question is on its way") {
		t.Fatalf("asking says %q", text)
	}
	if st := visibleText(t, staffB, "#status"); st != "asked" {
		t.Fatalf("status %q after asking", st)
	}
	shoot(t, staffB, "fraud-case-asked.png")

	// The customer opens the mail's link, signs in and answers.
	msgs := sink.WaitForTo(email, 1, 30*time.Second)
	question := msgs[len(msgs)-1]
	if !strings.Contains(question.Text, "on how many servers?") {
		t.Fatalf("the question mail:\n%s", question.Text)
	}
	link := site + fraud.AnswerPath(caseID)
	if !strings.Contains(question.Text, link) {
		t.Fatalf("the question mail has no link to %s:\n%s", link, question.Text)
	}
	cust := newBrowser(t)
	if err := chromedp.Do(cust.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, cust, sink, email, len(msgs))
	if err := chromedp.Do(cust.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if kinds := visibleText(t, cust, "#kinds"); !strings.Contains(kinds, "many networks or machines") {
		t.Fatalf("the customer's page says %q", kinds)
	}
	if err := chromedp.Do(cust.ctx, chromedp.SendKeys(chromedp.ID("answer"), "Three colleagues on two servers; we re-install often.")); err != nil {
		t.Fatal(err)
	}
	shoot(t, cust, "fraud-customer-answers.png")
	click(t, cust, `#answer-form button[type="submit"]`)
	if text := visibleText(t, cust, "#sent"); !strings.Contains(text, "your answer is with") {
		t.Fatalf("after answering: %q", text)
	}

	// The owner reads the answer and decides.
	if err := chromedp.Do(staffB.ctx, chromedp.Navigate(site+casePath)); err != nil {
		t.Fatal(err)
	}
	if msgs := visibleText(t, staffB, "#messages"); !strings.Contains(msgs, "Three colleagues on two servers") {
		t.Fatalf("the answer is not on the case: %q", msgs)
	}
	if st := licenseStatus(); st != "active" {
		t.Fatalf("before any decision the license is %s", st)
	}
	if err := chromedp.Do(staffB.ctx, chromedp.Click(chromedp.CSS(`#decide input[value="suspend_license"]`)),
		chromedp.SetValue(chromedp.ID("license"), fmt.Sprint(lic.ID)),
		chromedp.SendKeys(chromedp.ID("reason"), "23 networks in a day for 5 seats; two servers do not explain it.")); err != nil {
		t.Fatal(err)
	}
	shoot(t, staffB, "fraud-decide.png")
	click(t, staffB, `#decide button[type="submit"]`)
	if text := visibleText(t, staffB, `main p.notice[role="status"]`); !strings.Contains(text, "decision is recorded") {
		t.Fatalf("deciding says %q", text)
	}
	if dec := visibleText(t, staffB, "#decisions"); !strings.Contains(dec, "suspend_license") || !strings.Contains(dec, "customer told by mail") ||
		!strings.Contains(dec, "by Olivia Owner") {
		t.Fatalf("the decisions: %q", dec)
	}
	if st := licenseStatus(); st != "suspended" {
		t.Fatalf("after the decision the license is %s", st)
	}
	shoot(t, staffB, "fraud-decided.png")

	told := sink.WaitForTo(email, len(msgs)+2, 30*time.Second)
	notice := told[len(told)-1]
	if !strings.Contains(notice.Subject, "a decision about your account") || !strings.Contains(notice.Text, "two servers do not explain it") ||
		!strings.Contains(notice.Text, "contest") {
		t.Fatalf("the decision mail: %s\n%s", notice.Subject, notice.Text)
	}
	if err := chromedp.Do(cust.ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	if dec := visibleText(t, cust, "#decisions"); !strings.Contains(dec, "Suspend the license") {
		t.Fatalf("the customer sees %q", dec)
	}
	if label := visibleText(t, cust, `label[for="answer"]`); !strings.Contains(label, "Contest the decision") {
		t.Fatalf("no way to contest: %q", label)
	}
	shoot(t, cust, "fraud-customer-decision.png")
}

// TestOwnerChangesTheFraudThresholds: from the case list the owner opens
// the thresholds, reads each figure with its default, changes two and
// saves; the page says so and shows them, and the database holds them
// for every instance's next run.
func TestOwnerChangesTheFraudThresholds(t *testing.T) {
	site := startDemo(t)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	click(t, b, `nav a[href="/staff/fraud"]`)
	click(t, b, `#thresholds-link`)
	if help := visibleText(t, b, "#checkouts_per_network-help"); !strings.Contains(help, "Default 5.") {
		t.Fatalf("the help of checkouts per network: %q", help)
	}
	fill(t, b, map[string]string{"checkouts_per_network": "8", "key_sharing_networks": "12"})
	click(t, b, `#thresholds button[type="submit"]`)
	if text := visibleText(t, b, "#done"); !strings.Contains(text, "thresholds are saved") {
		t.Fatalf("after saving: %q", text)
	}
	if got, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID("key_sharing_networks"))); err != nil || got != "12" {
		t.Fatalf("key sharing networks after saving: %q %v", got, err)
	}
	shoot(t, b, "fraud-thresholds.png")
	var raw string
	if err := demoDB(t, site).QueryRowContext(context.Background(), `SELECT value FROM settings WHERE key = 'fraud.thresholds'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(raw, `"checkouts_per_network":8`) || !strings.Contains(raw, `"key_sharing_networks":12`) {
		t.Fatalf("stored thresholds: %s", raw)
	}
}
