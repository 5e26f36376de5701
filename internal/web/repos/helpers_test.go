package repos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// world is a site with license keys, releases and the repository key, a
// staff owner and a customer.
type world struct {
	s        *webtest.Site
	rs       *releases.Releases
	signer   *repos.Signer
	ownerID  int64
	customer int64
	edition  int64
	browser  *webtest.Browser // the customer's
	opts     []webtest.Option // the site's, for another instance
}

func newWorld(t testing.TB, d *db.DB, opts ...webtest.Option) *world {
	t.Helper()
	store, err := releases.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	relSigner, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{}
	// The key is made, and signs, at the site's clock: a signature never
	// predates its key, and the signatures' times are the test's.
	now := func() time.Time {
		if w.s == nil {
			return webtest.Start
		}
		return w.s.Clock.Now()
	}
	if w.signer, err = repos.GenerateKey(t.TempDir(), webtest.Vendor.Name, now); err != nil {
		t.Fatal(err)
	}
	opts = append([]webtest.Option{webtest.WithLicenseKeys(webtest.LicenseKeys), webtest.WithReleases(store, relSigner, 64<<20),
		webtest.WithRepoSigner(w.signer)}, opts...)
	w.s, w.opts = webtest.NewSite(t, d, opts...), opts
	w.rs = &releases.Releases{DB: d, Store: store, Signer: relSigner, Clock: w.s.Clock, MaxSize: 64 << 20}
	w.ownerID = webtest.AddStaff(t, w.s, "owner@milterworks.example", staff.Owner, false).Account.ID
	b, c := webtest.SignedInCustomer(t, w.s, "buyer@example.com")
	w.browser, w.customer = b, c.ID
	if err := d.QueryRowContext(context.Background(), `SELECT id FROM editions WHERE slug = 'professional'`).Scan(&w.edition); err != nil {
		t.Fatal(err)
	}
	return w
}

// issue issues a Professional license to customer under policy p.
func (w *world) issue(t testing.TB, customer int64, p licensing.Policy) licensing.License {
	t.Helper()
	ctx := context.Background()
	p.EditionID = w.edition
	if _, err := licensing.SavePolicy(ctx, w.s.DB, w.ownerID, p, w.s.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	l, err := licensing.Issue(ctx, w.s.DB, webtest.LicenseKeys, w.ownerID,
		licensing.ManualIssue{CustomerID: customer, EditionID: w.edition, Quantity: 1}, "test", w.s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// publish publishes a Mailguard release of files (name → content).
func (w *world) publish(t testing.TB, version string, ch releases.Channel, files map[string][]byte) releases.Release {
	t.Helper()
	ctx := context.Background()
	by := audit.Staff(w.ownerID)
	rel, err := w.rs.Create(ctx, by, releases.NewRelease{Product: "mailguard", Version: version, Channel: ch})
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if _, err := w.rs.AddArtifact(ctx, by, rel.ID, releases.NewArtifact{FileName: name, Content: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if rel, err = w.rs.Publish(ctx, by, rel.ID); err != nil {
		t.Fatal(err)
	}
	rel, err = releases.ByID(ctx, w.s.DB, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// get fetches target from the site with the key as the Basic password
// ("" sends no credentials).
func (w *world) get(t testing.TB, target, key string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if key != "" {
		req.SetBasicAuth("license", key)
	}
	rec := httptest.NewRecorder()
	w.s.H.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}
