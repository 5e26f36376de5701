package support_test

import (
	"bytes"
	"context"
	"database/sql"
	"html"
	"io"
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

func TestMain(m *testing.M) { webtest.Main(m, "support") }

func desk(s *webtest.Site) *support.Desk {
	return &support.Desk{DB: s.DB, Clock: s.Clock, BaseURL: webtest.BaseURL}
}

var confirmRE = regexp.MustCompile(`http://127\.0\.0\.1:8080/support/confirm\?t=([A-Za-z0-9_%-]+)`)

// mailedToken returns the token of the newest confirmation mailed to to.
func mailedToken(t *testing.T, d *db.DB, to string) string {
	t.Helper()
	var tmpl, text string
	if err := d.QueryRowContext(context.Background(), `SELECT template, text_body FROM outbox WHERE to_addr = $1 ORDER BY id DESC LIMIT 1`, to).
		Scan(&tmpl, &text); err != nil {
		t.Fatalf("no mail to %s: %v", to, err)
	}
	m := confirmRE.FindStringSubmatch(text)
	if tmpl != "support-confirm" || m == nil {
		t.Fatalf("mail (%s) has no confirmation link:\n%s", tmpl, text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type file struct{ name, ctype, data string }

// postMultipart submits a multipart form as a browser does, with b's cookies.
func postMultipart(t *testing.T, b *webtest.Browser, target string, fields url.Values, files []file) (*http.Response, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.ctype)
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, target, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.Site.H.ServeHTTP(rec, req)
	res := rec.Result()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

var ticketPathRE = regexp.MustCompile(`^/account/support/([0-9]+)\?done=opened$`)

// openTicket opens a ticket from the support page as the signed-in b.
func openTicket(t *testing.T, b *webtest.Browser, subject, text string, files ...file) int64 {
	t.Helper()
	res, body := postMultipart(t, b, "/support", url.Values{"subject": {subject}, "message": {text}}, files)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open: %d\n%s", res.StatusCode, body)
	}
	m := ticketPathRE.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("open redirected to %q", res.Header.Get("Location"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	return id
}

// TestVisitorConfirmsByMail: the visitor's message waits for the mailed
// link; fetching the link opens nothing; the button opens one ticket,
// and pressing it again shows the same one; a lapsed link is a 410.
func TestVisitorConfirmsByMail(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)

		res, body := b.Get(t, "/support")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `action="/support"`, `name="email"`, "support@milterworks.example", `href="mailto:support@milterworks.example"`)
		webtest.MustNotContain(t, body, `type="file"`, "multipart")

		res, body = b.Post(t, "/support", url.Values{"name": {"Vera Visitor"}, "email": {"Vera@Example.com"},
			"subject": {"Milter refuses to start"}, "message": {"It says: <bind failed>\n\nOn Debian 13."}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Check your mail", "vera@example.com", "48 hours")
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the answer may be stored")
		}
		// An address with an account gets the same page.
		webtest.SignedInCustomer(t, s, "known@example.com")
		res, body2 := b.Post(t, "/support", url.Values{"email": {"known@example.com"}, "subject": {"Milter refuses to start"},
			"message": {"It says: <bind failed>\n\nOn Debian 13."}})
		webtest.WantStatus(t, res, body2, http.StatusOK)
		if strings.ReplaceAll(body2, "known@example.com", "X") != strings.ReplaceAll(body, "vera@example.com", "X") {
			t.Fatal("the page differs for an address with an account")
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 0 {
			t.Fatalf("%d tickets before any confirmation", n)
		}
		token := mailedToken(t, d, "vera@example.com")
		path := "/support/confirm?t=" + url.QueryEscape(token)

		// Opening the link (or a scanner fetching it) opens nothing.
		for range 2 {
			res, body = b.Get(t, path)
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, `action="/support/confirm"`, `name="t" value="`+html.EscapeString(token)+`"`)
		}
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 0 {
			t.Fatal("fetching the link opened a ticket")
		}

		var number string
		for i := range 2 {
			res, body = b.Post(t, "/support/confirm", url.Values{"t": {token}})
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, "we have your message", "Milter refuses to start", "answer by email")
			webtest.MustNotContain(t, body, "Sign in to see") // no account for this address
			if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 1 {
				t.Fatalf("confirmation %d: %d tickets", i+1, n)
			}
			var id int64
			if err := d.QueryRowContext(context.Background(), `SELECT id FROM support_tickets`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				number = "Ticket #" + strconv.FormatInt(id, 10) + " opened"
			}
			webtest.MustContain(t, body, number)
		}
		var text, email string
		if err := d.QueryRowContext(context.Background(), `SELECT m.body_text, t.email FROM support_messages m JOIN support_tickets t ON t.id = m.ticket_id`).
			Scan(&text, &email); err != nil {
			t.Fatal(err)
		}
		if text != "It says: <bind failed>\n\nOn Debian 13." || email != "vera@example.com" {
			t.Fatalf("ticket of %s: %q", email, text)
		}

		// The known address's ticket links to signing in; expired links are gone.
		known := mailedToken(t, d, "known@example.com")
		res, body = b.Post(t, "/support/confirm", url.Values{"t": {known}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `href="/account/login?next=%2Faccount%2Fsupport%2F`)

		res, body = b.Post(t, "/support", url.Values{"email": {"late@example.com"}, "subject": {"Late"}, "message": {"Slow to confirm."}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		late := mailedToken(t, d, "late@example.com")
		s.Clock.Advance(support.PendingTTL + time.Minute)
		for _, tok := range []string{late, "made-up-token", ""} {
			res, body = b.Post(t, "/support/confirm", url.Values{"t": {tok}})
			webtest.WantStatus(t, res, body, http.StatusGone)
			webtest.MustContain(t, body, "This link cannot be used", "used or has expired", `href="/support"`)
		}
		res, body = b.Get(t, "/support/confirm")
		webtest.WantStatus(t, res, body, http.StatusGone)
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 2 {
			t.Fatalf("%d tickets, want 2", n)
		}
	})
}

// TestRefusedFormKeepsWhatWasTyped: a bad address, an empty message or
// subject come back next to their fields with the rest as typed.
func TestRefusedFormKeepsWhatWasTyped(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b := webtest.NewBrowser(s)
		typed := "Line one & <two>\n\nthird"
		for _, tc := range []struct {
			form  url.Values
			field string
			keeps []string
		}{
			{url.Values{"email": {"not an address"}, "subject": {"Help"}, "message": {typed}}, "email",
				[]string{`value="not an address"`, html.EscapeString(typed), `value="Help"`}},
			{url.Values{"email": {"v@example.com"}, "subject": {"Help me"}, "message": {"  \n "}}, "message",
				[]string{`value="v@example.com"`, `value="Help me"`, "The message is empty"}},
			{url.Values{"email": {"v@example.com"}, "name": {"Vera"}, "subject": {""}, "message": {typed}}, "subject",
				[]string{`value="Vera"`, html.EscapeString(typed)}},
		} {
			res, body := b.Post(t, "/support", tc.form)
			webtest.WantRefused(t, res, body, tc.field, append(tc.keeps, `id="`+tc.field+`-error"`, "what you typed is kept")...)
		}
		// A signed-in customer's multipart form keeps its text too.
		cb, _ := webtest.SignedInCustomer(t, s, "cara@example.com")
		res, body := postMultipart(t, cb, "/support", url.Values{"subject": {"Files"}, "message": {typed}},
			[]file{{"a.txt", "text/plain", "a"}, {"b.txt", "text/plain", "b"}, {"c.txt", "text/plain", "c"},
				{"d.txt", "text/plain", "d"}, {"e.txt", "text/plain", "e"}, {"f.txt", "text/plain", "f"}})
		webtest.WantRefused(t, res, body, "files", `id="files-error"`, "at most 5 files", html.EscapeString(typed), `value="Files"`)
		res, body = postMultipart(t, cb, "/support", url.Values{"subject": {"Empty"}, "message": {""}}, nil)
		webtest.WantRefused(t, res, body, "message", `id="message-error"`, `value="Empty"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`) + webtest.Count(t, d, `SELECT count(*) FROM support_pending`); n != 0 {
			t.Fatalf("refused forms wrote %d rows", n)
		}
	})
}

// TestCustomerTickets: a signed-in customer's ticket opens at once with
// files, shows in the account, takes replies (a waiting ticket is open
// again); notes never show; staff show as the vendor's support; another
// customer's ticket and file are not found.
func TestCustomerTickets(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		ctx := context.Background()
		b, c := webtest.SignedInCustomer(t, s, "cara@example.com")

		res, body := b.Get(t, "/support")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `enctype="multipart/form-data"`, `type="file"`, "<strong>cara@example.com</strong>")
		webtest.MustNotContain(t, body, `name="email"`)

		id := openTicket(t, b, "License file rejected", "The file says <invalid>.",
			file{"log.txt", "text/plain", "line 1\n"}, file{"page.html", "text/html", "<script>alert(1)</script>"})
		res, body = b.Get(t, "/account/support/"+strconv.FormatInt(id, 10)+"?done=opened")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Your ticket is open", "License file rejected", "The file says &lt;invalid&gt;.", "log.txt", "page.html", "New")
		tk, err := desk(s).Ticket(ctx, id)
		if err != nil || tk.CustomerID != c.ID || tk.Channel != support.Web || tk.Email != "cara@example.com" {
			t.Fatalf("ticket %+v, %v", tk, err)
		}

		res, body = b.Get(t, "/account/support")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, `href="/account/support/`+strconv.FormatInt(id, 10)+`"`, "License file rejected", "New")

		// Staff answer (the ticket waits for the customer) and note.
		var anna int64
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			a, err := staff.Create(ctx, tx, "anna.secret@milterworks.example", "Anna Staffer", staff.Support, s.Clock.Now())
			anna = a.ID
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := desk(s).Reply(ctx, id, anna, support.StaffReply{Text: "Send us the license file, please."}, audit.Staff(anna)); err != nil {
			t.Fatal(err)
		}
		if _, err := desk(s).Note(ctx, id, anna, "INTERNAL: customer seems confused", []support.Upload{{Filename: "note.txt", ContentType: "text/plain", Data: []byte("secret")}}, audit.Staff(anna)); err != nil {
			t.Fatal(err)
		}
		res, body = b.Get(t, "/account/support/"+strconv.FormatInt(id, 10))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Send us the license file, please.", "Milterworks support", "Waiting for customer")
		webtest.MustNotContain(t, body, "INTERNAL", "customer seems confused", "note.txt", "Anna", "anna.secret")

		// Attachments: the customer's own, with safe headers.
		thread, err := desk(s).Thread(ctx, id, true)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]int64{}
		for _, m := range thread {
			for _, a := range m.Attachments {
				files[a.Filename] = a.ID
			}
		}
		fileURL := func(ticket int64, name string) string {
			return "/account/support/" + strconv.FormatInt(ticket, 10) + "/files/" + strconv.FormatInt(files[name], 10)
		}
		for name, ctype := range map[string]string{"log.txt": "text/plain; charset=utf-8", "page.html": "application/octet-stream"} {
			res, body = b.Get(t, fileURL(id, name))
			webtest.WantStatus(t, res, body, http.StatusOK)
			h := res.Header
			if h.Get("Content-Type") != ctype || h.Get("Content-Disposition") != `attachment; filename=`+name ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Content-Security-Policy") != "sandbox" || h.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s: headers %v", name, h)
			}
		}
		res, body = b.Get(t, fileURL(id, "note.txt")) // a note's file
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		// The customer's reply opens the waiting ticket again.
		res, body = postMultipart(t, b, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {"Here it is."}},
			[]file{{"license.lic", "application/octet-stream", "LIC"}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/account/support/"+strconv.FormatInt(id, 10)+"?done=replied#m") {
			t.Fatalf("reply: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
		}
		if tk, _ = desk(s).Ticket(ctx, id); tk.State != support.Open {
			t.Fatalf("state %s after the customer's reply, want open", tk.State)
		}
		res, body = b.Get(t, "/account/support/"+strconv.FormatInt(id, 10)+"?done=replied")
		webtest.MustContain(t, body, "Your message is added", "Here it is.", "license.lic")
		// An empty reply comes back refused.
		res, body = postMultipart(t, b, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {" "}}, nil)
		webtest.WantRefused(t, res, body, "message")

		// Another customer sees none of it.
		other, _ := webtest.SignedInCustomer(t, s, "otto@example.com")
		for _, p := range []string{"/account/support/" + strconv.FormatInt(id, 10), fileURL(id, "log.txt"), "/account/support/99999"} {
			res, body = other.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}
		res, body = postMultipart(t, other, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {"Mine now"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = other.Get(t, "/account/support")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "You have no support tickets")
		webtest.MustNotContain(t, body, "License file rejected")
		// Their own ticket's id does not open this ticket's file.
		oid := openTicket(t, other, "Mine", "Another question.")
		res, body = other.Get(t, "/account/support/"+strconv.FormatInt(oid, 10)+"/files/"+strconv.FormatInt(files["log.txt"], 10))
		webtest.WantStatus(t, res, body, http.StatusNotFound)

		// A closed ticket takes no reply and says how to go on.
		if err := desk(s).SetState(ctx, id, support.Closed, audit.Staff(anna)); err != nil {
			t.Fatal(err)
		}
		res, body = b.Get(t, "/account/support/"+strconv.FormatInt(id, 10))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "This ticket is closed", `href="/support"`)
		webtest.MustNotContain(t, body, `action="/account/support/`)
		res, body = postMultipart(t, b, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {"One more thing"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "This ticket is closed")

		// Not signed in: to the sign-in page, or 401 for a form.
		anon := webtest.NewBrowser(s)
		res, _ = anon.Get(t, "/account/support")
		webtest.WantRedirect(t, res, "/account/login?next=%2Faccount%2Fsupport")
		res, body = postMultipart(t, anon, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {"x"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusUnauthorized)
		// A visitor cannot attach files.
		res, body = postMultipart(t, anon, "/support", url.Values{"email": {"v@example.com"}, "subject": {"S"}, "message": {"M"}},
			[]file{{"x.txt", "text/plain", "x"}})
		webtest.WantRefused(t, res, body, "files", "signed in")
	})
}

