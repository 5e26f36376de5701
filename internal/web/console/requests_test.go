package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

// lastMail is the newest queued message made from template.
func lastMail(t *testing.T, d *db.DB, template string) (to, text string) {
	t.Helper()
	err := d.QueryRowContext(context.Background(), `SELECT to_addr, text_body FROM outbox WHERE template = $1 ORDER BY id DESC LIMIT 1`, template).Scan(&to, &text)
	if err != nil {
		t.Fatalf("no %s mail: %v", template, err)
	}
	return to, text
}

var requestPath = regexp.MustCompile(`^/staff/requests/(\d+)\?done=`)

// newRequest records a request through the console and returns its page.
func newRequest(t *testing.T, b *webtest.Browser, form url.Values, done string) string {
	t.Helper()
	res, body := b.Post(t, "/staff/requests", form)
	m := requestPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil || !strings.HasSuffix(res.Header.Get("Location"), "done="+done) {
		t.Fatalf("create: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	return "/staff/requests/" + m[1]
}

// TestStaffHandlesAnErasureRequest walks a request from the console: entry,
// duplicate, code, wrong and right code, extension, completion, each step
// in the history and the audit log.
func TestStaffHandlesAnErasureRequest(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		b := webtest.NewBrowser(s)
		b.SignIn(t, m)
		_, c := webtest.SignedInCustomer(t, s, "lena@example.com")

		res, body := b.Get(t, "/staff/requests")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "<h1>Privacy requests</h1>", "No open request is overdue", `name="kind"`, "No requests.")

		form := url.Values{"kind": {"erasure"}, "email": {"Lena@Example.com"}, "channel": {"email"}, "received": {webtest.Start.Format(time.DateOnly)},
			"note": {"Please delete my account."}}
		page := newRequest(t, b, form, "created")
		res, body = b.Get(t, page+"?done=created")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "lena@example.com", "(customer account No. "+webtest.Itoa(c.ID)+")", "Erasure (Art. 17)", "Send a verification code",
			"The request is recorded", "7 June 2026", "Please delete my account.")
		webtest.MustNotContain(t, body, "Check the code", "Complete the request")
		// The same request again leads to the open one.
		newRequest(t, b, form, "duplicate")

		res, _ = b.Post(t, page+"/send-code", nil)
		webtest.WantRedirect(t, res, page+"?done=code-sent")
		to, text := lastMail(t, d, "request_verify")
		code := regexp.MustCompile(`Your code: (\S+)`).FindStringSubmatch(text)
		if to != "lena@example.com" || code == nil {
			t.Fatalf("code mail to %s:\n%s", to, text)
		}
		res, body = b.Get(t, page)
		webtest.MustContain(t, body, "Check the code", "Send a new code", "code sent, valid until")
		webtest.MustNotContain(t, body, code[1])

		res, body = b.Post(t, page+"/verify", url.Values{"code": {"AAAA-AAAA"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "The code is wrong; 4 attempts left.", "1 wrong attempt(s)")
		res, _ = b.Post(t, page+"/verify", url.Values{"code": {code[1]}})
		webtest.WantRedirect(t, res, page+"?done=verified")
		res, body = b.Post(t, page+"/verify", url.Values{"code": {code[1]}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "was used already")

		res, body = b.Post(t, page+"/extend", url.Values{"months": {"2"}, "reason": {""}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = b.Post(t, page+"/extend", url.Values{"months": {"2"}, "reason": {"Your data is in three archived systems."}})
		webtest.WantRedirect(t, res, page+"?done=extended")
		if to, text := lastMail(t, d, "request_extended"); to != "lena@example.com" || !strings.Contains(text, "7 August 2026") {
			t.Fatalf("extension mail to %s:\n%s", to, text)
		}
		res, body = b.Post(t, page+"/extend", url.Values{"months": {"1"}, "reason": {"again"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)

		res, _ = b.Post(t, page+"/complete", url.Values{"note": {"confirmed by phone"}})
		webtest.WantRedirect(t, res, page+"?done=completed")
		res, body = b.Get(t, page+"?done=completed")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "completed", "erased: ", "customers 1 row anonymised", "kept under legal hold", "identity verified by the code", "verify refused")
		webtest.MustNotContain(t, body, "Next steps")
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM customers WHERE email = 'lena@example.com'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("the customer's address is still there (%d, %v)", n, err)
		}
		if to, text := lastMail(t, d, "request_done"); to != "lena@example.com" || !strings.Contains(text, "erased: ") {
			t.Fatalf("done mail to %s:\n%s", to, text)
		}
		res, body = b.Post(t, page+"/refuse", url.Values{"reason": {"late"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		res, body = b.Post(t, "/staff/requests/99999/start", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		for _, a := range []string{"created", "duplicate", "send_code", "verify_refused", "verify", "extend", "extend_refused", "complete", "refuse_refused"} {
			if len(webtest.AuditActions(t, d, "privacy_request."+a)) == 0 {
				t.Errorf("no audit entry privacy_request.%s", a)
			}
		}
		views := webtest.AuditActions(t, d, "personal_data.view")
		found := false
		for _, v := range views {
			found = found || v.SubjectType == "privacy_request" && v.ActorID == m.ID
		}
		if !found {
			t.Error("viewing a request was not recorded")
		}
	})
}

func TestRequestListMarksDeadlines(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)
		b.SignIn(t, m)
		day := func(daysAgo int) string { return webtest.Start.AddDate(0, 0, -daysAgo).Format(time.DateOnly) }
		late := newRequest(t, b, url.Values{"kind": {"access"}, "email": {"late@example.com"}, "channel": {"console"}, "received": {day(40)}}, "created")
		soon := newRequest(t, b, url.Values{"kind": {"access"}, "email": {"soon@example.com"}, "channel": {"email"}, "received": {day(27)}}, "created")
		newRequest(t, b, url.Values{"kind": {"rectification"}, "email": {"calm@example.com"}, "channel": {"email"}}, "created")

		res, body := b.Get(t, "/staff/requests")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "<strong>1 overdue</strong>", "<strong>1 due within 7 days</strong>", "OVERDUE by 9 day(s)", "DUE SOON: in 3 day(s)",
			"calm@example.com")
		if strings.Index(body, "late@example.com") > strings.Index(body, "soon@example.com") {
			t.Error("the overdue request is not listed first")
		}
		res, body = b.Get(t, "/staff/requests?overdue=1")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "late@example.com")
		webtest.MustNotContain(t, body, "soon@example.com", "calm@example.com")
		res, body = b.Get(t, "/staff/requests?state=refused")
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "No requests match this filter.")
		res, body = b.Get(t, "/staff/requests?state=lost")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)

		res, body = b.Get(t, late)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "OVERDUE:</strong> the deadline was 28 April 2026, 9 day(s) ago.")
		res, body = b.Get(t, soon)
		webtest.MustContain(t, body, "DUE SOON:</strong> answer by 10 May 2026 (in 3 day(s))")

		// A refusal tells the person why and where to complain.
		res, body = b.Post(t, late+"/refuse", url.Values{"reason": {""}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		res, _ = b.Post(t, late+"/refuse", url.Values{"reason": {"The request asks about the data of another person."}})
		webtest.WantRedirect(t, res, late+"?done=refused")
		_, text := lastMail(t, d, "request_refused")
		if !strings.Contains(strings.Join(strings.Fields(text), " "), "complaint with a data protection supervisory authority") {
			t.Fatalf("refusal mail:\n%s", text)
		}

		// Bad input says what to do and creates nothing.
		for _, c := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"kind": {"access"}, "email": {"nobody"}, "channel": {"email"}}, "Enter the email address"},
			{url.Values{"kind": {"fame"}, "email": {"x@example.com"}, "channel": {"email"}}, "Choose what the person asks for"},
			{url.Values{"kind": {"access"}, "email": {"x@example.com"}, "channel": {"email"}, "received": {"yesterday"}}, "Enter the day"},
			{url.Values{"kind": {"access"}, "email": {"x@example.com"}, "channel": {"email"}, "received": {"2027-01-01"}}, "in the future"},
			{url.Values{"kind": {"access"}, "email": {"x@example.com"}, "channel": {"self_service"}}, "privacy center"},
		} {
			res, body := b.Post(t, "/staff/requests", c.form)
			webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
			webtest.MustContain(t, body, c.want)
		}
		// Abuse: a sixth new request for one address in a day is refused.
		for _, k := range []string{"portability", "erasure", "restriction", "objection"} {
			newRequest(t, b, url.Values{"kind": {k}, "email": {"soon@example.com"}, "channel": {"email"}}, "created")
		}
		res, body = b.Post(t, "/staff/requests", url.Values{"kind": {"withdrawal"}, "email": {"soon@example.com"}, "channel": {"email"}})
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		webtest.MustContain(t, body, "the most we accept in a day")
		if len(webtest.AuditActions(t, d, "privacy_request.refused_rate_limited")) != 1 {
			t.Fatal("the refused request was not recorded")
		}
	})
}

