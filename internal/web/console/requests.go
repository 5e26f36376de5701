package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/requests"
	"github.com/storekeep/storekeep/internal/web"
)

// requestActions are the steps staff take on a privacy request, each
// POST /staff/requests/{id}/ACTION.
var requestActions = []string{"send-code", "verify", "doubt", "start", "extend", "complete", "refuse"}

// requestNotices are the confirmations after a step (fixed texts, like
// notices in staff_console.go).
var requestNotices = map[string]string{
	"created":   "The request is recorded and its deadline runs from the day it reached us. Next, send a verification code.",
	"duplicate": "This address already has an open request of this kind, shown here. Nothing new was recorded; the repeat is noted in the history.",
	"code-sent": "A code is on its way to the address on file. Enter it here when the requester reads it to you or replies with it.",
	"verified":  "The code is right: the requester receives mail at the address on file.",
	"doubt":     "The doubt is recorded. After the code, start the work only once you have seen the extra proof.",
	"started":   "The work has started.",
	"extended":  "The deadline is extended; the requester has been sent the reason and the new date.",
	"completed": "The request is completed; the requester has been told what was done.",
	"refused":   "The request is refused; the requester has been sent the reasons and told that they may complain to a data protection authority.",
}

// requestRow is one request with its urgency at the time of the page.
type requestRow struct {
	requests.Request
	Overdue, DueSoon bool
	Days             int // days left, or days overdue when Overdue
}

func (s *handler) requestRow(r requests.Request) requestRow {
	now := s.clock.Now()
	row := requestRow{Request: r, Overdue: r.Overdue(now), DueSoon: r.DueSoon(now), Days: r.DaysLeft(now)}
	if row.Overdue {
		row.Days = -row.Days
	}
	return row
}

// requestsPage is the content of requests.html.
type requestsPage struct {
	Notice, Error     string
	State             string
	OnlyOverdue       bool
	States            []requests.State
	Rows              []requestRow
	Overdue, DueSoon  int
	Kinds             []requests.Kind
	Channels          []requests.Channel
	Today             string
	Form              struct{ Kind, Email, Channel, Received, Note string }
	NearDays, MaxNote int
}

func (s *handler) staffRequests(w http.ResponseWriter, r *http.Request) error {
	return s.renderRequests(w, r, http.StatusOK, requestsPage{Notice: requestNotices[r.URL.Query().Get("done")]})
}

func (s *handler) renderRequests(w http.ResponseWriter, r *http.Request, status int, page requestsPage) error {
	ctx, now := r.Context(), s.clock.Now()
	q := r.URL.Query()
	st := requests.State(q.Get("state"))
	if st != "" && !st.Valid() {
		return web.BadRequest("Unknown request state; choose one of the filters.")
	}
	page.State, page.OnlyOverdue = string(st), q.Get("overdue") == "1"
	list, err := requests.List(ctx, s.db, requests.Filter{State: st, Overdue: page.OnlyOverdue, Now: now, Limit: 500})
	if err != nil {
		return err
	}
	if page.Overdue, page.DueSoon, err = requests.Urgency(ctx, s.db, now); err != nil {
		return err
	}
	// The list shows requesters' addresses: a view of personal data.
	what := "state=" + page.State
	if page.OnlyOverdue {
		what += " overdue"
	}
	if err := s.RecordView(r, "privacy_requests", "list", what); err != nil {
		return err
	}
	for _, x := range list {
		page.Rows = append(page.Rows, s.requestRow(x))
	}
	page.States, page.Kinds = requests.States, requests.Kinds
	page.Channels = []requests.Channel{requests.Email, requests.Console}
	page.Today = now.Format(time.DateOnly)
	page.NearDays = int(requests.NearDue / (24 * time.Hour))
	if page.Form.Received == "" {
		page.Form.Received = page.Today
	}
	return s.render(w, r, status, "requests.html", "Privacy requests", page)
}

// staffRequestCreate records a request that arrived by email, letter or
// phone.
func (s *handler) staffRequestCreate(w http.ResponseWriter, r *http.Request) error {
	sess := web.StaffSession(r)
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read. Reload the page and try again.")
	}
	page := requestsPage{}
	f := &page.Form
	f.Kind, f.Email, f.Channel = r.PostForm.Get("kind"), strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("channel")
	f.Received, f.Note = strings.TrimSpace(r.PostForm.Get("received")), r.PostForm.Get("note")
	now := s.clock.Now()
	n := requests.NewRequest{Kind: requests.Kind(f.Kind), Email: f.Email, Channel: requests.Channel(f.Channel), Note: f.Note}
	if f.Received != "" && f.Received != now.Format(time.DateOnly) {
		day, err := time.Parse(time.DateOnly, f.Received)
		if err != nil {
			page.Error = "Enter the day the request reached us as a date, such as " + now.Format(time.DateOnly) + "."
			return s.renderRequests(w, r, http.StatusUnprocessableEntity, page)
		}
		n.ReceivedAt = day
	}
	if n.Channel == requests.SelfService {
		page.Error = "Requests made in the privacy center are recorded there; choose how this request reached you."
		return s.renderRequests(w, r, http.StatusUnprocessableEntity, page)
	}
	req, err := requests.Create(r.Context(), s.db, s.Limiter(), n, s.requestActor(r, sess.Account.ID), now)
	switch {
	case errors.Is(err, requests.ErrDuplicate):
		http.Redirect(w, r, "/staff/requests/"+web.Itoa(req.ID)+"?done=duplicate", http.StatusSeeOther)
		return nil
	case err != nil:
		rf, ok := requests.IsRefusal(err)
		if !ok {
			return err
		}
		page.Error = rf.Msg
		return s.renderRequests(w, r, refusalStatus(rf), page)
	}
	http.Redirect(w, r, "/staff/requests/"+web.Itoa(req.ID)+"?done=created", http.StatusSeeOther)
	return nil
}

