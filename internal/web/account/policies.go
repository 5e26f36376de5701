package account

import (
	"context"
	"database/sql"
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/web"
)

// What a signed-in customer last saw of the policies (docs/policy-archive.md):
// the privacy page shows the version they last read and the one in force,
// and a significant change they have not seen, which they can dismiss.

// policyStatus is one policy as the customer's privacy page shows it.
type policyStatus struct {
	Doc         privacy.Document
	Title, Path string
	Current     privacy.Version
	Seen        privacy.Seen
	// Unseen is a significant change since what they last saw.
	Unseen bool
}

var accountPolicies = []struct {
	doc         privacy.Document
	title, path string
}{
	{privacy.PrivacyPolicy, "Privacy policy", "/privacy"},
	{privacy.CookiePolicy, "Cookie policy", "/cookies"},
}

func (s *handler) policyStatuses(ctx context.Context, customerID int64) ([]policyStatus, error) {
	var out []policyStatus
	for _, p := range accountPolicies {
		cur, err := privacy.LatestVersion(ctx, s.db, p.doc)
		if errors.Is(err, sql.ErrNoRows) {
			continue // never published: nothing to have seen
		}
		if err != nil {
			return nil, err
		}
		seen, err := privacy.LastSeen(ctx, s.db, customerID, p.doc)
		if err != nil {
			return nil, err
		}
		out = append(out, policyStatus{Doc: p.doc, Title: p.title, Path: p.path, Current: cur, Seen: seen,
			Unseen: cur.Significant && seen.Seq < cur.Seq})
	}
	return out, nil
}

// privacyPolicySeen dismisses the notice of a change: the customer has
// seen the version in force. An objection to "policies" or a restriction
// means we keep no such record; the page says so.
func (s *handler) privacyPolicySeen(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	doc := privacy.Document(r.PathValue("doc"))
	if doc != privacy.PrivacyPolicy && doc != privacy.CookiePolicy {
		return web.NotFound("There is no such policy.")
	}
	ctx := r.Context()
	cur, err := privacy.LatestVersion(ctx, s.db, doc)
	if errors.Is(err, sql.ErrNoRows) {
		return web.NotFound("This policy has not been published yet.")
	}
	if err != nil {
		return err
	}
	ch, err := privacy.LoadChoices(ctx, s.db, c.ID)
	if err != nil {
		return err
	}
	if _, objected := ch.Objections["policies"]; objected || ch.Restricted {
		http.Redirect(w, r, "/account/privacy?done=policy-not-recorded", http.StatusSeeOther)
		return nil
	}
	if err := privacy.RecordSeen(ctx, s.db, c.ID, doc, cur.Seq, s.clock.Now()); err != nil {
		return err
	}
	http.Redirect(w, r, "/account/privacy?done=policy-seen#policies", http.StatusSeeOther)
	return nil
}
