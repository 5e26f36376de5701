package supportdesk_test

import (
	"bytes"
	"context"
	"database/sql"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

type world struct {
	s                        *webtest.Site
	desk                     *support.Desk
	owner, agent, finance    *webtest.Browser
	ownerM, agentM, financeM webtest.Member
}

func newWorld(t *testing.T, d *db.DB) world {
	t.Helper()
	w := world{s: webtest.NewSite(t, d)}
	w.desk = &support.Desk{DB: d, Clock: w.s.Clock}
	w.ownerM = webtest.AddStaff(t, w.s, "owner@milterworks.example", staff.Owner, true)
	w.agentM = webtest.AddStaff(t, w.s, "agent@milterworks.example", staff.Support, true)
	w.financeM = webtest.AddStaff(t, w.s, "finance@milterworks.example", staff.Finance, true)
	w.owner, w.agent, w.finance = webtest.NewBrowser(w.s), webtest.NewBrowser(w.s), webtest.NewBrowser(w.s)
	w.owner.SignIn(t, w.ownerM)
	w.agent.SignIn(t, w.agentM)
	w.finance.SignIn(t, w.financeM)
	return w
}

func (w world) open(t *testing.T, email, subject, text string) support.Ticket {
	t.Helper()
	tk, err := w.desk.Open(context.Background(), support.NewTicket{Email: email, Name: "Kim", Subject: subject, Text: text,
		Channel: support.Web, By: audit.System()})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// mailWithAttachment is a small raw mail with an HTML part and a file.
func mailWithAttachment(from, subject, ctype string) []byte {
	return []byte("From: Kim <" + from + ">\r\nTo: support@milterworks.example\r\nSubject: " + subject + "\r\n" +
		"Message-ID: <m1." + strconv.Itoa(len(subject)) + "@example.org>\r\nDate: Thu, 07 May 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n" +
		"--b2\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe milter rejects mail after the upgrade.\r\n" +
		"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>The milter <b>rejects</b> mail after the upgrade.<script>alert(1)</script></p>\r\n" +
		"--b2--\r\n" +
		"--b1\r\nContent-Type: " + ctype + "\r\nContent-Disposition: attachment; filename=\"log.html\"\r\n\r\n<html><script>alert(2)</script></html>\r\n" +
		"--b1--\r\n")
}

func (w world) receive(t *testing.T, sender string, raw []byte) support.Outcome {
	t.Helper()
	out, err := w.desk.Receive(context.Background(), support.Envelope{Sender: sender, Recipient: "support@milterworks.example", Via: "pipe"}, raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type file struct {
	name, ctype string
	data        []byte
}

// postMultipart submits a form with files, as the reply form sends it.
func postMultipart(t *testing.T, b *webtest.Browser, target string, fields map[string]string, files []file) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.ctype)
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(f.data)
	}
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, target, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.Site.H.ServeHTTP(rec, req)
	return rec.Result(), rec.Body.String()
}

func path(tk support.Ticket) string { return "/staff/support/" + strconv.FormatInt(tk.ID, 10) }

func TestListFiltersSearchAndPaging(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		a := w.open(t, "ada@example.com", "Milter rejects mail", "after the upgrade to 2.1")
		w.s.Clock.Advance(time.Minute)
		b := w.open(t, "bob@example.com", "Invoice address", "please change the address")
		w.s.Clock.Advance(time.Minute)
		c := w.open(t, "cy@example.com", "License key lost", "where is my key")
		if _, err := w.desk.SetTags(ctx, b.ID, []string{"billing"}, audit.System()); err != nil {
			t.Fatal(err)
		}
		if err := w.desk.Assign(ctx, c.ID, w.agentM.ID, audit.System()); err != nil {
			t.Fatal(err)
		}
		res, body := w.agent.Get(t, "/staff/support")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, a.Subject, b.Subject, c.Subject, "ada@example.com", "billing", "New: <strong>3</strong>")
		webtest.MustNotContain(t, body, "OVERDUE")

		for _, sc := range []struct {
			query     string
			want, not []string
		}{
			{"q=%23" + webtest.Itoa(a.ID), []string{a.Subject}, []string{b.Subject, c.Subject}},
			{"q=" + webtest.Itoa(b.ID), []string{b.Subject}, []string{a.Subject, c.Subject}},
			{"q=cy%40example.com", []string{c.Subject}, []string{a.Subject, b.Subject}},
			{"q=upgr", []string{a.Subject}, []string{b.Subject, c.Subject}},
			{"q=address+change", []string{b.Subject}, []string{a.Subject, c.Subject}},
			{"tag=billing", []string{b.Subject}, []string{a.Subject, c.Subject}},
			{"assignee=me", []string{c.Subject}, []string{a.Subject, b.Subject}},
			{"assignee=unassigned", []string{a.Subject, b.Subject}, []string{c.Subject}},
			{"state=waiting", []string{"No tickets match this filter"}, []string{a.Subject}},
			{"state=active&assignee=anyone", []string{a.Subject, b.Subject, c.Subject}, nil},
			{"overdue=1", []string{"No tickets match"}, []string{a.Subject}},
		} {
			res, body := w.agent.Get(t, "/staff/support?"+sc.query)
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, sc.want...)
			webtest.MustNotContain(t, body, sc.not...)
		}
		// Past the first-response target: marked, counted and filtered.
		w.s.Clock.Advance(25 * time.Hour)
		w.agent.SignIn(t, w.agentM) // the session idled out meanwhile
		_, body = w.agent.Get(t, "/staff/support?overdue=1")
		webtest.MustContain(t, body, "OVERDUE: no first response yet", a.Subject, "Overdue: 3")

		for _, bad := range []string{"state=bogus", "assignee=someone", "before=garbage", "before=12-x", "overdue=yes", "tag=no+spaces%21"} {
			res, body := w.agent.Get(t, "/staff/support?"+bad)
			webtest.WantStatus(t, res, body, http.StatusBadRequest)
		}
	})
}

