package review_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReviewPageAndRecord: an owner sees the review per kind of data,
// the legal holds, the recipients hook's state, open breaches and
// requests, and records a review with notes; other roles are refused.
func TestReviewPageAndRecord(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		finance := webtest.NewBrowser(s)
		finance.SignIn(t, webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, true))
		webtest.SignedInCustomer(t, s, "ada@example.com")
		res, _ := owner.Post(t, "/staff/breaches", url.Values{"title": {"Lost laptop"}, "what_happened": {"Stolen from a car."},
			"discovered_at": {s.Clock.Now().Add(-time.Hour).Format("2006-01-02T15:04")}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("breach: %d", res.StatusCode)
		}

		res, body := owner.Get(t, "/staff/review")
		webtest.WantStatus(t, res, body, http.StatusOK)
		for _, want := range []string{"Email address", "Legal holds in force", "invoices", "no agreement with them is on file",
			"No. 1: Lost laptop", "No request is due within 7 days", "No review has been recorded yet"} {
			if !strings.Contains(body, want) {
				t.Errorf("the review lacks %q", want)
			}
		}
		res, body = finance.Get(t, "/staff/review")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = finance.Post(t, "/staff/review", url.Values{"notes": {"x"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)

		res, body = owner.Post(t, "/staff/review", url.Values{"notes": {strings.Repeat("x", 20001)}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if n := count(t, d, `SELECT count(*) FROM privacy_reviews`); n != 0 {
			t.Fatalf("a refused review wrote %d rows", n)
		}
		res, _ = owner.Post(t, "/staff/review", url.Values{"notes": {"Purge runs; the laptop breach is open."}})
		webtest.WantRedirect(t, res, "/staff/review?done=recorded")
		res, body = owner.Get(t, "/staff/review?done=recorded")
		if !strings.Contains(body, "Purge runs; the laptop breach is open.") || !strings.Contains(body, "1 open breach(es)") {
			t.Fatalf("the record is not listed:\n%s", body)
		}
		if len(webtest.AuditActions(t, d, "privacy.reviewed")) != 1 {
			t.Fatal("the review is not audited")
		}
	})
}

// TestStaffPrivacyNotice: every member of staff reads what is kept about
// them, from the inventory's staff declarations, and nothing about
// customers' data.
func TestStaffPrivacyNotice(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		analyst := webtest.NewBrowser(s)
		analyst.SignIn(t, webtest.AddStaff(t, s, "analyst@milterworks.example", staff.Analyst, true))
		res, body := analyst.Get(t, "/staff/privacy-notice")
		webtest.WantStatus(t, res, body, http.StatusOK)
		for _, want := range []string{"Staff accounts and access control", "Accountability", "sk_staff", "30 days after the end of our business relationship",
			"Email delivery provider"} {
			if !strings.Contains(body, want) {
				t.Errorf("the staff notice lacks %q", want)
			}
		}
		for _, not := range []string{"Billing address", "Selling and fulfilling licenses", "Newsletters"} {
			if strings.Contains(body, not) {
				t.Errorf("the staff notice speaks of customers' data: %q", not)
			}
		}
	})
}

// TestMonthlyReminderOnceAMonth: the reminder goes to each owner once a
// month, whichever instance runs the job, through a real SMTP server; a
// month whose review is recorded gets none.
func TestMonthlyReminderOnceAMonth(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		webtest.AddStaff(t, s, "owner2@milterworks.example", staff.Owner, true)
		now := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := review.SendReminder(ctx, d, "https://shop.milterworks.example", now); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'privacy_review_reminder'`); n != 2 {
			t.Fatalf("%d reminders for two owners", n)
		}
		if n := count(t, d, `SELECT count(*) FROM audit_log WHERE action = 'privacy.review_reminded'`); n != 1 {
			t.Fatalf("%d audit entries", n)
		}
		if n, _ := review.SendReminder(ctx, d, "https://x", now.Add(20*24*time.Hour)); n != 0 {
			t.Fatalf("a second reminder in December: %d", n)
		}
		// January's review is done before the job runs: no reminder.
		jan := time.Date(2027, 1, 3, 9, 0, 0, 0, time.UTC)
		if _, err := review.Record(ctx, d, audit.Staff(m.ID), "done early", "", jan); err != nil {
			t.Fatal(err)
		}
		if n, _ := review.SendReminder(ctx, d, "https://x", jan.Add(time.Hour)); n != 0 {
			t.Fatalf("reminded of a month already reviewed: %d", n)
		}
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(now)
		snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: snd, Clock: clk, From: "Milterworks <shop@milterworks.example>", ID: "w1", Batch: 10}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := sink.WaitFor(2, 10*time.Second)
		if !strings.Contains(got[0].Subject, "monthly data review for December 2026") || !strings.Contains(got[0].Text, "https://shop.milterworks.example/staff/review") {
			t.Fatalf("reminder: %q\n%s", got[0].Subject, got[0].Text)
		}
	})
}
