package privacy_test

import (
	"context"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/testutil"
)

// addRequest gives p a privacy request with some history, as staff enter
// one in the console.
func addRequest(t *testing.T, d *db.DB, p person) requests.Request {
	t.Helper()
	ctx := context.Background()
	r, err := requests.Create(ctx, d, nil, requests.NewRequest{Kind: requests.Erasure, Email: p.Email, Channel: requests.Email,
		Note: "asked by email"}, requests.StaffActor(1, ""), t0)
	if err != nil {
		t.Fatal(err)
	}
	if r, err = requests.SendCode(ctx, d, nil, r.ID, requests.StaffActor(1, ""), t0); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestErasureKeepsTheProofOfRequests: erasing a person leaves their
// privacy requests and history (legal hold: the proof that the request
// was answered), removes only the pending verification code, and the
// request stays in their access export.
func TestErasureKeepsTheProofOfRequests(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := makePerson(t, d, 1, seedPrice(t, d))
		r := addRequest(t, d, a)
		if !r.CodePending {
			t.Fatal("the fixture's request has no pending code")
		}
		rep := erase(t, d, refOf(a), nil)
		st := stepOf(rep, "privacy_requests")
		if st.Action != "minimised" || st.HeldUntil.Year() != t0.Year()+3 || len(st.Blanked) != 1 || st.Blanked[0] != "code_hash" {
			t.Fatalf("privacy_requests step: %+v", st)
		}
		if ev := stepOf(rep, "request_events"); ev.Action != "minimised" || ev.Rows != 2 || len(ev.Blanked) != 0 {
			t.Fatalf("request_events step: %+v", ev)
		}
		after, err := requests.ByID(ctx, d, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Email != a.Email || after.Kind != requests.Erasure || after.Note != "asked by email" || after.CodePending {
			t.Fatalf("request after erasure: %+v", after)
		}
		evs, err := requests.Events(ctx, d, r.ID)
		if err != nil || len(evs) != 2 {
			t.Fatalf("history after erasure: %v, %+v", err, evs)
		}
		e := exportOf(t, d, a)
		found := false
		for _, tbl := range e.Tables {
			found = found || tbl.Name == "privacy_requests" && len(tbl.Rows) == 1
		}
		if !found {
			t.Fatal("the kept request is missing from the person's export")
		}
	})
}
