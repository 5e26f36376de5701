package notices

import (
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/notices"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

var done = web.Notices{
	"created":     "The draft is saved. Preview it, check the audience, send yourself a test.",
	"saved":       "The changes are saved.",
	"tested":      "A test copy is on its way to your own address.",
	"scheduled":   "The notice is scheduled: it starts by itself at the time shown.",
	"unscheduled": "The notice is a draft again.",
	"sending":     "The notice is being sent at the configured rate.",
	"paused":      "The notice is paused: nothing more goes into the outbox until you resume it.",
	"resumed":     "The notice is being sent again, from where it stopped.",
	"release":     "The announcement of the release is a draft: review it, choose its list and send it.",
}

func actor(r *http.Request) audit.Actor {
	return audit.Staff(web.StaffSession(r).Account.ID).From(web.Network(r))
}

// listPage is the content of list.html.
type listPage struct {
	Notices []notices.Notice
	Notice  string
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	ns, err := notices.List(r.Context(), h.db, 200)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "list.html", "Notices", listPage{Notices: ns, Notice: done.For(r)})
}

// form is the compose form, as typed.
type form struct {
	Kind, Subject, Body        string
	Product, Editions, Updates string
	States                     []string
	VersionBelow               string
	ListID                     int64
}

func formOf(n notices.Notice) form {
	f := form{Kind: string(n.Kind), Subject: n.Subject, Body: n.Body, Product: n.Audience.Product,
		Editions: strings.Join(n.Audience.Editions, ", "), Updates: n.Audience.Updates, VersionBelow: n.Audience.VersionBelow, ListID: n.ListID}
	for _, s := range n.Audience.States {
		f.States = append(f.States, string(s))
	}
	return f
}

func (f form) input() notices.Input {
	in := notices.Input{Kind: notices.Kind(f.Kind), Subject: f.Subject, Body: f.Body, ListID: f.ListID,
		Audience: notices.Audience{Product: f.Product, Updates: f.Updates, VersionBelow: f.VersionBelow}}
	for _, e := range strings.FieldsFunc(f.Editions, func(r rune) bool { return r == ',' || r == ' ' }) {
		in.Audience.Editions = append(in.Audience.Editions, e)
	}
	for _, s := range f.States {
		in.Audience.States = append(in.Audience.States, licensing.State(s))
	}
	return in
}

// HasState reports whether the form ticks the state (for the template).
func (f form) HasState(s licensing.State) bool {
	if len(f.States) == 0 && f.Kind == "" {
		return s == licensing.StateActive || s == licensing.StateInGrace
	}
	return slices.Contains(f.States, string(s))
}

func readForm(r *http.Request) (form, error) {
	if err := web.ParseForm(r); err != nil {
		return form{}, err
	}
	p := r.PostForm
	f := form{Kind: p.Get("kind"), Subject: p.Get("subject"), Body: p.Get("body"), Product: p.Get("product"),
		Editions: p.Get("editions"), Updates: p.Get("updates"), VersionBelow: strings.TrimSpace(p.Get("version_below")), States: p["states"]}
	if v := p.Get("list"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return f, refuse.Field("list", "Choose a mailing list.")
		}
		f.ListID = id
	}
	return f, nil
}

// composePage is the content of compose.html.
type composePage struct {
	ID       int64 // 0 for a new notice
	Form     form
	Error    string
	Kinds    []notices.Kind
	States   []licensing.State
	Products []catalog.Product
	Lists    []notices.MailingList
}

func (h *handler) renderCompose(w http.ResponseWriter, r *http.Request, status int, p composePage) error {
	ctx := r.Context()
	var err error
	if p.Products, err = catalog.All(ctx, h.db); err != nil {
		return err
	}
	if h.lists != nil {
		if p.Lists, err = h.lists.Lists(ctx, h.db); err != nil {
			return err
		}
	}
	p.Kinds, p.States = notices.Kinds, notices.AudienceStates
	title := "New notice"
	if p.ID != 0 {
		title = "Edit notice"
	}
	return h.render(w, r, status, "compose.html", title, p)
}

