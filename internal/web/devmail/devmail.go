// Package devmail is the demo's mail viewer: the demo's worker marks mail
// sent without sending it (transport "dev"), and these pages show the
// outbox instead, so a visitor can follow a sign-in link or read a
// receipt. Mounted only by `storekeep demo`.
package devmail

import (
	"embed"
	"errors"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
}

// Mount registers the mail viewer on s; it refuses to outside the demo.
func Mount(s *web.Server) error {
	if !s.Demo() {
		return errors.New("web: the mail viewer shows every message sent and is only for `storekeep demo`")
	}
	pages, err := s.NewPages("devmail", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages}
	s.Handle("GET /dev/mail", h.devMailList)
	s.Handle("GET /dev/mail/{id}", h.devMailMessage)
	s.Handle("GET /dev/mail/{id}/html", h.devMailHTML)
	return nil
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// devMailPage is the content of list.html.
type devMailPage struct {
	Entries []mail.Entry
}

// devMailMessagePage is the content of message.html.
type devMailMessagePage struct {
	mail.Entry
	HTMLHref string
}

func (s *handler) devMailList(w http.ResponseWriter, r *http.Request) error {
	entries, err := mail.List(r.Context(), s.db, mail.Filter{Limit: 200}, s.clock.Now())
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "list.html", "Demo mail viewer", devMailPage{Entries: entries})
}

func (s *handler) devMailEntry(r *http.Request) (mail.Entry, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return mail.Entry{}, err
	}
	e, err := mail.Get(r.Context(), s.db, id, s.clock.Now())
	if errors.Is(err, mail.ErrNotFound) {
		return e, web.NotFound("There is no such message in the demo's outbox.")
	}
	return e, err
}

func (s *handler) devMailMessage(w http.ResponseWriter, r *http.Request) error {
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
	return s.render(w, r, http.StatusOK, "message.html", e.Subject, page)
}

// devMailSandbox is the policy of an email's HTML part: a sandbox (no
// scripts, no forms, a unique origin) that loads nothing from anywhere,
// with the inline styles emails are written with.
const devMailSandbox = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

// devMailHTML serves a message's HTML part as it would reach a mail
// client, under a sandbox policy: whatever the HTML holds runs nothing
// and reads nothing of this site.
func (s *handler) devMailHTML(w http.ResponseWriter, r *http.Request) error {
	e, err := s.devMailEntry(r)
	if err != nil {
		return err
	}
	if e.HTML == "" {
		return web.NotFound("This message has no HTML part.")
	}
	h := w.Header()
	h.Set("Content-Security-Policy", devMailSandbox)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(e.HTML))
	return nil
}
