package supportdesk

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// listFilter is the list's filter as the query string carries it.
type listFilter struct {
	State    string // "", "active", "all" or a state
	Assignee string // "", "me", "unassigned"
	Tag      string
	Overdue  bool
	Query    string
}

// query is the filter as a query string, for links that keep it.
func (f listFilter) query() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"state": f.State, "assignee": f.Assignee, "tag": f.Tag, "q": f.Query} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Overdue {
		v.Set("overdue", "1")
	}
	return v
}

// ticketRow is a ticket of the list with its urgency at the time of the page.
type ticketRow struct {
	support.Ticket
	FirstOverdue, ResolutionOverdue bool
}

// stateFilter is one entry of the state filter.
type stateFilter struct {
	Value, Label string
	Count        int
	HasCount     bool
}

// listPage is the content of list.html.
type listPage struct {
	Filter listFilter
	States []stateFilter
	Counts support.Counts
	Rows   []ticketRow
	Next   string // the next page's address, "" on the last
	First  string // the first page's address when paged on
}

// maxQuery caps the search box.
const maxQuery = 200

// parseFilter reads the list's filter; a value no link or form of the
// page makes is a 400 that says which.
func parseFilter(q url.Values, meID int64) (listFilter, support.Filter, error) {
	var f listFilter
	var sf support.Filter
	f.State = q.Get("state")
	switch f.State {
	case "", "active", "all":
	default:
		if !support.State(f.State).Valid() {
			return f, sf, web.BadRequest("Unknown ticket state “" + clip(f.State) + "”: choose new, open, waiting, solved, closed, active or all.")
		}
	}
	sf.State = f.State
	f.Assignee = q.Get("assignee")
	switch f.Assignee {
	case "", "anyone":
		f.Assignee = ""
	case "me":
		sf.Assignee = meID
	case "unassigned":
		sf.Assignee = -1
	default:
		return f, sf, web.BadRequest("Unknown assignee filter: choose me, unassigned or anyone.")
	}
	if tag := strings.TrimSpace(q.Get("tag")); tag != "" {
		tags, err := support.NormaliseTags([]string{tag})
		if err != nil || len(tags) != 1 {
			return f, sf, web.BadRequest("A tag filter is one tag: a word of letters, digits and -.")
		}
		f.Tag, sf.Tag = tags[0], tags[0]
	}
	switch q.Get("overdue") {
	case "":
	case "1":
		f.Overdue, sf.Overdue = true, true
	default:
		return f, sf, web.BadRequest("The overdue filter is on (1) or off.")
	}
	f.Query = strings.TrimSpace(q.Get("q"))
	if utf8.RuneCountInString(f.Query) > maxQuery || !utf8.ValidString(f.Query) {
		return f, sf, web.BadRequest("The search is too long: search for a ticket number, an address or a few words.")
	}
	sf.Query = f.Query
	if b := q.Get("before"); b != "" {
		c, ok := parseCursor(b)
		if !ok {
			return f, sf, web.BadRequest("This page link is damaged: go back to the first page of the list.")
		}
		sf.Before = c
	}
	return f, sf, nil
}

// parseCursor reads MICROS-ID.
func parseCursor(s string) (support.Cursor, bool) {
	us, id, ok := strings.Cut(s, "-")
	if !ok {
		return support.Cursor{}, false
	}
	u, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || u <= 0 || n <= 0 {
		return support.Cursor{}, false
	}
	return support.Cursor{UpdatedAt: u, ID: n}, true
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 30 {
		return string([]rune(s)[:30]) + "…"
	}
	return s
}

func (s *handler) list(w http.ResponseWriter, r *http.Request) error {
	f, sf, err := parseFilter(r.URL.Query(), me(r).ID)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p, err := s.desk.List(ctx, sf)
	if err != nil {
		return err
	}
	page := listPage{Filter: f}
	if page.Counts, err = s.desk.Count(ctx); err != nil {
		return err
	}
	c := page.Counts
	page.States = []stateFilter{
		{Value: "", Label: "Not closed"},
		{Value: "active", Label: "Needs staff", Count: c.New + c.Open, HasCount: true},
		{Value: string(support.New), Label: support.New.Label(), Count: c.New, HasCount: true},
		{Value: string(support.Open), Label: support.Open.Label(), Count: c.Open, HasCount: true},
		{Value: string(support.Waiting), Label: support.Waiting.Label(), Count: c.Waiting, HasCount: true},
		{Value: string(support.Solved), Label: support.Solved.Label(), Count: c.Solved, HasCount: true},
		{Value: string(support.Closed), Label: support.Closed.Label()},
		{Value: "all", Label: "All"},
	}
	now := s.clock.Now()
	for _, t := range p.Tickets {
		first, res := t.Overdue(now)
		page.Rows = append(page.Rows, ticketRow{Ticket: t, FirstOverdue: first, ResolutionOverdue: res})
	}
	if p.Next.ID != 0 {
		v := f.query()
		v.Set("before", strconv.FormatInt(p.Next.UpdatedAt, 10)+"-"+strconv.FormatInt(p.Next.ID, 10))
		page.Next = "/staff/support?" + v.Encode()
	}
	if sf.Before.ID != 0 {
		page.First = "/staff/support"
		if v := f.query(); len(v) > 0 {
			page.First += "?" + v.Encode()
		}
	}
	// The list shows customers' addresses: a view of personal data.
	if len(page.Rows) > 0 {
		if err := s.RecordView(r, "support_tickets", "list", "ticket list of "+strconv.Itoa(len(page.Rows))); err != nil {
			return err
		}
	}
	return s.render(w, r, http.StatusOK, "list.html", "Support", page)
}
