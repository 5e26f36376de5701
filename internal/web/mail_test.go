package web_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
)

// queueMail puts a message for to in the outbox and returns its id.
func queueMail(t *testing.T, s *site, to, subject string) int64 {
	t.Helper()
	ctx := context.Background()
	m, err := mail.Compose("signin", to, mail.SignInData{SiteName: vendor.Name, Link: "https://shop.example.com/signin?t=" + subject, ExpiresMinutes: 15})
	if err != nil {
		t.Fatal(err)
	}
	m.Subject = subject
	var id int64
	err = s.d.Tx(ctx, func(tx *sql.Tx) error {
		id, err = mail.Enqueue(ctx, tx, m, s.clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type mailSenderFunc func(context.Context, mail.Outgoing) error

func (f mailSenderFunc) Send(ctx context.Context, m mail.Outgoing) error { return f(ctx, m) }

// runWorker sends what is due with sender.
func runWorker(t *testing.T, s *site, sender mail.Sender) {
	t.Helper()
	w := &mail.Worker{DB: s.d, Sender: sender, Clock: s.clock, From: "shop@milterworks.example", ID: "test"}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStaffOutbox(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d)
		sentID := queueMail(t, s, "sent@example.com", "Sent message")
		runWorker(t, s, mail.DevSender{})
		failedID := queueMail(t, s, "failed@example.com", "Failed message")
		runWorker(t, s, mailSenderFunc(func(context.Context, mail.Outgoing) error {
			return mail.Permanent(errors.New("550 5.1.1 <failed@example.com>: no such user"))
		}))
		queuedID := queueMail(t, s, "queued@example.com", "Queued <message>")

		owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := newBrowser(s)
		b.signIn(t, owner)
		res, body := b.get(t, "/staff/outbox")
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "Outbox", "sent@example.com", "failed@example.com", "queued@example.com", "Queued &lt;message&gt;",
			"All (3)", "queued (1)", "sent (1)", "failed (1)", "no such user", "[address]",
			`action="/staff/outbox/`+itoa64(failedID)+`/resend"`, "Send a copy", "Send now")
		mustNotContain(t, body, "<failed@example.com>", "Queued <message>")
		if strings.Index(body, "queued@example.com") > strings.Index(body, "sent@example.com") {
			t.Error("not newest first")
		}
		views := auditActions(t, d, "personal_data.view")
		if len(views) == 0 || views[0].SubjectType != "outbox" {
			t.Fatalf("the view of the outbox was not recorded: %+v", views)
		}

		res, body = b.get(t, "/staff/outbox?state=failed")
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "failed@example.com", `aria-current="page">failed (1)`)
		mustNotContain(t, body, "sent@example.com", "queued@example.com")
		res, body = b.get(t, "/staff/outbox?state=sent")
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "sent@example.com", "via dev")
		mustNotContain(t, body, "failed@example.com")
		res, body = b.get(t, "/staff/outbox?state=bogus")
		wantStatus(t, res, body, http.StatusBadRequest)
		res, body = b.get(t, "/staff/outbox?before=x")
		wantStatus(t, res, body, http.StatusBadRequest)
		res, body = b.get(t, "/staff/outbox?before="+itoa64(sentID))
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "No messages")

		// Resend the failed one: queued again, recorded.
		res, body = b.post(t, "/staff/outbox/"+itoa64(failedID)+"/resend", nil)
		wantRedirect(t, res, "/staff/outbox?done=requeued")
		res, body = b.get(t, "/staff/outbox?done=requeued")
		mustContain(t, body, "The message is queued again", "failed (0)", "queued (2)")
		// Resend the sent one: a copy.
		res, body = b.post(t, "/staff/outbox/"+itoa64(sentID)+"/resend", nil)
		wantRedirect(t, res, "/staff/outbox?done=copied")
		res, body = b.get(t, "/staff/outbox?done=copied")
		mustContain(t, body, "A copy of the message is queued", "All (4)")
		resent := auditActions(t, d, "mail.resent")
		if len(resent) != 2 || resent[1].SubjectID != itoa64(failedID) || resent[1].Detail != "queued again" ||
			resent[0].SubjectID != itoa64(sentID) || !strings.HasPrefix(resent[0].Detail, "copy ") {
			t.Fatalf("audit: %+v", resent)
		}
		res, body = b.post(t, "/staff/outbox/99999/resend", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		res, body = b.post(t, "/staff/outbox/x/resend", nil)
		wantStatus(t, res, body, http.StatusNotFound)
		_ = queuedID

		// Support may use the outbox; finance may not.
		sup := addStaff(t, s, "support@milterworks.example", staff.Support, false)
		bs := newBrowser(s)
		bs.signIn(t, sup)
		res, body = bs.get(t, "/staff/outbox")
		wantStatus(t, res, body, http.StatusOK)
		fin := addStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		bf := newBrowser(s)
		bf.signIn(t, fin)
		res, body = bf.get(t, "/staff/outbox")
		wantStatus(t, res, body, http.StatusForbidden)
		res, body = bf.post(t, "/staff/outbox/"+itoa64(queuedID)+"/resend", nil)
		wantStatus(t, res, body, http.StatusForbidden)
	})
}

