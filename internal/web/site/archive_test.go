package site_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestArchiveKeepsVersionsAndShowsChanges: each version the pages publish
// keeps its text; the archive lists them and shows what changed between
// consecutive versions, including the vendor's own Markdown; a version
// from before the archive says its text was not kept.
func TestArchiveKeepsVersionsAndShowsChanges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		// A version published before the archive: its text is unknown.
		if _, err := d.ExecContext(ctx, `INSERT INTO policy_versions (document, seq, content_hash, published_at) VALUES ('privacy', 1, 'before', $1)`,
			s.Clock.Now().Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		_, body := s.Get(t, "/privacy") // version 2, kept
		webtest.MustContain(t, body, `href="/privacy/archive"`)
		_, body = s.Get(t, "/cookies")
		webtest.MustContain(t, body, `href="/privacy/archive"`)

		s.Clock.Advance(10 * 24 * time.Hour)
		v := webtest.Vendor
		v.HostingProvider = "Example Cloud AB"
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			if err := settings.Save(ctx, tx, v, s.Clock.Now()); err != nil {
				return err
			}
			_, err := privacy.SaveText(ctx, tx, privacy.PrivacyPolicy, "Questions about **this policy**? We answer within a week.", 0, s.Clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, body = s.Get(t, "/privacy") // version 3
		webtest.MustContain(t, body, "More about how we handle your data", "<strong>this policy</strong>", "Example Cloud AB")

		_, body = s.Get(t, "/privacy/archive")
		webtest.MustContain(t, body, `href="/privacy/archive/privacy/3"`, `href="/privacy/archive/privacy/2"`, `href="/privacy/archive/privacy/1"`,
			"Not kept: published before this archive began", `href="/privacy/archive/cookies/1"`)

		res, body := s.Get(t, "/privacy/archive/privacy/3")
		webtest.WantStatus(t, res, body, 200)
		_, changes, _ := strings.Cut(body, "What changed from the version before")
		changes, _, _ = strings.Cut(changes, "The text of version 3")
		webtest.MustContain(t, changes,
			`<li class="removed"><del>Hetzner Online GmbH | `, `<li class="added"><ins>Example Cloud AB | `,
			`<li class="added"><ins>## More about how we handle your data</ins></li>`,
			`<li class="added"><ins>Questions about this policy? We answer within a week.</ins></li>`,
			"unchanged lines")
		webtest.MustNotContain(t, changes, "Who is responsible</li>") // far from any change: left out
		webtest.MustContain(t, body, "This is the version in force", "Example Cloud AB")

		_, body = s.Get(t, "/privacy/archive/privacy/2")
		webtest.MustContain(t, body, "the text of version 1 was not kept", "A newer version is in force", "Hetzner Online GmbH", `rel="next"`)
		webtest.MustNotContain(t, body, "Example Cloud AB")
		_, body = s.Get(t, "/privacy/archive/privacy/1")
		webtest.MustContain(t, body, "This is the first version", "The text of this version was not kept")

		for _, bad := range []string{"/privacy/archive/privacy/9", "/privacy/archive/terms/1", "/privacy/archive/privacy/x"} {
			res, body := s.Get(t, bad)
			webtest.WantStatus(t, res, body, 404)
		}
	})
}

// TestSignificantChangeBannerOnEveryPage: while a significant change is
// announced, every public page carries the notice with a link to what
// changed; it ends with the period.
func TestSignificantChangeBannerOnEveryPage(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		s.Get(t, "/privacy")
		_, home := s.Get(t, "/")
		webtest.MustNotContain(t, home, `class="policy-notice"`)
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := privacy.MarkSignificant(ctx, tx, privacy.PrivacyPolicy, "We now keep invoices for ten years.")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"/", "/pricing", "/cookies", "/privacy/archive"} {
			_, body := s.Get(t, p)
			webtest.MustContain(t, body, `class="policy-notice"`, "Our privacy policy changed on 7 May 2026.",
				"We now keep invoices for ten years.", `<a href="/privacy/archive/privacy/1">See what changed</a>`)
		}
		s.Clock.Advance(31 * 24 * time.Hour)
		for _, p := range []string{"/", "/cookies"} {
			_, body := s.Get(t, p)
			webtest.MustNotContain(t, body, `class="policy-notice"`)
		}
	})
}

// TestViewingThePolicyRecordsWhatACustomerSaw: a signed-in customer who
// opens the policy has its version recorded; an older version read in the
// archive is not.
func TestViewingThePolicyRecordsWhatACustomerSaw(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "reader@example.com")
		s.Get(t, "/privacy") // version 1, by a visitor
		if seen, _ := privacy.LastSeen(ctx, d, c.ID, privacy.PrivacyPolicy); seen.Seq != 0 {
			t.Fatalf("seen = %+v before the customer looked", seen)
		}
		b.Get(t, "/privacy")
		if seen, _ := privacy.LastSeen(ctx, d, c.ID, privacy.PrivacyPolicy); seen.Seq != 1 {
			t.Fatalf("seen = %+v, want version 1", seen)
		}
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := privacy.SaveText(ctx, tx, privacy.PrivacyPolicy, "A new paragraph.", 0, s.Clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		s.Get(t, "/privacy") // version 2
		b.Get(t, "/privacy/archive/privacy/1")
		if seen, _ := privacy.LastSeen(ctx, d, c.ID, privacy.PrivacyPolicy); seen.Seq != 1 {
			t.Fatalf("reading an old version recorded %+v", seen)
		}
		b.Get(t, "/privacy/archive/privacy/2")
		if seen, _ := privacy.LastSeen(ctx, d, c.ID, privacy.PrivacyPolicy); seen.Seq != 2 {
			t.Fatalf("seen = %+v, want version 2", seen)
		}
	})
}
