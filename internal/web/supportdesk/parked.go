package supportdesk

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

var parkedNotices = web.Notices{
	"discarded": "The message is discarded. It is kept for a while, then purged.",
}

// parkedPage is the content of parked.html.
type parkedPage struct {
	Tab    string // parked or ignored
	Mail   []support.ParkedMail
	Notice string
	Error  string
	ErrID  int64 // the message whose action was refused
	Counts support.Counts
}

func (s *handler) parked(w http.ResponseWriter, r *http.Request) error {
	return s.renderParked(w, r, http.StatusOK, parkedPage{Notice: parkedNotices.For(r)})
}

func (s *handler) renderParked(w http.ResponseWriter, r *http.Request, status int, page parkedPage) error {
	tab := r.URL.Query().Get("state")
	switch tab {
	case "", "parked":
		tab = "parked"
	case "ignored":
	default:
		return web.BadRequest("Unknown list: choose parked or ignored mail.")
	}
	page.Tab = tab
	ctx := r.Context()
	var err error
	if page.Mail, err = s.desk.ListParked(ctx, tab, 200); err != nil {
		return err
	}
	if page.Counts, err = s.desk.Count(ctx); err != nil {
		return err
	}
	if len(page.Mail) > 0 {
		if err := s.RecordView(r, "support_parked", tab, "parked mail list of "+strconv.Itoa(len(page.Mail))); err != nil {
			return err
		}
	}
	return s.render(w, r, status, "parked.html", "Parked mail", page)
}

func (s *handler) parkedRaw(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	_, raw, err := s.desk.ParkedRaw(r.Context(), id)
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("There is no such parked message.")
	}
	if err != nil {
		return err
	}
	if err := s.RecordView(r, "support_parked", web.Itoa(id), "raw parked mail"); err != nil {
		return err
	}
	return serveDownload(w, "parked-"+web.Itoa(id)+".eml", "message/rfc822", raw)
}

func (s *handler) parkedRefused(w http.ResponseWriter, r *http.Request, id int64, err error) error {
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("There is no such parked message or ticket.")
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return s.renderParked(w, r, web.StatusOf(rf), parkedPage{Error: rf.Msg, ErrID: id})
}

func (s *handler) release(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	var into int64
	switch how := r.PostForm.Get("into"); how {
	case "", "suggested":
	case "new":
		into = 0
	case "number":
		raw := strings.TrimPrefix(strings.TrimSpace(r.PostForm.Get("number")), "#")
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return s.parkedRefused(w, r, id, refuse.Field("number", "enter the number of the ticket to add the message to, such as 12"))
		}
		into = n
	default:
		return web.BadRequest("Choose where the message goes: its suggested ticket, a ticket by number, or a new ticket.")
	}
	p, _, err := s.desk.ParkedRaw(r.Context(), id)
	if err != nil {
		return s.parkedRefused(w, r, id, err)
	}
	if r.PostForm.Get("into") == "new" && p.TicketID != 0 {
		// Release takes 0 as "the suggested ticket"; a new ticket from a
		// message with a suggestion needs no suggestion followed.
		return s.parkedRefused(w, r, id, refuse.New(refuse.Conflict, "support_parked_suggested",
			"this message belongs to ticket #"+web.Itoa(p.TicketID)+": release it into that ticket or type another number"))
	}
	if into != 0 {
		if _, err := s.desk.Ticket(r.Context(), into); errors.Is(err, support.ErrNotFound) {
			return s.parkedRefused(w, r, id, refuse.Field("number", "there is no ticket #"+web.Itoa(into)))
		}
	}
	ticket, err := s.desk.Release(r.Context(), id, into, me(r).ID, actor(r))
	if err != nil {
		return s.parkedRefused(w, r, id, err)
	}
	return s.done(w, r, ticket, "released")
}

func (s *handler) discard(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.desk.Discard(r.Context(), id, me(r).ID, actor(r)); err != nil {
		return s.parkedRefused(w, r, id, err)
	}
	return s.redirect(w, r, "/staff/support/parked?done=discarded")
}
