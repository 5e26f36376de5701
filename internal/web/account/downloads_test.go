package account_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"regexp"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var fileLink = regexp.MustCompile(`href="(/downloads/\d+/([A-Za-z0-9._+~-]+)\?[^"]+)"`)

// links returns the page's download links by file name (signatures are
// NAME.minisig).
func links(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fileLink.FindAllStringSubmatch(body, -1) {
		out[m[2]] = html.UnescapeString(m[1])
	}
	return out
}

// TestDownloadsPageFollowsTheLicense: the account lists the releases the
// license covers with checksums, working links (fetched without the
// customer's cookies, whole and resumed, and the signature that verifies),
// lists a release published after the updates window with the reason and
// the way on, and closes everything once the license is suspended. Other
// customers see nothing.
func TestDownloadsPageFollowsTheLicense(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "dora@example.com")
		l := webtest.IssueLicense(t, s, c.ID, "standard", false)
		content := bytes.Repeat([]byte("mailguard build\n"), 4096)
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.0.0", Notes: "First **public** release."},
			map[string][]byte{"mailguard-1.0.0-linux-amd64.bin": content})
		sum := sha256.Sum256(content)
		page := "/account/licenses/" + l.LicenseID + "/downloads"
		res, body := b.Get(t, page)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Mailguard 1.0.0", hex.EncodeToString(sum[:]), "<strong>public</strong>", "minisign -Vm")
		if cc := res.Header.Get("Cache-Control"); cc == "" || !bytes.Contains([]byte(cc), []byte("no-store")) {
			t.Errorf("the page with working links may be cached: Cache-Control %q", cc)
		}
		ls := links(body)
		href, sigHref := ls["mailguard-1.0.0-linux-amd64.bin"], ls["mailguard-1.0.0-linux-amd64.bin.minisig"]
		if href == "" || sigHref == "" {
			t.Fatalf("no file and signature links on the page: %v", ls)
		}

		// The link works from anywhere: no cookies.
		res, got := s.Get(t, href)
		webtest.WantStatus(t, res, got, http.StatusOK)
		if got != string(content) {
			t.Fatalf("downloaded %d bytes, want the %d of the file", len(got), len(content))
		}
		res = s.Do(t, http.MethodGet, href, http.Header{"Range": {"bytes=100-"}}, nil)
		part := webtest.ReadAll(t, res)
		if res.StatusCode != http.StatusPartialContent || part != string(content[100:]) {
			t.Fatalf("resumed download: %d, %d bytes", res.StatusCode, len(part))
		}
		res, sig := s.Get(t, sigHref)
		webtest.WantStatus(t, res, sig, http.StatusOK)
		if ok, err := rs.Signer.Verify(bytes.NewReader(content), sig); err != nil || !ok {
			t.Fatalf("the signature served does not verify the file: %v", err)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads WHERE license_id = $1 AND customer_id = $2 AND via = 'account'`, l.ID, c.ID); n != 2 {
			t.Errorf("the log has %d downloads of the license, want 2 (the file and its resumption; the signature is not a download)", n)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads WHERE first_byte = 100`); n != 1 {
			t.Errorf("the resumed download is not logged with where it started (%d rows)", n)
		}

		// Thirteen months on, the updates window (12 months) has ended.
		s.Clock.Set(l.UpdatesUntil.AddDate(0, 1, 0))
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "2.0.0"},
			map[string][]byte{"mailguard-2.0.0-linux-amd64.bin": []byte("two")})
		b, _ = webtest.SignedInCustomer(t, s, "dora@example.com")
		_, body = b.Get(t, page)
		webtest.MustContain(t, body, "Mailguard 1.0.0", "Releases your license does not cover", "after this license&#39;s updates ended",
			`href="/products/mailguard"`)
		if _, ok := links(body)["mailguard-2.0.0-linux-amd64.bin"]; ok {
			t.Fatal("the page links a release the license does not cover")
		}
		// The old link has expired; the page's new one works.
		res, body = s.Get(t, href)
		webtest.WantStatus(t, res, body, http.StatusGone)
		_, body = b.Get(t, page)
		res, got = s.Get(t, links(body)["mailguard-1.0.0-linux-amd64.bin"])
		if res.StatusCode != http.StatusOK || got != string(content) {
			t.Fatalf("a fresh link: %d", res.StatusCode)
		}
		fresh := links(body)["mailguard-1.0.0-linux-amd64.bin"]

		// Suspended: the page says so and the fresh link stops at once.
		owner := webtest.AddStaff(t, s, "owner@example.com", "owner", false)
		if _, err := licensing.Suspend(context.Background(), d, owner.ID, l.ID, "chargeback", s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		_, body = b.Get(t, page)
		webtest.MustContain(t, body, `id="downloads-closed"`, "suspended")
		if len(links(body)) != 0 {
			t.Fatal("a suspended license's page still links files")
		}
		res, body = s.Get(t, fresh)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		webtest.MustContain(t, body, "suspended")

		// Another customer's license is not found.
		other, _ := webtest.SignedInCustomer(t, s, "eve@example.com")
		res, body = other.Get(t, page)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

// TestExpiredTermLicenseDownloadsPointToRenewal: a yearly license past
// its grace period lists nothing and links its renewal page.
func TestExpiredTermLicenseDownloadsPointToRenewal(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		_, c := webtest.SignedInCustomer(t, s, "finn@example.com")
		l := webtest.IssueLicense(t, s, c.ID, "standard", true)
		webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.0.0"}, map[string][]byte{"a.bin": []byte("a")})
		s.Clock.Set(l.ExpiresAt.AddDate(0, 0, l.GraceDays+1))
		b, _ := webtest.SignedInCustomer(t, s, "finn@example.com")
		_, body := b.Get(t, "/account/licenses/"+l.LicenseID+"/downloads")
		webtest.MustContain(t, body, "This license expired on", `href="/account/licenses/`+l.LicenseID+`/renew"`)
		if len(links(body)) != 0 {
			t.Fatal("an expired license's page links files")
		}
	})
}
