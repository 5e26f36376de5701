package fraud

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// reviewPage is the content of review.html: a case as its customer sees
// it.
type reviewPage struct {
	fraud.CustomerView
	Sent   bool
	Error  string
	Answer string
}

const msgNoCase = "There is no such review in your account."

func (h *handler) customerView(w http.ResponseWriter, r *http.Request) (fraud.CustomerView, int64, bool, error) {
	c, ok, err := h.RequireCustomer(w, r)
	if err != nil || !ok {
		return fraud.CustomerView{}, 0, false, err
	}
	id, err := web.PathID(r, "id")
	if err != nil {
		return fraud.CustomerView{}, 0, false, web.NotFound(msgNoCase)
	}
	v, err := fraud.ForCustomer(r.Context(), h.db, c.ID, id)
	if errors.Is(err, fraud.ErrNotFound) {
		return v, 0, false, web.NotFound(msgNoCase)
	}
	return v, c.ID, err == nil, err
}

func (h *handler) customerCase(w http.ResponseWriter, r *http.Request) error {
	v, _, ok, err := h.customerView(w, r)
	if err != nil || !ok {
		return err
	}
	web.NoStore(w)
	return h.Render(w, r, http.StatusOK, h.public, "review.html", "Review of your account", reviewPage{CustomerView: v, Sent: r.URL.Query().Get("done") == "sent"})
}

func (h *handler) customerAnswer(w http.ResponseWriter, r *http.Request) error {
	v, customerID, ok, err := h.customerView(w, r)
	if err != nil || !ok {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	text := r.PostForm.Get("answer")
	if err := fraud.Answer(r.Context(), h.db, customerID, v.Case.ID, text, web.Network(r), h.clock.Now()); err != nil {
		rf, isRefusal := refuse.As(err)
		if !isRefusal {
			return err
		}
		web.NoStore(w)
		if v2, err := fraud.ForCustomer(r.Context(), h.db, customerID, v.Case.ID); err == nil {
			v = v2
		}
		return h.Render(w, r, web.StatusOf(rf), h.public, "review.html", "Review of your account", reviewPage{CustomerView: v, Error: rf.Msg, Answer: text})
	}
	http.Redirect(w, r, fraud.AnswerPath(v.Case.ID)+"?done=sent", http.StatusSeeOther)
	return nil
}
