package supportdesk

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/support"
	"github.com/storekeep/storekeep/internal/web"
)

// newPage is the content of new.html.
type newPage struct {
	Email, Name, Subject, Text string
	Error, Field               string
}

func (s *handler) newForm(w http.ResponseWriter, r *http.Request) error {
	return s.render(w, r, http.StatusOK, "new.html", "New ticket", newPage{})
}

// create opens a ticket from the console, for a customer who called or
// wrote by another way: the text is the staff's note of what they asked.
func (s *handler) create(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	p := newPage{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Subject: r.PostForm.Get("subject"), Text: r.PostForm.Get("text")}
	t, err := s.desk.Open(r.Context(), support.NewTicket{Email: p.Email, Name: p.Name, Subject: p.Subject, Text: p.Text,
		Channel: support.Console, StaffID: me(r).ID, By: audit.Staff(me(r).ID).From(web.Network(r))})
	if err != nil {
		rf, ok := refuse.As(err)
		if !ok {
			return err
		}
		p.Error, p.Field = rf.Msg, rf.Field
		return s.render(w, r, web.StatusOf(rf), "new.html", "New ticket", p)
	}
	return s.done(w, r, t.ID, "opened")
}
