package releases_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

type world struct {
	s              *webtest.Site
	owner, support *webtest.Browser
	signer         *releases.Signer
	storeDir       string
}

const maxSize = 256 << 10

func newWorld(t *testing.T, d *db.DB) world {
	t.Helper()
	storeDir := t.TempDir()
	store, err := releases.NewDirStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w := world{s: webtest.NewSite(t, d, webtest.WithReleases(store, signer, maxSize)), signer: signer, storeDir: storeDir}
	om := webtest.AddStaff(t, w.s, "owner@milterworks.example", staff.Owner, true)
	sm := webtest.AddStaff(t, w.s, "support@milterworks.example", staff.Support, true)
	w.owner, w.support = webtest.NewBrowser(w.s), webtest.NewBrowser(w.s)
	w.owner.SignIn(t, om)
	w.support.SignIn(t, sm)
	return w
}

// upload posts a multipart form as the browser's file input sends it.
func upload(t *testing.T, b *webtest.Browser, target, platform, name string, content io.Reader) (*http.Response, string) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("platform", platform)
		fw, err := mw.CreateFormFile("file", name)
		if err == nil {
			_, err = io.Copy(fw, content)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req := httptest.NewRequest(http.MethodPost, target, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.Site.H.ServeHTTP(rec, req)
	_, _ = io.Copy(io.Discard, pr)
	return rec.Result(), rec.Body.String()
}

func TestConsoleReleaseFlow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)

		res, body := w.owner.Get(t, "/staff/releases")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Mailguard", "No release yet.", "Create the draft")

		// Support may not manage releases.
		res, body = w.support.Get(t, "/staff/releases")
		webtest.WantStatus(t, res, body, http.StatusForbidden)

		res, body = w.owner.Post(t, "/staff/releases", url.Values{"product": {"mailguard"}, "version": {"1.x"}, "channel": {"stable"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Nothing was created", "not a semantic version", `value="1.x"`)

		res, body = w.owner.Post(t, "/staff/releases", url.Values{"product": {"mailguard"}, "version": {"2.1.0"}, "channel": {"stable"},
			"notes": {"## Fixed\n\n- The queue <script>alert(1)</script> [drains](javascript:alert(1))."}})
		webtest.WantRedirect(t, res, "/staff/releases/")
		page := strings.SplitN(res.Header.Get("Location"), "?", 2)[0]
		res, body = w.owner.Get(t, page)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Mailguard 2.1.0", "draft", "<h2>Fixed</h2>", "No file yet.")
		webtest.MustNotContain(t, body, "<script>alert", `href="javascript:`)

		res, body = w.owner.Post(t, "/staff/releases", url.Values{"product": {"mailguard"}, "version": {"2.1.0"}, "channel": {"beta"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "exists already")

		// Who may download it: entitlements and the email gate, or a
		// refusal of a name no policy could hold.
		res, body = w.owner.Post(t, "/staff/releases", url.Values{"product": {"mailguard"}, "version": {"2.2.0"}, "channel": {"stable"},
			"requires": {"reports, Bad Name"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, `id="create-error"`, "is not a feature name", `value="reports, Bad Name"`)
		res, _ = w.owner.Post(t, "/staff/releases", url.Values{"product": {"mailguard"}, "version": {"2.2.0"}, "channel": {"stable"},
			"requires": {"reports,dkim"}, "email_gated": {"yes"}})
		webtest.WantRedirect(t, res, "/staff/releases/")
		_, body = w.owner.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "Licenses holding dkim, reports whose updates cover it; and anyone who confirms an email address")

		deb := releasetest.Deb(t, "mailguard", "2.1.0", "amd64")
		res, body = upload(t, w.owner, page+"/artifacts", "", "mailguard_2.1.0_amd64.deb", bytes.NewReader(deb))
		webtest.WantRedirect(t, res, page+"?done=uploaded")
		res, body = upload(t, w.owner, page+"/artifacts", "", "fake_2.1.0_amd64.deb", strings.NewReader("#!/bin/sh\n"))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "Nothing was changed (upload)", "named like a Debian package")
		res, body = upload(t, w.owner, page+"/artifacts", "windows/amd64", "setup.exe", bytes.NewReader(make([]byte, maxSize+1)))
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "larger than the limit")
		res, body = upload(t, w.owner, page+"/artifacts", "", "mailguard_2.1.0_amd64.deb", bytes.NewReader(deb))
		webtest.WantStatus(t, res, body, http.StatusConflict)
		res, body = upload(t, w.support, page+"/artifacts", "", "x.tar.gz", bytes.NewReader(deb))
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		if n := webtest.Count(t, d, `SELECT count(*) FROM release_artifacts`); n != 1 {
			t.Errorf("%d artifacts, want 1", n)
		}

		res, body = w.owner.Post(t, page+"/publish", nil)
		webtest.WantRedirect(t, res, page+"?done=published")
		_, body = w.owner.Get(t, page)
		webtest.MustContain(t, body, "published", "mailguard_2.1.0_amd64.deb", "linux/amd64", "package mailguard 2.1.0-1 (amd64)", "Withdraw 2.1.0")

		res, body = w.owner.Post(t, page+"/yank", url.Values{"reason": {""}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = w.owner.Post(t, page+"/yank", url.Values{"reason": {"breaks upgrades from 1.x"}})
		webtest.WantRedirect(t, res, page+"?done=yanked")
		_, body = w.owner.Get(t, page)
		webtest.MustContain(t, body, "yanked", "breaks upgrades from 1.x")

		// Notes can be corrected at any time; hostile Markdown stays inert.
		res, _ = w.owner.Post(t, page+"/notes", url.Values{"notes": {"## Upgrade warning\n\nStop the milter first. <script>alert(2)</script>"}})
		webtest.WantRedirect(t, res, page+"?done=notes")
		_, body = w.owner.Get(t, page+"?done=notes")
		webtest.MustContain(t, body, "<h2>Upgrade warning</h2>", "The release notes are saved.")
		webtest.MustNotContain(t, body, "<script>alert(2)")
		res, body = w.owner.Post(t, page+"/notes", url.Values{"notes": {strings.Repeat("x", releases.MaxNotes+1)}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, body = w.support.Post(t, page+"/notes", url.Values{"notes": {"defaced"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("support changed the notes: %d", res.StatusCode)
		}

		for _, action := range []string{"release.created", "release.artifact_added", "release.published", "release.yanked", "release.notes_changed"} {
			es := webtest.AuditActions(t, d, action)
			want := 1
			if action == "release.created" {
				want = 2 // 2.1.0 and 2.2.0
			}
			if len(es) != want || es[0].ActorType != "staff" || es[0].SourceNet == "" {
				t.Errorf("%s: %+v", action, es)
			}
		}
	})
}

// TestPublicKeyIsPublished: the well-known address serves the minisign
// public key that verifies the signatures.
func TestPublicKeyIsPublished(t *testing.T) {
	w := newWorld(t, testutil.SQLite(t))
	res, body := w.s.Get(t, "/.well-known/storekeep-release-key.pub")
	webtest.WantStatus(t, res, body, http.StatusOK)
	if body != string(w.signer.PublicKey()) || !strings.HasPrefix(body, "untrusted comment: minisign public key: "+w.signer.KeyID()+"\n") {
		t.Errorf("published key:\n%s", body)
	}
}
