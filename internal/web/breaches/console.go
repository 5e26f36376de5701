package breaches

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/breaches"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

var done = web.Notices{
	"recorded": "The breach is in the register. Decide whether the authority and the people affected must be told; the deadline below counts from discovery.",
	"saved":    "The change is saved; the earlier version is kept in the history below.",
	"drafted":  "The notice is drafted. Nothing has been sent: read the preview and the recipients, then send it.",
	"sent":     "The notice is in the outbox for the people affected.",
}

func actor(r *http.Request) audit.Actor {
	return audit.Staff(web.StaffSession(r).Account.ID).From(web.Network(r))
}

// hours puts a duration in whole hours, for the deadline.
func hours(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	h := int(d.Hours())
	if h == 1 {
		return "1 hour"
	}
	return fmt.Sprintf("%d hours", h)
}

// listPage is the content of list.html.
type listPage struct {
	Breaches []breaches.Breach
	Now      time.Time
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) error {
	bs, err := breaches.List(r.Context(), h.db, false)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "list.html", "Breach register", listPage{Breaches: bs, Now: h.clock.Now()})
}

// form is the record's form, as typed.
type form struct {
	Title, WhatHappened, OccurredAt, DiscoveredAt string
	Categories                                    []string
	SubjectsAffected, RecordsAffected             string
	Consequences, Measures                        string
	Authority, AuthorityReason                    string
	AuthorityNotifiedAt, AuthorityReference       string
	Subjects, SubjectsReason                      string
	Closed                                        bool
	Note                                          string
}

const local = "2006-01-02T15:04"

func formatLocal(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(local)
}

func formOf(b breaches.Breach) form {
	f := form{Title: b.Title, WhatHappened: b.WhatHappened, OccurredAt: formatLocal(b.OccurredAt), DiscoveredAt: formatLocal(b.DiscoveredAt),
		SubjectsAffected: strconv.FormatInt(b.SubjectsAffected, 10), RecordsAffected: strconv.FormatInt(b.RecordsAffected, 10),
		Consequences: b.Consequences, Measures: b.Measures, Authority: string(b.Authority), AuthorityReason: b.AuthorityReason,
		AuthorityNotifiedAt: formatLocal(b.AuthorityNotifiedAt), AuthorityReference: b.AuthorityReference,
		Subjects: string(b.Subjects), SubjectsReason: b.SubjectsReason, Closed: !b.Open()}
	for _, c := range b.Categories {
		f.Categories = append(f.Categories, string(c))
	}
	return f
}

// HasCategory reports whether the form ticks c (for the template).
func (f form) HasCategory(c privacy.Category) bool {
	for _, x := range f.Categories {
		if x == string(c) {
			return true
		}
	}
	return false
}

func parseTime(field, v, what string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{local, local + ":05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, refuse.Field(field, fmt.Sprintf("%s is not a date and time such as 2026-12-01T09:30 (UTC).", what))
}

func parseCount(field, v string) (int64, error) {
	v = strings.TrimSpace(strings.ReplaceAll(v, ",", ""))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, refuse.Field(field, "Give the number as a whole number of 0 or more (your best estimate).")
	}
	return n, nil
}

func (f form) input() (breaches.Input, error) {
	in := breaches.Input{Facts: breaches.Facts{Title: f.Title, WhatHappened: f.WhatHappened, Consequences: strings.TrimSpace(f.Consequences), Measures: strings.TrimSpace(f.Measures),
		Authority: breaches.Decision(f.Authority), AuthorityReason: strings.TrimSpace(f.AuthorityReason), AuthorityReference: strings.TrimSpace(f.AuthorityReference),
		Subjects: breaches.Decision(f.Subjects), SubjectsReason: strings.TrimSpace(f.SubjectsReason)}, Closed: f.Closed}
	var err error
	if in.OccurredAt, err = parseTime("occurred_at", f.OccurredAt, "When it happened"); err != nil {
		return in, err
	}
	if in.DiscoveredAt, err = parseTime("discovered_at", f.DiscoveredAt, "When it was discovered"); err != nil {
		return in, err
	}
	if in.AuthorityNotifiedAt, err = parseTime("authority_notified_at", f.AuthorityNotifiedAt, "When the authority was told"); err != nil {
		return in, err
	}
	if in.SubjectsAffected, err = parseCount("subjects_affected", f.SubjectsAffected); err != nil {
		return in, err
	}
	if in.RecordsAffected, err = parseCount("records_affected", f.RecordsAffected); err != nil {
		return in, err
	}
	for _, c := range f.Categories {
		in.Categories = append(in.Categories, privacy.Category(c))
	}
	return in, nil
}