// TestStaffOutboxEmptyAndBusy: an empty outbox records no view; a message
// a worker is sending cannot be reset under it.
func TestStaffOutboxEmptyAndBusy(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	owner := addStaff(t, s, "owner@milterworks.example", staff.Owner, true)
	b := newBrowser(s)
	b.signIn(t, owner)
	res, body := b.get(t, "/staff/outbox")
	wantStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "No messages", "All (0)")
	if n := len(auditActions(t, s.d, "personal_data.view")); n != 0 {
		t.Fatalf("%d views recorded for an empty list", n)
	}

	id := queueMail(t, s, "bob@example.com", "In flight")
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := &mail.Worker{DB: s.d, Clock: s.clock, From: "shop@milterworks.example", ID: "busy",
			Sender: mailSenderFunc(func(context.Context, mail.Outgoing) error { close(entered); <-release; return nil })}
		_, _ = w.RunOnce(context.Background())
	}()
	<-entered
	res, body = b.post(t, "/staff/outbox/"+itoa64(id)+"/resend", nil)
	wantStatus(t, res, body, http.StatusConflict)
	mustContain(t, body, "being sent right now")
	close(release)
	<-done
}

func TestDevMailViewer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := newSite(t, d, withDemo())
		id := queueMail(t, s, "visitor@example.com", "Your sign-in link")
		runWorker(t, s, mail.DevSender{})
		res, body := s.get(t, "/dev/mail")
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "Demo mail viewer: nothing here was sent", "visitor@example.com", `href="/dev/mail/`+itoa64(id)+`"`, "(dev)")

		res, body = s.get(t, "/dev/mail/"+itoa64(id))
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "Demo mail viewer: nothing here was sent", "Your sign-in link", "https://shop.example.com/signin?t=Your sign-in link",
			`<iframe src="/dev/mail/`+itoa64(id)+`/html" sandbox=""`)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("viewer page CSP %q", csp)
		}

		res, body = s.get(t, "/dev/mail/"+itoa64(id)+"/html")
		wantStatus(t, res, body, http.StatusOK)
		if !strings.HasPrefix(body, "<!doctype html>") || !strings.Contains(body, `href="https://shop.example.com/signin?t=Your%20sign-in%20link"`) {
			t.Errorf("HTML part:\n%s", body)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("HTML part CSP %q", csp)
		}
		if res.Header.Get("X-Frame-Options") != "SAMEORIGIN" || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("HTML part headers %v", res.Header)
		}

		for _, p := range []string{"/dev/mail/99999", "/dev/mail/x", "/dev/mail/99999/html"} {
			res, body = s.get(t, p)
			wantStatus(t, res, body, http.StatusNotFound)
		}

		// A message without HTML has no HTML part to show.
		ctx := context.Background()
		var plain int64
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			plain, err = mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "note", To: "v@example.com", Subject: "Plain", Text: "Just text"}, s.clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res, body = s.get(t, "/dev/mail/"+itoa64(plain))
		wantStatus(t, res, body, http.StatusOK)
		mustContain(t, body, "Just text")
		mustNotContain(t, body, "<iframe")
		res, body = s.get(t, "/dev/mail/"+itoa64(plain)+"/html")
		wantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestDevMailViewerEmptyAndSMTP(t *testing.T) {
	s := newSite(t, testutil.SQLite(t), withDemo())
	res, body := s.get(t, "/dev/mail")
	wantStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "No messages yet")
	// A demo started with a real relay says so on the message.
	id := queueMail(t, s, "visitor@example.com", "Receipt")
	runWorker(t, s, mailSenderFunc(func(context.Context, mail.Outgoing) error { return nil }))
	res, body = s.get(t, "/dev/mail/"+itoa64(id))
	wantStatus(t, res, body, http.StatusOK)
	mustContain(t, body, "started with an SMTP relay")
}

// TestDevMailOnlyInDemo: outside the demo the viewer does not exist.
func TestDevMailOnlyInDemo(t *testing.T) {
	s := newSite(t, testutil.SQLite(t))
	id := queueMail(t, s, "customer@example.com", "Private")
	for _, p := range []string{"/dev/mail", "/dev/mail/" + itoa64(id), "/dev/mail/" + itoa64(id) + "/html"} {
		res, body := s.get(t, p)
		wantStatus(t, res, body, http.StatusNotFound)
		mustNotContain(t, body, "customer@example.com")
	}
}
