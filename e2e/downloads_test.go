package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/storekeep/storekeep/internal/testutil"
)

// TestCustomerDownloadsTheRelease: a license holder signs in, goes from
// the license to its downloads, sees the release with its notes, checksum
// and signature, and the link downloads exactly that file (from outside
// the browser, as curl on a server would); the repository page shows the
// lines to paste with the key filled in.
func TestCustomerDownloadsTheRelease(t *testing.T) {
	b := newBrowser(t)
	sink := testutil.StartSMTP(t)
	site := startMailingDemo(t, sink)
	lic := seedLicense(t, site, "nora.postmaster@example.net")
	var key string
	d := demoDB(t, site)
	if err := d.QueryRowContext(context.Background(), `SELECT license_key FROM licenses WHERE lic = $1`, lic.LicenseID).Scan(&key); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/licenses/"+lic.LicenseID)); err != nil {
		t.Fatal(err)
	}
	signInByEmail(t, b, sink, lic.Email, 0)
	click(t, b, "#downloads-link")
	if h1 := visibleText(t, b, "h1"); !strings.HasPrefix(h1, "Downloads for ") {
		t.Fatalf("h1 = %q", h1)
	}
	release := visibleText(t, b, "section.release")
	for _, want := range []string{"QuillGuard", "2.4.0", "newest", "quillguard-milter-2.4.0-linux-amd64.tar.gz", ".minisig"} {
		if !strings.Contains(release, want) {
			t.Errorf("the release section lacks %q:\n%s", want, release)
		}
	}
	shoot(t, b, "account-downloads.png")
	href, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("section.release tbody a[download]").href`))
	if err != nil || !strings.HasPrefix(href, site+"/downloads/") {
		t.Fatalf("the file's link: %q, %v", href, err)
	}
	sum, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("section.release tbody code.checksum").innerText`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(href)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got := sha256.Sum256(body)
	if res.StatusCode != http.StatusOK || hex.EncodeToString(got[:]) != strings.TrimSpace(sum) {
		t.Fatalf("the link gave %d, %d bytes with SHA-256 %x, the page says %s", res.StatusCode, len(body), got, sum)
	}

	if err := chromedp.Do(b.ctx, chromedp.Navigate(site+"/account/licenses/"+lic.LicenseID)); err != nil {
		t.Fatal(err)
	}
	click(t, b, "#repository-link")
	page := visibleText(t, b, "main")
	for _, want := range []string{"/apt/quillguard", "auth.conf.d", "password " + key, "/yum/quillguard/stable/", "repo_gpgcheck=1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the repository page lacks %q", want)
		}
	}
	shoot(t, b, "account-repository.png")
	b.checkStayedOnSite(t, site)
}
