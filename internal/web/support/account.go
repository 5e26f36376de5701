package support

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// ticketsPage is the content of tickets.html: the customer's tickets.
type ticketsPage struct {
	Notice     string
	Restricted bool
	Tickets    []support.Ticket
	Next       string // the query of the next page, "" on the last
}

// messageView is one message of the thread as the customer sees it.
type messageView struct {
	ID          int64
	Who         string
	Mine        bool
	ByMail      bool
	At          time.Time
	Paragraphs  [][]string
	Attachments []support.AttachmentInfo
}

// ticketPage is the content of ticket.html.
type ticketPage struct {
	Notice       string
	Ticket       support.Ticket
	Messages     []messageView
	Restricted   bool
	Closed       bool // closed or merged: no reply here
	CanReply     bool
	SupportEmail string
	Message      string
	Errors       fieldErrors
	Error        string
	MaxUploads   int
	MaxMiB       int
	MaxMessage   int
}

var ticketNotices = web.Notices{
	"opened":  "Your ticket is open. We answer by email and here; you can add to it below.",
	"replied": "Your message is added to the ticket.",
}

// staffName is how the thread names staff: the vendor's support, never a
// member's name or address (a person of staff is not the customer's to
// know; replies by mail carry no name either).
func staffName(vendor string) string { return vendor + " support" }

func (s *handler) tickets(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	if err := s.desk.LinkCustomer(r.Context(), c.ID, c.Email); err != nil {
		return err
	}
	f := support.Filter{CustomerID: c.ID, State: "all", Limit: 50}
	if b := r.URL.Query().Get("before"); b != "" {
		if f.Before, ok = parseCursor(b); !ok {
			return web.BadRequest("This page of your tickets does not exist: start again from the first page.")
		}
	}
	list, err := s.desk.List(r.Context(), f)
	if err != nil {
		return err
	}
	p := ticketsPage{Tickets: list.Tickets}
	if list.Next.ID != 0 {
		p.Next = "before=" + strconv.FormatInt(list.Next.UpdatedAt, 10) + "." + strconv.FormatInt(list.Next.ID, 10)
	}
	if p.Restricted, err = support.CustomerRestricted(r.Context(), s.DB(), c.ID); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "tickets.html", "Your support tickets", p)
}

var cursorRE = regexp.MustCompile(`^([0-9]{1,19})\.([1-9][0-9]{0,18})$`)

func parseCursor(s string) (support.Cursor, bool) {
	m := cursorRE.FindStringSubmatch(s)
	if m == nil {
		return support.Cursor{}, false
	}
	at, err1 := strconv.ParseInt(m[1], 10, 64)
	id, err2 := strconv.ParseInt(m[2], 10, 64)
	return support.Cursor{UpdatedAt: at, ID: id}, err1 == nil && err2 == nil
}

var errNoTicket = web.NotFound("There is no such ticket in your account. Your tickets are listed on your account's support page.")

// ownTicket reads the ticket of the path if it is the customer's; any
// other is not found, whether or not it exists.
func (s *handler) ownTicket(r *http.Request, c *customers.Customer) (support.Ticket, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return support.Ticket{}, errNoTicket
	}
	t, err := s.desk.Ticket(r.Context(), id)
	if errors.Is(err, support.ErrNotFound) || err == nil && t.CustomerID != c.ID {
		return support.Ticket{}, errNoTicket
	}
	return t, err
}

// ticketPage builds the ticket's page: the thread without internal notes.
func (s *handler) ticketPage(r *http.Request, c *customers.Customer, t support.Ticket) (ticketPage, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return ticketPage{}, err
	}
	ctx := r.Context()
	msgs, err := s.desk.Thread(ctx, t.ID, false)
	if err != nil {
		return ticketPage{}, err
	}
	p := ticketPage{Notice: ticketNotices.For(r), Ticket: t, SupportEmail: v.SupportEmail, Errors: fieldErrors{},
		MaxUploads: support.MaxUploads, MaxMiB: support.MaxUploadBytes >> 20, MaxMessage: maxMessageRunes}
	for _, m := range msgs {
		if m.Internal {
			continue // Thread leaves them out; never show one whatever it returns
		}
		mv := messageView{ID: m.ID, At: m.CreatedAt, ByMail: m.Channel == support.Email, Paragraphs: paragraphs(m.Text), Attachments: m.Attachments}
		switch m.Author {
		case support.ByCustomer:
			mv.Who, mv.Mine = "You", true
		default:
			mv.Who = staffName(v.Name)
		}
		p.Messages = append(p.Messages, mv)
	}
	if p.Restricted, err = support.CustomerRestricted(ctx, s.DB(), c.ID); err != nil {
		return ticketPage{}, err
	}
	p.Closed = t.State == support.Closed || t.MergedInto != 0
	p.CanReply = !p.Closed && !p.Restricted
	return p, nil
}

