package lists

import (
	"net/http"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/unsubscribe"
	"github.com/storekeep/storekeep/internal/web"
)

// errBadLink is the answer to a token this site did not sign.
var errBadLink = refuse.New(refuse.NotFound, "unsubscribe_invalid",
	"This unsubscribe link is not valid: it may be incomplete, or it was changed. Copy the whole link from the message, "+
		"or sign in and change what we send you on your account's privacy page.")

// unsubscribePage is the content of unsubscribe.html and unsubscribed.html.
type unsubscribePage struct {
	Token   string
	What    string
	Already bool
}

func (s *handler) token(r *http.Request) (unsubscribe.Token, error) {
	t, err := unsubscribe.Parse(s.Secret(), r.PathValue("token"))
	if err != nil {
		return t, errBadLink
	}
	return t, nil
}

// unsubscribeForm shows what the link stops and the button. It changes
// nothing: mail systems and people's browsers prefetch links.
func (s *handler) unsubscribeForm(w http.ResponseWriter, r *http.Request) error {
	t, err := s.token(r)
	if err != nil {
		return err
	}
	out, err := lists.Describe(r.Context(), s.DB(), t)
	if err != nil {
		return err
	}
	if out.Already {
		return s.render(w, r, http.StatusOK, "unsubscribed.html", "Already unsubscribed", unsubscribePage{What: out.What, Already: true})
	}
	return s.render(w, r, http.StatusOK, "unsubscribe.html", "Unsubscribe", unsubscribePage{Token: r.PathValue("token"), What: out.What})
}

// unsubscribePage is the button of unsubscribeForm.
func (s *handler) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	return s.apply(w, r, lists.ViaPage)
}

// unsubscribeOneClick is RFC 8058's request: a POST whose body is
// List-Unsubscribe=One-Click, sent by the mailbox provider without the
// person's cookies. It answers 200 with a short page, never a redirect.
func (s *handler) unsubscribeOneClick(w http.ResponseWriter, r *http.Request) error {
	if r.PostFormValue("List-Unsubscribe") != "One-Click" {
		return web.BadRequest("This address takes one-click requests from mail programs. To unsubscribe in a browser, open the link from the message and press the button.")
	}
	return s.apply(w, r, lists.ViaOneClick)
}

func (s *handler) apply(w http.ResponseWriter, r *http.Request, via string) error {
	t, err := s.token(r)
	if err != nil {
		return err
	}
	// No rate limit: a token reaches this point only when its MAC
	// verified, so only our own mail carries it, and a mailbox provider
	// unsubscribing many recipients of one notice from one network must
	// never be refused.
	out, err := lists.Unsubscribe(r.Context(), s.DB(), t, via, s.Clock().Now())
	if err != nil {
		return err
	}
	if t.Customer != 0 && !out.Already {
		// The choice is the customer's, like one made in the privacy
		// center; a failure to record it is logged, the unsubscribe stands.
		if err := s.AuditAlone(r, audit.Entry{ActorType: audit.ActorCustomer, ActorID: t.Customer, Action: "privacy.unsubscribed",
			SubjectType: "customer", SubjectID: web.Itoa(t.Customer), Detail: t.Purpose + " via " + via}); err != nil {
			s.Log().Error("audit unsubscribe", "error", err.Error())
		}
	}
	return s.render(w, r, http.StatusOK, "unsubscribed.html", "Unsubscribed", unsubscribePage{What: out.What, Already: out.Already})
}