func readForm(r *http.Request) (form, error) {
	if err := web.ParseForm(r); err != nil {
		return form{}, err
	}
	p := r.PostForm
	return form{Title: p.Get("title"), WhatHappened: p.Get("what_happened"), OccurredAt: p.Get("occurred_at"), DiscoveredAt: p.Get("discovered_at"),
		Categories: p["categories"], SubjectsAffected: p.Get("subjects_affected"), RecordsAffected: p.Get("records_affected"),
		Consequences: p.Get("consequences"), Measures: p.Get("measures"), Authority: p.Get("authority"), AuthorityReason: p.Get("authority_reason"),
		AuthorityNotifiedAt: p.Get("authority_notified_at"), AuthorityReference: p.Get("authority_reference"),
		Subjects: p.Get("subjects"), SubjectsReason: p.Get("subjects_reason"), Closed: p.Get("closed") == "1", Note: p.Get("note")}, nil
}

// formPage is the content of form.html.
type formPage struct {
	ID     int64 // 0 for a new breach
	Form   form
	Error  string
	Field  string
	Counts []privacy.CategoryCount
}

func (h *handler) renderForm(w http.ResponseWriter, r *http.Request, status int, p formPage) error {
	var err error
	if p.Counts, err = privacy.CountByCategory(r.Context(), h.db, privacy.Declared); err != nil {
		return err
	}
	title := "Record a breach"
	if p.ID != 0 {
		title = "Change the breach's record"
	}
	return h.render(w, r, status, "form.html", title, p)
}

func (h *handler) refusedForm(w http.ResponseWriter, r *http.Request, id int64, f form, err error) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return h.renderForm(w, r, web.StatusOf(rf), formPage{ID: id, Form: f, Error: rf.Msg, Field: rf.Field})
}

func (h *handler) newForm(w http.ResponseWriter, r *http.Request) error {
	return h.renderForm(w, r, http.StatusOK, formPage{Form: form{DiscoveredAt: formatLocal(h.clock.Now()), Authority: string(breaches.Undecided),
		Subjects: string(breaches.Undecided)}})
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) error {
	f, err := readForm(r)
	if err == nil {
		var in breaches.Input
		if in, err = f.input(); err == nil {
			var id int64
			if id, err = breaches.Record(r.Context(), h.db, actor(r), in, h.clock.Now()); err == nil {
				return redirect(w, r, id, "recorded")
			}
		}
	}
	return h.refusedForm(w, r, 0, f, err)
}

func redirect(w http.ResponseWriter, r *http.Request, id int64, what string) error {
	http.Redirect(w, r, "/staff/breaches/"+web.Itoa(id)+"?done="+what, http.StatusSeeOther)
	return nil
}

func (h *handler) byPath(r *http.Request) (breaches.Breach, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return breaches.Breach{}, err
	}
	b, err := breaches.ByID(r.Context(), h.db, id)
	if errors.Is(err, breaches.ErrNotFound) {
		return b, web.NotFound("There is no such breach in the register.")
	}
	return b, err
}

