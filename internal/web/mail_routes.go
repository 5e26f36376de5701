package web

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/staff"
)

// mailRoutes registers the outbox console and the demo's mail viewer.
func (s *Server) mailRoutes() {
	// Owners and support see the outbox: it shows customers' addresses,
	// the contact data their role covers.
	s.staffHandle("GET /staff/outbox", accessFull, staff.PermCustomersView, s.staffOutbox)
	s.staffHandle("POST /staff/outbox/{id}/resend", accessFull, staff.PermCustomersView, s.staffOutboxResend)
	if s.demo {
		// The demo sends no mail; its visitors read it here instead.
		s.handle("GET /dev/mail", s.devMailList)
		s.handle("GET /dev/mail/{id}", s.devMailMessage)
		s.handle("GET /dev/mail/{id}/html", s.devMailHTML)
	}
}

// outboxPage is the content of staff_outbox.html.
type outboxPage struct {
	Notice      string
	MaxAttempts int
	State       mail.State // the filter; empty for all
	Tabs        []outboxTab
	Entries     []mail.Entry
	More        string // link to older entries
}

type outboxTab struct {
	Label, Href string
	Count       int
	Current     bool
}

// outboxNotices are the outbox's confirmations (?done=...).
var outboxNotices = map[string]string{
	"requeued": "The message is queued again and goes out with the worker's next round.",
	"copied":   "A copy of the message is queued and goes out with the worker's next round.",
}

const outboxPageSize = 100

func (s *Server) staffOutbox(w http.ResponseWriter, r *http.Request) error {
	ctx, now := r.Context(), s.clock.Now()
	q := r.URL.Query()
	f := mail.Filter{State: mail.State(q.Get("state")), Limit: outboxPageSize}
	if f.State != "" && f.State != mail.StateQueued && f.State != mail.StateSent && f.State != mail.StateFailed {
		return BadRequest("Choose one of the listed states: queued, sent or failed.")
	}
	if before := q.Get("before"); before != "" {
		id, err := strconv.ParseInt(before, 10, 64)
		if err != nil || id <= 0 {
			return BadRequest("The page link is damaged; start again from the outbox.")
		}
		f.BeforeID = id
	}
	entries, err := mail.List(ctx, s.db, f, now)
	if err != nil {
		return err
	}
	counts, err := mail.Counts(ctx, s.db)
	if err != nil {
		return err
	}
	page := outboxPage{Notice: outboxNotices[q.Get("done")], MaxAttempts: mail.MaxAttempts, State: f.State, Entries: entries}
	total := counts[mail.StateQueued] + counts[mail.StateSent] + counts[mail.StateFailed]
	page.Tabs = append(page.Tabs, outboxTab{Label: "All", Href: "/staff/outbox", Count: total, Current: f.State == ""})
	for _, st := range mail.States {
		page.Tabs = append(page.Tabs, outboxTab{Label: string(st), Href: "/staff/outbox?state=" + string(st), Count: counts[st], Current: f.State == st})
	}
	if len(entries) == outboxPageSize {
		next := q
		next.Del("done")
		next.Set("before", itoa(entries[len(entries)-1].ID))
		page.More = "/staff/outbox?" + next.Encode()
	}
	// The list shows recipients' addresses: a view of personal data.
	if len(entries) > 0 {
		what := "outbox list"
		if f.State != "" {
			what += " (" + string(f.State) + ")"
		}
		if err := s.recordView(ctx, r, "outbox", "list", what); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "staff_outbox.html", "Outbox", page)
}

// staffOutboxResend queues a message again: an unsent one (queued or
// failed) gets a fresh set of attempts; a sent one is copied into a new
// message, so the receiver sees a new email rather than a duplicate.
func (s *Server) staffOutboxResend(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx, now := r.Context(), s.clock.Now()
	done := "requeued"
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		newID, err := mail.Resend(ctx, tx, id, now)
		if err != nil {
			return err
		}
		detail := "queued again"
		if newID != id {
			done, detail = "copied", "copy "+itoa(newID)
		}
		return s.record(ctx, tx, r, staffSession(r).Account.ID, "mail.resent", "outbox", itoa(id), detail)
	})
	switch {
	case errors.Is(err, mail.ErrNotFound):
		return NotFound("There is no such message in the outbox.")
	case errors.Is(err, mail.ErrBusy):
		return &Error{Status: http.StatusConflict, Message: "This message is being sent right now. Reload the outbox in a few minutes to see how it went."}
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/staff/outbox?done="+done, http.StatusSeeOther)
	return nil
}
