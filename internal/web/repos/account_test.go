package repos_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestRepositoryPage: the customer's own license shows the lines with its
// key filled in; another customer's license and none at all are not
// found; signed out goes to sign-in; a suspended license says why the
// repositories are closed and shows no key. The license page links to it.
func TestRepositoryPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		l := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Perpetual})
		target := "/account/licenses/" + l.LicenseID + "/repository"

		res, body := w.browser.Get(t, "/account/licenses/"+l.LicenseID)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `href="`+target+`"`)

		res, body = w.browser.Get(t, target)
		webtest.WantStatus(t, res, body, http.StatusOK)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
		lines := pageLines(body)
		for id, want := range map[string]string{
			"apt-keyring": "curl -fsSL " + webtest.BaseURL + "/.well-known/storekeep-repo-key.asc | sudo tee /etc/apt/keyrings/mailguard.asc",
			"apt-sources": "Types: deb\nURIs: " + webtest.BaseURL + "/apt/mailguard\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/mailguard.asc\n",
			"apt-list":    "deb [signed-by=/etc/apt/keyrings/mailguard.asc] " + webtest.BaseURL + "/apt/mailguard stable main",
			// The test site is plain http, so the entry names the scheme.
			"apt-auth": "machine http://127.0.0.1:8080/apt/mailguard login license password " + l.Key + "\n",
			"dnf-repo": "[mailguard]\nname=Mailguard\nbaseurl=" + webtest.BaseURL + "/yum/mailguard/stable/\nusername=license\npassword=" + l.Key +
				"\nrepo_gpgcheck=1\ngpgcheck=0\ngpgkey=" + webtest.BaseURL + "/.well-known/storekeep-repo-key.asc\nenabled=1\n",
		} {
			if got := lines[id]; !contains(got, want) {
				t.Errorf("%s:\n%q\nwant it to hold\n%q", id, got, want)
			}
		}
		webtest.MustContain(t, body, "/etc/apt/auth.conf.d/mailguard.conf", "/etc/apt/sources.list.d/mailguard.sources", "/etc/yum.repos.d/mailguard.repo", "chmod 600")

		other, _ := webtest.SignedInCustomer(t, w.s, "other@example.com")
		for _, target := range []string{target, "/account/licenses/lic_nosuchlicense/repository", "/account/licenses/1/repository"} {
			res, body := other.Get(t, target)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
			webtest.MustNotContain(t, body, l.Key)
		}
		res, body = webtest.NewBrowser(w.s).Get(t, target)
		if res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusFound {
			t.Errorf("signed out: %d", res.StatusCode)
		}
		webtest.MustNotContain(t, body, l.Key)

		if _, err := licensing.Suspend(context.Background(), d, w.ownerID, l.ID, "unpaid", w.s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		res, body = w.browser.Get(t, target)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `id="repository-closed"`, "suspended")
		webtest.MustNotContain(t, body, l.Key, "auth.conf.d")
	})
}

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }

// TestRepositoryPageWithoutRepositories: a shop without a repository key
// still answers the link, saying there are none.
func TestRepositoryPageWithoutRepositories(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
	w := &world{s: s}
	w.ownerID = webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, false).Account.ID
	b, c := webtest.SignedInCustomer(t, s, "buyer@example.com")
	if err := d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&w.edition); err != nil {
		t.Fatal(err)
	}
	l := w.issue(t, c.ID, licensing.Policy{Kind: licensing.Perpetual})
	res, body := b.Get(t, "/account/licenses/"+l.LicenseID+"/repository")
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, `id="repository-off"`)
	webtest.MustNotContain(t, body, l.Key)
	res, _ = s.Get(t, "/apt/mailguard/dists/stable/InRelease")
	webtest.WantStatus(t, res, "", http.StatusNotFound)
}
