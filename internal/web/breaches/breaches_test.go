package breaches_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

var breachPath = regexp.MustCompile(`^/staff/breaches/(\d+)\?done=`)

func record(s *webtest.Site, kv ...string) url.Values {
	f := url.Values{"title": {"Backup copied by a former contractor"}, "what_happened": {"A copy of last week's backup was kept."},
		"discovered_at": {s.Clock.Now().Add(-2 * time.Hour).Format("2006-01-02T15:04")}, "categories": {"user.contact.email", "user.name"},
		"subjects_affected": {"120"}, "records_affected": {"400"}, "authority": {"undecided"}, "subjects": {"undecided"}}
	return webtest.WithForm(f, kv...)
}

func count(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBreachRegisterFlow: an owner records a breach (refusals first,
// which write nothing), sees the deadline, changes the record with
// history, drafts the notice (script refused), sends it once; other roles
// are refused; every step is audited.
func TestBreachRegisterFlow(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		support := webtest.NewBrowser(s)
		support.SignIn(t, webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, true))
		webtest.SignedInCustomer(t, s, "ada@example.com")

		res, body := owner.Get(t, "/staff/breaches")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, "No breach is recorded") {
			t.Fatalf("empty register:\n%s", body)
		}
		res, body = owner.Get(t, "/staff/breaches/new")
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, `value="user.contact.email"`) || !strings.Contains(body, "customers (1)") {
			t.Fatalf("the form does not offer the inventory's counts:\n%s", body)
		}
		for _, tc := range []struct {
			field string
			form  url.Values
			want  string
		}{
			{"discovered_at", record(s, "discovered_at", ""), "when the breach was discovered"},
			{"discovered_at", record(s, "discovered_at", "last tuesday"), "not a date and time"},
			{"authority_reason", record(s, "authority", "not_required"), "why the authority need not be told"},
			{"subjects_affected", record(s, "subjects_affected", "many"), "whole number"},
		} {
			res, body = owner.Post(t, "/staff/breaches", tc.form)
			webtest.WantRefused(t, res, body, tc.field, tc.want, "Backup copied by a former contractor")
		}
		if n := count(t, d, `SELECT count(*) FROM breaches`); n != 0 {
			t.Fatalf("refusals wrote %d breaches", n)
		}
		res, _ = owner.Post(t, "/staff/breaches", record(s))
		m := breachPath.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Fatalf("record: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		path := "/staff/breaches/" + m[1]
		res, body = owner.Get(t, path)
		webtest.WantStatus(t, res, body, http.StatusOK)
		if !strings.Contains(body, "70 hours left") || !strings.Contains(body, "Tell the authority by") {
			t.Fatalf("the deadline is not shown:\n%s", body)
		}
		// Other roles cannot see the register.
		res, body = support.Get(t, "/staff/breaches")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = support.Post(t, path+"/edit", record(s))
		webtest.WantStatus(t, res, body, http.StatusForbidden)

		// The people must be told: the record changes, the old version stays.
		res, body = owner.Get(t, path+"/edit")
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, _ = owner.Post(t, path+"/edit", record(s, "subjects", "required", "authority", "required", "note", "high risk: passwords"))
		webtest.WantRedirect(t, res, path+"?done=saved")
		res, body = owner.Get(t, path)
		if !strings.Contains(body, "Version 1, replaced") || !strings.Contains(body, "high risk: passwords") {
			t.Fatalf("no history:\n%s", body)
		}
		// Drafting: script refused, nothing saved; then a draft, nothing sent.
		res, body = owner.Post(t, path+"/notice", url.Values{"notice_subject": {"Incident"}, "notice_body": {"Hi <script>alert(1)</script>"},
			"notice_audience": {"addresses"}, "notice_addresses": {"ada@example.com"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		if !strings.Contains(body, "Markdown only") || strings.Contains(body, "<script>alert") {
			t.Fatalf("script refusal:\n%s", body)
		}
		res, _ = owner.Post(t, path+"/notice", url.Values{"notice_subject": {"An incident affected your data"},
			"notice_body":     {"We are **sorry**.\n\n[Change your password](https://milterworks.example/account)"},
			"notice_audience": {"addresses"}, "notice_addresses": {"ada@example.com\nbob@example.com"}})
		webtest.WantRedirect(t, res, path+"?done=drafted")
		res, body = owner.Get(t, path)
		if !strings.Contains(body, "<strong>sorry</strong>") || !strings.Contains(body, "2 listed addresses") {
			t.Fatalf("preview:\n%s", body)
		}
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_notice'`); n != 0 {
			t.Fatalf("drafting sent %d", n)
		}
		res, _ = owner.Post(t, path+"/notice/send", nil)
		webtest.WantRedirect(t, res, path+"?done=sent")
		res, body = owner.Post(t, path+"/notice/send", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		if n := count(t, d, `SELECT count(*) FROM outbox WHERE template = 'breach_notice'`); n != 2 {
			t.Fatalf("%d notices queued", n)
		}
		if len(webtest.AuditActions(t, d, "personal_data.view")) == 0 {
			t.Error("showing the recipients' addresses is not recorded as a view")
		}
		for _, a := range []string{"breach.recorded", "breach.updated", "breach.notice_drafted", "breach.notice_sent"} {
			if len(webtest.AuditActions(t, d, a)) != 1 {
				t.Errorf("audit %s: %v", a, webtest.AuditActions(t, d, a))
			}
		}
		res, body = owner.Get(t, "/staff/breaches")
		if !strings.Contains(body, "Backup copied") || !strings.Contains(body, "notice sent") {
			t.Fatalf("register:\n%s", body)
		}
		res, body = owner.Get(t, "/staff/breaches/999")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

// TestBreachMailReachesARealSMTPServer: the notice the owner sent and the
// owners' deadline warning, delivered by the outbox worker to a real SMTP
// server: the notice's HTML is the sanitised Markdown, the warning names
// the deadline.
func TestBreachMailReachesARealSMTPServer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := webtest.NewSite(t, d)
		owner := webtest.NewBrowser(s)
		owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
		res, _ := owner.Post(t, "/staff/breaches", record(s, "subjects", "required"))
		path := strings.Split(res.Header.Get("Location"), "?")[0]
		res, _ = owner.Post(t, path+"/notice", url.Values{"notice_subject": {"An incident affected your data"},
			"notice_body": {"We are **sorry**.\n\n<img src=x>"}, "notice_audience": {"addresses"}, "notice_addresses": {"ada@example.com"}})
		webtest.WantRedirect(t, res, path+"?done=drafted")
		res, _ = owner.Post(t, path+"/notice/send", nil)
		webtest.WantRedirect(t, res, path+"?done=sent")
		if n, err := breaches.SendDeadlineWarnings(ctx, d, "https://shop.milterworks.example", s.Clock.Now().Add(49*time.Hour)); err != nil || n != 1 {
			t.Fatalf("warnings: %d, %v", n, err)
		}
		sink := testutil.StartSMTP(t)
		clk := clock.NewFixed(s.Clock.Now().Add(49 * time.Hour))
		snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: sink.Host(), Port: sink.Port(), TLS: mail.TLSNone, Timeout: 5 * time.Second, SendTimeout: 10 * time.Second, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		w := &mail.Worker{DB: d, Sender: snd, Clock: clk, From: "Milterworks <shop@milterworks.example>", ID: "w1", Batch: 10}
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		got := map[string]testutil.Received{}
		for _, m := range sink.WaitFor(2, 10*time.Second) {
			got[m.To[0]] = m
		}
		n := got["ada@example.com"]
		if n.Subject != "An incident affected your data" || !strings.Contains(n.HTML, "<strong>sorry</strong>") || strings.Contains(n.HTML, "<img") ||
			!strings.Contains(n.Text, "Art. 34 GDPR") {
			t.Fatalf("notice: %q\n%s\n%s", n.Subject, n.HTML, n.Text)
		}
		wm := got["owner@milterworks.example"]
		if !strings.Contains(wm.Subject, "hour(s) left to tell the authority") || !strings.Contains(wm.Text, "https://shop.milterworks.example"+path) {
			t.Fatalf("warning: %q\n%s", wm.Subject, wm.Text)
		}
	})
}

// TestBreachPostsFromOtherSitesRefused: the cross-origin protection
// covers the register's forms: a cross-site post records nothing and
// sends nothing.
func TestBreachPostsFromOtherSitesRefused(t *testing.T) {
	d := testutil.SQLite(t)
	s := webtest.NewSite(t, d)
	owner := webtest.NewBrowser(s)
	owner.SignIn(t, webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true))
	evil := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	res, body := owner.Do(t, http.MethodPost, "/staff/breaches", record(s), evil)
	webtest.WantStatus(t, res, body, http.StatusForbidden)
	res, _ = owner.Post(t, "/staff/breaches", record(s, "subjects", "required"))
	path := strings.Split(res.Header.Get("Location"), "?")[0]
	res, _ = owner.Post(t, path+"/notice", url.Values{"notice_subject": {"S"}, "notice_body": {"B"}, "notice_audience": {"customers"}})
	webtest.WantRedirect(t, res, path+"?done=drafted")
	res, body = owner.Do(t, http.MethodPost, path+"/notice/send", nil, evil)
	webtest.WantStatus(t, res, body, http.StatusForbidden)
	if n := count(t, d, `SELECT count(*) FROM breaches`); n != 1 {
		t.Fatalf("%d breaches", n)
	}
	if n := count(t, d, `SELECT count(*) FROM breaches WHERE notice_sent_at IS NOT NULL`); n != 0 {
		t.Fatal("a cross-site post sent the notice")
	}
}