func (h *handler) newForm(w http.ResponseWriter, r *http.Request) error {
	k := r.URL.Query().Get("kind")
	if !notices.Kind(k).Valid() {
		k = string(notices.Security)
	}
	return h.renderCompose(w, r, http.StatusOK, composePage{Form: form{Kind: k, States: []string{string(licensing.StateActive), string(licensing.StateInGrace)}}})
}

func (h *handler) refusedCompose(w http.ResponseWriter, r *http.Request, id int64, f form, err error) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return h.renderCompose(w, r, web.StatusOf(rf), composePage{ID: id, Form: f, Error: rf.Msg})
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(r)
	if err == nil {
		var id int64
		if id, err = notices.Create(r.Context(), h.db, actor(r), f.input(), h.clock.Now()); err == nil {
			return redirect(w, r, id, "created")
		}
	}
	return h.refusedCompose(w, r, 0, f, err)
}

func redirect(w http.ResponseWriter, r *http.Request, id int64, what string) error {
	http.Redirect(w, r, "/staff/notices/"+web.Itoa(id)+"?done="+what, http.StatusSeeOther)
	return nil
}

func (h *handler) byPath(r *http.Request) (notices.Notice, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return notices.Notice{}, err
	}
	n, err := notices.ByID(r.Context(), h.db, id)
	if errors.Is(err, notices.ErrNotFound) {
		return n, web.NotFound("There is no such notice.")
	}
	return n, err
}

func (h *handler) editForm(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	if !n.Editable() {
		return redirect(w, r, n.ID, "")
	}
	return h.renderCompose(w, r, http.StatusOK, composePage{ID: n.ID, Form: formOf(n)})
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err == nil {
		if err = notices.Update(r.Context(), h.db, actor(r), n.ID, f.input(), h.clock.Now()); err == nil {
			return redirect(w, r, n.ID, "saved")
		}
	}
	return h.refusedCompose(w, r, n.ID, f, err)
}

// noticePage is the content of notice.html.
type noticePage struct {
	Notice   notices.Notice
	Preview  template.HTML
	Text     string
	Audience int64
	Totals   notices.Totals
	Statuses []notices.MessageStatus
	ListName string
	Done     string
	// Action and Error are a refused action: which, and why.
	Action, Error string
	SendAt        string // the schedule form's value
}

func (h *handler) renderNotice(w http.ResponseWriter, r *http.Request, status int, p noticePage) error {
	ctx := r.Context()
	c, err := notices.Render(p.Notice, "", "")
	if err != nil {
		return err
	}
	body, err := notices.BodyHTML(p.Notice.Body)
	if err != nil {
		return err
	}
	p.Preview, p.Text = body, c.Text
	if p.Notice.Editable() {
		if p.Audience, err = notices.Count(ctx, h.db, h.lists, p.Notice, h.clock.Now()); err != nil {
			return err
		}
	} else if p.Totals, err = notices.TotalsOf(ctx, h.db, p.Notice.ID); err != nil {
		return err
	}
	if h.lists != nil && p.Notice.ListID != 0 {
		ls, err := h.lists.Lists(ctx, h.db)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if l.ID == p.Notice.ListID {
				p.ListName = l.Name
			}
		}
	}
	if p.SendAt == "" && !p.Notice.SendAt.IsZero() {
		p.SendAt = p.Notice.SendAt.UTC().Format(sendAtLayout)
	}
	p.Statuses = notices.MessageStatuses
	return h.render(w, r, status, "notice.html", p.Notice.Subject, p)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	return h.renderNotice(w, r, http.StatusOK, noticePage{Notice: n, Done: done.For(r)})
}

// refused shows the notice again with why the action was refused, or
// returns err when it is no refusal.
func (h *handler) refused(w http.ResponseWriter, r *http.Request, id int64, action string, err error, sendAt string) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	n, lerr := notices.ByID(r.Context(), h.db, id)
	if lerr != nil {
		return lerr
	}
	return h.renderNotice(w, r, web.StatusOf(rf), noticePage{Notice: n, Action: action, Error: rf.Msg, SendAt: sendAt})
}