// TestAccessRequestAndProcessorLeftovers: an access request is completed
// by telling the requester where to download; an erasure whose processor
// reference cannot be deleted here shows it once for staff to delete.
func TestAccessRequestAndProcessorLeftovers(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		m := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		b := webtest.NewBrowser(s)
		b.SignIn(t, m)
		_, c := webtest.SignedInCustomer(t, s, "max@example.com")
		verify := func(page string) {
			t.Helper()
			res, _ := b.Post(t, page+"/send-code", nil)
			webtest.WantRedirect(t, res, page)
			_, text := lastMail(t, d, "request_verify")
			code := regexp.MustCompile(`Your code: (\S+)`).FindStringSubmatch(text)
			res, _ = b.Post(t, page+"/verify", url.Values{"code": {code[1]}})
			webtest.WantRedirect(t, res, page+"?done=verified")
		}
		acc := newRequest(t, b, url.Values{"kind": {"access"}, "email": {"max@example.com"}, "channel": {"email"}}, "created")
		verify(acc)
		res, body := b.Get(t, acc)
		webtest.MustContain(t, body, "emails the requester to sign in", "http://127.0.0.1:8080/account/privacy")
		res, _ = b.Post(t, acc+"/complete", nil)
		webtest.WantRedirect(t, res, acc+"?done=completed")
		if _, text := lastMail(t, d, "request_done"); !strings.Contains(text, "http://127.0.0.1:8080/account/privacy") {
			t.Fatalf("done mail:\n%s", text)
		}

		// Doubt first: the code alone does not webtest.Start the work.
		era := newRequest(t, b, url.Values{"kind": {"erasure"}, "email": {"max@example.com"}, "channel": {"console"}}, "created")
		res, _ = b.Post(t, era+"/doubt", url.Values{"reason": {"the caller did not know the order number"}})
		webtest.WantRedirect(t, res, era+"?done=doubt")
		verify(era)
		res, body = b.Post(t, era+"/start", nil)
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "say what extra proof you saw")
		res, _ = b.Post(t, era+"/start", url.Values{"note": {"called back on the number in the order"}})
		webtest.WantRedirect(t, res, era+"?done=started")

		if _, err := d.ExecContext(context.Background(), `INSERT INTO orders (number, customer_id, status, provider, currency, subtotal_minor,
			total_minor, processor_customer, billing_email, created_at, updated_at) VALUES ('T-1', $1, 'paid', 'stripe', 'EUR', 100, 100, 'cus_TEST1',
			'max@example.com', $2, $2)`, c.ID, webtest.Start); err != nil {
			t.Fatal(err)
		}
		res, body = b.Post(t, era+"/complete", nil)
		webtest.WantStatus(t, res, body, 200)
		webtest.MustContain(t, body, "could not be deleted from here", "stripe cus_TEST1", "1 reference(s) at processors to delete by hand")
	})
}
