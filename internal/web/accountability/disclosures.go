package accountability

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/customers"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// disclosuresPage is the content of disclosures.html.
type disclosuresPage struct {
	Notice string
	Log    []privacy.Disclosure
}

func (h *handler) disclosures(w http.ResponseWriter, r *http.Request) error {
	log, err := privacy.Disclosures(r.Context(), h.db, 500)
	if err != nil {
		return err
	}
	if len(log) > 0 {
		// The log names the people authorities asked about.
		if err := h.RecordView(r, "disclosures", "log", "disclosure log"); err != nil {
			return err
		}
	}
	return h.render(w, r, http.StatusOK, "disclosures.html", "Disclosures to authorities", disclosuresPage{Notice: done.For(r), Log: log})
}

// disclosureForm is the disclosure form, as typed.
type disclosureForm struct {
	Authority, AuthorityRef, LegalBasis string
	RequestedAt, Asked                  string
	Decision, Disclosed, DisclosedAt    string
	SubjectEmail                        string
	Withheld                            bool
	WithheldReason                      string
}

func disclosureFormOf(x privacy.Disclosure) disclosureForm {
	f := disclosureForm{Authority: x.Authority, AuthorityRef: x.AuthorityRef, LegalBasis: x.LegalBasis, RequestedAt: x.RequestedAt.Format(time.DateOnly),
		Asked: x.Asked, Decision: string(x.Decision), Disclosed: x.Disclosed, SubjectEmail: x.SubjectEmail, Withheld: x.Withheld, WithheldReason: x.WithheldReason}
	if !x.DisclosedAt.IsZero() {
		f.DisclosedAt = x.DisclosedAt.Format(time.DateOnly)
	}
	return f
}

func (h *handler) readDisclosure(r *http.Request) (disclosureForm, privacy.DisclosureInput, error) {
	if err := web.ParseForm(r); err != nil {
		return disclosureForm{}, privacy.DisclosureInput{}, err
	}
	p := r.PostForm
	f := disclosureForm{Authority: p.Get("authority"), AuthorityRef: p.Get("authority_ref"), LegalBasis: p.Get("legal_basis"),
		RequestedAt: p.Get("requested_at"), Asked: p.Get("asked"), Decision: p.Get("decision"), Disclosed: p.Get("disclosed"),
		DisclosedAt: p.Get("disclosed_at"), SubjectEmail: p.Get("subject_email"), Withheld: p.Get("withheld") == "yes", WithheldReason: p.Get("withheld_reason")}
	in := privacy.DisclosureInput{Authority: f.Authority, AuthorityRef: f.AuthorityRef, LegalBasis: f.LegalBasis, Asked: f.Asked,
		Decision: privacy.Decision(f.Decision), Disclosed: f.Disclosed, Withheld: f.Withheld, WithheldReason: f.WithheldReason}
	var err error
	if in.RequestedAt, err = parseDate("requested_at", f.RequestedAt, "the date the request arrived"); err != nil {
		return f, in, err
	}
	if in.DisclosedAt, err = parseDate("disclosed_at", f.DisclosedAt, "the date of the disclosure"); err != nil {
		return f, in, err
	}
	if addr := strings.TrimSpace(f.SubjectEmail); addr != "" {
		norm, err := emailaddr.NormaliseEmail(addr)
		if err != nil {
			return f, in, refuse.Field("subject_email", "Give the person's email address as name@example.com, or leave it empty when the request is about no one person.")
		}
		in.SubjectEmail = norm
		c, err := customers.ByEmail(r.Context(), h.db, norm)
		switch {
		case err == nil:
			in.CustomerID = c.ID
		case !errors.Is(err, customers.ErrNotFound):
			return f, in, err
		}
	}
	return f, in, nil
}

// disclosurePage is the content of disclosure.html.
type disclosurePage struct {
	ID        int64 // 0 for a new entry
	Entry     privacy.Disclosure
	Form      disclosureForm
	Error     string
	Field     string
	Decisions []privacy.Decision
}

func (h *handler) renderDisclosure(w http.ResponseWriter, r *http.Request, status int, p disclosurePage) error {
	p.Decisions = privacy.Decisions
	title := "New request from an authority"
	if p.ID != 0 {
		title = "Request from " + p.Entry.Authority
	}
	return h.render(w, r, status, "disclosure.html", title, p)
}

func (h *handler) refusedDisclosure(w http.ResponseWriter, r *http.Request, p disclosurePage, err error) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	p.Error, p.Field = rf.Msg, rf.Field
	return h.renderDisclosure(w, r, web.StatusOf(rf), p)
}

func (h *handler) newDisclosure(w http.ResponseWriter, r *http.Request) error {
	return h.renderDisclosure(w, r, http.StatusOK, disclosurePage{Form: disclosureForm{Decision: string(privacy.DecisionPending),
		RequestedAt: h.clock.Now().UTC().Format(time.DateOnly)}})
}

func (h *handler) addDisclosure(w http.ResponseWriter, r *http.Request) error {
	f, in, err := h.readDisclosure(r)
	if err == nil {
		var id int64
		if id, err = privacy.RecordDisclosure(r.Context(), h.db, actor(r), in, h.clock.Now()); err == nil {
			http.Redirect(w, r, "/staff/privacy/disclosures?done=recorded#d-"+web.Itoa(id), http.StatusSeeOther)
			return nil
		}
	}
	return h.refusedDisclosure(w, r, disclosurePage{Form: f}, err)
}

func (h *handler) disclosureByPath(r *http.Request) (privacy.Disclosure, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return privacy.Disclosure{}, err
	}
	return privacy.DisclosureByID(r.Context(), h.db, id)
}

func (h *handler) editDisclosure(w http.ResponseWriter, r *http.Request) error {
	x, err := h.disclosureByPath(r)
	if err != nil {
		return err
	}
	if x.SubjectEmail != "" || x.CustomerID != 0 {
		if err := h.RecordView(r, "disclosure", web.Itoa(x.ID), "disclosure to "+x.Authority); err != nil {
			return err
		}
	}
	return h.renderDisclosure(w, r, http.StatusOK, disclosurePage{ID: x.ID, Entry: x, Form: disclosureFormOf(x)})
}

func (h *handler) updateDisclosure(w http.ResponseWriter, r *http.Request) error {
	x, err := h.disclosureByPath(r)
	if err != nil {
		return err
	}
	f, in, err := h.readDisclosure(r)
	if err == nil {
		if err = privacy.UpdateDisclosure(r.Context(), h.db, actor(r), x.ID, in, h.clock.Now()); err == nil {
			http.Redirect(w, r, "/staff/privacy/disclosures?done=disclosed#d-"+web.Itoa(x.ID), http.StatusSeeOther)
			return nil
		}
	}
	return h.refusedDisclosure(w, r, disclosurePage{ID: x.ID, Entry: x, Form: f}, err)
}