// TestRestrictedCustomer: the tickets stay visible; opening and replying
// are refused with the banner that links to the privacy center.
func TestRestrictedCustomer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		ctx := context.Background()
		b, c := webtest.SignedInCustomer(t, s, "rita@example.com")
		id := openTicket(t, b, "Before", "Asked before restricting.")
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			return privacy.SetChoice(ctx, tx, privacy.Declared, c.ID, privacy.ChoiceRestriction, "", true, "", s.Clock.Now())
		}); err != nil {
			t.Fatal(err)
		}
		banner := []string{`id="restricted"`, `href="/account/privacy"`, "restrict the processing"}
		for _, p := range []string{"/support", "/account/support", "/account/support/" + strconv.FormatInt(id, 10)} {
			res, body := b.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusOK)
			webtest.MustContain(t, body, banner...)
		}
		res, body := b.Get(t, "/account/support/"+strconv.FormatInt(id, 10))
		webtest.MustContain(t, body, "Asked before restricting.")
		webtest.MustNotContain(t, body, `action="/account/support/`)

		res, body = postMultipart(t, b, "/support", url.Values{"subject": {"After"}, "message": {"New question"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, banner...)
		res, body = postMultipart(t, b, "/account/support/"+strconv.FormatInt(id, 10), url.Values{"message": {"More"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, banner...)
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_messages`); n != 1 {
			t.Fatalf("%d messages, want 1", n)
		}

		// A visitor's confirmed message for the restricted account's address opens nothing.
		anon := webtest.NewBrowser(s)
		res, body = anon.Post(t, "/support", url.Values{"email": {"rita@example.com"}, "subject": {"Via form"}, "message": {"Hello"}})
		webtest.WantStatus(t, res, body, http.StatusOK)
		res, body = anon.Post(t, "/support/confirm", url.Values{"t": {mailedToken(t, d, "rita@example.com")}})
		webtest.WantStatus(t, res, body, http.StatusConflict)
		webtest.MustContain(t, body, "restricted the processing")
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 1 {
			t.Fatalf("%d tickets, want 1", n)
		}
	})
}

// TestRateLimits: a customer opens at most 10 tickets a day, a visitor's
// address gets at most support.PendingLimit confirmations; both answer 429
// with the form as typed and words on what to do.
func TestRateLimits(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		b, _ := webtest.SignedInCustomer(t, s, "busy@example.com")
		for i := range 10 {
			openTicket(t, b, "Question "+strconv.Itoa(i), "Text")
		}
		res, body := postMultipart(t, b, "/support", url.Values{"subject": {"Eleventh"}, "message": {"Kept text"}}, nil)
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		webtest.MustContain(t, body, "opened 10 tickets today", "support@milterworks.example", "Kept text", `value="Eleventh"`)
		if n := webtest.Count(t, d, `SELECT count(*) FROM support_tickets`); n != 10 {
			t.Fatalf("%d tickets, want 10", n)
		}
		s.Clock.Advance(25 * time.Hour)
		openTicket(t, b, "Next day", "Text")

		anon := webtest.NewBrowser(s)
		form := url.Values{"email": {"flood@example.com"}, "subject": {"Hi"}, "message": {"Flood text"}}
		for range support.PendingLimit.Max {
			res, body = anon.Post(t, "/support", form)
			webtest.WantStatus(t, res, body, http.StatusOK)
		}
		res, body = anon.Post(t, "/support", form)
		webtest.WantStatus(t, res, body, http.StatusTooManyRequests)
		webtest.MustContain(t, body, "Too many messages from this address", "Flood text")
	})
}