func TestListPages(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		var first support.Ticket
		for i := range 53 {
			tk := w.open(t, "p"+strconv.Itoa(i)+"@example.com", "Question "+strconv.Itoa(i), "text")
			if i == 0 {
				first = tk
			}
			w.s.Clock.Advance(time.Second)
		}
		_, body := w.agent.Get(t, "/staff/support")
		webtest.MustContain(t, body, "Question 52", "Older tickets")
		webtest.MustNotContain(t, body, ">Question 2<")
		next := regexp.MustCompile(`href="(/staff/support\?before=[0-9]+-[0-9]+)" rel="next"`).FindStringSubmatch(body)
		if next == nil {
			t.Fatalf("no next link:\n%s", body)
		}
		res, body := w.agent.Get(t, strings.ReplaceAll(next[1], "&amp;", "&"))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, ">Question 2<", ">"+first.Subject+"<", "First page")
		webtest.MustNotContain(t, body, ">Question 3<", "Older tickets")
	})
}

func countRows(t *testing.T, d *db.DB, q string, args ...any) int {
	return webtest.Count(t, d, q, args...)
}

func TestTicketActions(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		tk := w.open(t, "ada@example.com", "Milter rejects mail", "after the upgrade")
		p := path(tk)

		res, body := w.agent.Get(t, p)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Milter rejects mail", "after the upgrade", "ada@example.com", "Send the reply", "agent@milterworks.example (support)")
		webtest.MustNotContain(t, body, "finance@milterworks.example")

		// A canned reply fills the text, server-side.
		cr, err := w.desk.SaveCanned(ctx, support.Canned{Title: "Upgrade", Body: "Hello {name}, about {ticket}: restart the milter."}, audit.System())
		if err != nil {
			t.Fatal(err)
		}
		_, body = w.agent.Get(t, p+"?canned="+webtest.Itoa(cr.ID))
		webtest.MustContain(t, body, "Hello Kim, about "+tk.Number()+": restart the milter.</textarea>")
		res, body = w.agent.Get(t, p+"?canned=x")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)

		// Reply with a file: mailed, threaded, audited.
		res, body = postMultipart(t, w.agent, p+"/reply", map[string]string{"text": "Restart the milter.", "then": "solved"},
			[]file{{"notes.txt", "text/plain", []byte("step 1")}})
		webtest.WantRedirect(t, res, p+"?done=replied")
		got, _ := w.desk.Ticket(ctx, tk.ID)
		if got.State != support.Solved || got.FirstResponseAt.IsZero() {
			t.Errorf("after reply: %+v", got)
		}
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'support-reply'`); n != 1 {
			t.Errorf("%d replies queued", n)
		}
		_, body = w.agent.Get(t, p+"?done=replied")
		webtest.MustContain(t, body, "The reply is on its way", "Reply to the customer", "notes.txt")

		steps := []struct {
			path   string
			form   url.Values
			done   string
			action string
		}{
			{p + "/note", url.Values{"text": {"Customer called, impatient."}}, "noted", "support.note_added"},
			{p + "/state", url.Values{"state": {"open"}}, "state", "support.state_changed"},
			{p + "/assign", url.Values{"assignee": {"me"}}, "assigned", "support.assigned"},
			{p + "/tags", url.Values{"tags": {"install, Milter upgrade"}}, "tagged", "support.tagged"},
		}
		for _, st := range steps {
			res, body := w.agent.Post(t, st.path, st.form)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", st.path, res.StatusCode, body)
			}
			webtest.WantRedirect(t, res, p+"?done="+st.done)
			if es := webtest.AuditActions(t, d, st.action); len(es) == 0 || es[0].ActorID != w.agentM.ID || es[0].SourceNet == "" {
				t.Errorf("%s: audit %+v", st.action, es)
			}
		}
		if es := webtest.AuditActions(t, d, "support.replied"); len(es) != 1 || es[0].ActorID != w.agentM.ID {
			t.Errorf("reply audit: %+v", es)
		}
		got, _ = w.desk.Ticket(ctx, tk.ID)
		if got.State != support.Open || got.AssigneeID != w.agentM.ID || strings.Join(got.Tags, " ") != "install milter upgrade" {
			t.Errorf("after the actions: %+v", got)
		}
		_, body = w.agent.Get(t, p)
		webtest.MustContain(t, body, `class="card notice"`, "Internal note", "Customer called, impatient.")

		// Bad input changes nothing.
		// Views of the ticket shown again are recorded; nothing else is.
		changes := `SELECT count(*) FROM audit_log WHERE action NOT IN ('personal_data.view', 'staff.access_denied')`
		before := countRows(t, d, changes)
		res, body = w.agent.Post(t, p+"/state", url.Values{"state": {"bogus"}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = w.agent.Post(t, p+"/state", url.Values{"state": {"new"}})
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = w.agent.Get(t, "/staff/support/999999")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = w.agent.Post(t, "/staff/support/999999/note", url.Values{"text": {"x"}})
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = w.agent.Post(t, p+"/assign", url.Values{"assignee": {webtest.Itoa(w.financeM.ID)}})
		webtest.WantRefused(t, res, body, "assignee")
		res, body = w.agent.Post(t, p+"/tags", url.Values{"tags": {"no/slashes"}})
		webtest.WantRefused(t, res, body, "tags")
		res, body = w.agent.Post(t, p+"/reply", url.Values{"text": {"  "}})
		webtest.WantRefused(t, res, body, "text")
		res, body = postMultipart(t, w.agent, p+"/reply", map[string]string{"text": "big file"},
			[]file{{"big.bin", "application/octet-stream", make([]byte, support.MaxUploadBytes+1)}})
		webtest.WantRefused(t, res, body, "files", "larger than 10 MiB", "big file</textarea>")
		many := make([]file, support.MaxUploads+1)
		for i := range many {
			many[i] = file{"f" + strconv.Itoa(i) + ".txt", "text/plain", []byte("x")}
		}
		res, body = postMultipart(t, w.agent, p+"/reply", map[string]string{"text": "many"}, many)
		webtest.WantRefused(t, res, body, "files", "at most 5 files")
		// A form sent from another site is refused before any handler.
		res, body = w.agent.Do(t, http.MethodPost, p+"/note", url.Values{"text": {"forged"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		if after := countRows(t, d, changes); after != before {
			t.Errorf("bad input wrote %d audit entries", after-before)
		}
		if n := countRows(t, d, `SELECT count(*) FROM support_messages WHERE ticket_id = $1`, tk.ID); n != 3 {
			t.Errorf("%d messages after the refusals, want 3", n)
		}
		if n := countRows(t, d, `SELECT count(*) FROM support_attachments`); n != 1 {
			t.Errorf("%d attachments, want 1", n)
		}

		// Merge: into the same customer's ticket, not another's.
		other := w.open(t, "eve@example.com", "Other customer", "hello")
		res, body = w.agent.Post(t, p+"/merge", url.Values{"into": {webtest.Itoa(other.ID)}})
		webtest.WantRefused(t, res, body, "into", "only tickets of the same customer")
		res, body = w.agent.Post(t, p+"/merge", url.Values{"into": {"abc"}})
		webtest.WantRefused(t, res, body, "into")
		res, body = w.agent.Post(t, p+"/merge", url.Values{"into": {"999999"}})
		webtest.WantRefused(t, res, body, "into", "there is no ticket #999999")
		if got, _ := w.desk.Ticket(ctx, tk.ID); got.MergedInto != 0 {
			t.Fatal("a refused merge merged")
		}
		dup := w.open(t, "ada@example.com", "Milter still rejects", "again")
		res, body = w.agent.Post(t, path(dup)+"/merge", url.Values{"into": {"#" + webtest.Itoa(tk.ID)}})
		webtest.WantRedirect(t, res, p+"?done=merged")
		if es := webtest.AuditActions(t, d, "support.merged"); len(es) != 1 {
			t.Errorf("merge audit: %+v", es)
		}
		_, body = w.agent.Get(t, path(dup))
		webtest.MustContain(t, body, `id="locked"`, "was merged into")
		webtest.MustNotContain(t, body, "Send the reply", "Add the note")

		// Closed: the page says why the actions are gone.
		res, _ = w.agent.Post(t, p+"/state", url.Values{"state": {"closed"}})
		webtest.WantRedirect(t, res, p)
		_, body = w.agent.Get(t, p)
		webtest.MustContain(t, body, "This ticket is closed for good")
		webtest.MustNotContain(t, body, "Send the reply")
		res, body = w.agent.Post(t, p+"/reply", url.Values{"text": {"late"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "the ticket is closed")
	})
}

func TestRoles(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		tk := w.open(t, "ada@example.com", "Question", "text")
		for _, target := range []string{"/staff/support", path(tk), "/staff/support/parked", "/staff/support/canned", "/staff/support/new"} {
			res, body := w.agent.Get(t, target)
			webtest.WantStatus(t, res, body, http.StatusOK)
			res, body = w.finance.Get(t, target)
			webtest.WantStatus(t, res, body, http.StatusForbidden)
		}
		res, body := w.finance.Post(t, path(tk)+"/note", url.Values{"text": {"finance was here"}})
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		// Settings are the owners'.
		res, body = w.agent.Get(t, "/staff/support/settings")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = w.owner.Get(t, "/staff/support/settings")
		webtest.WantStatus(t, res, body, http.StatusOK)
		_, body = w.agent.Get(t, "/staff")
		webtest.MustContain(t, body, `href="/staff/support"`)
		_, body = w.finance.Get(t, "/staff")
		webtest.MustNotContain(t, body, `href="/staff/support"`)
	})
}

func TestCustomerSidebarIsAudited(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		_, c := webtest.SignedInCustomer(t, w.s, "ada@example.com")
		l := webtest.IssueLicense(t, w.s, c.ID, "standard", true)
		tk := w.open(t, "ada@example.com", "Milter", "text")
		if tk.CustomerID != c.ID {
			t.Fatalf("ticket not linked: %+v", tk)
		}
		views := func() int {
			return countRows(t, d, `SELECT count(*) FROM audit_log WHERE action = 'personal_data.view' AND subject_type = 'customer' AND subject_id = $1`, webtest.Itoa(c.ID))
		}
		for i := 1; i <= 2; i++ {
			res, body := w.agent.Get(t, path(tk))
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `id="customer"`, l.Product, l.Edition, "expires", "No machine activated.", "No downloads.",
				`href="/staff/customers/`+webtest.Itoa(c.ID)+`"`)
			if n := views(); n != i {
				t.Fatalf("after %d views, %d audit entries", i, n)
			}
		}
		// A ticket without an account has no sidebar.
		anon := w.open(t, "stranger@example.com", "Hello", "text")
		_, body := w.agent.Get(t, path(anon))
		webtest.MustNotContain(t, body, `id="customer"`)
	})
}

func TestFilesAndRawMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		out := w.receive(t, "kim@example.org", mailWithAttachment("kim@example.org", "Rejected after upgrade", "text/html"))
		if out.Kind != support.Opened {
			t.Fatalf("outcome %+v", out)
		}
		tk, _ := w.desk.Ticket(context.Background(), out.TicketID)
		_, body := w.agent.Get(t, path(tk))
		webtest.MustContain(t, body, "The milter rejects mail after the upgrade.", "Show formatted mail", "log.html", "Download the raw mail")
		webtest.MustNotContain(t, body, "<b>rejects</b>")
		_, body = w.agent.Get(t, path(tk)+"?formatted=1")
		webtest.MustContain(t, body, `<div class="prose"><p>The milter <b>rejects</b> mail`, "Show as text")
		webtest.MustNotContain(t, body, "<script", "alert(1)")

		fileLink := regexp.MustCompile(`href="(/staff/support/[0-9]+/files/[0-9]+)"`).FindStringSubmatch(body)
		raw := regexp.MustCompile(`href="(/staff/support/[0-9]+/raw/[0-9]+)"`).FindStringSubmatch(body)
		if fileLink == nil || raw == nil {
			t.Fatalf("no file or raw link:\n%s", body)
		}
		res, data := w.agent.Get(t, fileLink[1])
		webtest.WantStatus(t, res, data, http.StatusOK)
		for k, want := range map[string]string{
			"Content-Type":            "application/octet-stream", // text/html is not served as itself
			"Content-Disposition":     `attachment; filename=log.html`,
			"X-Content-Type-Options":  "nosniff",
			"Content-Security-Policy": "sandbox; default-src 'none'",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if !strings.Contains(data, "alert(2)") {
			t.Errorf("file body %q", data)
		}
		res, data = w.agent.Get(t, raw[1])
		webtest.WantStatus(t, res, data, http.StatusOK)
		if res.Header.Get("Content-Type") != "message/rfc822" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment; filename=ticket-") ||
			!strings.HasSuffix(res.Header.Get("Content-Disposition"), ".eml") || !strings.HasPrefix(data, "From: Kim") {
			t.Errorf("raw: %v\n%.100s", res.Header, data)
		}
		// A safe stored type is kept; a file of another ticket is not found.
		res, _ = postMultipart(t, w.agent, path(tk)+"/note", map[string]string{"text": "screenshot"}, []file{{"shot.png", "image/png", []byte("\x89PNG")}})
		webtest.WantRedirect(t, res, path(tk))
		var png int64
		_ = d.QueryRowContext(context.Background(), `SELECT max(id) FROM support_attachments`).Scan(&png)
		res, _ = w.agent.Get(t, path(tk)+"/files/"+webtest.Itoa(png))
		if res.Header.Get("Content-Type") != "image/png" || res.Header.Get("Content-Disposition") != "attachment; filename=shot.png" {
			t.Errorf("png: %v", res.Header)
		}
		other := w.open(t, "eve@example.com", "Other", "text")
		res, body = w.agent.Get(t, path(other)+"/files/"+webtest.Itoa(png))
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = w.agent.Get(t, path(other)+"/raw/1")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestRestrictedCustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		ctx := context.Background()
		_, c := webtest.SignedInCustomer(t, w.s, "ada@example.com")
		tk := w.open(t, "ada@example.com", "Milter", "text")
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, c.ID, privacy.ChoiceRestriction, "", true, "test", w.s.Clock.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		_, body := w.agent.Get(t, path(tk))
		webtest.MustContain(t, body, `id="restricted"`, "Processing restricted.", "Close the ticket")
		webtest.MustNotContain(t, body, "Send the reply", "Add the note", "Assign to me")
		res, body := w.agent.Post(t, path(tk)+"/reply", url.Values{"text": {"hello"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "restricted the processing of their data")
		res, body = w.agent.Post(t, path(tk)+"/state", url.Values{"state": {"open"}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "restricted the processing")
		if n := countRows(t, d, `SELECT count(*) FROM outbox WHERE template = 'support-reply'`); n != 0 {
			t.Errorf("%d replies queued for a restricted customer", n)
		}
		res, _ = w.agent.Post(t, path(tk)+"/state", url.Values{"state": {"closed"}})
		webtest.WantRedirect(t, res, path(tk)+"?done=state")
	})
}

func TestParkedMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		spam := func(subject string) []byte {
			return []byte("From: Sam <sam@example.net>\r\nTo: support@milterworks.example\r\nSubject: " + subject +
				"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@example.net>\r\nX-Spam-Flag: YES\r\n\r\nIs this spam? It is not.\r\n")
		}
		one, two := w.receive(t, "sam@example.net", spam("Real question")), w.receive(t, "sam@example.net", spam("Cheap pills"))
		if one.Kind != support.Parked || two.Kind != support.Parked {
			t.Fatalf("outcomes %+v %+v", one, two)
		}
		res, body := w.agent.Get(t, "/staff/support/parked")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Real question", "Cheap pills", "sam@example.net", "marked as spam", "as a new ticket", "(2)")
		res, body = w.agent.Get(t, "/staff/support/parked?state=bogus")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = w.agent.Get(t, "/staff/support/parked?state=ignored")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "No mail was ignored.")

		res, data := w.agent.Get(t, "/staff/support/parked/raw/"+webtest.Itoa(one.ParkedID))
		webtest.WantStatus(t, res, data, http.StatusOK)
		if res.Header.Get("Content-Type") != "message/rfc822" || !strings.Contains(data, "Subject: Real question") {
			t.Errorf("raw parked: %v", res.Header)
		}
		res, body = w.agent.Post(t, "/staff/support/parked/"+webtest.Itoa(one.ParkedID)+"/release", url.Values{"into": {"number"}, "number": {"999999"}})
		webtest.WantStatus(t, res, body, http.StatusUnprocessableEntity)
		webtest.MustContain(t, body, "there is no ticket #999999")
		res, _ = w.agent.Post(t, "/staff/support/parked/"+webtest.Itoa(one.ParkedID)+"/release", url.Values{"into": {"suggested"}})
		webtest.WantRedirect(t, res, "/staff/support/")
		_, body = w.agent.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "Real question", "The parked message is now part of this ticket.")
		if es := webtest.AuditActions(t, d, "support.parked_released"); len(es) != 1 || es[0].ActorID != w.agentM.ID {
			t.Errorf("release audit %+v", es)
		}
		res, body = w.agent.Post(t, "/staff/support/parked/"+webtest.Itoa(one.ParkedID)+"/release", nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)

		// Release into a ticket typed by number.
		three := w.receive(t, "sam@example.net", spam("Follow up"))
		tk := w.open(t, "sam@example.net", "Earlier", "text")
		res, _ = w.agent.Post(t, "/staff/support/parked/"+webtest.Itoa(three.ParkedID)+"/release", url.Values{"into": {"number"}, "number": {"#" + webtest.Itoa(tk.ID)}})
		webtest.WantRedirect(t, res, path(tk)+"?done=released")

		res, _ = w.agent.Post(t, "/staff/support/parked/"+webtest.Itoa(two.ParkedID)+"/discard", nil)
		webtest.WantRedirect(t, res, "/staff/support/parked?done=discarded")
		if es := webtest.AuditActions(t, d, "support.parked_discarded"); len(es) != 1 {
			t.Errorf("discard audit %+v", es)
		}
		_, body = w.agent.Get(t, "/staff/support/parked?done=discarded")
		webtest.MustContain(t, body, "The message is discarded.", "No mail is waiting for a person.")
		res, body = w.agent.Post(t, "/staff/support/parked/999999/discard", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestCannedSettingsAndNewTicket(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		res, body := w.agent.Post(t, "/staff/support/canned", url.Values{"title": {""}, "body": {"x"}})
		webtest.WantRefused(t, res, body, "title")
		res, _ = w.agent.Post(t, "/staff/support/canned", url.Values{"title": {"Restart"}, "body": {"Hello {name}, restart it."}})
		webtest.WantRedirect(t, res, "/staff/support/canned?done=created")
		res, body = w.agent.Post(t, "/staff/support/canned", url.Values{"title": {"Restart"}, "body": {"again"}})
		webtest.WantRefused(t, res, body, "title", "exists")
		_, body = w.agent.Get(t, "/staff/support/canned?done=created")
		webtest.MustContain(t, body, "The canned reply is saved.", "Restart")
		id := regexp.MustCompile(`/staff/support/canned/([0-9]+)`).FindStringSubmatch(body)[1]
		_, body = w.agent.Get(t, "/staff/support/canned/"+id)
		webtest.MustContain(t, body, "Hello {name}, restart it.</textarea>")
		res, body = w.agent.Post(t, "/staff/support/canned/"+id+"/edit", url.Values{"title": {"Restart"}, "body": {""}})
		webtest.WantRefused(t, res, body, "body")
		res, _ = w.agent.Post(t, "/staff/support/canned/"+id+"/edit", url.Values{"title": {"Restart the milter"}, "body": {"Restart it, {name}."}})
		webtest.WantRedirect(t, res, "/staff/support/canned/"+id+"?done=saved")
		res, _ = w.agent.Post(t, "/staff/support/canned/"+id+"/delete", nil)
		webtest.WantRedirect(t, res, "/staff/support/canned?done=deleted")
		res, body = w.agent.Get(t, "/staff/support/canned/"+id)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		for _, a := range []string{"support.canned_saved", "support.canned_deleted"} {
			if len(webtest.AuditActions(t, d, a)) == 0 {
				t.Errorf("no %s audit", a)
			}
		}

		// Settings: field errors beside the fields; saved values used.
		res, body = w.owner.Post(t, "/staff/support/settings", url.Values{"first_response_hours": {"x"}, "resolution_hours": {"2"}, "close_after_days": {"7"}})
		webtest.WantRefused(t, res, body, "first_response_hours")
		res, body = w.owner.Post(t, "/staff/support/settings", url.Values{"first_response_hours": {"8"}, "resolution_hours": {"4"}, "close_after_days": {"7"}})
		webtest.WantRefused(t, res, body, "resolution_hours", "at least the first-response target")
		res, _ = w.owner.Post(t, "/staff/support/settings", url.Values{"first_response_hours": {"8"}, "resolution_hours": {"48"}, "close_after_days": {"3"}})
		webtest.WantRedirect(t, res, "/staff/support/settings?done=saved")
		set, err := support.LoadSettings(context.Background(), d)
		if err != nil || set.FirstResponse != 8*time.Hour || set.Resolution != 48*time.Hour || set.CloseAfter != 72*time.Hour || set.AutoReply {
			t.Errorf("settings %+v %v", set, err)
		}
		if len(webtest.AuditActions(t, d, "support.settings_changed")) != 1 {
			t.Error("settings change not audited")
		}
		_, body = w.owner.Get(t, "/staff/support/settings?done=saved")
		webtest.MustContain(t, body, `value="8"`, `value="48"`, "settings are saved")

		// A ticket from the console: a phone call, noted by staff.
		res, body = w.agent.Post(t, "/staff/support/new", url.Values{"email": {"not-an-address"}, "subject": {"Call"}, "text": {"x"}})
		webtest.WantRefused(t, res, body, "email")
		res, _ = w.agent.Post(t, "/staff/support/new", url.Values{"email": {"Caller@Example.com"}, "name": {"Cal"}, "subject": {"Phone call"},
			"text": {"Called about the key."}})
		webtest.WantRedirect(t, res, "/staff/support/")
		_, body = w.agent.Get(t, res.Header.Get("Location"))
		webtest.MustContain(t, body, "Phone call", "caller@example.com", "Internal note", "Called about the key.", "via console", "The ticket is open.")
		es := webtest.AuditActions(t, d, "support.ticket_opened")
		if len(es) != 1 || es[0].ActorType != audit.ActorStaff || es[0].ActorID != w.agentM.ID {
			t.Errorf("open audit %+v", es)
		}
	})
}

var inlineHandler = regexp.MustCompile(`<[^>]+\son[a-z]+=`)

// TestPagesHaveNoInlineCode renders every page of the area: the CSP
// forbids inline scripts and styles, so none may be there.
func TestPagesHaveNoInlineCode(t *testing.T) {
	w := newWorld(t, testutil.SQLite(t))
	_, c := webtest.SignedInCustomer(t, w.s, "ada@example.com")
	webtest.IssueLicense(t, w.s, c.ID, "standard", true)
	out := w.receive(t, "ada@example.com", mailWithAttachment("ada@example.com", "Formatted", "text/plain"))
	cr, _ := w.desk.SaveCanned(context.Background(), support.Canned{Title: "T", Body: "B"}, audit.System())
	w.receive(t, "x@example.net", []byte("From: x@example.net\r\nSubject: s\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n"))
	tp := "/staff/support/" + webtest.Itoa(out.TicketID)
	for _, target := range []string{"/staff/support", "/staff/support?state=all&q=formatted", tp, tp + "?formatted=1", tp + "?canned=" + webtest.Itoa(cr.ID),
		"/staff/support/parked", "/staff/support/parked?state=ignored", "/staff/support/canned", "/staff/support/canned/" + webtest.Itoa(cr.ID),
		"/staff/support/new", "/staff/support/settings"} {
		res, body := w.owner.Get(t, target)
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustNotContain(t, body, "<script", "style=", "javascript:")
		if m := inlineHandler.FindString(body); m != "" {
			t.Errorf("%s: inline event handler %q", target, m)
		}
	}
}
