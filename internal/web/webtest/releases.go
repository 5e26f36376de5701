package webtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"slices"
	"testing"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/staff"
)

// ReleaseSite is a site with license keys, a release store in a temporary
// directory and a release signing key, and the release domain it uses
// (same database, clock, store and key) for the test to publish with.
func ReleaseSite(t testing.TB, d *db.DB, opts ...Option) (*Site, *releases.Releases) {
	t.Helper()
	store, err := releases.NewDirStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := NewSite(t, d, append([]Option{WithLicenseKeys(LicenseKeys), WithReleases(store, signer, 64<<20)}, opts...)...)
	return s, &releases.Releases{DB: d, Clock: s.Clock, Store: store, Signer: signer, MaxSize: 64 << 20}
}

// PublishRelease creates a release with the files (name → content, added
// in name order) and publishes it at the site's clock.
func PublishRelease(t testing.TB, rs *releases.Releases, nr releases.NewRelease, files map[string][]byte) releases.Release {
	t.Helper()
	ctx := context.Background()
	by := audit.System()
	rel, err := rs.Create(ctx, by, nr)
	if err != nil {
		t.Fatalf("create %s %s: %v", nr.Product, nr.Version, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, err := rs.AddArtifact(ctx, by, rel.ID, releases.NewArtifact{FileName: n, Content: bytes.NewReader(files[n])}); err != nil {
			t.Fatalf("add %s: %v", n, err)
		}
	}
	rel, err = rs.Publish(ctx, by, rel.ID)
	if err != nil {
		t.Fatalf("publish %s %s: %v", nr.Product, nr.Version, err)
	}
	return rel
}

// IssueLicense issues a license of the edition (slug) to the customer by
// hand, as an owner would, at the site's clock.
func IssueLicense(t testing.TB, s *Site, customerID int64, edition string, yearly bool) licensing.License {
	t.Helper()
	ctx := context.Background()
	var editionID int64
	if err := s.DB.QueryRowContext(ctx, `SELECT id FROM editions WHERE slug = $1`, edition).Scan(&editionID); err != nil {
		t.Fatalf("edition %s: %v", edition, err)
	}
	var owner int64
	if err := s.DB.QueryRowContext(ctx, `SELECT id FROM staff WHERE role = $1 ORDER BY id LIMIT 1`, string(staff.Owner)).Scan(&owner); err != nil {
		owner = AddStaff(t, s, "license-owner@example.com", staff.Owner, false).ID
	}
	l, err := licensing.Issue(ctx, s.DB, LicenseKeys, owner, licensing.ManualIssue{CustomerID: customerID, EditionID: editionID, Yearly: yearly, Quantity: 1},
		"test license", s.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l
}
