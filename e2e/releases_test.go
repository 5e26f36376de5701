package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/releases/releasetest"
)

// TestStaffPublishARelease: an owner creates a draft release with notes
// in the console, uploads a .deb through the browser's file input,
// publishes it and sees its checksums; the site publishes the minisign
// public key (the domain and CLI tests verify signatures with minisign).
func TestStaffPublishARelease(t *testing.T) {
	site := startDemo(t)
	dir := t.TempDir()
	debPath := filepath.Join(dir, "quillguard_1.4.0_amd64.deb")
	deb := releasetest.Deb(t, "quillguard", "1.4.0", "amd64")
	if err := os.WriteFile(debPath, deb, 0o644); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	signInEnrolled(t, b, site, "owner@quillfeather.example")
	click(t, b, `nav[aria-label="Console"] a[href="/staff/releases"]`)
	if h1 := visibleText(t, b, "h1"); h1 != "Releases" {
		t.Fatalf("h1 = %q", h1)
	}
	if err := chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.ID("product"), "quillguard"),
		chromedp.SendKeys(chromedp.ID("version"), "1.4.0"),
		chromedp.SendKeys(chromedp.ID("notes"), "## Changes\n\n- Greylisting is **twice as fast**.\n- Fixed a crash on empty headers."),
	); err != nil {
		t.Fatal(err)
	}
	shoot(t, b, "console-releases-new.png")
	click(t, b, `#create button[type="submit"]`)
	if got := visibleText(t, b, `main p.notice[role="status"]`); got != "The draft is created: add its files, then publish it." {
		t.Fatalf("after creating the page says %q", got)
	}
	if got := visibleText(t, b, "#state"); got != "draft" {
		t.Fatalf("state %q, want draft", got)
	}
	if got := visibleText(t, b, "main .notes strong"); got != "twice as fast" {
		t.Errorf("the notes' Markdown is not rendered: %q", got)
	}

	if err := chromedp.Do(b.ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{debPath})); err != nil {
		t.Fatal(err)
	}
	click(t, b, `#upload button[type="submit"]`)
	if got := visibleText(t, b, `main p.notice[role="status"]`); got != "The file is uploaded, checked and signed." {
		t.Fatalf("after uploading the page says %q", got)
	}
	files := visibleText(t, b, "#files")
	for _, want := range []string{"quillguard_1.4.0_amd64.deb", "deb", "linux/amd64", "package quillguard 1.4.0-1 (amd64)"} {
		if !strings.Contains(files, want) {
			t.Errorf("the files table lacks %q:\n%s", want, files)
		}
	}
	shoot(t, b, "console-release-draft.png")

	click(t, b, `#publish button[type="submit"]`)
	if got := visibleText(t, b, "#state"); got != "published" {
		t.Fatalf("state after publishing %q", got)
	}
	sums := visibleText(t, b, "#checksums")
	if !strings.HasSuffix(strings.TrimSpace(sums), "  quillguard_1.4.0_amd64.deb") {
		t.Errorf("checksums shown: %q", sums)
	}
	shoot(t, b, "console-release-published.png")

	// The published key is minisign's, and verifies what was signed.
	res, err := http.Get(site + "/.well-known/storekeep-release-key.pub")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(string(key), "untrusted comment: minisign public key") {
		t.Fatalf("GET the release key: %d %q", res.StatusCode, key)
	}
}
