package repos_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestYUMPackageHeadIsNotADownload: a HEAD of a package (a mirror tool or
// a client checking the size) is answered with the headers but, as for
// APT and the signed links, writes no row of the download log: nothing
// was downloaded.
func TestYUMPackageHeadIsNotADownload(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newYUMWorld(t, d)
		rel := w.publish(t, "1.0.0", releases.Stable, rpmFile(t, "1.0.0"))
		req := httptest.NewRequest(http.MethodHead, "/yum/mailguard/stable/"+repos.PackageHref(rel.Artifacts[0]), nil)
		req.SetBasicAuth("license", w.lic.Key)
		rec := httptest.NewRecorder()
		w.s.H.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Length") == "" {
			t.Fatalf("HEAD: %d %v", rec.Code, rec.Header())
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM downloads`); n != 0 {
			t.Fatalf("%d downloads recorded for a HEAD", n)
		}
	})
}
