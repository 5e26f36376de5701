package downloads_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
)

var day0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func rel(t *testing.T, version string, published time.Time, mut ...func(*releases.Release)) releases.Release {
	t.Helper()
	v, err := releases.ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	r := releases.Release{ID: 1, Product: "mailguard", ProductName: "Mailguard", Version: v, Channel: releases.Stable, PublishedAt: published}
	for _, m := range mut {
		m(&r)
	}
	return r
}

// TestCoversSaysWhy: each way a license can fail to cover a release is
// its own refusal, with where renewing helps; a license in grace and a
// release on the last day of the updates window are covered.
func TestCoversSaysWhy(t *testing.T) {
	good := licensing.License{ID: 7, LicenseID: "lic_x", Product: "mailguard", State: licensing.StateActive,
		Entitlements: []string{"dkim", "reports"}, UpdatesUntil: day0.AddDate(1, 0, 0)}
	term := good
	term.ExpiresAt = day0.AddDate(1, 0, 0)
	with := func(l licensing.License, f func(*licensing.License)) licensing.License { f(&l); return l }
	for _, c := range []struct {
		name  string
		l     licensing.License
		r     releases.Release
		want  error
		renew string
	}{
		{"covered", good, rel(t, "1.0.0", day0), nil, ""},
		{"last day of updates", good, rel(t, "1.1.0", good.UpdatesUntil), nil, ""},
		{"in grace", with(term, func(l *licensing.License) { l.State = licensing.StateInGrace }), rel(t, "1.0.0", day0), nil, ""},
		{"no updates limit", with(good, func(l *licensing.License) { l.UpdatesUntil = time.Time{} }), rel(t, "9.0.0", day0.AddDate(5, 0, 0)), nil, ""},
		{"entitlements held", good, rel(t, "1.0.0", day0, func(r *releases.Release) { r.Requires = []string{"reports"} }), nil, ""},
		{"draft", good, rel(t, "1.0.0", time.Time{}), downloads.ErrNotPublished, ""},
		{"withdrawn", good, rel(t, "1.0.0", day0, func(r *releases.Release) { r.YankedAt = day0.AddDate(0, 0, 1) }), downloads.ErrWithdrawn, ""},
		{"other product", with(good, func(l *licensing.License) { l.Product = "other" }), rel(t, "1.0.0", day0), downloads.ErrOtherProduct, ""},
		{"suspended", with(good, func(l *licensing.License) { l.State = licensing.StateSuspended }), rel(t, "1.0.0", day0), downloads.ErrSuspended, ""},
		{"revoked", with(good, func(l *licensing.License) { l.State = licensing.StateRevoked }), rel(t, "1.0.0", day0), downloads.ErrRevoked, ""},
		{"expired", with(term, func(l *licensing.License) { l.State = licensing.StateExpired }), rel(t, "1.0.0", day0), downloads.ErrExpired, "/account/licenses/lic_x/renew"},
		{"after updates, perpetual", good, rel(t, "2.0.0", good.UpdatesUntil.Add(time.Second)), downloads.ErrAfterUpdates, "/products/mailguard"},
		{"after updates, term", term, rel(t, "2.0.0", term.UpdatesUntil.AddDate(0, 0, 1)), downloads.ErrAfterUpdates, "/account/licenses/lic_x/renew"},
		{"entitlement missing", good, rel(t, "1.0.0", day0, func(r *releases.Release) { r.Requires = []string{"malware-scan"} }), downloads.ErrEntitlement, ""},
	} {
		err := downloads.Covers(c.l, c.r)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if got := downloads.RenewalPath(c.l, err); got != c.renew {
			t.Errorf("%s: the way on is %q, want %q", c.name, got, c.renew)
		}
	}
}

// TestNewestByChannel: stable sees stable releases only; beta sees both
// and gets a stable release newer than the betas.
func TestNewestByChannel(t *testing.T) {
	beta := func(r *releases.Release) { r.Channel = releases.Beta }
	rs := []releases.Release{rel(t, "1.0.0", day0), rel(t, "1.1.0-rc.1", day0, beta), rel(t, "0.9.0", day0)}
	if r, ok := downloads.Newest(rs, releases.Stable); !ok || r.Version.String() != "1.0.0" {
		t.Fatalf("stable: %v %v", r.Version, ok)
	}
	if r, ok := downloads.Newest(rs, releases.Beta); !ok || r.Version.String() != "1.1.0-rc.1" {
		t.Fatalf("beta: %v %v", r.Version, ok)
	}
	rs = append(rs, rel(t, "1.1.0", day0))
	if r, _ := downloads.Newest(rs, releases.Beta); r.Version.String() != "1.1.0" {
		t.Fatalf("beta after the release: %v", r.Version)
	}
	if _, ok := downloads.Newest(nil, releases.Stable); ok {
		t.Fatal("a release out of nothing")
	}
}

// FuzzLinkCheck: whatever a link's query holds, Check never panics and
// accepts only what Path signed: a query it did not make is refused.
func FuzzLinkCheck(f *testing.F) {
	links := downloads.NewLinks([]byte("site secret"))
	a := releases.Artifact{ID: 42, FileName: "mailguard-1.0.0.tar.gz"}
	good := links.Path(a, downloads.Grant{Kind: downloads.ByLicense, ID: 7}, day0.Add(time.Hour))
	u, _ := url.Parse(good)
	f.Add(u.RawQuery)
	f.Add("g=l7&x=1772370000&s=AAAA")
	f.Add("g=e1&x=-1&s=")
	f.Add("g=l007&x=01&s=%00")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		g, err := links.Check(a.ID, q, day0)
		if err != nil {
			return
		}
		// Accepted: it must be exactly what Path makes for that grant and expiry.
		want := links.Path(a, g, time.Unix(mustInt(t, q.Get("x")), 0))
		wu, _ := url.Parse(want)
		if wu.Query().Get("s") != q.Get("s") || wu.Query().Get("g") != q.Get("g") || !strings.HasPrefix(want, "/downloads/42/") {
			t.Fatalf("accepted a query Path never made: %q", raw)
		}
	})
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("accepted an expiry %q that is not a number", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
