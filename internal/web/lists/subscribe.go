package lists

import (
	"errors"
	"net/http"

	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/lists"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/web"
)

// option is one list on the newsletter form, with the consent's words.
type option struct {
	Key, Name, Description, Wording string
	Checked                         bool
}

// formPage is the content of form.html.
type formPage struct {
	Options    []option
	Email      string
	EmailError string
	ListError  string
	Error      string
}

// sentPage is the content of sent.html.
type sentPage struct {
	Email, List string
	Hours       int
}

func (s *handler) formPage(r *http.Request, chosen string) (formPage, error) {
	v, err := s.Vendor(r)
	if err != nil {
		return formPage{}, err
	}
	offered, err := lists.Offered(r.Context(), s.DB())
	if err != nil {
		return formPage{}, err
	}
	if chosen == "" {
		chosen = lists.NewsletterKey
	}
	var p formPage
	for _, l := range offered {
		p.Options = append(p.Options, option{Key: l.Key, Name: l.Name, Description: l.Description,
			Wording: lists.Wording(l, v.Name), Checked: l.Key == chosen})
	}
	if c, err := s.CurrentCustomer(r); err != nil {
		return p, err
	} else if c != nil {
		p.Email = c.Email
	}
	return p, nil
}

// form is the newsletter page: the lists, each with the words of the
// consent it asks for, and the address to confirm.
func (s *handler) form(w http.ResponseWriter, r *http.Request) error {
	p, err := s.formPage(r, r.URL.Query().Get("list"))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "form.html", "Newsletter and release announcements", p)
}

// subscribe records the request and mails the confirmation link. The
// answer is the same whether or not the address has an account or is on
// the list already.
func (s *handler) subscribe(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	key, _ := input.Line("list", "The list", 40, r.PostForm.Get("list"))
	p, err := s.formPage(r, key)
	if err != nil {
		return err
	}
	p.Email = r.PostForm.Get("email")
	again := func(status int) error {
		return s.render(w, r, status, "form.html", "Newsletter and release announcements", p)
	}
	email, err := emailaddr.NormaliseEmail(p.Email)
	if err != nil {
		p.EmailError = "Enter your email address, such as name@example.com: we send the confirmation link there."
	}
	ctx := r.Context()
	l, err := lists.Find(ctx, s.DB(), key)
	if errors.Is(err, lists.ErrNoList) {
		p.ListError = "Choose one of the lists above."
	} else if err != nil {
		return err
	}
	if p.EmailError != "" || p.ListError != "" {
		return again(http.StatusUnprocessableEntity)
	}
	ok, err := s.Allow(r,
		s.Bucket(limitSubscribeAddress, "list-subscribe:address", email),
		s.Bucket(limitSubscribeNetwork, "list-subscribe:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		p.Error = "We have sent many confirmation links lately, to this address or from your network. Look for them in your mailbox, or try again tomorrow."
		return again(http.StatusTooManyRequests)
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	now := s.Clock().Now()
	policy, err := privacy.CurrentOf(ctx, s.DB(), s.Inventory(), privacy.PrivacyPolicy, privacy.Facts{HTTPS: s.HTTPS()}, now)
	if err != nil {
		return err
	}
	err = lists.Subscribe(ctx, s.DB(), lists.Request{List: l, Email: email, Wording: lists.Wording(l, v.Name),
		PolicySeq: policy.Version.Seq, SiteName: v.Name, BaseURL: s.BaseURL().String()}, now)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "sent.html", "Check your mail",
		sentPage{Email: email, List: l.Name, Hours: int(lists.ConfirmTTL.Hours())})
}

// confirmPage is the content of confirm.html and confirmed.html.
type confirmPage struct {
	Token    string
	List     string
	Email    string
	Already  bool
	SignedIn bool
}

func linkToken(v string) string {
	t, err := input.Line("t", "The link", 100, v)
	if err != nil {
		return ""
	}
	return t
}

// confirmForm is where the mailed link leads: a page with a button, so
// that a mail system's scanner fetching the link subscribes no one.
func (s *handler) confirmForm(w http.ResponseWriter, r *http.Request) error {
	token := linkToken(r.URL.Query().Get("t"))
	p, err := lists.Check(r.Context(), s.DB(), token, s.Clock().Now())
	if err != nil {
		return err
	}
	if p.Already {
		return s.render(w, r, http.StatusOK, "confirmed.html", "Subscription confirmed", confirmPage{List: p.ListName, Email: p.Email, Already: true})
	}
	return s.render(w, r, http.StatusOK, "confirm.html", "Confirm your subscription", confirmPage{Token: token, List: p.ListName, Email: p.Email})
}

// confirm makes the request a subscription, once.
func (s *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ok, err := s.Allow(r, s.Bucket(limitConfirm, "list-confirm:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	p, err := lists.Confirm(r.Context(), s.DB(), linkToken(r.PostForm.Get("t")), s.Clock().Now())
	if err != nil {
		return err
	}
	c, err := s.CurrentCustomer(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "confirmed.html", "Subscription confirmed",
		confirmPage{List: p.ListName, Email: p.Email, Already: p.Already, SignedIn: c != nil})
}
