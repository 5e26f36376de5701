// Package downloads decides who may download which release and serves the
// files: a license covers a release of its product when it is in good
// standing, holds the entitlements the release requires and its updates
// window was open when the release came out. Links to files are signed
// and expire; every download is recorded as log data (the network address
// is truncated after a short period by the retention purge). The account
// pages, the API's upgrade answer, the email-gated downloads and the APT
// and YUM repositories all ask the same functions here.
package downloads

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
)

// Refusals of Covers. Each message says why and what to do; the web layer
// adds the link (RenewalPath) where renewing helps.
var (
	ErrOtherProduct = refuse.New(refuse.Forbidden, "download_other_product",
		"This license is for another product.")
	ErrSuspended = refuse.New(refuse.Forbidden, "download_license_suspended",
		"This license is suspended, so its downloads are closed for now. Write to us and we will sort it out.")
	ErrRevoked = refuse.New(refuse.Forbidden, "download_license_revoked",
		"This license is revoked, so it no longer opens downloads.")
	ErrExpired = refuse.New(refuse.Forbidden, "download_license_expired",
		"This license has expired. Renew it to download again.")
	ErrAfterUpdates = refuse.New(refuse.Forbidden, "download_after_updates",
		"This release came out after the license's updates ended.")
	ErrEntitlement = refuse.New(refuse.Forbidden, "download_entitlement",
		"This release needs a feature the license does not include.")
	ErrWithdrawn = refuse.New(refuse.Gone, "download_withdrawn",
		"This release was withdrawn and is no longer offered. Download a newer one.")
	ErrNotPublished = refuse.New(refuse.NotFound, "download_not_found",
		"There is no such download.")
	ErrBadKey = refuse.New(refuse.Forbidden, "download_bad_key",
		"The license key is not valid. Copy it again from your account.")
)

// Covers says whether license l (read at the moment of the download, so
// its State is current) may download release rel: nil when it may, else
// a refusal from the list above saying why. Drafts are not found; a
// withdrawn release is gone for everyone.
func Covers(l licensing.License, rel releases.Release) error {
	switch {
	case rel.Draft():
		return ErrNotPublished
	case rel.Yanked():
		return ErrWithdrawn
	case l.Product != rel.Product:
		return ErrOtherProduct
	case l.State == licensing.StateSuspended:
		return ErrSuspended
	case l.State == licensing.StateRevoked:
		return ErrRevoked
	case l.State == licensing.StateExpired:
		return ErrExpired.Withf("This license expired on %s. Renew it to download again.", day(l.ExpiresAt))
	}
	if !l.UpdatesUntil.IsZero() && rel.PublishedAt.After(l.UpdatesUntil) {
		return ErrAfterUpdates.Withf("%s %s came out on %s, after this license's updates ended on %s. %s",
			rel.ProductName, rel.Version.Core(), day(rel.PublishedAt), day(l.UpdatesUntil), renewHint(l))
	}
	for _, e := range rel.Requires {
		if !slices.Contains(l.Entitlements, e) {
			return ErrEntitlement.Withf("%s %s needs the feature %q, which this license does not include. Write to us to add it.",
				rel.ProductName, rel.Version.Core(), e)
		}
	}
	return nil
}

// renewHint says how to reach releases beyond the updates window.
func renewHint(l licensing.License) string {
	if l.Perpetual() {
		return "Buy a current license to get it; the releases up to that date stay yours."
	}
	return "Renew the license to get it."
}

// RenewalPath is where a customer refused by Covers goes next: the
// license's renewal page for a license that expires, the product's page
// (a current license) for a perpetual one, "" when renewing would not
// help (suspended, revoked, another product, a missing feature).
func RenewalPath(l licensing.License, err error) string {
	if !errors.Is(err, ErrExpired) && !errors.Is(err, ErrAfterUpdates) {
		return ""
	}
	if l.Perpetual() {
		return "/products/" + l.Product
	}
	return "/account/licenses/" + l.LicenseID + "/renew"
}

func day(t time.Time) string { return t.UTC().Format("2 January 2006") }

// Covered returns the published, not withdrawn releases of the license's
// product that it covers, newest first (semver precedence), with their
// artifacts; channel "" means every channel, else only that one.
func Covered(ctx context.Context, q db.Querier, l licensing.License, channel releases.Channel) ([]releases.Release, error) {
	all, err := releases.Published(ctx, q, l.Product)
	if err != nil {
		return nil, err
	}
	var out []releases.Release
	for _, r := range all {
		if channel != "" && r.Channel != channel {
			continue
		}
		if Covers(l, r) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// Newest is the newest release among rels on channel that a product on
// that channel may install: on stable only stable releases; on beta, beta
// and stable (a beta tester gets the stable release once it is newer).
// ok is false when there is none.
func Newest(rels []releases.Release, channel releases.Channel) (releases.Release, bool) {
	var best releases.Release
	var ok bool
	for _, r := range rels {
		if channel == releases.Stable && r.Channel != releases.Stable {
			continue
		}
		if !ok || r.Version.Compare(best.Version) > 0 {
			best, ok = r, true
		}
	}
	return best, ok
}

// LicenseByKey finds the license a key belongs to, for the repositories
// and the API, where the key is the credential: the key's signature must
// verify with a published key and it must be the key stored for its
// license (a reissued key replaces the old one). Any other key is
// ErrBadKey, without saying which check failed. The caller rate-limits
// failures: this checks a secret.
func LicenseByKey(ctx context.Context, q db.Querier, keys licensing.PublicKeys, key string, now time.Time) (licensing.License, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 4096 {
		return licensing.License{}, ErrBadKey
	}
	lic, ok := licensing.ReadKey(keys, key).License()
	if !ok {
		return licensing.License{}, ErrBadKey
	}
	l, err := licensing.ByLicenseID(ctx, q, lic, now)
	if errors.Is(err, licensing.ErrNotFound) {
		return licensing.License{}, ErrBadKey
	}
	if err != nil {
		return licensing.License{}, err
	}
	if subtle.ConstantTimeCompare([]byte(l.Key), []byte(key)) != 1 {
		return licensing.License{}, ErrBadKey
	}
	// A staff decision on a fraud review case may have closed the
	// license's downloads and repositories (the product keeps running).
	if err := fraud.AccessHeld(ctx, q, l.ID); err != nil {
		return licensing.License{}, err
	}
	return l, nil
}
