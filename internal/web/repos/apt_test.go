package repos_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestAPTRepository: the metadata and packages a license opens, over the
// whole site on both databases: credentials asked for and checked, each
// suite listing what it should, a release past the updates window left
// out and refused, the pool guarded by artifact id, product and name,
// downloads recorded, and the repository closed at once by a suspension.
func TestAPTRepository(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		l := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Perpetual, UpdatesMonths: 3})
		deb100 := releasetest.Deb(t, "mailguard", "1.0.0", "amd64")
		r100 := w.publish(t, "1.0.0", releases.Stable, map[string][]byte{
			"mailguard_1.0.0_amd64.deb": deb100, "mailguard-1.0.0.tar.gz": releasetest.Tarball(t, "mailguard", []byte("x")),
		})
		w.s.Clock.Advance(24 * time.Hour)
		rBeta := w.publish(t, "1.1.0-beta.1", releases.Beta, map[string][]byte{
			"mailguard_1.1.0~beta.1_amd64.deb": releasetest.Deb(t, "mailguard", "1.1.0~beta.1", "amd64"),
		})
		pool := func(rel releases.Release, kind releases.Kind) string {
			for _, a := range rel.Artifacts {
				if a.Kind == kind {
					return "/apt/mailguard/" + repos.PoolPath(a)
				}
			}
			t.Fatalf("no %s in %s", kind, rel.Version)
			return ""
		}
		base := "/apt/mailguard/dists/"

		// No credentials: a challenge, as apt needs to send them.
		res, _ := w.get(t, base+"stable/InRelease", "")
		webtest.WantStatus(t, res, "", http.StatusUnauthorized)
		if !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("challenge %q", res.Header.Get("WWW-Authenticate"))
		}
		res, _ = w.get(t, base+"stable/InRelease", l.Key+"x")
		webtest.WantStatus(t, res, "", http.StatusUnauthorized)

		res, body := w.get(t, base+"stable/InRelease", l.Key)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "-----BEGIN PGP SIGNED MESSAGE-----", "Origin: Milterworks\n", "Label: Mailguard\n", "Suite: stable\n",
			"Architectures: amd64\n", " main/binary-amd64/Packages.gz\n")
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
			t.Errorf("Cache-Control %q", cc)
		}
		res, release := w.get(t, base+"stable/Release", l.Key)
		webtest.WantStatus(t, res, release, http.StatusOK)
		res, sig := w.get(t, base+"stable/Release.gpg", l.Key)
		webtest.WantStatus(t, res, sig, http.StatusOK)
		if err := w.signer.Verify([]byte(release), []byte(sig)); err != nil {
			t.Errorf("Release.gpg: %v", err)
		}
		res, stable := w.get(t, base+"stable/main/binary-amd64/Packages", l.Key)
		webtest.WantStatus(t, res, stable, http.StatusOK)
		webtest.MustContain(t, stable, "Package: mailguard\n", "Version: 1.0.0-1\n", "Filename: pool/main/", "_amd64.deb\n")
		webtest.MustNotContain(t, stable, "beta", "tar.gz")
		res, beta := w.get(t, base+"beta/main/binary-amd64/Packages", l.Key)
		webtest.WantStatus(t, res, beta, http.StatusOK)
		webtest.MustContain(t, beta, "Version: 1.0.0-1\n", "Version: 1.1.0~beta.1-1\n")
		res, gz := w.get(t, base+"stable/main/binary-amd64/Packages.gz", l.Key)
		webtest.WantStatus(t, res, gz, http.StatusOK)
		if res.Header.Get("Content-Type") != "application/gzip" {
			t.Errorf("Packages.gz as %q", res.Header.Get("Content-Type"))
		}
		for _, target := range []string{base + "unstable/InRelease", base + "stable/Release.asc", base + "stable/main/binary-amd64/Packages.xz",
			base + "stable/main/binary-arm64/Packages", base + "stable/contrib/binary-amd64/Packages"} {
			res, body := w.get(t, target, l.Key)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}

		// The pool: the package, recorded as an APT download.
		res, got := w.get(t, pool(r100, releases.Deb), l.Key)
		webtest.WantStatus(t, res, "", http.StatusOK)
		if got != string(deb100) || res.Header.Get("Content-Type") != "application/vnd.debian.binary-package" {
			t.Errorf("pool served %d bytes as %q", len(got), res.Header.Get("Content-Type"))
		}
		if n := webtest.Count(t, d, `SELECT COUNT(*) FROM downloads WHERE via = 'apt' AND license_id = $1 AND customer_id = $2`, l.ID, w.customer); n != 1 {
			t.Errorf("%d APT downloads recorded, want 1", n)
		}
		// A beta package is in the pool for the beta suite's users.
		res, _ = w.get(t, pool(rBeta, releases.Deb), l.Key)
		webtest.WantStatus(t, res, "", http.StatusOK)
		// Made-up paths: another file's name, a tarball, another product,
		// no such artifact, not a number.
		debPath := pool(r100, releases.Deb)
		for _, target := range []string{
			debPath[:strings.LastIndex(debPath, "/")] + "/other.deb",
			pool(r100, releases.Tarball),
			strings.Replace(debPath, "/apt/mailguard/", "/apt/retired/", 1),
			"/apt/mailguard/pool/main/99999/x.deb", "/apt/mailguard/pool/main/x/x.deb",
		} {
			res, body := w.get(t, target, l.Key)
			if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
				t.Errorf("%s: %d %s", target, res.StatusCode, body)
			}
		}

		// Past the updates window (three months from issue): not listed,
		// and its package refused though its URL is known.
		w.s.Clock.Advance(100 * 24 * time.Hour)
		late := w.publish(t, "1.2.0", releases.Stable, map[string][]byte{
			"mailguard_1.2.0_amd64.deb": releasetest.Deb(t, "mailguard", "1.2.0", "amd64"),
		})
		res, stable = w.get(t, base+"stable/main/binary-amd64/Packages", l.Key)
		webtest.WantStatus(t, res, stable, http.StatusOK)
		webtest.MustNotContain(t, stable, "Version: 1.2.0")
		res, body = w.get(t, pool(late, releases.Deb), l.Key)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		webtest.MustContain(t, body, "after this license's updates ended")
		// A license issued now (a renewal's worth) sees it.
		l2 := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Perpetual, UpdatesMonths: 3})
		res, stable = w.get(t, base+"stable/main/binary-amd64/Packages", l2.Key)
		webtest.WantStatus(t, res, stable, http.StatusOK)
		webtest.MustContain(t, stable, "Version: 1.2.0-1\n", "Version: 1.0.0-1\n")

		// Suspended: closed at once, metadata and packages alike.
		if _, err := licensing.Suspend(context.Background(), d, w.ownerID, l.ID, "unpaid", w.s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		for _, target := range []string{base + "stable/InRelease", base + "stable/main/binary-amd64/Packages", pool(r100, releases.Deb)} {
			res, body := w.get(t, target, l.Key)
			webtest.WantStatus(t, res, body, http.StatusForbidden)
			webtest.MustContain(t, body, "suspended")
		}
		if n := webtest.Count(t, d, `SELECT COUNT(*) FROM downloads WHERE via = 'apt'`); n != 2 {
			t.Errorf("%d APT downloads recorded, want 2", n)
		}
	})
}

// TestAPTRevokedAndExpired: a revoked license and an expired term
// license get 403 from the repository.
func TestAPTRevokedAndExpired(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		w.publish(t, "1.0.0", releases.Stable, map[string][]byte{"mg_1.0.0_all.deb": releasetest.Deb(t, "mailguard", "1.0.0", "all")})
		revoked := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Perpetual})
		if _, err := licensing.Revoke(context.Background(), d, w.ownerID, revoked.ID, "fraud", w.s.Clock.Now()); err != nil {
			t.Fatal(err)
		}
		term := w.issue(t, w.customer, licensing.Policy{Kind: licensing.Term, TermMonths: 1, GraceDays: 1})
		res, body := w.get(t, "/apt/mailguard/dists/stable/main/binary-all/Packages", term.Key)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Architecture: all\n")
		res, body = w.get(t, "/apt/mailguard/dists/stable/InRelease", revoked.Key)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		webtest.MustContain(t, body, "revoked")
		w.s.Clock.Advance(40 * 24 * time.Hour)
		res, body = w.get(t, "/apt/mailguard/dists/stable/InRelease", term.Key)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		webtest.MustContain(t, body, "expired")
	})
}
