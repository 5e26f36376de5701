package fraud

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

var done = web.Notices{
	"asked":    "The question is on its way to the customer. The case waits for their answer.",
	"decided":  "The decision is recorded and applied.",
	"reversed": "The decision is reversed.",
}

// listPage is the content of list.html.
type listPage struct {
	Cases    []fraud.Case
	Counts   map[fraud.Status]int
	Statuses []fraud.Status
	Kinds    []fraud.Kind
	Status   fraud.Status
	Kind     fraud.Kind
	Next     string // the query of the next page; "" on the last
	Cap      int    // fraud.CountCap: counts beyond it show as "1000+"
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := fraud.Filter{Status: fraud.Status(q.Get("status")), Kind: fraud.Kind(q.Get("kind")), Limit: 50}
	if q.Get("status") == "" {
		f.Status = fraud.Open
	}
	if q.Get("status") == "all" {
		f.Status = ""
	}
	if f.Status != "" && !f.Status.Valid() {
		return refuse.Field("status", "Choose a status from the list.")
	}
	if f.Kind != "" && !f.Kind.Known() {
		return refuse.Field("kind", "Choose a kind of signal from the list.")
	}
	if b := q.Get("before"); b != "" {
		at, id, ok := parseCursor(b)
		if !ok {
			return refuse.Field("before", "This page link is damaged: start from the first page.")
		}
		f.BeforeAt, f.BeforeID = at, id
	}
	ctx := r.Context()
	page := listPage{Statuses: fraud.Statuses, Kinds: fraud.Kinds, Status: f.Status, Kind: f.Kind, Cap: fraud.CountCap}
	var err error
	if page.Cases, err = fraud.List(ctx, h.db, f); err != nil {
		return err
	}
	if page.Counts, err = fraud.Counts(ctx, h.db); err != nil {
		return err
	}
	if len(page.Cases) == f.Limit {
		last := page.Cases[len(page.Cases)-1]
		v := r.URL.Query()
		v.Set("before", last.LastAt.UTC().Format(time.RFC3339Nano)+"_"+strconv.FormatInt(last.ID, 10))
		page.Next = v.Encode()
	}
	if len(page.Cases) > 0 {
		if err := h.RecordView(r, "fraud_cases", "list", "fraud case list of "+strconv.Itoa(len(page.Cases))); err != nil {
			return err
		}
	}
	return h.Render(w, r, http.StatusOK, h.console, "list.html", "Fraud review", page)
}

func parseCursor(s string) (time.Time, int64, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '_' {
			at, err := time.Parse(time.RFC3339Nano, s[:i])
			id, err2 := strconv.ParseInt(s[i+1:], 10, 64)
			return at, id, err == nil && err2 == nil && id > 0
		}
	}
	return time.Time{}, 0, false
}

// casePage is the content of case.html.
type casePage struct {
	fraud.Detail
	Done      string
	Error     string // a refused action's message
	Action    string // which form was refused
	Objection time.Time
	Restrict  bool
	Actions   []fraud.Action
	Token     string
	Form      decideForm
	Question  string
}

type decideForm struct {
	Action             fraud.Action
	OrderID, LicenseID int64
	Reason             string
}

func (h *handler) caseByPath(r *http.Request) (fraud.Detail, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return fraud.Detail{}, err
	}
	d, err := fraud.Load(r.Context(), h.db, id)
	if errors.Is(err, fraud.ErrNotFound) {
		return d, web.NotFound("There is no such review case.")
	}
	return d, err
}

func (h *handler) renderCase(w http.ResponseWriter, r *http.Request, status int, p casePage) error {
	if p.CustomerID != 0 {
		ch, err := privacy.LoadChoices(r.Context(), h.db, p.CustomerID)
		if err != nil {
			return err
		}
		p.Objection, p.Restrict = ch.Objections[fraud.Purpose], ch.Restricted
	}
	p.Actions, p.Token = fraud.Actions, formToken()
	// Every view of a case is recorded: it shows a person's evidence.
	if err := h.RecordView(r, "fraud_case", web.Itoa(p.ID), "fraud review case"); err != nil {
		return err
	}
	return h.Render(w, r, status, h.console, "case.html", "Review case "+web.Itoa(p.ID), p)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	d, err := h.caseByPath(r)
	if err != nil {
		return err
	}
	return h.renderCase(w, r, http.StatusOK, casePage{Detail: d, Done: done.For(r)})
}

func (h *handler) refused(w http.ResponseWriter, r *http.Request, id int64, action string, p casePage, err error) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	d, lerr := fraud.Load(r.Context(), h.db, id)
	if lerr != nil {
		return lerr
	}
	p.Detail, p.Error, p.Action = d, rf.Msg, action
	return h.renderCase(w, r, web.StatusOf(rf), p)
}

func (h *handler) ask(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	s, err := h.service(r)
	if err != nil {
		return err
	}
	sess := web.StaffSession(r)
	q := r.PostForm.Get("question")
	err = s.Ask(r.Context(), fraud.AskRequest{CaseID: id, Question: q, Token: r.PostForm.Get("token"),
		StaffID: sess.Account.ID, Net: web.Network(r)}, h.clock.Now())
	if err != nil {
		return h.refused(w, r, id, "ask", casePage{Question: q}, err)
	}
	return redirect(w, r, id, "asked")
}

// redirect sends the browser back to case id with the notice what.
func redirect(w http.ResponseWriter, r *http.Request, id int64, what string) error {
	http.Redirect(w, r, "/staff/fraud/"+web.Itoa(id)+"?done="+what, http.StatusSeeOther)
	return nil
}

func formID(r *http.Request, name string) (int64, error) {
	v := r.PostForm.Get(name)
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, refuse.Field(name, "Choose from the list offered.")
	}
	return id, nil
}

func (h *handler) decide(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	p := r.PostForm
	f := decideForm{Action: fraud.Action(p.Get("action")), Reason: p.Get("reason")}
	// Only the target the chosen action takes is read: the form offers
	// both lists, and the other one's choice means nothing.
	switch f.Action {
	case fraud.Refund:
		f.OrderID, err = formID(r, "order")
	case fraud.SuspendLicense, fraud.RevokeAccess:
		f.LicenseID, err = formID(r, "license")
	}
	if err == nil {
		var s fraud.Service
		if s, err = h.service(r); err != nil {
			return err
		}
		_, err = s.Decide(r.Context(), fraud.DecideRequest{CaseID: id, Action: f.Action, OrderID: f.OrderID, LicenseID: f.LicenseID,
			Reason: f.Reason, Weighed: p.Get("weighed") == "1", Token: p.Get("token"),
			StaffID: web.StaffSession(r).Account.ID, Net: web.Network(r)}, h.clock.Now())
	}
	if err != nil {
		return h.refused(w, r, id, "decide", casePage{Form: f}, err)
	}
	return redirect(w, r, id, "decided")
}

func (h *handler) reverse(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	did, err := web.PathID(r, "decision")
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	d, err := h.caseByPath(r)
	if err != nil {
		return err
	}
	found := false
	for _, x := range d.Decisions {
		found = found || x.ID == did
	}
	if !found {
		return web.NotFound("This case has no such decision.")
	}
	s, err := h.service(r)
	if err != nil {
		return err
	}
	_, err = s.Reverse(r.Context(), fraud.ReverseRequest{DecisionID: did, Reason: r.PostForm.Get("reason"),
		StaffID: web.StaffSession(r).Account.ID, Net: web.Network(r)}, h.clock.Now())
	if err != nil {
		return h.refused(w, r, id, "reverse", casePage{}, err)
	}
	return redirect(w, r, id, "reversed")
}
