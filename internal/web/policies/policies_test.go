package policies_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// TestOwnersEditPolicyTextsAndAnnounceChanges: an owner's Markdown is a
// new version at once; script is refused with nothing changed; marking
// a version significant with the mail option queues the mail once; other
// roles may do none of it.
func TestOwnersEditPolicyTextsAndAnnounceChanges(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		b.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		webtest.SignedInCustomer(t, s, "ada@example.com")
		s.Get(t, "/privacy") // version 1
		s.Get(t, "/cookies")

		res, body := b.Get(t, "/staff/policies")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Version 1, published 7 May 2026", `action="/staff/policies/privacy/text"`, `action="/staff/policies/cookies/significant"`)

		// Script: refused, said so, the typed text kept for correction,
		// nothing saved and no version.
		bad := "Our answer:\n\n<script>alert(1)</script>"
		res, body = b.Post(t, "/staff/policies/privacy/text", url.Values{"body": {bad}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "contains HTML or a script link", "nothing was saved", "&lt;script&gt;alert(1)&lt;/script&gt;")
		res, body = b.Post(t, "/staff/policies/privacy/text", url.Values{"body": {"[Read](javascript:alert(1))"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if p, _, _ := privacy.LoadTexts(ctx, d); p != "" {
			t.Fatalf("a refused text was saved: %q", p)
		}
		if v, _ := privacy.LatestVersion(ctx, d, privacy.PrivacyPolicy); v.Seq != 1 {
			t.Fatalf("a refusal made version %d", v.Seq)
		}

		res, _ = b.Post(t, "/staff/policies/privacy/text", url.Values{"body": {"## Data protection officer\n\nOur officer is **Dr. Jane Roe**."}})
		webtest.WantRedirect(t, res, "/staff/policies?done=text")
		v, _ := privacy.LatestVersion(ctx, d, privacy.PrivacyPolicy)
		a, _ := privacy.VersionOf(ctx, d, privacy.PrivacyPolicy, v.Seq)
		if v.Seq != 2 || !a.Kept || !strings.Contains(a.Text, "Our officer is Dr. Jane Roe.") {
			t.Fatalf("after the edit: version %+v, text kept %v", v, a.Kept)
		}
		if c, _ := privacy.LatestVersion(ctx, d, privacy.CookiePolicy); c.Seq != 1 {
			t.Fatalf("the cookie policy moved to version %d", c.Seq)
		}
		res, _ = b.Post(t, "/staff/policies/privacy/text", url.Values{"body": {"## Data protection officer\r\n\r\nOur officer is **Dr. Jane Roe**.\r\n"}})
		webtest.WantRedirect(t, res, "/staff/policies?done=unchanged")
		_, policy := s.Get(t, "/privacy")
		webtest.MustContain(t, policy, "<strong>Dr. Jane Roe</strong>")

		// Marked and mailed together.
		res, body = b.Post(t, "/staff/policies/privacy/significant", url.Values{"note": {""}, "mail": {"on"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = b.Post(t, "/staff/policies/privacy/significant", url.Values{"note": {"We now have a data protection officer."}, "mail": {"on"}})
		webtest.WantRedirect(t, res, "/staff/policies?done=mailed")
		m, ok, err := notices.PolicyMailingOf(ctx, d, privacy.PrivacyPolicy, 2)
		if err != nil || !ok || m.Recipients != 1 {
			t.Fatalf("mailing = %+v, %v, %v", m, ok, err)
		}
		_, home := s.Get(t, "/")
		webtest.MustContain(t, home, "Our privacy policy changed on 7 May 2026.", "We now have a data protection officer.")
		// Mailing the version again is refused, and the marking with it.
		res, body = b.Post(t, "/staff/policies/privacy/significant", url.Values{"note": {"Another note."}, "mail": {"on"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "already mailed")
		if v, _ := privacy.LatestVersion(ctx, d, privacy.PrivacyPolicy); v.ChangeNote != "We now have a data protection officer." {
			t.Fatalf("a refused marking changed the note to %q", v.ChangeNote)
		}
		res, body = b.Get(t, "/staff/policies?done=mailed")
		webtest.MustContain(t, body, "mail to customers is queued", "Mailed to customers from 7 May 2026: 1 recipients")
		if len(webtest.AuditActions(t, d, "policy.text_changed")) != 1 || len(webtest.AuditActions(t, d, "policy.significant_change")) != 1 ||
			len(webtest.AuditActions(t, d, "policy.mailed")) != 1 {
			t.Fatal("the policy actions are not all in the audit log")
		}

		// Only owners.
		sup := webtest.NewBrowser(s)
		sup.SignIn(t, webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, true))
		for _, p := range []string{"/staff/policies"} {
			res, body := sup.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusForbidden)
		}
		res, body = sup.Post(t, "/staff/policies/cookies/text", url.Values{"body": {"x"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = sup.Post(t, "/staff/policies/cookies/significant", url.Values{"note": {"x"}, "mail": {"on"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		// Another site cannot make an owner's browser post the form.
		res, body = b.Do(t, http.MethodPost, "/staff/policies/cookies/text", url.Values{"body": {"x"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		if _, c, _ := privacy.LoadTexts(ctx, d); c != "" {
			t.Fatalf("cookie text = %q", c)
		}
		res, body = b.Post(t, "/staff/policies/terms/text", url.Values{"body": {"x"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}
