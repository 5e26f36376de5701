package e2e

import (
	"archive/zip"
	"context"
	"path/filepath"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestCustomerDownloadsTheirDataAndErasesTheAccount: sign in by the emailed
// link, open the privacy center, download the export (a real download in
// the browser, checked as a ZIP), erase the account and see what was done.
func TestCustomerDownloadsTheirDataAndErasesTheAccount(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/login")); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, b, sink, "dana@example.com", 0)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/privacy")); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "privacy-center.png")
	page := visibleText(t, b, "main")
	for _, want := range []string{"What we hold about you", "Why we hold it", "Restrict processing", "Erase your account"} {
		if !strings.Contains(page, want) {
			t.Errorf("the privacy center lacks %q", want)
		}
	}

	dir := t.TempDir()
	progress := chromedp.Events(b.ctx, cdpbrowser.DownloadProgress)
	err := chromedp.Do(b.ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)})
			return err
		}),
		chromedp.Click(chromedp.ID("download-export")),
	)
	if err != nil {
		t.Fatalf("download the export: %v", err)
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
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatalf("the download is not a ZIP: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if !strings.Contains(strings.Join(names, " "), "data.json") || !strings.Contains(strings.Join(names, " "), "csv/customers.csv") {
		t.Fatalf("the export holds %v", names)
	}

	if err := chromedp.Do(b.ctx,
		chromedp.Click(chromedp.ID("erase-confirm")),
		chromedp.SendKeys(chromedp.ID("erase-email"), "dana@example.com"),
	); err != nil {
		t.Fatal(err)
	}
	click(t, b, "#erase-submit")
	if h1 := visibleText(t, b, "h1"); h1 != "Your account is erased" {
		t.Fatalf("after erasing, h1 = %q", h1)
	}
	if text := visibleText(t, b, "main"); !strings.Contains(text, "Deleted or anonymised") || !strings.Contains(text, "Customer accounts") {
		t.Errorf("the confirmation does not say what was erased:\n%s", text)
	}
	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account")); err != nil {
		t.Fatal(err)
	}
	if loc := location(t, b); !strings.HasPrefix(loc, site+"/account/login") {
		t.Fatalf("after erasure /account leads to %s, want the sign-in page", loc)
	}
	b.checkStayedOnSite(t, site)
}

func ptr[T any](v T) *T { return &v }
