package privacy_test

import (
	"context"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

var trialCodeRE = regexp.MustCompile(`Your code: ([A-Z0-9]{4}-[A-Z0-9]{4})`)

// verifiedRequest enters a privacy request by address as staff do in the
// console and verifies it with the code mailed to the address.
func verifiedRequest(t *testing.T, d *db.DB, kind requests.Kind, email string) requests.Request {
	t.Helper()
	ctx := context.Background()
	clerk := requests.StaffActor(1, "")
	r, err := requests.Create(ctx, d, nil, requests.NewRequest{Kind: kind, Email: email, Channel: requests.Email}, clerk, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := requests.SendCode(ctx, d, nil, r.ID, clerk, t0); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := d.QueryRowContext(ctx, `SELECT text_body FROM outbox WHERE template = 'request_verify' AND to_addr = $1 ORDER BY id DESC LIMIT 1`,
		email).Scan(&text); err != nil {
		t.Fatal(err)
	}
	m := trialCodeRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no code in:\n%s", text)
	}
	if r, err = requests.Verify(ctx, d, r.ID, m[1], clerk, t0); err != nil || r.State != requests.InProgress {
		t.Fatalf("verify: %+v, %v", r, err)
	}
	return r
}

func countRows(t *testing.T, d *db.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTrialRequesterWithoutAccountIsExportedAndErased: a visitor who
// asked for a trial by email has no account; an access request by the
// address finds the request, and an erasure by the address (the requests
// workflow, as staff complete it) deletes it and its download log rows,
// and nothing of another visitor.
func TestTrialRequesterWithoutAccountIsExportedAndErased(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seedPrice(t, d)
		artifact := fixtureArtifact(t, d)
		mine := trialDownload(t, d, "Visitor@Example.com", artifact, netip.MustParseAddr("203.0.113.7"))
		other := trialDownload(t, d, "other@example.com", artifact, netip.MustParseAddr("203.0.113.8"))
		if mine.Email != "visitor@example.com" {
			t.Fatalf("the address is stored as %q", mine.Email)
		}

		// Access: what the requests workflow collects for the address.
		e, err := privacy.Collect(ctx, d, privacy.Declared, settings.Defaults(),
			privacy.SubjectRef{Kind: privacy.Customer, Email: "visitor@example.com"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]any
		for _, et := range e.Tables {
			if et.Name == "download_requests" {
				rows = et.Rows
			}
		}
		if len(rows) != 1 || rows[0]["email"] != "visitor@example.com" || rows[0]["confirmed_at"] == nil || rows[0]["downloads_until"] == nil {
			t.Fatalf("export of download_requests: %+v", rows)
		}
		if _, ok := rows[0]["token_hash"]; ok {
			t.Fatal("the export holds the link's hash")
		}
		ar := verifiedRequest(t, d, requests.Access, "visitor@example.com")
		done, err := requests.Complete(ctx, d, privacy.Declared, ar.ID, requests.Completion{PrivacyPageURL: "https://x/account/privacy"},
			requests.StaffActor(1, ""), t0.Add(time.Hour))
		if err != nil || !regexp.MustCompile(`download_requests`).MatchString(done.Request.Outcome) {
			t.Fatalf("access request: %+v, %v", done.Request, err)
		}

		// Erasure by the address, as staff complete the request.
		er := verifiedRequest(t, d, requests.Erasure, "visitor@example.com")
		if _, err := requests.Complete(ctx, d, privacy.Declared, er.ID, requests.Completion{}, requests.StaffActor(1, ""), t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM download_requests WHERE id = $1`, mine.ID); n != 0 {
			t.Fatalf("the request survived the erasure")
		}
		if n := countRows(t, d, `SELECT count(*) FROM downloads WHERE request_id = $1 OR network = '203.0.113.7'`, mine.ID); n != 0 {
			t.Fatalf("%d download log rows of the erased requester remain", n)
		}
		if n := countRows(t, d, `SELECT count(*) FROM download_requests WHERE id = $1 AND email = 'other@example.com'`, other.ID); n != 1 {
			t.Fatal("another visitor's request was erased")
		}
		if n := countRows(t, d, `SELECT count(*) FROM downloads WHERE request_id = $1`, other.ID); n != 1 {
			t.Fatal("another visitor's download was erased")
		}
	})
}

// TestTrialRequestsArePurgedAfterTheirRetention: the purge deletes a
// request 30 days after it was made, and its download log rows with it.
func TestTrialRequestsArePurgedAfterTheirRetention(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		seedPrice(t, d)
		artifact := fixtureArtifact(t, d)
		req := trialDownload(t, d, "visitor@example.com", artifact, netip.MustParseAddr("203.0.113.7"))
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.Add(29*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM download_requests WHERE id = $1`, req.ID); n != 1 {
			t.Fatal("the request was purged before its retention ended")
		}
		if _, err := privacy.Purge(ctx, d, privacy.Declared, t0.Add(31*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, d, `SELECT count(*) FROM download_requests`); n != 0 {
			t.Fatal("the request outlived its retention")
		}
		if n := countRows(t, d, `SELECT count(*) FROM downloads WHERE request_id IS NOT NULL OR network = '203.0.113.7'`); n != 0 {
			t.Fatalf("%d download log rows outlived their request", n)
		}
	})
}
