package accountability

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

var done = web.Notices{
	"added":     "The recipient is in the register; the privacy policy lists it.",
	"saved":     "The register is updated; the privacy policy says so too.",
	"deleted":   "The recipient is removed from the register.",
	"recorded":  "The request is in the disclosure log.",
	"disclosed": "The disclosure log is updated.",
}

func actor(r *http.Request) audit.Actor {
	return audit.Staff(web.StaffSession(r).Account.ID).From(web.Network(r))
}

// registerPage is the content of register.html.
type registerPage struct {
	Notice   string
	Register []privacy.Registered
	Problems []privacy.RecipientProblem
}

func (h *handler) register(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	v, err := h.Vendor(r)
	if err != nil {
		return err
	}
	reg, err := privacy.Register(ctx, h.db, h.Inventory(), v)
	if err != nil {
		return err
	}
	return h.render(w, r, http.StatusOK, "register.html", "Recipients register",
		registerPage{Notice: done.For(r), Register: reg, Problems: privacy.RecipientProblems(reg, h.clock.Now())})
}

// recipientForm is the recipient form, as typed.
type recipientForm struct {
	Name, Kind, Purpose, Location       string
	Categories                          []string
	OutsideEEA                          bool
	Safeguard, SafeguardNote            string
	AgreementRef, AgreementDate, Review string
	Ended                               bool
}

// Has reports whether the form ticks category c (for the template).
func (f recipientForm) Has(c string) bool {
	for _, x := range f.Categories {
		if x == c {
			return true
		}
	}
	return false
}

func formOf(e privacy.Registered) recipientForm {
	f := recipientForm{Name: e.Name, Kind: string(e.Kind), Purpose: e.Purpose, Location: e.Location, OutsideEEA: e.OutsideEEA,
		Safeguard: string(e.Safeguard), SafeguardNote: e.SafeguardNote, AgreementRef: e.AgreementRef, Ended: !e.Active()}
	for _, c := range e.Categories {
		f.Categories = append(f.Categories, string(c))
	}
	if !e.AgreementDate.IsZero() {
		f.AgreementDate = e.AgreementDate.Format(time.DateOnly)
	}
	if !e.ReviewDate.IsZero() {
		f.Review = e.ReviewDate.Format(time.DateOnly)
	}
	return f
}

// parseDate reads an optional YYYY-MM-DD field.
func parseDate(field, v, what string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, refuse.Field(field, "Give "+what+" as a date (YYYY-MM-DD).")
	}
	return t, nil
}

func readRecipient(r *http.Request) (recipientForm, privacy.RecipientInput, error) {
	if err := web.ParseForm(r); err != nil {
		return recipientForm{}, privacy.RecipientInput{}, err
	}
	p := r.PostForm
	f := recipientForm{Name: p.Get("name"), Kind: p.Get("kind"), Purpose: p.Get("purpose"), Location: p.Get("location"), Categories: p["categories"],
		OutsideEEA: p.Get("outside_eea") == "yes", Safeguard: p.Get("safeguard"), SafeguardNote: p.Get("safeguard_note"),
		AgreementRef: p.Get("agreement_ref"), AgreementDate: p.Get("agreement_date"), Review: p.Get("review_date"), Ended: p.Get("ended") == "yes"}
	in := privacy.RecipientInput{Name: f.Name, Kind: privacy.RecipientKind(f.Kind), Purpose: f.Purpose, Location: f.Location, OutsideEEA: f.OutsideEEA,
		Safeguard: privacy.Safeguard(f.Safeguard), SafeguardNote: f.SafeguardNote, AgreementRef: f.AgreementRef, Ended: f.Ended}
	for _, c := range f.Categories {
		in.Categories = append(in.Categories, privacy.Category(c))
	}
	var err error
	if in.AgreementDate, err = parseDate("agreement_date", f.AgreementDate, "the agreement's date"); err != nil {
		return f, in, err
	}
	in.ReviewDate, err = parseDate("review_date", f.Review, "the review date")
	return f, in, err
}

