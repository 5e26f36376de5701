package supportdesk

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

var ticketNotices = web.Notices{
	"opened":   "The ticket is open. Reply to the customer below, or add what they said as a note.",
	"replied":  "The reply is on its way to the customer.",
	"noted":    "The internal note is added. The customer does not see it.",
	"state":    "The state is changed.",
	"assigned": "The assignment is changed.",
	"tagged":   "The tags are saved.",
	"merged":   "The ticket was merged into this one.",
	"released": "The parked message is now part of this ticket.",
}

// messageView is one entry of the thread as the page shows it.
type messageView struct {
	support.Message
	Kind string // customer, reply, note or system
	// HTML is the sanitised HTML of a mail (internal/mailmsg), shown only
	// when the page is asked for the formatted view.
	HTML template.HTML
}

// licenseView is one of the customer's licenses with its machines.
type licenseView struct {
	licensing.License
	Machines []licensing.Machine
}

// sidebar is what the ticket shows of its customer.
type sidebar struct {
	CustomerID int64
	Licenses   []licenseView
	Downloads  []downloads.Logged
}

// ticketPage is the content of ticket.html.
type ticketPage struct {
	Ticket                          support.Ticket
	Thread                          []messageView
	Formatted, HasHTML              bool
	FirstOverdue, ResolutionOverdue bool
	Restricted                      bool
	// Locked says why the actions are gone: closed or merged.
	Locked   string
	Notice   string
	Action   string // the refused form, with Error
	Error    string
	Field    string
	Canned   []support.Canned
	CannedID int64
	Reply    string
	Then     string
	Note     string
	Tags     string
	Into     string
	Staff    []staff.Account
	States   []support.State
	Customer *sidebar
	MaxFiles int
	MaxMiB   int
}

func (s *handler) ticketByPath(r *http.Request) (support.Ticket, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return support.Ticket{}, err
	}
	t, err := s.desk.Ticket(r.Context(), id)
	if errors.Is(err, support.ErrNotFound) {
		return t, web.NotFound("There is no ticket #" + strconv.FormatInt(id, 10) + ".")
	}
	return t, err
}

