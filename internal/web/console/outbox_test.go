package console_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestStaffOutbox(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d)
		sentID := webtest.QueueMail(t, s, "sent@example.com", "Sent message")
		webtest.RunWorker(t, s, mail.DevSender{})
		failedID := webtest.QueueMail(t, s, "failed@example.com", "Failed message")
		webtest.RunWorker(t, s, webtest.SenderFunc(func(context.Context, mail.Outgoing) error {
			return mail.Permanent(errors.New("550 5.1.1 <failed@example.com>: no such user"))
		}))
		queuedID := webtest.QueueMail(t, s, "queued@example.com", "Queued <message>")

		owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
		b := webtest.NewBrowser(s)
		b.SignIn(t, owner)
		res, body := b.Get(t, "/staff/outbox")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Outbox", "sent@example.com", "failed@example.com", "queued@example.com", "Queued &lt;message&gt;",
			"All (3)", "queued (1)", "sent (1)", "failed (1)", "no such user", "[address]",
			`action="/staff/outbox/`+webtest.Itoa(failedID)+`/resend"`, "Send a copy", "Send now")
		webtest.MustNotContain(t, body, "<failed@example.com>", "Queued <message>")
		if strings.Index(body, "queued@example.com") > strings.Index(body, "sent@example.com") {
			t.Error("not newest first")
		}
		views := webtest.AuditActions(t, d, "personal_data.view")
		if len(views) == 0 || views[0].SubjectType != "outbox" {
			t.Fatalf("the view of the outbox was not recorded: %+v", views)
		}

		res, body = b.Get(t, "/staff/outbox?state=failed")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "failed@example.com", `aria-current="page">failed (1)`)
		webtest.MustNotContain(t, body, "sent@example.com", "queued@example.com")
		res, body = b.Get(t, "/staff/outbox?state=sent")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "sent@example.com", "via dev")
		webtest.MustNotContain(t, body, "failed@example.com")
		res, body = b.Get(t, "/staff/outbox?state=bogus")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = b.Get(t, "/staff/outbox?before=x")
		webtest.WantStatus(t, res, body, http.StatusBadRequest)
		res, body = b.Get(t, "/staff/outbox?before="+webtest.Itoa(sentID))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "No messages")

		// Resend the failed one: queued again, recorded.
		res, body = b.Post(t, "/staff/outbox/"+webtest.Itoa(failedID)+"/resend", nil)
		webtest.WantRedirect(t, res, "/staff/outbox?done=requeued")
		res, body = b.Get(t, "/staff/outbox?done=requeued")
		webtest.MustContain(t, body, "The message is queued again", "failed (0)", "queued (2)")
		// Resend the sent one: a copy.
		res, body = b.Post(t, "/staff/outbox/"+webtest.Itoa(sentID)+"/resend", nil)
		webtest.WantRedirect(t, res, "/staff/outbox?done=copied")
		res, body = b.Get(t, "/staff/outbox?done=copied")
		webtest.MustContain(t, body, "A copy of the message is queued", "All (4)")
		resent := webtest.AuditActions(t, d, "mail.resent")
		if len(resent) != 2 || resent[1].SubjectID != webtest.Itoa(failedID) || resent[1].Detail != "queued again" ||
			resent[0].SubjectID != webtest.Itoa(sentID) || !strings.HasPrefix(resent[0].Detail, "copy ") {
			t.Fatalf("audit: %+v", resent)
		}
		res, body = b.Post(t, "/staff/outbox/99999/resend", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		res, body = b.Post(t, "/staff/outbox/x/resend", nil)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		_ = queuedID

		// Support may use the outbox; finance may not.
		sup := webtest.AddStaff(t, s, "support@milterworks.example", staff.Support, false)
		bs := webtest.NewBrowser(s)
		bs.SignIn(t, sup)
		res, body = bs.Get(t, "/staff/outbox")
		webtest.WantStatus(t, res, body, http.StatusOK)
		fin := webtest.AddStaff(t, s, "finance@milterworks.example", staff.Finance, false)
		bf := webtest.NewBrowser(s)
		bf.SignIn(t, fin)
		res, body = bf.Get(t, "/staff/outbox")
		webtest.WantStatus(t, res, body, http.StatusForbidden)
		res, body = bf.Post(t, "/staff/outbox/"+webtest.Itoa(queuedID)+"/resend", nil)
		webtest.WantStatus(t, res, body, http.StatusForbidden)
	})
}

// TestStaffOutboxEmptyAndBusy: an empty outbox records no view; a message
// a worker is sending cannot be reset under it.
func TestStaffOutboxEmptyAndBusy(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	owner := webtest.AddStaff(t, s, "owner@milterworks.example", staff.Owner, true)
	b := webtest.NewBrowser(s)
	b.SignIn(t, owner)
	res, body := b.Get(t, "/staff/outbox")
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "No messages", "All (0)")
	if n := len(webtest.AuditActions(t, s.DB, "personal_data.view")); n != 0 {
		t.Fatalf("%d views recorded for an empty list", n)
	}

	id := webtest.QueueMail(t, s, "bob@example.com", "In flight")
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := &mail.Worker{DB: s.DB, Clock: s.Clock, From: "shop@milterworks.example", ID: "busy",
			Sender: webtest.SenderFunc(func(context.Context, mail.Outgoing) error { close(entered); <-release; return nil })}
		_, _ = w.RunOnce(context.Background())
	}()
	<-entered
	res, body = b.Post(t, "/staff/outbox/"+webtest.Itoa(id)+"/resend", nil)
	webtest.WantStatus(t, res, body, http.StatusConflict)
	webtest.MustContain(t, body, "being sent right now")
	close(release)
	<-done
}