// recipientPage is the content of recipient.html.
type recipientPage struct {
	Key        string // "" for a new recipient
	Entry      privacy.Registered
	Form       recipientForm
	Error      string
	Field      string
	Kinds      []privacy.RecipientKind
	Safeguards []privacy.Safeguard
	Categories []privacy.Category
}

func (h *handler) renderRecipient(w http.ResponseWriter, r *http.Request, status int, p recipientPage) error {
	p.Kinds, p.Safeguards = privacy.RecipientKinds, privacy.Safeguards
	p.Categories = privacy.KnownCategories()
	title := "New recipient"
	if p.Key != "" {
		title = p.Entry.Name
	}
	return h.render(w, r, status, "recipient.html", title, p)
}

func (h *handler) refusedRecipient(w http.ResponseWriter, r *http.Request, p recipientPage, err error) error {
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	p.Error, p.Field = rf.Msg, rf.Field
	return h.renderRecipient(w, r, web.StatusOf(rf), p)
}

func (h *handler) newRecipient(w http.ResponseWriter, r *http.Request) error {
	return h.renderRecipient(w, r, http.StatusOK, recipientPage{Form: recipientForm{Kind: string(privacy.KindProcessor)}})
}

func (h *handler) addRecipient(w http.ResponseWriter, r *http.Request) error {
	f, in, err := readRecipient(r)
	if err == nil {
		var key string
		if key, err = privacy.AddRecipient(r.Context(), h.db, actor(r), in, h.clock.Now()); err == nil {
			http.Redirect(w, r, "/staff/privacy/recipients?done=added#r-"+url.PathEscape(key), http.StatusSeeOther)
			return nil
		}
	}
	return h.refusedRecipient(w, r, recipientPage{Form: f}, err)
}

func (h *handler) entry(r *http.Request) (privacy.Registered, error) {
	v, err := h.Vendor(r)
	if err != nil {
		return privacy.Registered{}, err
	}
	return privacy.RegisteredByKey(r.Context(), h.db, h.Inventory(), v, r.PathValue("key"))
}

func (h *handler) editRecipient(w http.ResponseWriter, r *http.Request) error {
	e, err := h.entry(r)
	if err != nil {
		return err
	}
	return h.renderRecipient(w, r, http.StatusOK, recipientPage{Key: e.Key, Entry: e, Form: formOf(e)})
}

func (h *handler) updateRecipient(w http.ResponseWriter, r *http.Request) error {
	e, err := h.entry(r)
	if err != nil {
		return err
	}
	f, in, err := readRecipient(r)
	if err == nil {
		vendor, verr := h.Vendor(r)
		if verr != nil {
			return verr
		}
		if err = privacy.UpdateRecipient(r.Context(), h.db, h.Inventory(), vendor, actor(r), e.Key, in, h.clock.Now()); err == nil {
			http.Redirect(w, r, "/staff/privacy/recipients?done=saved#r-"+url.PathEscape(e.Key), http.StatusSeeOther)
			return nil
		}
	}
	return h.refusedRecipient(w, r, recipientPage{Key: e.Key, Entry: e, Form: f}, err)
}

func (h *handler) deleteRecipient(w http.ResponseWriter, r *http.Request) error {
	e, err := h.entry(r)
	if err != nil {
		return err
	}
	if err := web.ParseForm(r); err != nil {
		return err
	}
	vendor, err := h.Vendor(r)
	if err != nil {
		return err
	}
	if err = privacy.DeleteRecipient(r.Context(), h.db, h.Inventory(), vendor, actor(r), e.Key, h.clock.Now()); err == nil {
		http.Redirect(w, r, "/staff/privacy/recipients?done=deleted", http.StatusSeeOther)
		return nil
	}
	return h.refusedRecipient(w, r, recipientPage{Key: e.Key, Entry: e, Form: formOf(e)}, err)
}