// paragraphs splits a message's text into paragraphs of lines, so that the
// page keeps its shape without markup from the text.
func paragraphs(text string) [][]string {
	var out [][]string
	for _, block := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		block = strings.Trim(block, "\n")
		if strings.TrimSpace(block) == "" {
			continue
		}
		out = append(out, strings.Split(block, "\n"))
	}
	return out
}

func (s *handler) ticket(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	t, err := s.ownTicket(r, c)
	if err != nil {
		return err
	}
	p, err := s.ticketPage(r, c, t)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "ticket.html", "Ticket "+t.Number(), p)
}

// reply adds the customer's message (and files) to their ticket; a refused
// one comes back in the form.
func (s *handler) reply(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	t, err := s.ownTicket(r, c)
	if err != nil {
		return err
	}
	f, err := readForm(r, true)
	if err != nil {
		return err
	}
	p, err := s.ticketPage(r, c, t)
	if err != nil {
		return err
	}
	p.Notice, p.Message = "", f.get("message")
	again := func(status int) error { return s.render(w, r, status, "ticket.html", "Ticket "+t.Number(), p) }
	if p.Restricted || p.Closed {
		return again(http.StatusConflict)
	}
	text, err := input.Spec{Field: "message", Label: "Your message", Max: maxMessageRunes, Multiline: true, Required: true,
		Missing: "The message is empty: write what you want to add."}.Clean(p.Message)
	p.Errors.add(err)
	p.Errors.add(f.fileErr)
	if len(p.Errors) > 0 {
		return again(http.StatusUnprocessableEntity)
	}
	ok, err = s.Allow(r, s.Bucket(limitReply, "support-reply:customer", strconv.FormatInt(c.ID, 10)))
	if err != nil {
		return err
	}
	if !ok {
		p.Error = fmt.Sprintf("You have sent %d messages today, the most we take in one day. Write to %s, or add to the ticket here tomorrow.",
			limitReply.Max, orUs(p.SupportEmail))
		return again(http.StatusTooManyRequests)
	}
	m, err := s.desk.CustomerMessage(r.Context(), t.ID, c.ID, text, f.uploads)
	switch {
	case errors.Is(err, support.ErrNotFound):
		return errNoTicket
	case errors.Is(err, support.ErrClosed), errors.Is(err, support.ErrMerged):
		p.Closed, p.CanReply = true, false
		return again(http.StatusConflict)
	case errors.Is(err, support.ErrRestricted):
		p.Restricted, p.CanReply = true, false
		return again(http.StatusConflict)
	case p.Errors.add(err):
		return again(http.StatusUnprocessableEntity)
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/account/support/"+web.Itoa(t.ID)+"?done=replied#m"+web.Itoa(m.ID), http.StatusSeeOther)
	return nil
}

// inlineSafe are the types a browser may be told a download is; anything
// else goes out as application/octet-stream. The download is an
// attachment either way, in a sandbox, never sniffed.
var inlineSafe = map[string]bool{
	"text/plain": true, "image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "application/zip": true, "application/gzip": true, "application/x-gzip": true,
	"application/x-tar": true, "application/x-xz": true, "application/zstd": true,
}

func safeType(ct string) string {
	mt := mediaType(ct)
	if !inlineSafe[mt] {
		return "application/octet-stream"
	}
	if mt == "text/plain" {
		return "text/plain; charset=utf-8"
	}
	return mt
}

// attachment serves a file of the customer's own ticket, never one of an
// internal note or of another ticket.
func (s *handler) attachment(w http.ResponseWriter, r *http.Request) error {
	c, ok, err := s.RequireCustomer(w, r)
	if err != nil || !ok {
		return err
	}
	t, err := s.ownTicket(r, c)
	if err != nil {
		return err
	}
	id, err := web.PathID(r, "att")
	if err != nil {
		return err
	}
	a, data, err := s.desk.Attachment(r.Context(), t.ID, id, false)
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("There is no such file with this ticket.")
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", safeType(a.ContentType))
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})
	if disp == "" {
		disp = "attachment"
	}
	h.Set("Content-Disposition", disp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	web.NoStore(w)
	// ServeContent keeps the type set above (it sniffs only when none is
	// set) and answers ranges, for a large log resumed.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	return nil
}
