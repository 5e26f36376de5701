package supportdesk

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

var cannedNotices = web.Notices{
	"created": "The canned reply is saved. Pick it when you reply to a ticket.",
	"saved":   "The canned reply is saved.",
	"deleted": "The canned reply is deleted.",
	"gone":    "The canned reply was deleted already.",
}

// cannedPage is the content of canned.html (the list and the new form)
// and canned_edit.html (one reply).
type cannedPage struct {
	List   []support.Canned
	Form   support.Canned
	Notice string
	Error  string
	Field  string
}

func (s *handler) canned(w http.ResponseWriter, r *http.Request) error {
	return s.renderCanned(w, r, http.StatusOK, cannedPage{Notice: cannedNotices.For(r)})
}

func (s *handler) renderCanned(w http.ResponseWriter, r *http.Request, status int, page cannedPage) error {
	var err error
	if page.List, err = s.desk.ListCanned(r.Context()); err != nil {
		return err
	}
	return s.render(w, r, status, "canned.html", "Canned replies", page)
}

func cannedForm(r *http.Request) support.Canned {
	return support.Canned{Title: r.PostForm.Get("title"), Body: r.PostForm.Get("body")}
}

func refusal(err error) (*refuse.Error, bool) {
	if errors.Is(err, support.ErrNotFound) {
		return nil, false
	}
	return refuse.As(err)
}

func (s *handler) cannedCreate(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	c := cannedForm(r)
	if _, err := s.desk.SaveCanned(r.Context(), c, actor(r)); err != nil {
		rf, ok := refusal(err)
		if !ok {
			return err
		}
		return s.renderCanned(w, r, web.StatusOf(rf), cannedPage{Form: c, Error: rf.Msg, Field: rf.Field})
	}
	return s.redirect(w, r, "/staff/support/canned?done=created")
}

func (s *handler) cannedByPath(r *http.Request) (support.Canned, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return support.Canned{}, err
	}
	c, err := s.desk.CannedByID(r.Context(), id)
	if errors.Is(err, support.ErrNotFound) {
		return c, web.NotFound("There is no such canned reply.")
	}
	return c, err
}

func (s *handler) cannedShow(w http.ResponseWriter, r *http.Request) error {
	c, err := s.cannedByPath(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "canned_edit.html", c.Title, cannedPage{Form: c, Notice: cannedNotices.For(r)})
}

func (s *handler) cannedEdit(w http.ResponseWriter, r *http.Request) error {
	c, err := s.cannedByPath(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := cannedForm(r)
	f.ID = c.ID
	if _, err := s.desk.SaveCanned(r.Context(), f, actor(r)); err != nil {
		if errors.Is(err, support.ErrNotFound) {
			return web.NotFound("There is no such canned reply.")
		}
		rf, ok := refusal(err)
		if !ok {
			return err
		}
		return s.render(w, r, web.StatusOf(rf), "canned_edit.html", c.Title, cannedPage{Form: f, Error: rf.Msg, Field: rf.Field})
	}
	return s.redirect(w, r, "/staff/support/canned/"+web.Itoa(c.ID)+"?done=saved")
}

func (s *handler) cannedDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.desk.DeleteCanned(r.Context(), id, actor(r)); err != nil {
		if errors.Is(err, support.ErrNotFound) {
			// Deleted already (a second click, or a colleague): the
			// outcome asked for holds.
			return s.redirect(w, r, "/staff/support/canned?done=gone")
		}
		return err
	}
	return s.redirect(w, r, "/staff/support/canned?done=deleted")
}
