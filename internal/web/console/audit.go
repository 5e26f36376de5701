package console

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/staff"
	"github.com/storekeep/storekeep/internal/web"
)

// auditPage is the content of audit.html.
type auditPage struct {
	Filter  auditForm
	Entries []auditRow
	CSVHref string
	More    string // link to older entries
}

type auditForm struct {
	Actor, Action, SubjectType, SubjectID, From, To string
}

type auditRow struct {
	audit.Entry
	ActorLabel string
}

// parseAuditFilter reads the filter from the query; malformed values are
// refused with a message rather than silently ignored.
func parseAuditFilter(q url.Values) (audit.Filter, auditForm, error) {
	var f audit.Filter
	form := auditForm{Actor: q.Get("actor"), Action: q.Get("action"), SubjectType: q.Get("subject_type"),
		SubjectID: q.Get("subject_id"), From: q.Get("from"), To: q.Get("to")}
	if form.Actor != "" {
		id, err := strconv.ParseInt(form.Actor, 10, 64)
		if err != nil || id <= 0 {
			return f, form, web.BadRequest("The staff filter must be a staff account number, as listed on the Staff page.")
		}
		f.ActorID = id
	}
	var problems input.Problems
	problems.Clean(input.Spec{Field: "action", Label: "The action filter"}, &form.Action)
	problems.Clean(input.Spec{Field: "subject_type", Label: "The subject filter"}, &form.SubjectType)
	problems.Clean(input.Spec{Field: "subject_id", Label: "The subject number filter"}, &form.SubjectID)
	if err := problems.Err(); err != nil {
		return f, form, err
	}
	f.Action, f.SubjectType, f.SubjectID = form.Action, form.SubjectType, form.SubjectID
	for _, d := range []struct {
		in  string
		out *time.Time
		add time.Duration
	}{{form.From, &f.From, 0}, {form.To, &f.To, 24 * time.Hour}} {
		if d.in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.in)
		if err != nil {
			return f, form, web.BadRequest("Dates must look like 2026-11-25.")
		}
		*d.out = t.Add(d.add) // "to" includes the whole day
	}
	if before := q.Get("before"); before != "" {
		n, err := strconv.ParseInt(before, 10, 64)
		if err != nil || n <= 0 {
			return f, form, web.BadRequest("The page link is damaged; start again from the audit log.")
		}
		f.BeforeSeq = n
	}
	return f, form, nil
}

const auditPageSize = 100

func (s *handler) staffAudit(w http.ResponseWriter, r *http.Request) error {
	f, form, err := parseAuditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.Limit = auditPageSize
	entries, err := audit.List(r.Context(), s.db, f)
	if err != nil {
		return err
	}
	accounts, err := staff.List(r.Context(), s.db)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, a := range accounts {
		names[a.ID] = a.Email
	}
	page := auditPage{Filter: form}
	for _, e := range entries {
		label := e.ActorType
		if e.ActorType == audit.ActorStaff {
			label = names[e.ActorID]
		}
		page.Entries = append(page.Entries, auditRow{Entry: e, ActorLabel: label})
	}
	q := r.URL.Query()
	q.Del("before")
	page.CSVHref = "/staff/audit.csv?" + q.Encode()
	if len(entries) == auditPageSize {
		q.Set("before", web.Itoa(entries[len(entries)-1].Seq))
		page.More = "/staff/audit?" + q.Encode()
	}
	return s.render(w, r, http.StatusOK, "audit.html", "Audit log", page)
}

// staffAuditCSV exports the filtered log. The export itself is recorded.
func (s *handler) staffAuditCSV(w http.ResponseWriter, r *http.Request) error {
	f, _, err := parseAuditFilter(r.URL.Query())
	if err != nil {
		return err
	}
	f.Limit = 10000
	entries, err := audit.List(r.Context(), s.db, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := audit.WriteCSV(&buf, entries); err != nil {
		return err
	}
	if err := s.AuditAlone(r, audit.Entry{Action: "audit.exported", SubjectType: "audit_log", SubjectID: "", Detail: strings.TrimPrefix(r.URL.RawQuery, "?")}); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit-log-`+s.clock.Now().Format("2006-01-02")+`.csv"`)
	_, _ = buf.WriteTo(w)
	return nil
}
