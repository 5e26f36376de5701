package downloads_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestPrefetchIsNotADownload: browsers mark a speculative fetch with
// Sec-Purpose (Chrome's and Firefox's prefetch and prerender today) or
// the older Purpose; neither is a download the customer made, so neither
// writes a row of the download log. The file is still sent.
func TestPrefetchIsNotADownload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		_, c := webtest.SignedInCustomer(t, s, "gil@example.com")
		l := webtest.IssueLicense(t, s, c.ID, "standard", false)
		rel := webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.2.0"},
			map[string][]byte{"mailguard-1.2.0.bin": []byte("binary")})
		link := downloads.NewLinks(s.Srv.Secret()).Path(rel.Artifacts[0], downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}, s.Clock.Now().Add(time.Hour))
		for _, h := range []http.Header{
			{"Purpose": {"prefetch"}},
			{"Sec-Purpose": {"prefetch"}},
			{"Sec-Purpose": {"prefetch;prerender"}},
		} {
			res := s.Do(t, http.MethodGet, link, h, nil)
			if body := webtest.ReadAll(t, res); res.StatusCode != http.StatusOK || body != "binary" {
				t.Fatalf("%v: %d %q", h, res.StatusCode, body)
			}
			if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != 0 {
				t.Fatalf("%v: %d downloads recorded for a prefetch", h, n)
			}
		}
		res := s.Do(t, http.MethodGet, link, nil, nil)
		webtest.ReadAll(t, res)
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != 1 {
			t.Fatalf("%d downloads recorded for one GET", n)
		}
	})
}

// TestNothingSentIsNotADownload: a GET answered without the file's bytes
// (a resumption of a file already complete, 416; a conditional GET for
// the copy the client has, 304) writes no row of the download log; a
// range the file has, or one ignored because If-Range names another
// version (the whole file is sent), does.
func TestNothingSentIsNotADownload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		_, c := webtest.SignedInCustomer(t, s, "gil@example.com")
		l := webtest.IssueLicense(t, s, c.ID, "standard", false)
		rel := webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.2.0"},
			map[string][]byte{"mailguard-1.2.0.bin": []byte("binary")})
		a := rel.Artifacts[0]
		link := downloads.NewLinks(s.Srv.Secret()).Path(a, downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}, s.Clock.Now().Add(time.Hour))
		etag := `"` + a.SHA256 + `"`
		for _, c := range []struct {
			name   string
			h      http.Header
			status int
			logged int
		}{
			{"complete already", http.Header{"Range": {"bytes=6-"}}, http.StatusRequestedRangeNotSatisfiable, 0},
			{"beyond the end", http.Header{"Range": {"bytes=600-700"}, "If-Range": {etag}}, http.StatusRequestedRangeNotSatisfiable, 0},
			{"not modified", http.Header{"If-None-Match": {`"x", W/` + etag}}, http.StatusNotModified, 0},
			{"another version's range", http.Header{"Range": {"bytes=6-"}, "If-Range": {`"0000"`}}, http.StatusOK, 1},
			{"a range", http.Header{"Range": {"bytes=2-"}}, http.StatusPartialContent, 2},
		} {
			res := s.Do(t, http.MethodGet, link, c.h, nil)
			webtest.ReadAll(t, res)
			if res.StatusCode != c.status {
				t.Fatalf("%s: %d, want %d", c.name, res.StatusCode, c.status)
			}
			if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != c.logged {
				t.Fatalf("%s: %d downloads recorded, want %d", c.name, n, c.logged)
			}
		}
	})
}

// TestExpiredEmailLinkPointsToTheForm: an email-gated download's link that
// has expired sends the visitor, who has no account and whose mailed link
// confirms only once, to the product's form to ask again; a license's
// expired link still points to the account.
func TestExpiredEmailLinkPointsToTheForm(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		rel := webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.2.0", EmailGated: true},
			map[string][]byte{"mailguard-1.2.0.bin": []byte("binary")})
		links := downloads.NewLinks(s.Srv.Secret())
		past := s.Clock.Now().Add(-time.Minute)
		res, body := s.Get(t, links.Path(rel.Artifacts[0], downloads.Grant{Kind: downloads.ByEmail, ID: 1}, past))
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, `href="/products/mailguard"`, "Ask for a new link", "asking again")
		webtest.MustNotContain(t, body, "your account")
		res, body = s.Get(t, links.Path(rel.Artifacts[0], downloads.Grant{Kind: downloads.ByLicense, ID: 1}, past))
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, `href="/account"`)
	})
}
