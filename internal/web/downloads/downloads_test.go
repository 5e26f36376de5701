package downloads_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestLinksRefuseWhatWasNotSigned: a link whose artifact, grant, expiry
// or signature was changed, another file's name, a withdrawn release and
// an email grant without a confirmed request are refused with a page
// saying why; nothing is logged. A HEAD is answered but not logged.
func TestLinksRefuseWhatWasNotSigned(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s, rs := webtest.ReleaseSite(t, d)
		_, c := webtest.SignedInCustomer(t, s, "gil@example.com")
		l := webtest.IssueLicense(t, s, c.ID, "standard", false)
		rel := webtest.PublishRelease(t, rs, releases.NewRelease{Product: "mailguard", Version: "1.2.0"},
			map[string][]byte{"mailguard-1.2.0.zip": []byte("PK\x03\x04 not really a zip"), "mailguard-1.2.0.bin": []byte("binary")})
		zip, bin := rel.Artifacts[1], rel.Artifacts[0]
		if zip.FileName != "mailguard-1.2.0.zip" {
			zip, bin = bin, zip
		}
		links := downloads.NewLinks(s.Srv.Secret())
		exp := s.Clock.Now().Add(time.Hour)
		good := links.Path(zip, downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}, exp)

		res := s.Do(t, http.MethodHead, good, nil, nil)
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/zip" ||
			!strings.Contains(res.Header.Get("Content-Disposition"), `filename=mailguard-1.2.0.zip`) || res.Header.Get("ETag") != `"`+zip.SHA256+`"` ||
			res.Header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("HEAD: %d %v", res.StatusCode, res.Header)
		}

		u, _ := url.Parse(good)
		q := u.Query()
		tamper := func(k, v string) string {
			q2 := url.Values{}
			for kk, vv := range q {
				q2[kk] = vv
			}
			q2.Set(k, v)
			return u.Path + "?" + q2.Encode()
		}
		other := downloads.Grant{Kind: downloads.ByLicense, ID: l.ID + 1}
		sig := q.Get("s")
		for name, target := range map[string]string{
			"signature":      tamper("s", flipLast(sig)),
			"grant":          tamper("g", other.String()),
			"expiry":         tamper("x", q.Get("x")+"0"),
			"no signature":   u.Path,
			"another file":   strings.Replace(good, "/"+webtest.Itoa(zip.ID)+"/", "/"+webtest.Itoa(bin.ID)+"/", 1),
			"another name":   strings.Replace(good, "mailguard-1.2.0.zip", "mailguard-1.2.0.bin", 1),
			"not a number":   strings.Replace(good, "/"+webtest.Itoa(zip.ID)+"/", "/x/", 1),
			"email, pending": links.Path(zip, downloads.Grant{Kind: downloads.ByEmail, ID: 1}, exp),
		} {
			res, body := s.Get(t, target)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Errorf("%s: %d, want a refusal", name, res.StatusCode)
			}
			webtest.MustContain(t, body, `id="download-refused"`)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != 0 {
			t.Fatalf("%d downloads logged for a HEAD and refused links", n)
		}

		// The good link works and If-Range with the file's ETag resumes.
		res = s.Do(t, http.MethodGet, good, http.Header{"Range": {"bytes=3-"}, "If-Range": {`"` + zip.SHA256 + `"`}}, nil)
		if body := webtest.ReadAll(t, res); res.StatusCode != http.StatusPartialContent || body != "\x04 not really a zip" {
			t.Fatalf("If-Range resumption: %d %q", res.StatusCode, body)
		}
		res = s.Do(t, http.MethodGet, good, http.Header{"Range": {"bytes=3-"}, "If-Range": {`"0000"`}}, nil)
		if body := webtest.ReadAll(t, res); res.StatusCode != http.StatusOK || !bytes.HasPrefix([]byte(body), []byte("PK")) {
			t.Fatalf("If-Range with another file's tag must send the whole file: %d", res.StatusCode)
		}

		// Withdrawn: gone for everyone.
		if _, err := rs.Yank(context.Background(), audit.System(), rel.ID, "broken build"); err != nil {
			t.Fatal(err)
		}
		res, body := s.Get(t, good)
		webtest.WantStatus(t, res, body, http.StatusGone)
		webtest.MustContain(t, body, "withdrawn")
	})
}

// flipLast changes the last character of s to another.
func flipLast(s string) string {
	last := "A"
	if strings.HasSuffix(s, "A") {
		last = "B"
	}
	return s[:len(s)-1] + last
}
