package account_test

import (
	"context"
	"database/sql"
	"net/url"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestPrivacyPageShowsThePolicyVersionLastSeen: the customer's privacy
// page names the version they last read and the one in force, announces
// a significant change they have not seen, and dismissing it records the
// version; an objection to the purpose stops the record.
func TestPrivacyPageShowsThePolicyVersionLastSeen(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		b, c := webtest.SignedInCustomer(t, s, "bea@example.com")
		b.Get(t, "/privacy") // version 1, read by Bea
		s.Get(t, "/cookies") // version 1, read by a visitor
		_, body := b.Get(t, "/account/privacy")
		webtest.MustContain(t, body, `you last read <a href="/privacy/archive/privacy/1">version 1</a> on 7 May 2026`,
			"Cookie policy: we have no record of you reading it")
		b.Get(t, "/cookies")

		s.Clock.Advance(48 * 3600e9)
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := privacy.SaveText(ctx, tx, privacy.PrivacyPolicy, "We now answer within a week.", 0, s.Clock.Now()); err != nil {
				return err
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.Get(t, "/privacy") // version 2, published by a visitor's view
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := privacy.MarkSignificant(ctx, tx, privacy.PrivacyPolicy, "We answer faster.")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		_, body = b.Get(t, "/account/privacy")
		webtest.MustContain(t, body, "version 1</a> on 7 May 2026", `The version in force is <a href="/privacy">version 2</a> of 9 May 2026`,
			"The privacy policy changed significantly on 9 May 2026.", "We answer faster.", `action="/account/privacy/policies/privacy/seen"`)

		res, _ := b.Post(t, "/account/privacy/policies/privacy/seen", nil)
		webtest.WantRedirect(t, res, "/account/privacy?done=policy-seen")
		_, body = b.Get(t, "/account/privacy")
		webtest.MustContain(t, body, `you last read <a href="/privacy/archive/privacy/2">version 2</a> on 9 May 2026`)
		webtest.MustNotContain(t, body, "changed significantly")

		// What they saw is theirs: it is in their export.
		e, err := privacy.Collect(ctx, d, privacy.Declared, webtest.Vendor, privacy.SubjectRef{Kind: privacy.Customer, ID: c.ID, Email: c.Email}, s.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, tb := range e.Tables {
			found = found || (tb.Name == "policy_views" && len(tb.Rows) == 2)
		}
		if !found {
			t.Fatal("the export lacks the policy versions the customer saw")
		}

		// An objection to the purpose: no more records.
		res, _ = b.Post(t, "/account/privacy/choices", url.Values{"choice": {"objection"}, "purpose": {"policies"}, "on": {"1"}})
		webtest.WantRedirect(t, res, "/account/privacy?done=choices")
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := privacy.SaveText(ctx, tx, privacy.CookiePolicy, "One more cookie word.", 0, s.Clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		b.Get(t, "/cookies") // version 2 of the cookie policy
		if seen, _ := privacy.LastSeen(ctx, d, c.ID, privacy.CookiePolicy); seen.Seq != 1 {
			t.Fatalf("recorded %+v after the objection", seen)
		}
		res, _ = b.Post(t, "/account/privacy/policies/cookies/seen", nil)
		webtest.WantRedirect(t, res, "/account/privacy?done=policy-not-recorded")
	})
}
