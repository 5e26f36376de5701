package fraud_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/orders"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/testutil"
)

// countingRefunder records refund calls: refused decisions must make none.
type countingRefunder struct{ calls int }

func (c *countingRefunder) RefundOrder(ctx context.Context, req orders.RefundRequest, now time.Time) (orders.Refund, error) {
	c.calls++
	return orders.Refund{}, nil
}

func service(d *db.DB) fraud.Service {
	return fraud.Service{DB: d, SiteName: "Milterworks", BaseURL: "https://shop.example.com"}
}

func openCase(t *testing.T, d *db.DB, f fixture) int64 {
	t.Helper()
	id, _, err := raise(t, d, sig(fraud.KeySharing, fraud.Subject{LicenseID: f.license}, fmt.Sprintf("ks:%d", f.license), t0))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func str(t *testing.T, d *db.DB, query string, args ...any) string {
	t.Helper()
	var s sql.NullString
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return s.String
}

func TestDecideSuspendAndReverse(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		caseID := openCase(t, d, f)
		s := service(d)
		now := t0.Add(time.Hour)
		req := fraud.DecideRequest{CaseID: caseID, Action: fraud.SuspendLicense, LicenseID: f.license, Reason: "Used from 40 networks in a day.",
			Token: "tok-1", StaffID: 7}
		dec, err := s.Decide(ctx, req, now)
		if err != nil {
			t.Fatal(err)
		}
		if st := str(t, d, `SELECT status FROM licenses WHERE id = $1`, f.license); st != "suspended" {
			t.Fatalf("license %s after the decision", st)
		}
		if st := str(t, d, `SELECT status FROM fraud_cases WHERE id = $1`, caseID); st != "closed" {
			t.Fatalf("case %s after the decision", st)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fraud.decided' AND subject_id = $1 AND actor_id = 7`, fmt.Sprint(caseID)); n != 1 {
			t.Fatalf("%d audit entries of the decision", n)
		}
		body := str(t, d, `SELECT text_body FROM outbox WHERE id = $1 AND to_addr = 'buyer1@example.com'`, dec.NoticeOutbox)
		for _, want := range []string{"Suspend the license", "Used from 40 networks in a day.", "contest", fraud.AnswerPath(caseID)} {
			if !strings.Contains(body, want) {
				t.Errorf("the customer's mail lacks %q:\n%s", want, body)
			}
		}

		// The same form again, and any decision on the closed case: a
		// clear refusal, nothing changed twice.
		if _, err := s.Decide(ctx, req, now); !errors.Is(err, fraud.ErrDuplicate) {
			t.Fatalf("double submit: %v", err)
		}
		req.Token = "tok-2"
		if _, err := s.Decide(ctx, req, now); !errors.Is(err, fraud.ErrClosed) {
			t.Fatalf("decision on a closed case: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_decisions`) + count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'license.suspended'`); n != 2 {
			t.Fatalf("%d decisions + suspensions, want 1 + 1", n)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox`); n != 1 {
			t.Fatalf("%d mails, want 1", n)
		}

		// Reversal: reinstated, the case open again, the customer told.
		if _, err := s.Reverse(ctx, fraud.ReverseRequest{DecisionID: dec.ID, Reason: "The customer runs a test lab; all licensed.", StaffID: 8}, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if st := str(t, d, `SELECT status FROM licenses WHERE id = $1`, f.license); st != "active" {
			t.Fatalf("license %s after the reversal", st)
		}
		if st := str(t, d, `SELECT status FROM fraud_cases WHERE id = $1`, caseID); st != "open" {
			t.Fatalf("case %s after the reversal", st)
		}
		if by := count(t, d, `SELECT reversed_by FROM fraud_decisions WHERE id = $1`, dec.ID); by != 8 {
			t.Fatalf("reversed by %d", by)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE subject LIKE '%reversed%'`); n != 1 {
			t.Fatalf("%d reversal mails", n)
		}
		if _, err := s.Reverse(ctx, fraud.ReverseRequest{DecisionID: dec.ID, Reason: "again", StaffID: 8}, now.Add(2*time.Hour)); !errors.Is(err, fraud.ErrReversed) {
			t.Fatalf("second reversal: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'license.reinstated'`); n != 1 {
			t.Fatalf("%d reinstatements", n)
		}
	})
}

func TestDecideRefusesForgedAndUnweighedInput(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		other := makeFixture(t, d, 2)
		caseID := openCase(t, d, f)
		refunds := &countingRefunder{}
		s := service(d)
		s.Refunds = refunds
		base := fraud.DecideRequest{CaseID: caseID, Reason: "x", Token: "t", StaffID: 7}
		for name, tc := range map[string]struct {
			change func(*fraud.DecideRequest)
			want   error
		}{
			"another customer's license": {func(r *fraud.DecideRequest) { r.Action, r.LicenseID = fraud.SuspendLicense, other.license }, fraud.ErrTarget},
			"another customer's order":   {func(r *fraud.DecideRequest) { r.Action, r.OrderID = fraud.Refund, other.order }, fraud.ErrTarget},
			"a target the action lacks":  {func(r *fraud.DecideRequest) { r.Action, r.LicenseID = fraud.NoAction, f.license }, fraud.ErrTarget},
			"an unknown action":          {func(r *fraud.DecideRequest) { r.Action = "delete_customer" }, fraud.ErrAction},
			"no token":                   {func(r *fraud.DecideRequest) { r.Action, r.Token = fraud.NoAction, "" }, fraud.ErrNoToken},
			"an unknown case":            {func(r *fraud.DecideRequest) { r.Action, r.CaseID = fraud.NoAction, 999 }, fraud.ErrNotFound},
		} {
			r := base
			tc.change(&r)
			if _, err := s.Decide(ctx, r, t0); !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", name, err, tc.want)
			}
		}
		r := base
		r.Action, r.Reason = fraud.NoAction, "  "
		if _, err := s.Decide(ctx, r, t0); err == nil || !strings.Contains(err.Error(), "Say why") {
			t.Errorf("no reason: %v", err)
		}
		if refunds.calls != 0 {
			t.Fatalf("refused decisions made %d refunds", refunds.calls)
		}

		// The customer objects to fraud checks: a decision needs the
		// objection weighed, and records that it was.
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, f.customer, privacy.ChoiceObjection, fraud.Purpose, true, "", t0)
		}); err != nil {
			t.Fatal(err)
		}
		r = base
		r.Action = fraud.NoAction
		if _, err := s.Decide(ctx, r, t0); !errors.Is(err, fraud.ErrObjection) {
			t.Fatalf("unweighed objection: %v", err)
		}
		r.Weighed = true
		dec, err := s.Decide(ctx, r, t0)
		if err != nil || !dec.ObjectionSeen {
			t.Fatalf("weighed objection: %+v %v", dec, err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox`); n != 0 {
			t.Fatalf("no action mailed %d messages", n)
		}
		for _, tbl := range []string{"licenses WHERE status <> 'active'", "orders WHERE status <> 'paid'", "fraud_holds"} {
			if n := count(t, d, `SELECT count(*) FROM `+tbl); n != 0 {
				t.Errorf("%s: %d rows", tbl, n)
			}
		}
	})
}

func TestHoldsCloseAccessAndPurchasesUntilReversed(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		s := service(d)
		caseID := openCase(t, d, f)
		if err := fraud.AccessHeld(ctx, d, f.license); err != nil {
			t.Fatalf("before any decision: %v", err)
		}
		dec, err := s.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.RevokeAccess, LicenseID: f.license, Reason: "r", Token: "a", StaffID: 1}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := fraud.AccessHeld(ctx, d, f.license); !errors.Is(err, fraud.ErrAccessHeld) {
			t.Fatalf("after revoke_access: %v", err)
		}
		if st := str(t, d, `SELECT status FROM licenses WHERE id = $1`, f.license); st != "active" {
			t.Fatalf("revoke_access changed the license to %s", st)
		}
		if _, err := s.Reverse(ctx, fraud.ReverseRequest{DecisionID: dec.ID, Reason: "mistake", StaffID: 1}, t0); err != nil {
			t.Fatal(err)
		}
		if err := fraud.AccessHeld(ctx, d, f.license); err != nil {
			t.Fatalf("after the reversal: %v", err)
		}
		// The case is open again: block the purchases.
		dec, err = s.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.BlockPurchase, Reason: "r", Token: "b", StaffID: 1}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := fraud.PurchaseBlocked(ctx, d, f.customer); !errors.Is(err, fraud.ErrPurchaseBlocked) {
			t.Fatalf("after block_purchase: %v", err)
		}
		other := makeFixture(t, d, 2)
		if err := fraud.PurchaseBlocked(ctx, d, other.customer); err != nil {
			t.Fatalf("another customer: %v", err)
		}
		if _, err := s.Reverse(ctx, fraud.ReverseRequest{DecisionID: dec.ID, Reason: "paid by bank transfer", StaffID: 1}, t0); err != nil {
			t.Fatal(err)
		}
		if err := fraud.PurchaseBlocked(ctx, d, f.customer); err != nil {
			t.Fatalf("after the reversal: %v", err)
		}
	})
}

func TestCaseAboutNoPerson(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		eraseCustomer(t, d, f.customer)
		caseID, _, err := raise(t, d, sig(fraud.Dispute, fraud.Subject{OrderID: f.order}, "stripe:evt_d", t0))
		if err != nil {
			t.Fatal(err)
		}
		s := service(d)
		if err := s.Ask(ctx, fraud.AskRequest{CaseID: caseID, Question: "Why?", Token: "q", StaffID: 1}, t0); !errors.Is(err, fraud.ErrNoPerson) {
			t.Fatalf("ask nobody: %v", err)
		}
		if _, err := s.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.BlockPurchase, Reason: "r", Token: "b", StaffID: 1}, t0); !errors.Is(err, fraud.ErrNoPerson) {
			t.Fatalf("block nobody: %v", err)
		}
		// Suspending the order's license is still a person's decision to
		// make; nobody is mailed.
		dec, err := s.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.SuspendLicense, LicenseID: f.license, Reason: "chargeback lost", Token: "s", StaffID: 1}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if dec.NoticeOutbox != 0 || !strings.Contains(dec.NoticeNote, "no person") {
			t.Fatalf("notice %d %q", dec.NoticeOutbox, dec.NoticeNote)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox`); n != 0 {
			t.Fatalf("%d mails for a case about nobody", n)
		}
	})
}