func (h *handler) testSend(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	v, err := h.Vendor(r)
	if err != nil {
		return err
	}
	acc := web.StaffSession(r).Account
	if err := notices.TestSend(r.Context(), h.db, actor(r), n.ID, acc.ID, acc.Email, v.Name, h.clock.Now()); err != nil {
		return h.refused(w, r, n.ID, "test", err, "")
	}
	return redirect(w, r, n.ID, "tested")
}

// sendAtLayout is the schedule field's format (an HTML datetime-local
// input), read as UTC.
const sendAtLayout = "2006-01-02T15:04"

func (h *handler) schedule(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	raw := strings.TrimSpace(r.PostForm.Get("send_at"))
	var when time.Time
	what := "unscheduled"
	if r.PostForm.Get("unschedule") == "" {
		what = "scheduled"
		if when, err = time.Parse(sendAtLayout, raw); err != nil {
			return h.refused(w, r, n.ID, "schedule", refuse.Field("send_at", "Write the time as 2026-12-24T09:00 (UTC)."), raw)
		}
	}
	if err := notices.Schedule(r.Context(), h.db, actor(r), n.ID, when, h.clock.Now()); err != nil {
		return h.refused(w, r, n.ID, "schedule", err, raw)
	}
	return redirect(w, r, n.ID, what)
}

func (h *handler) send(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	if _, err := notices.Start(r.Context(), h.db, h.lists, actor(r), n.ID, h.clock.Now()); err != nil {
		return h.refused(w, r, n.ID, "send", err, "")
	}
	return redirect(w, r, n.ID, "sending")
}

func (h *handler) pause(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	if err := notices.Pause(r.Context(), h.db, actor(r), n.ID, h.clock.Now()); err != nil {
		return h.refused(w, r, n.ID, "pause", err, "")
	}
	return redirect(w, r, n.ID, "paused")
}

func (h *handler) resume(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	if err := notices.Resume(r.Context(), h.db, actor(r), n.ID, h.clock.Now()); err != nil {
		return h.refused(w, r, n.ID, "resume", err, "")
	}
	return redirect(w, r, n.ID, "resumed")
}

// messagesPage is the content of messages.html.
type messagesPage struct {
	Notice   notices.Notice
	Status   string
	Statuses []notices.MessageStatus
	Messages []notices.Message
	Next     int64 // the after= of the next page, 0 when none
}

const pageSize = 100

// messages lists the notice's messages with their recipients'
// addresses: a view of personal data, recorded.
func (h *handler) messages(w http.ResponseWriter, r *http.Request) error {
	n, err := h.byPath(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	st := q.Get("status")
	if st != "" && !slices.Contains(notices.MessageStatuses, notices.MessageStatus(st)) {
		st = ""
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	ms, err := notices.Messages(r.Context(), h.db, n.ID, notices.MessageStatus(st), max(after, 0), pageSize+1)
	if err != nil {
		return err
	}
	p := messagesPage{Notice: n, Status: st, Statuses: notices.MessageStatuses, Messages: ms}
	if len(ms) > pageSize {
		p.Messages = ms[:pageSize]
		p.Next = ms[pageSize-1].RecipientID
	}
	if len(p.Messages) > 0 {
		if err := h.RecordView(r, "notice", web.Itoa(n.ID), "recipients"); err != nil {
			return err
		}
	}
	return h.render(w, r, http.StatusOK, "messages.html", "Messages of "+n.Subject, p)
}

func (h *handler) fromRelease(w http.ResponseWriter, r *http.Request) error {
	rid, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	id, err := notices.FromRelease(r.Context(), h.db, actor(r), rid, 0, h.BaseURL(), h.clock.Now())
	if rf, ok := refuse.As(err); ok && rf.Code == "notice_release_exists" {
		return redirect(w, r, id, "")
	}
	if err != nil {
		return err
	}
	return redirect(w, r, id, "release")
}
