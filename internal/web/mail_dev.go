package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/mail"
)

// The demo's mail viewer: the demo's worker marks mail sent without
// sending it (transport "dev"), and these pages show the outbox instead,
// so a visitor can follow a sign-in link or read a receipt. Registered
// only in the demo.

// devMailPage is the content of dev_mail.html.
type devMailPage struct {
	Entries []mail.Entry
}

// devMailMessagePage is the content of dev_mail_message.html.
type devMailMessagePage struct {
	mail.Entry
	HTMLHref string
}

func (s *Server) devMailList(w http.ResponseWriter, r *http.Request) error {
	entries, err := mail.List(r.Context(), s.db, mail.Filter{Limit: 200}, s.clock.Now())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "dev_mail.html", "Demo mail viewer", devMailPage{Entries: entries})
}

func (s *Server) devMailEntry(r *http.Request) (mail.Entry, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return mail.Entry{}, err
	}
	e, err := mail.Get(r.Context(), s.db, id, s.clock.Now())
	if errors.Is(err, mail.ErrNotFound) {
		return e, NotFound("There is no such message in the demo's outbox.")
	}
	return e, err
}

func (s *Server) devMailMessage(w http.ResponseWriter, r *http.Request) error {
	e, err := s.devMailEntry(r)
	if err != nil {
		return err
	}
	page := devMailMessagePage{Entry: e}
	if e.HTML != "" {
		page.HTMLHref = "/dev/mail/" + strconv.FormatInt(e.ID, 10) + "/html"
	}
	// The HTML part is shown in a frame of this page (devMailHTML); the
	// site's policy allows frames from the site itself (default-src).
	return s.render(w, r, http.StatusOK, "dev_mail_message.html", e.Subject, page)
}

// devMailSandbox is the policy of an email's HTML part: a sandbox (no
// scripts, no forms, a unique origin) that loads nothing from anywhere,
// with the inline styles emails are written with.
const devMailSandbox = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

// devMailHTML serves a message's HTML part as it would reach a mail
// client, under a sandbox policy: whatever the HTML holds runs nothing
// and reads nothing of this site.
func (s *Server) devMailHTML(w http.ResponseWriter, r *http.Request) error {
	e, err := s.devMailEntry(r)
	if err != nil {
		return err
	}
	if e.HTML == "" {
		return NotFound("This message has no HTML part.")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", devMailSandbox)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(e.HTML))
	return nil
}
