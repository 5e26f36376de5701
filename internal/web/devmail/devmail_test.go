package devmail_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/testutil"
	"github.com/storekeep/storekeep/internal/web/webtest"
)

func TestDevMailViewer(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		s := webtest.NewSite(t, d, webtest.WithDemo())
		id := webtest.QueueMail(t, s, "visitor@example.com", "Your sign-in link")
		webtest.RunWorker(t, s, mail.DevSender{})
		res, body := s.Get(t, "/dev/mail")
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Demo mail viewer: nothing here was sent", "visitor@example.com", `href="/dev/mail/`+webtest.Itoa(id)+`"`, "(dev)")

		res, body = s.Get(t, "/dev/mail/"+webtest.Itoa(id))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Demo mail viewer: nothing here was sent", "Your sign-in link", "https://shop.example.com/signin?t=Your sign-in link",
			`<iframe src="/dev/mail/`+webtest.Itoa(id)+`/html" sandbox=""`)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("viewer page CSP %q", csp)
		}

		res, body = s.Get(t, "/dev/mail/"+webtest.Itoa(id)+"/html")
		webtest.WantStatus(t, res, body, http.StatusOK)
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
			res, body = s.Get(t, p)
			webtest.WantStatus(t, res, body, http.StatusNotFound)
		}

		// A message without HTML has no HTML part to show.
		ctx := context.Background()
		var plain int64
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			plain, err = mail.Enqueue(ctx, tx, mail.Message{Kind: mail.Transactional, Template: "note", To: "v@example.com", Subject: "Plain", Text: "Just text"}, s.Clock.Now())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		res, body = s.Get(t, "/dev/mail/"+webtest.Itoa(plain))
		webtest.WantStatus(t, res, body, http.StatusOK)
		webtest.MustContain(t, body, "Just text")
		webtest.MustNotContain(t, body, "<iframe")
		res, body = s.Get(t, "/dev/mail/"+webtest.Itoa(plain)+"/html")
		webtest.WantStatus(t, res, body, http.StatusNotFound)
	})
}

func TestDevMailViewerEmptyAndSMTP(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t), webtest.WithDemo())
	res, body := s.Get(t, "/dev/mail")
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "No messages yet")
	// A demo started with a real relay says so on the message.
	id := webtest.QueueMail(t, s, "visitor@example.com", "Receipt")
	webtest.RunWorker(t, s, webtest.SenderFunc(func(context.Context, mail.Outgoing) error { return nil }))
	res, body = s.Get(t, "/dev/mail/"+webtest.Itoa(id))
	webtest.WantStatus(t, res, body, http.StatusOK)
	webtest.MustContain(t, body, "started with an SMTP relay")
}

// TestDevMailOnlyInDemo: outside the demo the viewer does not exist.
func TestDevMailOnlyInDemo(t *testing.T) {
	s := webtest.NewSite(t, testutil.SQLite(t))
	id := webtest.QueueMail(t, s, "customer@example.com", "Private")
	for _, p := range []string{"/dev/mail", "/dev/mail/" + webtest.Itoa(id), "/dev/mail/" + webtest.Itoa(id) + "/html"} {
		res, body := s.Get(t, p)
		webtest.WantStatus(t, res, body, http.StatusNotFound)
		webtest.MustNotContain(t, body, "customer@example.com")
	}
}
