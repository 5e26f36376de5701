package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestOwnerKeepsTheRecipientsRegister: in Chromium the owner sees the
// register's problems on the dashboard, adds a recipient that receives
// data outside the EEA without a safeguard, sees it reported as a
// problem, and downloads the records of processing as a PDF, which
// pdftotext reads back with the new recipient in it.
func TestOwnerKeepsTheRecipientsRegister(t *testing.T) {
	site := startDemo(t)
	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	if text := visibleText(t, b, "#privacy-problems"); !strings.Contains(text, "no agreement with them is on file") {
		t.Fatalf("the dashboard's register problems say:\n%s", text)
	}
	shoot(t, b, "accountability-dashboard.png")

	click(t, b, `nav a[href="/staff/privacy/recipients"]`)
	click(t, b, `main a[href="/staff/privacy/recipients/new"]`)
	fill(t, b, map[string]string{"name": "Backupwolke Inc.", "purpose": "keeps encrypted copies of the database",
		"location": "United States", "agreement_ref": "DPA 2026-11", "agreement_date": "2026-11-02"})
	if err := chromedp.Do(b.ctx,
		chromedp.Click(chromedp.CSS(`input[name="categories"][value="user.contact.email"]`)),
		chromedp.Click(chromedp.CSS(`input[name="categories"][value="user.name"]`)),
		chromedp.Click(chromedp.ID("outside_eea")),
	); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "accountability-add-recipient.png")
	click(t, b, `#recipient-form button[type="submit"]`)
	if text := visibleText(t, b, `main p.notice[role="status"]`); !strings.Contains(text, "in the register") {
		t.Fatalf("adding says %q", text)
	}
	problems := visibleText(t, b, "#recipient-problems")
	if !strings.Contains(problems, "Backupwolke Inc. receives personal data outside the EEA (United States) without a safeguard") {
		t.Fatalf("the register's problems:\n%s", problems)
	}
	shoot(t, b, "accountability-register.png")

	click(t, b, `nav.subnav a[href="/staff/privacy/records"]`)
	if text := visibleText(t, b, "#records-recipients"); !strings.Contains(text, "Backupwolke Inc.") {
		t.Fatalf("the records' recipients:\n%s", text)
	}
	shoot(t, b, "accountability-records.png")
	dir := t.TempDir()
	progress := chromedp.Events(b.ctx, cdpbrowser.DownloadProgress)
	if err := chromedp.Do(b.ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.ID("records-pdf")),
	); err != nil {
		t.Fatalf("download the records: %v", err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	pdf, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(testutil.PDFText(t, pdf)), " ")
	for _, want := range []string{"Records of processing activities", "Backupwolke Inc.", "No safeguard recorded", "DPA 2026-11", "Stripe"} {
		if !strings.Contains(text, want) {
			t.Errorf("the downloaded PDF lacks %q", want)
		}
	}
	b.checkStayedOnSite(t, site)
}