func (s *handler) show(w http.ResponseWriter, r *http.Request) error {
	t, err := s.ticketByPath(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page := ticketPage{Ticket: t, Notice: ticketNotices.For(r), Formatted: q.Get("formatted") == "1"}
	if c := q.Get("canned"); c != "" {
		id, err := strconv.ParseInt(c, 10, 64)
		if err != nil || id <= 0 {
			return web.BadRequest("Choose a canned reply from the list.")
		}
		cr, err := s.desk.CannedByID(r.Context(), id)
		if errors.Is(err, support.ErrNotFound) {
			return web.NotFound("There is no such canned reply: it may have been deleted. Choose another.")
		}
		if err != nil {
			return err
		}
		page.CannedID, page.Reply = cr.ID, cr.Fill(t)
	}
	return s.renderTicket(w, r, http.StatusOK, page)
}

func (s *handler) renderTicket(w http.ResponseWriter, r *http.Request, status int, page ticketPage) error {
	ctx := r.Context()
	t := page.Ticket
	thread, err := s.desk.Thread(ctx, t.ID, true)
	if err != nil {
		return err
	}
	for _, m := range thread {
		v := messageView{Message: m}
		switch {
		case m.Author == support.BySystem:
			v.Kind = "system"
		case m.Internal:
			v.Kind = "note"
		case m.Author == support.ByStaff:
			v.Kind = "reply"
		default:
			v.Kind = "customer"
		}
		if m.HTML != "" {
			page.HasHTML = true
			if page.Formatted {
				// Sanitised when the mail was read (internal/mailmsg): no
				// scripts, styles, forms or images; the page's CSP holds too.
				v.HTML = template.HTML(m.HTML)
			}
		}
		page.Thread = append(page.Thread, v)
	}
	page.FirstOverdue, page.ResolutionOverdue = t.Overdue(s.clock.Now())
	switch {
	case t.MergedInto != 0:
		page.Locked = "merged"
	case t.State == support.Closed:
		page.Locked = "closed"
	}
	if t.CustomerID != 0 {
		if page.Restricted, err = support.CustomerRestricted(ctx, s.db, t.CustomerID); err != nil {
			return err
		}
	}
	if page.Canned, err = s.desk.ListCanned(ctx); err != nil {
		return err
	}
	if page.Staff, err = s.assignable(r); err != nil {
		return err
	}
	if page.Then == "" {
		page.Then = string(support.Waiting)
	}
	if page.Tags == "" && page.Action != "tags" {
		page.Tags = strings.Join(t.Tags, " ")
	}
	page.States = []support.State{support.Open, support.Waiting, support.Solved, support.Closed}
	page.MaxFiles, page.MaxMiB = support.MaxUploads, support.MaxUploadBytes>>20
	if t.CustomerID != 0 {
		if page.Customer, err = s.sidebar(r, t.CustomerID); err != nil {
			return err
		}
	}
	// The ticket shows the customer's address and messages; with an
	// account, their licenses, machines and downloads too.
	what := "support ticket " + t.Number()
	if page.Customer != nil {
		what += " with the customer's licenses, machines and downloads"
	}
	if err := s.RecordView(r, "support_ticket", web.Itoa(t.ID), what); err != nil {
		return err
	}
	if page.Customer != nil {
		if err := s.RecordView(r, "customer", web.Itoa(t.CustomerID), "licenses, machines and downloads beside support ticket "+t.Number()); err != nil {
			return err
		}
	}
	return s.render(w, r, status, "ticket.html", t.Number()+" "+t.Subject, page)
}

// maxSidebarDownloads is how many of the latest downloads the ticket shows.
const maxSidebarDownloads = 10

func (s *handler) sidebar(r *http.Request, customerID int64) (*sidebar, error) {
	ctx := r.Context()
	ls, err := licensing.ForCustomer(ctx, s.db, customerID, s.clock.Now())
	if err != nil {
		return nil, err
	}
	sb := &sidebar{CustomerID: customerID}
	for _, l := range ls {
		ms, err := licensing.Machines(ctx, s.db, l.ID)
		if err != nil {
			return nil, err
		}
		sb.Licenses = append(sb.Licenses, licenseView{License: l, Machines: ms})
	}
	if sb.Downloads, err = downloads.RecentForCustomer(ctx, s.db, customerID, maxSidebarDownloads); err != nil {
		return nil, err
	}
	return sb, nil
}

// assignable lists the active staff who may work on tickets.
func (s *handler) assignable(r *http.Request) ([]staff.Account, error) {
	all, err := staff.List(r.Context(), s.db)
	if err != nil {
		return nil, err
	}
	var out []staff.Account
	for _, a := range all {
		if !a.Disabled && a.Role.Can(staff.PermSupportTickets) {
			out = append(out, a)
		}
	}
	return out, nil
}

// refused shows the ticket again with why an action was refused and what
// was typed, or returns err when it is no refusal the form can show.
func (s *handler) refused(w http.ResponseWriter, r *http.Request, id int64, page ticketPage, err error) error {
	if errors.Is(err, support.ErrNotFound) {
		return web.NotFound("There is no such ticket.")
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	t, lerr := s.desk.Ticket(r.Context(), id)
	if lerr != nil {
		return lerr
	}
	page.Ticket, page.Error, page.Field = t, rf.Msg, rf.Field
	return s.renderTicket(w, r, web.StatusOf(rf), page)
}

func (s *handler) done(w http.ResponseWriter, r *http.Request, id int64, what string) error {
	return s.redirect(w, r, "/staff/support/"+web.Itoa(id)+"?done="+what)
}

func (s *handler) reply(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f, err := readUploadForm(r)
	if err != nil {
		return err
	}
	text, then := f.Values.Get("text"), f.Values.Get("then")
	page := ticketPage{Action: "reply", Reply: text, Then: then}
	if f.Refusal != nil {
		return s.refused(w, r, id, page, f.Refusal)
	}
	if _, err := s.desk.Reply(r.Context(), id, me(r).ID, support.StaffReply{Text: text, Then: support.State(then), Uploads: f.Files}, actor(r)); err != nil {
		return s.refused(w, r, id, page, err)
	}
	return s.done(w, r, id, "replied")
}

func (s *handler) note(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	f, err := readUploadForm(r)
	if err != nil {
		return err
	}
	text := f.Values.Get("text")
	page := ticketPage{Action: "note", Note: text}
	if f.Refusal != nil {
		return s.refused(w, r, id, page, f.Refusal)
	}
	if _, err := s.desk.Note(r.Context(), id, me(r).ID, text, f.Files, actor(r)); err != nil {
		return s.refused(w, r, id, page, err)
	}
	return s.done(w, r, id, "noted")
}

func (s *handler) state(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	to := support.State(r.PostForm.Get("state"))
	if !to.Valid() || to == support.New {
		return web.BadRequest("Unknown state: choose open, waiting for customer, solved or closed.")
	}
	if err := s.desk.SetState(r.Context(), id, to, actor(r)); err != nil {
		return s.refused(w, r, id, ticketPage{Action: "state"}, err)
	}
	return s.done(w, r, id, "state")
}

func (s *handler) assign(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	var to int64
	switch v := r.PostForm.Get("assignee"); v {
	case "", "none":
	case "me":
		to = me(r).ID
	default:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return web.BadRequest("Choose a member of staff from the list.")
		}
		to = n
	}
	// Desk.Assign refuses anyone who does not work on the desk.
	if err := s.desk.Assign(r.Context(), id, to, actor(r)); err != nil {
		return s.refused(w, r, id, ticketPage{Action: "assign"}, err)
	}
	return s.done(w, r, id, "assigned")
}

func (s *handler) tags(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	text := r.PostForm.Get("tags")
	if _, err := s.desk.SetTags(r.Context(), id, []string{text}, actor(r)); err != nil {
		return s.refused(w, r, id, ticketPage{Action: "tags", Tags: text}, err)
	}
	return s.done(w, r, id, "tagged")
}

func (s *handler) merge(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	raw := strings.TrimSpace(r.PostForm.Get("into"))
	page := ticketPage{Action: "merge", Into: raw}
	into, err := strconv.ParseInt(strings.TrimPrefix(raw, "#"), 10, 64)
	if err != nil || into <= 0 {
		return s.refused(w, r, id, page, refuse.Field("into", "enter the number of the ticket to merge into, such as 12"))
	}
	if _, err := s.desk.Ticket(r.Context(), id); err != nil {
		if errors.Is(err, support.ErrNotFound) {
			return web.NotFound("There is no such ticket.")
		}
		return err
	}
	if err := s.desk.Merge(r.Context(), id, into, actor(r)); err != nil {
		if errors.Is(err, support.ErrNotFound) {
			err = refuse.Field("into", "there is no ticket #"+strconv.FormatInt(into, 10))
		}
		return s.refused(w, r, id, page, err)
	}
	return s.done(w, r, into, "merged")
}
