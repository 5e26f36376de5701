package trials_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestMain(m *testing.M) { webtest.Main(m, "trials") }

type world struct {
	s  *webtest.Site
	rs *releases.Releases
}

func newWorld(t *testing.T, d *db.DB) world {
	t.Helper()
	store, err := releases.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "keys"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := webtest.NewSite(t, d, webtest.WithReleases(store, signer, 1<<20))
	return world{s: s, rs: &releases.Releases{DB: d, Clock: s.Clock, Store: store, Signer: signer, MaxSize: 1 << 20}}
}

// release publishes a release of Mailguard with two files.
func (w world) release(t *testing.T, version string, gated bool) releases.Release {
	t.Helper()
	ctx := context.Background()
	r, err := w.rs.Create(ctx, audit.System(), releases.NewRelease{Product: "mailguard", Version: version, EmailGated: gated,
		Notes: "## Mailguard " + version + "\n\n- *Faster* greylisting"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"linux-amd64", "linux-arm64"} {
		name := "mailguard-" + version + "-" + p + ".tar.gz"
		if _, err := w.rs.AddArtifact(ctx, audit.System(), r.ID, releases.NewArtifact{FileName: name, Platform: strings.ReplaceAll(p, "-", "/"),
			Content: strings.NewReader(string(releasetest.Tarball(t, name, []byte(name))))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.rs.Publish(ctx, audit.System(), r.ID); err != nil {
		t.Fatal(err)
	}
	r, err = releases.ByID(ctx, w.s.DB, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var confirmRE = regexp.MustCompile(`http://127\.0\.0\.1:8080(/downloads/confirm/([A-Za-z0-9_-]{43}))`)

// mailedLink returns the path of the newest confirmation link mailed to to.
func mailedLink(t *testing.T, d *db.DB, to string) (path, token string) {
	t.Helper()
	var tmpl, text string
	if err := d.QueryRowContext(context.Background(), `SELECT template, text_body FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, to).
		Scan(&tmpl, &text); err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	m := confirmRE.FindStringSubmatch(text)
	if tmpl != "trial_download" || m == nil {
		t.Fatalf("mail (%s) has no confirmation link:\n%s", tmpl, text)
	}
	return m[1], m[2]
}

var hrefRE = regexp.MustCompile(`href="(/downloads/[^"]+)"`)

// TestEmailGatedDownloadInTheBrowser walks the visitor's way: the product
// page links to the form, the form says what the address is for and
// mails a link, the link opens a page whose button confirms (fetching it
// changes nothing), and the confirmed page lists the files with links
// signed for the request, their SHA-256, signatures and the notes. A used
// or made-up link is refused in words.
func TestEmailGatedDownloadInTheBrowser(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		b := webtest.NewBrowser(w.s)

		// No email-gated release: no link, no form.
		w.release(t, "1.0.0", false)
		res, body := b.Get(t, "/products/mailguard")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustNotContain(t, body, "/products/mailguard/download")
		res, body = b.Get(t, "/products/mailguard/download")
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		// Publishing one changes the (cached) product page.
		rel := w.release(t, "1.1.0", true)
		res, body = b.Get(t, "/products/mailguard")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `href="/products/mailguard/download"`, "Download Mailguard 1.1.0")

		res, body = b.Get(t, "/products/mailguard/download")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `action="/products/mailguard/download"`, `name="release" value="`+strconv.FormatInt(rel.ID, 10)+`"`,
			"only to send you the link", "no marketing", "deleted 30 days after your request")
		if strings.Contains(strings.ToLower(body), "newsletter\" ") || strings.Contains(body, `type="checkbox"`) {
			t.Fatal("the form asks for a marketing opt-in")
		}

		// Bad input: a clear error, nothing written.
		for _, tc := range []struct {
			form   url.Values
			status int
			says   string
		}{
			{url.Values{"email": {"not an address"}, "release": {strconv.FormatInt(rel.ID, 10)}}, http.StatusUnprocessableEntity, "such as name@example.com"},
			{url.Values{"email": {""}, "release": {strconv.FormatInt(rel.ID, 10)}}, http.StatusUnprocessableEntity, "email address"},
			{url.Values{"email": {"v@example.com"}, "release": {"1"}}, http.StatusConflict, "has changed since"},
			{url.Values{"email": {"v@example.com"}}, http.StatusConflict, "has changed since"},
			{url.Values{"email": {"v@example.com\u202e"}, "release": {strconv.FormatInt(rel.ID, 10)}}, http.StatusUnprocessableEntity, ""},
		} {
			res, body := b.Post(t, "/products/mailguard/download", tc.form)
			webtest.WantStatus(t, res, body, tc.status)
			webtest.MustContain(t, body, tc.says)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM download_requests`) + webtest.Count(t, d, `SELECT count(*) FROM outbox`); n != 0 {
			t.Fatalf("refused forms wrote %d rows", n)
		}

		res, body = b.Post(t, "/products/mailguard/download", url.Values{"email": {"Trial@Example.com"}, "release": {strconv.FormatInt(rel.ID, 10)}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Check your inbox", "trial@example.com", "within 24 hours")
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the answer may be stored")
		}
		path, token := mailedLink(t, d, "trial@example.com")

		// Opening the link (or a scanner fetching it) confirms nothing.
		for range 2 {
			res, body = b.Get(t, path)
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `action="/downloads/confirm/`+token+`"`, "trial@example.com", "Mailguard 1.1.0")
		}
		if webtest.Count(t, d, `SELECT count(*) FROM download_requests WHERE confirmed_at IS NOT NULL`) != 0 {
			t.Fatal("fetching the link confirmed it")
		}

		res, body = b.Post(t, path, url.Values{})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your address is confirmed", "<em>Faster</em> greylisting", "/.well-known/storekeep-release-key.pub")
		var reqID int64
		if err := d.QueryRowContext(context.Background(), `SELECT id FROM download_requests WHERE email = 'trial@example.com' AND confirmed_at IS NOT NULL`).Scan(&reqID); err != nil {
			t.Fatal(err)
		}
		links := downloads.NewLinks(w.s.Srv.Secret())
		hrefs := hrefRE.FindAllStringSubmatch(body, -1)
		if len(hrefs) != 2*len(rel.Artifacts) {
			t.Fatalf("%d links for %d files:\n%s", len(hrefs), len(rel.Artifacts), body)
		}
		now := w.s.Clock.Now()
		for i, a := range rel.Artifacts {
			webtest.MustContain(t, body, a.SHA256, a.FileName)
			file, sig := html.UnescapeString(hrefs[2*i][1]), html.UnescapeString(hrefs[2*i+1][1])
			if !strings.HasPrefix(file, "/downloads/"+strconv.FormatInt(a.ID, 10)+"/"+a.FileName+"?") ||
				!strings.HasPrefix(sig, "/downloads/"+strconv.FormatInt(a.ID, 10)+"/"+a.FileName+".minisig?") {
				t.Fatalf("links of %s: %s %s", a.FileName, file, sig)
			}
			for _, l := range []string{file, sig} {
				u, err := url.Parse(l)
				if err != nil {
					t.Fatal(err)
				}
				g, err := links.Check(a.ID, u.Query(), now)
				if err != nil || g != (downloads.Grant{Kind: downloads.ByEmail, ID: reqID}) {
					t.Fatalf("link %s: grant %+v, %v", l, g, err)
				}
				if _, err := links.Check(a.ID, u.Query(), now.Add(downloads.LinkTTL)); err == nil {
					t.Fatalf("link %s outlives a day", l)
				}
				if _, err := links.Check(a.ID+1, u.Query(), now); err == nil {
					t.Fatalf("link %s opens another file", l)
				}
			}
			if err := downloads.CheckEmailGrant(context.Background(), d, reqID, rel, now); err != nil {
				t.Fatalf("the grant the links carry: %v", err)
			}
			// The link downloads the file, from anywhere (no cookies),
			// logged as an email-gated download of this request.
			res, got := w.s.Get(t, file)
			webtest.WantStatus(t, res, got, http.StatusOK)
			if sum := sha256.Sum256([]byte(got)); hex.EncodeToString(sum[:]) != a.SHA256 {
				t.Fatalf("%s: the download is not the file", a.FileName)
			}
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads WHERE via = 'email' AND request_id = $1 AND license_id IS NULL`, reqID); n != len(rel.Artifacts) {
			t.Fatalf("%d email-gated downloads logged, want %d", n, len(rel.Artifacts))
		}

		// Used once: confirming again, or opening the link, is refused.
		res, body = b.Post(t, path, url.Values{})
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "was used on")
		res, body = b.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusGone)
		for _, bad := range []string{"/downloads/confirm/" + strings.Repeat("A", 43), "/downloads/confirm/x%00y", "/downloads/confirm/" + token[:40]} {
			res, body = b.Get(t, bad)
			if res.StatusCode != http.StatusGone && res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: %d\n%s", bad, res.StatusCode, body)
			}
			res, body = b.Post(t, bad, url.Values{})
			if res.StatusCode != http.StatusGone && res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusNotFound {
				t.Fatalf("POST %s: %d\n%s", bad, res.StatusCode, body)
			}
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM download_requests WHERE confirmed_at IS NOT NULL`); n != 1 {
			t.Fatalf("%d confirmed requests", n)
		}

		// An expired link says so.
		res, _ = b.Post(t, "/products/mailguard/download", url.Values{"email": {"late@example.com"}, "release": {strconv.FormatInt(rel.ID, 10)}})
		webtest.WantStatus(t, res, "", http.StatusOK)
		late, _ := mailedLink(t, d, "late@example.com")
		w.s.Clock.Advance(25 * time.Hour)
		res, body = b.Post(t, late, url.Values{})
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "expired on")
	})
}

// TestEmailGatedRequestsAreRateLimited: mail to one address, and from one
// network, is limited; the limit answers with the form and sends nothing.
func TestEmailGatedRequestsAreRateLimited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		rel := w.release(t, "1.1.0", true)
		b := webtest.NewBrowser(w.s)
		form := url.Values{"email": {"flood@example.com"}, "release": {strconv.FormatInt(rel.ID, 10)}}
		for i := range 5 {
			res, body := b.Post(t, "/products/mailguard/download", form)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("request %d: %d\n%s", i+1, res.StatusCode, body)
			}
		}
		res, body := b.Post(t, "/products/mailguard/download", form)
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		webtest.MustContain(t, body, "Too many attempts", `value="flood@example.com"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM outbox WHERE to_addr = 'flood@example.com'`); n != 5 {
			t.Fatalf("%d mails to one address", n)
		}
		// Per network: other addresses from the same network.
		for i := range 24 { // 6 hits so far: 30 in all
			form.Set("email", "n"+strconv.Itoa(i)+"@example.com")
			res, body := b.Post(t, "/products/mailguard/download", form)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("address %d: %d\n%s", i, res.StatusCode, body)
			}
		}
		form.Set("email", "one-more@example.com")
		res, body = b.Post(t, "/products/mailguard/download", form)
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		// A quarter of an hour later, the window is open again.
		w.s.Clock.Advance(16 * time.Minute)
		res, body = b.Post(t, "/products/mailguard/download", form)
		webtest.WantStatus(t, res, body, http.StatusOK)
	})
}