func (s *handler) requestActor(r *http.Request, staffID int64) requests.Actor {
	return requests.StaffActor(staffID, audit.Network(web.ClientIP(r)))
}

// refusalStatus is the HTTP status of a refused step.
func refusalStatus(rf *requests.Refusal) int {
	switch {
	case errors.Is(rf, requests.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(rf, requests.ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(rf, requests.ErrState), errors.Is(rf, requests.ErrExtension), errors.Is(rf, requests.ErrDuplicate):
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// requestPage is the content of request.html.
type requestPage struct {
	Notice, Error string
	requestRow
	Events    []requests.Event
	Can       map[string]bool
	MaxMonths int
	// ProcessorsLeft are references an erasure found at processors that
	// could not be deleted from here: staff delete them by hand.
	ProcessorsLeft []string
	PrivacyPage    string
}

func (s *handler) staffRequest(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	return s.renderRequest(w, r, http.StatusOK, id, requestPage{Notice: requestNotices[r.URL.Query().Get("done")]})
}

func (s *handler) renderRequest(w http.ResponseWriter, r *http.Request, status int, id int64, page requestPage) error {
	ctx := r.Context()
	req, err := requests.ByID(ctx, s.db, id)
	if errors.Is(err, requests.ErrNotFound) {
		return web.NotFound("There is no privacy request with this number.")
	}
	if err != nil {
		return err
	}
	// The page shows the requester's address and what they asked.
	if err := s.RecordView(r, "privacy_request", web.Itoa(id), "request with the requester's address"); err != nil {
		return err
	}
	evs, err := requests.Events(ctx, s.db, id)
	if err != nil {
		return err
	}
	page.requestRow, page.Events = s.requestRow(req), evs
	page.Can = map[string]bool{}
	for _, a := range req.Actions(s.clock.Now()) {
		page.Can[a] = true
	}
	page.MaxMonths = requests.MaxExtensionMonths
	page.PrivacyPage = s.privacyPageURL()
	return s.render(w, r, status, "request.html", "Privacy request No. "+web.Itoa(id), page)
}

func (s *handler) privacyPageURL() string { return s.BaseURL().String() + "/account/privacy" }

// staffRequestAction runs one step on a request and shows the request
// again: with a notice when it was done, with the reason when refused.
func (s *handler) staffRequestAction(action string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		sess := web.StaffSession(r)
		id, err := web.PathID(r, "id")
		if err != nil {
			return err
		}
		if err := r.ParseForm(); err != nil {
			return web.BadRequest("The form could not be read. Reload the page and try again.")
		}
		ctx, now, by := r.Context(), s.clock.Now(), s.requestActor(r, sess.Account.ID)
		form := func(k string) string { return r.PostForm.Get(k) }
		var done string
		var left []string
		var req requests.Request
		switch action {
		case "send-code":
			req, err = requests.SendCode(ctx, s.db, s.Limiter(), id, by, now)
			done = "code-sent"
		case "verify":
			req, err = requests.Verify(ctx, s.db, id, form("code"), by, now)
			done = "verified"
		case "doubt":
			req, err = requests.Doubt(ctx, s.db, id, form("reason"), by, now)
			done = "doubt"
		case "start":
			req, err = requests.Start(ctx, s.db, id, form("note"), by, now)
			done = "started"
		case "extend":
			months, convErr := strconv.Atoi(form("months"))
			if convErr != nil {
				months = 0
			}
			req, err = requests.Extend(ctx, s.db, id, months, form("reason"), by, now)
			done = "extended"
		case "refuse":
			req, err = requests.Refuse(ctx, s.db, id, form("reason"), by, now)
			done = "refused"
		case "complete":
			var res requests.CompleteResult
			res, err = requests.Complete(ctx, s.db, privacy.Declared, id, requests.Completion{
				Note: form("note"), PrivacyPageURL: s.privacyPageURL(), Processors: s.processors}, by, now)
			req, left, done = res.Request, res.ProcessorsLeft, "completed"
		}
		if rf, ok := requests.IsRefusal(err); ok {
			if errors.Is(rf, requests.ErrNotFound) {
				return web.NotFound("There is no privacy request with this number.")
			}
			return s.renderRequest(w, r, refusalStatus(rf), id, requestPage{Error: rf.Msg})
		}
		if err != nil {
			return err
		}
		if len(left) > 0 {
			// Shown once, here: the references are not kept.
			return s.renderRequest(w, r, http.StatusOK, req.ID, requestPage{Notice: requestNotices[done], ProcessorsLeft: left})
		}
		// The address is built from the stored request, not the path.
		http.Redirect(w, r, "/staff/requests/"+web.Itoa(req.ID)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}