func (h *handler) editForm(w http.ResponseWriter, r *http.Request) error {
	b, err := h.byPath(r)
	if err != nil {
		return err
	}
	return h.renderForm(w, r, http.StatusOK, formPage{ID: b.ID, Form: formOf(b)})
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) error {
	b, err := h.byPath(r)
	if err != nil {
		return err
	}
	f, err := readForm(r)
	if err == nil {
		var in breaches.Input
		if in, err = f.input(); err == nil {
			if err = breaches.Update(r.Context(), h.db, actor(r), b.ID, in, f.Note, h.clock.Now()); err == nil {
				return redirect(w, r, b.ID, "saved")
			}
		}
	}
	return h.refusedForm(w, r, b.ID, f, err)
}

// showPage is the content of breach.html.
type showPage struct {
	Breach     breaches.Breach
	Now        time.Time
	Done       string
	Error      string
	Versions   []breaches.Version
	Draft      breaches.NoticeInput
	Preview    template.HTML
	Recipients []breaches.Recipient
	Total      int
}

func (h *handler) renderShow(w http.ResponseWriter, r *http.Request, status int, b breaches.Breach, p showPage) error {
	ctx := r.Context()
	var err error
	p.Breach, p.Now = b, h.clock.Now()
	if p.Versions, err = breaches.Versions(ctx, h.db, b.ID); err != nil {
		return err
	}
	if p.Recipients, p.Total, err = breaches.Recipients(ctx, h.db, b.ID, 200); err != nil {
		return err
	}
	if len(p.Recipients) > 0 {
		// The recipients' addresses are customers' data: the view is recorded.
		if err := h.RecordView(r, "breach", web.Itoa(b.ID), "notice recipients"); err != nil {
			return err
		}
	}
	if p.Draft.Body == "" {
		if b.NoticeBody != "" {
			p.Draft = breaches.NoticeInput{Subject: b.NoticeSubject, Body: b.NoticeBody, Audience: b.NoticeAudience}
			if b.NoticeAudience == breaches.Addresses {
				var list []string
				for _, rc := range p.Recipients {
					list = append(list, rc.Email)
				}
				p.Draft.Addresses = strings.Join(list, "\n")
			}
		} else {
			v, err := h.Vendor(r)
			if err != nil {
				return err
			}
			contact := v.PrivacyEmail
			if contact == "" {
				contact = "us"
			}
			p.Draft = breaches.Template(b, contact)
		}
	}
	if b.NoticeBody != "" {
		if p.Preview, err = breaches.Preview(b); err != nil {
			return err
		}
	}
	return h.render(w, r, status, "breach.html", "Breach No. "+web.Itoa(b.ID), p)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	b, err := h.byPath(r)
	if err != nil {
		return err
	}
	return h.renderShow(w, r, http.StatusOK, b, showPage{Done: done.For(r)})
}

func (h *handler) draft(w http.ResponseWriter, r *http.Request) error {
	b, err := h.byPath(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	p := r.PostForm
	in := breaches.NoticeInput{Subject: p.Get("notice_subject"), Body: p.Get("notice_body"), Audience: breaches.Audience(p.Get("notice_audience")),
		Addresses: p.Get("notice_addresses")}
	err = breaches.DraftNotice(r.Context(), h.db, actor(r), b.ID, in, h.clock.Now())
	if err == nil {
		return redirect(w, r, b.ID, "drafted")
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return h.renderShow(w, r, web.StatusOf(rf), b, showPage{Error: rf.Msg, Draft: in})
}

func (h *handler) send(w http.ResponseWriter, r *http.Request) error {
	b, err := h.byPath(r)
	if err != nil {
		return err
	}
	v, err := h.Vendor(r)
	if err != nil {
		return err
	}
	_, err = breaches.SendNotice(r.Context(), h.db, actor(r), b.ID, breaches.Site{Name: v.Name}, h.clock.Now())
	if err == nil {
		return redirect(w, r, b.ID, "sent")
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return h.renderShow(w, r, web.StatusOf(rf), b, showPage{Error: rf.Msg})
}
