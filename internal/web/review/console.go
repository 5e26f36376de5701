package review

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/review"
	"github.com/storekeep/storekeep/internal/web"
)

var done = web.Notices{
	"recorded": "The review is recorded with your notes.",
}

// reviewPage is the content of review.html.
type reviewPage struct {
	Report  review.Report
	Done    []review.Done
	Notes   string
	Error   string
	Message string
}

func (h *handler) renderReview(w http.ResponseWriter, r *http.Request, status int, p reviewPage) error {
	ctx := r.Context()
	var err error
	if p.Report, err = review.Build(ctx, h.db, privacy.Declared, h.recipients, h.clock.Now()); err != nil {
		return err
	}
	if p.Done, err = review.List(ctx, h.db, 24); err != nil {
		return err
	}
	return h.render(w, r, status, "review.html", "Data review", p)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) error {
	return h.renderReview(w, r, http.StatusOK, reviewPage{Message: done.For(r)})
}

func (h *handler) record(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	notes := r.PostForm.Get("notes")
	ctx, now := r.Context(), h.clock.Now()
	rep, err := review.Build(ctx, h.db, privacy.Declared, h.recipients, now)
	if err != nil {
		return err
	}
	by := audit.Staff(web.StaffSession(r).Account.ID).From(web.Network(r))
	if _, err := review.Record(ctx, h.db, by, notes, rep.Summary(), now); err != nil {
		rf, ok := refuse.As(err)
		if !ok {
			return err
		}
		return h.renderReview(w, r, web.StatusOf(rf), reviewPage{Notes: notes, Error: rf.Msg})
	}
	http.Redirect(w, r, "/staff/review?done=recorded", http.StatusSeeOther)
	return nil
}

// noticePage is the content of notice.html.
type noticePage struct {
	Notice privacy.Policy
}

func (h *handler) notice(w http.ResponseWriter, r *http.Request) error {
	v, err := h.Vendor(r)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "notice.html", "Your data as a member of staff", noticePage{Notice: privacy.StaffNotice(privacy.Declared, v)})
}
