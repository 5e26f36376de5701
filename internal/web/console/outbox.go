package console

import (
	"database/sql"
	"errors"
	"net/http"
	"strconv"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/mail"
	"github.com/storekeep/storekeep/internal/web"
)

// outboxPage is the content of outbox.html.
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

func (s *handler) staffOutbox(w http.ResponseWriter, r *http.Request) error {
	ctx, now := r.Context(), s.clock.Now()
	q := r.URL.Query()
	f := mail.Filter{State: mail.State(q.Get("state")), Limit: outboxPageSize}
	if f.State != "" && f.State != mail.StateQueued && f.State != mail.StateSent && f.State != mail.StateFailed {
		return web.BadRequest("Choose one of the listed states: queued, sent or failed.")
	}
	if before := q.Get("before"); before != "" {
		id, err := strconv.ParseInt(before, 10, 64)
		if err != nil || id <= 0 {
			return web.BadRequest("The page link is damaged; start again from the outbox.")
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
		next.Set("before", web.Itoa(entries[len(entries)-1].ID))
		page.More = "/staff/outbox?" + next.Encode()
	}
	// The list shows recipients' addresses: a view of personal data.
	if len(entries) > 0 {
		what := "outbox list"
		if f.State != "" {
			what += " (" + string(f.State) + ")"
		}
		if err := s.RecordView(r, "outbox", "list", what); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "outbox.html", "Outbox", page)
}

// staffOutboxResend queues a message again: an unsent one (queued or
// failed) gets a fresh set of attempts; a sent one is copied into a new
// message, so the receiver sees a new email rather than a duplicate.
func (s *handler) staffOutboxResend(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
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
			done, detail = "copied", "copy "+web.Itoa(newID)
		}
		return s.Audit(ctx, tx, r, audit.Entry{Action: "mail.resent", SubjectType: "outbox", SubjectID: web.Itoa(id), Detail: detail})
	})
	switch {
	case errors.Is(err, mail.ErrNotFound):
		return web.NotFound("There is no such message in the outbox.")
	case errors.Is(err, mail.ErrBusy):
		return &web.Error{Status: http.StatusConflict, Message: "This message is being sent right now. Reload the outbox in a few minutes to see how it went."}
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/staff/outbox?done="+done, http.StatusSeeOther)
	return nil
}