func TestAskAndAnswer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		other := makeFixture(t, d, 2)
		caseID := openCase(t, d, f)
		s := service(d)
		ask := fraud.AskRequest{CaseID: caseID, Question: "Do colleagues use your key?\nOn which servers?", Token: "q1", StaffID: 3}
		if err := s.Ask(ctx, ask, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Ask(ctx, ask, t0); !errors.Is(err, fraud.ErrDuplicate) {
			t.Fatalf("the same question twice: %v", err)
		}
		body := str(t, d, `SELECT text_body FROM outbox WHERE to_addr = 'buyer1@example.com'`)
		if !strings.Contains(body, "On which servers?") || !strings.Contains(body, "https://shop.example.com"+fraud.AnswerPath(caseID)) {
			t.Fatalf("question mail:\n%s", body)
		}
		if st := str(t, d, `SELECT status FROM fraud_cases WHERE id = $1`, caseID); st != "asked" {
			t.Fatalf("case %s", st)
		}
		// Someone else's account cannot see or answer the case.
		if _, err := fraud.ForCustomer(ctx, d, other.customer, caseID); !errors.Is(err, fraud.ErrNotFound) {
			t.Fatalf("another customer sees the case: %v", err)
		}
		if err := fraud.Answer(ctx, d, other.customer, caseID, "not me", "", t0); !errors.Is(err, fraud.ErrNotFound) {
			t.Fatalf("another customer answers: %v", err)
		}
		v, err := fraud.ForCustomer(ctx, d, f.customer, caseID)
		if err != nil || !v.Waiting() || len(v.Kinds) != 1 || v.Kinds[0] != fraud.KeySharing {
			t.Fatalf("the customer's view: %+v %v", v, err)
		}
		if err := fraud.Answer(ctx, d, f.customer, caseID, "Three colleagues, each with a seat.", "", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := fraud.Answer(ctx, d, f.customer, caseID, "again", "", t0.Add(time.Hour)); !errors.Is(err, fraud.ErrNoQuestion) {
			t.Fatalf("a second answer: %v", err)
		}
		det, err := fraud.Load(ctx, d, caseID)
		if err != nil || det.Status != fraud.Open || len(det.Messages) != 2 || det.Messages[1].Body != "Three colleagues, each with a seat." {
			t.Fatalf("case after the answer: %+v %v", det, err)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'fraud.answered' AND actor_type = 'customer'`); n != 1 {
			t.Fatalf("%d audit entries of the answer", n)
		}

		// A customer who objected to fraud checks is not mailed a
		// question.
		caseOther := openCase(t, d, other)
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, other.customer, privacy.ChoiceObjection, fraud.Purpose, true, "", t0)
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.Ask(ctx, fraud.AskRequest{CaseID: caseOther, Question: "?", Token: "q2", StaffID: 3}, t0); !errors.Is(err, fraud.ErrNotPermitted) {
			t.Fatalf("ask an objector: %v", err)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE to_addr = 'buyer2@example.com'`); n != 0 {
			t.Fatalf("%d mails to the objector", n)
		}
	})
}

// A customer who restricted processing is not asked, but is told of a
// decision that affects them: that mail is owed by law, as an invoice is.
func TestRestrictedCustomerIsToldButNotAsked(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := makeFixture(t, d, 1)
		caseID := openCase(t, d, f)
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, f.customer, privacy.ChoiceRestriction, "", true, "", t0)
		}); err != nil {
			t.Fatal(err)
		}
		s := service(d)
		if err := s.Ask(ctx, fraud.AskRequest{CaseID: caseID, Question: "?", Token: "q", StaffID: 1}, t0); !errors.Is(err, fraud.ErrNotPermitted) {
			t.Fatalf("ask a restricted customer: %v", err)
		}
		dec, err := s.Decide(ctx, fraud.DecideRequest{CaseID: caseID, Action: fraud.BlockPurchase, Reason: "r", Token: "b", StaffID: 1}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if dec.NoticeOutbox == 0 || count(t, d, `SELECT count(*) FROM outbox WHERE to_addr = 'buyer1@example.com'`) != 1 {
			t.Fatalf("the restricted customer was not told: %+v", dec)
		}
	})
}
