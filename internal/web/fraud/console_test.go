package fraud_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var tokenRe = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

func token(t *testing.T, body string) string {
	t.Helper()
	m := tokenRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form token on the page:\n%.600s", body)
	}
	return m[1]
}

func raiseOn(t *testing.T, d *db.DB, licenseID int64, source string, at time.Time) int64 {
	t.Helper()
	var id int64
	err := d.Tx(context.Background(), func(tx *sql.Tx) error {
		var err error
		id, _, err = fraud.Raise(context.Background(), tx, d.Dialect, fraud.Signal{Kind: fraud.KeySharing, Subject: fraud.Subject{LicenseID: licenseID},
			Summary: "The license was activated from many networks.", Facts: []fraud.Fact{{Name: "networks in 24 hours", Value: "17"}},
			Source: source, At: at})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func status(t *testing.T, d *db.DB, q string, args ...any) string {
	t.Helper()
	var s string
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s
}

func TestOnlyOwnersAndFinanceReviewFraud(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		for role, want := range map[staff.Role]int{staff.Owner: 200, staff.Finance: 200, staff.Support: 403, staff.Analyst: 403} {
			b := webtest.NewBrowser(s)
			b.SignIn(t, webtest.AddStaff(t, s, string(role)+"@milterworks.example", role, true))
			res, body := b.Get(t, "/staff/fraud")
			webtest.WantStatus(t, res, body, want)
			if want == 403 {
				res, body = b.Post(t, "/staff/fraud/1/decide", url.Values{"action": {"no_action"}, "reason": {"x"}, "token": {"t"}})
				webtest.WantStatus(t, res, body, 403)
			}
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_decisions`); n != 0 {
			t.Fatalf("%d decisions by roles without the permission", n)
		}
	})
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestReviewFlow walks a case from its signal to a decision, its contest
// and its reversal through the console and the customer's account, with
// the mail delivered to a real SMTP server.
func TestReviewFlow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d, webtest.WithLicenseKeys(webtest.LicenseKeys))
		owner := webtest.NewBrowser(s)
		om := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		owner.SignIn(t, om)
		ada, adaC := webtest.SignedInCustomer(t, s, "ada@example.com")
		lic := webtest.IssueLicense(t, s, adaC.ID, "standard", false)
		bob, bobC := webtest.SignedInCustomer(t, s, "bob@example.com")
		bobLic := webtest.IssueLicense(t, s, bobC.ID, "standard", false)
		caseID := raiseOn(t, d, lic.ID, "ks:ada", s.Clock.Now())
		path := fmt.Sprintf("/staff/fraud/%d", caseID)

		res, body := owner.Get(t, "/staff/fraud")
		webtest.WantStatus(t, res, body, 200)
		if !strings.Contains(body, path) || !strings.Contains(body, "ada@example.com") || !strings.Contains(body, "key sharing") {
			t.Fatalf("the list:\n%s", body)
		}
		res, body = owner.Get(t, "/staff/fraud?status=bogus")
		webtest.WantStatus(t, res, body, 422)

		res, body = owner.Get(t, path)
		webtest.WantStatus(t, res, body, 200)
		if !strings.Contains(body, "networks in 24 hours") || !strings.Contains(body, "17") || !strings.Contains(body, `<dd id="signal-count">1, from `) {
			t.Fatalf("the case page lacks its evidence:\n%s", body)
		}
		views := webtest.AuditActions(t, d, "personal_data.view")
		seen := false
		for _, e := range views {
			seen = seen || e.SubjectType == "fraud_case" && e.SubjectID == fmt.Sprint(caseID) && e.ActorID == om.ID
		}
		if !seen {
			t.Fatalf("the view of the case is not in the audit log: %+v", views)
		}

		// Ask the customer; the mail reaches a real SMTP server.
		res, body = owner.Post(t, path+"/ask", url.Values{"question": {"Do colleagues of yours use this key?"}, "token": {token(t, body)}})
		webtest.WantRedirect(t, res, path+"?done=asked")
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(s.Clock.Now())
		snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: snd, Clock: clk, From: "Milterworks <shop@milterworks.example>", ID: "w1", Batch: 10}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := sink.WaitFor(1, 10*time.Second)
		if got[0].To[0] != "ada@example.com" || !strings.Contains(got[0].Text, "Do colleagues of yours use this key?") ||
			!strings.Contains(got[0].Text, fraud.AnswerPath(caseID)) {
			t.Fatalf("question mail: %v\n%s", got[0].To, got[0].Text)
		}

		// Another customer cannot see the case; Ada answers once.
		res, body = bob.Get(t, fraud.AnswerPath(caseID))
		webtest.WantStatus(t, res, body, 404)
		res, body = bob.Post(t, fraud.AnswerPath(caseID), url.Values{"answer": {"me neither"}})
		webtest.WantStatus(t, res, body, 404)
		res, body = ada.Get(t, fraud.AnswerPath(caseID))
		webtest.WantStatus(t, res, body, 200)
		if !strings.Contains(body, "Do colleagues of yours use this key?") || !strings.Contains(body, fraud.KeySharing.Describe()) {
			t.Fatalf("the customer's page:\n%s", body)
		}
		res, _ = ada.Post(t, fraud.AnswerPath(caseID), url.Values{"answer": {"Two colleagues, on our two servers."}})
		webtest.WantRedirect(t, res, fraud.AnswerPath(caseID)+"?done=sent")
		res, body = ada.Post(t, fraud.AnswerPath(caseID), url.Values{"answer": {"Two colleagues, on our two servers."}})
		webtest.WantStatus(t, res, body, 409)
		if n := count(t, d, `SELECT count(*) FROM fraud_messages WHERE direction = 'answer'`); n != 1 {
			t.Fatalf("%d answers recorded", n)
		}

		// Forged decisions change nothing.
		res, body = owner.Get(t, path)
		if !strings.Contains(body, "Two colleagues, on our two servers.") {
			t.Fatalf("the answer is not on the case:\n%s", body)
		}
		tok := token(t, body)
		res, body = owner.Post(t, path+"/decide", url.Values{"action": {"suspend_license"}, "license": {fmt.Sprint(bobLic.ID)}, "reason": {"x"}, "token": {tok}})
		webtest.WantStatus(t, res, body, 422)
		if !strings.Contains(body, "not part of it") {
			t.Fatalf("forged license:\n%.800s", body)
		}
		res, body = owner.Post(t, path+"/decide", url.Values{"action": {"suspend_license"}, "license": {"abc"}, "reason": {"x"}, "token": {tok}})
		webtest.WantStatus(t, res, body, 422)
		res, body = owner.Post(t, path+"/decide", url.Values{"action": {"wipe_account"}, "reason": {"x"}, "token": {tok}})
		webtest.WantStatus(t, res, body, 422)
		if st := status(t, d, `SELECT status FROM licenses WHERE id = $1`, bobLic.ID); st != "active" {
			t.Fatalf("bob's license %s", st)
		}

		// The decision, once however often it is sent.
		form := url.Values{"action": {"suspend_license"}, "license": {fmt.Sprint(lic.ID)}, "reason": {"Seats used on 17 networks; the answer names two."}, "token": {tok}}
		res, _ = owner.Post(t, path+"/decide", form)
		webtest.WantRedirect(t, res, path+"?done=decided")
		res, body = owner.Post(t, path+"/decide", form)
		webtest.WantStatus(t, res, body, 409)
		form.Set("token", "another")
		res, body = owner.Post(t, path+"/decide", form)
		webtest.WantStatus(t, res, body, 409)
		if !strings.Contains(body, "This case is closed") {
			t.Fatalf("decision on a closed case:\n%.800s", body)
		}
		if st := status(t, d, `SELECT status FROM licenses WHERE id = $1`, lic.ID); st != "suspended" {
			t.Fatalf("license %s", st)
		}
		if n := count(t, d, `SELECT count(*) FROM fraud_decisions`); n != 1 {
			t.Fatalf("%d decisions", n)
		}

		// The customer contests; the console shows it.
		res, body = ada.Get(t, fraud.AnswerPath(caseID))
		if !strings.Contains(body, "Contest the decision") {
			t.Fatalf("no way to contest:\n%s", body)
		}
		res, _ = ada.Post(t, fraud.AnswerPath(caseID), url.Values{"answer": {"The two servers are licensed seats."}})
		webtest.WantRedirect(t, res, fraud.AnswerPath(caseID)+"?done=sent")
		res, body = owner.Get(t, "/staff/fraud?status=closed")
		if !strings.Contains(body, "contested") {
			t.Fatalf("the list does not show the contest:\n%s", body)
		}

		// Reversal: the license works again.
		var decision int64
		if err := d.QueryRowContext(ctx, `SELECT id FROM fraud_decisions`).Scan(&decision); err != nil {
			t.Fatal(err)
		}
		res, body = owner.Post(t, fmt.Sprintf("%s/decisions/%d/reverse", path, decision), url.Values{"reason": {""}})
		webtest.WantStatus(t, res, body, 422)
		res, _ = owner.Post(t, fmt.Sprintf("%s/decisions/%d/reverse", path, decision), url.Values{"reason": {"Contest upheld: licensed seats."}})
		webtest.WantRedirect(t, res, path+"?done=reversed")
		if st := status(t, d, `SELECT status FROM licenses WHERE id = $1`, lic.ID); st != "active" {
			t.Fatalf("license %s after the reversal", st)
		}
		res, body = owner.Post(t, fmt.Sprintf("%s/decisions/%d/reverse", path, decision), url.Values{"reason": {"again"}})
		webtest.WantStatus(t, res, body, 409)
		for _, a := range []string{"fraud.asked", "fraud.answered", "fraud.decided", "fraud.contested", "fraud.reversed", "license.suspended", "license.reinstated"} {
			if n := len(webtest.AuditActions(t, d, a)); n != 1 {
				t.Errorf("%d audit entries %s, want 1", n, a)
			}
		}
		// A cross-site form post is refused before any handler runs.
		res, body = owner.Do(t, http.MethodPost, path+"/decide", url.Values{"action": {"no_action"}, "reason": {"x"}, "token": {"z"}},
			http.Header{"Sec-Fetch-Site": {"cross-site"}})
		webtest.WantStatus(t, res, body, 403)
		if n := count(t, d, `SELECT count(*) FROM fraud_decisions`); n != 1 {
			t.Fatalf("%d decisions after a cross-site post", n)
		}
	})
}
