// Package trials is the public side of email-gated downloads (trials and
// free downloads): the form that asks for a release with an email
// address, the "check your inbox" page, and the page the emailed link
// opens, whose button confirms the address and shows the release's files
// with signed links. The domain is internal/downloads (email.go); the
// files themselves are served by the download handler, which checks the
// grant again on every download.
package trials

import (
	"database/sql"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/emailaddr"
	"github.com/storekeep/storekeep/internal/input"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Asking sends mail, so its limits guard the recipients: a few links per
// address, more per network (an office shares one), as for sign-in
// links; confirming checks a secret, so its uses per network are capped
// like the sign-in links'.
var (
	limitAddress = ratelimit.Limit{Max: 5, Window: 15 * time.Minute}
	limitNetwork = ratelimit.Limit{Max: 30, Window: 15 * time.Minute}
	limitConfirm = ratelimit.Limit{Max: 20, Window: 15 * time.Minute}
)

type handler struct {
	*web.Server
	pages *web.Pages
	links downloads.Links
}

// Mount registers the email-gated download pages on s.
func Mount(s *web.Server) error {
	pages, err := s.NewPages("trials", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, pages: pages, links: downloads.NewLinks(s.Secret())}
	s.Handle("GET /products/{slug}/download", h.form)
	s.Handle("POST /products/{slug}/download", h.request)
	s.Handle("GET /downloads/confirm/{token}", h.confirmForm)
	s.Handle("POST /downloads/confirm/{token}", h.confirm)
	return nil
}

// formPage is the content of request.html.
type formPage struct {
	Product  catalog.Product
	Release  releases.Release
	Email    string
	Error    string
	KeepDays int
	Days     int
}

// sentPage is the content of sent.html.
type sentPage struct {
	Release releases.Release
	Email   string
	Hours   int
}

// confirmPage is the content of confirm.html.
type confirmPage struct {
	Release releases.Release
	Email   string
	Token   string
}

// fileLink is one file of filesPage with its signed links.
type fileLink struct {
	releases.Artifact
	Link, SignatureLink string
}

// filesPage is the content of files.html.
type filesPage struct {
	Release     releases.Release
	Notes       template.HTML
	Files       []fileLink
	LinksUntil  string
	AccessUntil string
}

// gonePage is the content of gone.html: a link that does not confirm.
type gonePage struct {
	Message string
}

func (s *handler) render(w http.ResponseWriter, r *http.Request, status int, name, title string, page any) error {
	return s.Render(w, r, status, s.pages, name, title, page)
}

// offer reads the product of the path and the email-gated release its
// form offers (downloads.EmailOffer).
func (s *handler) offer(r *http.Request) (catalog.Product, releases.Release, error) {
	notFound := web.NotFound("This product has no download by email address. The list of our products is on the home page.")
	slug, err := input.Line("slug", "The address", 100, r.PathValue("slug"))
	if err != nil {
		return catalog.Product{}, releases.Release{}, notFound
	}
	ctx := r.Context()
	p, err := catalog.ProductBySlug(ctx, s.DB(), slug)
	if errors.Is(err, catalog.ErrNotFound) {
		return catalog.Product{}, releases.Release{}, notFound
	}
	if err != nil {
		return catalog.Product{}, releases.Release{}, err
	}
	rel, ok, err := downloads.EmailOffer(ctx, s.DB(), p.Slug)
	if err != nil {
		return catalog.Product{}, releases.Release{}, err
	}
	if !ok {
		return catalog.Product{}, releases.Release{}, notFound
	}
	return p, rel, nil
}

func (s *handler) formPage(p catalog.Product, rel releases.Release) formPage {
	return formPage{Product: p, Release: rel, KeepDays: downloads.KeepDays, Days: int(downloads.AccessTTL.Hours() / 24)}
}

func (s *handler) form(w http.ResponseWriter, r *http.Request) error {
	p, rel, err := s.offer(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "request.html", "Download "+p.Name, s.formPage(p, rel))
}

// request mails the confirmation link. The answer says where the link
// went; asking again for the same address is limited, not refused.
func (s *handler) request(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	p, rel, err := s.offer(r)
	if err != nil {
		return err
	}
	title := "Download " + p.Name
	page := s.formPage(p, rel)
	typed, err := input.Line("email", "The email address", emailaddr.MaxLength, r.PostForm.Get("email"))
	page.Email = typed
	if err != nil {
		page.Error = err.Error()
		return s.render(w, r, http.StatusUnprocessableEntity, "request.html", title, page)
	}
	// The release the visitor saw: a newer one published meanwhile is
	// refused rather than swapped in silently.
	id, err := strconv.ParseInt(r.PostForm.Get("release"), 10, 64)
	if err != nil || id != rel.ID {
		page.Error = "This download has changed since the page was opened. Check the release below and ask again."
		return s.render(w, r, http.StatusConflict, "request.html", title, page)
	}
	email, err := emailaddr.NormaliseEmail(typed)
	if err != nil {
		page.Error = "Enter your email address, such as name@example.com."
		return s.render(w, r, http.StatusUnprocessableEntity, "request.html", title, page)
	}
	ok, err := s.Allow(r,
		s.Bucket(limitAddress, "trial-link:address", email),
		s.Bucket(limitNetwork, "trial-link:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		page.Error = web.MsgRateLimited
		return s.render(w, r, http.StatusTooManyRequests, "request.html", title, page)
	}
	v, err := s.Vendor(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	err = s.DB().Tx(ctx, func(tx *sql.Tx) error {
		_, _, err := downloads.RequestByEmail(ctx, tx, downloads.NewEmailRequest{Email: email, ReleaseID: rel.ID,
			SiteName: v.Name, BaseURL: s.BaseURL().String()}, s.Clock().Now())
		return err
	})
	if re, ok := refuse.As(err); ok && re.Field == "email" {
		page.Error = re.Msg
		return s.render(w, r, http.StatusUnprocessableEntity, "request.html", title, page)
	}
	if err != nil {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "sent.html", "Check your inbox", sentPage{Release: rel, Email: email,
		Hours: int(downloads.ConfirmTTL.Hours())})
}

// linkToken checks the path's token as text; anything else is no token
// we made.
func linkToken(r *http.Request) string {
	v, err := input.Line("token", "The link", 200, r.PathValue("token"))
	if err != nil {
		return ""
	}
	return v
}

// gone answers a link that does not confirm, saying why.
func (s *handler) gone(w http.ResponseWriter, r *http.Request, err error) error {
	re, ok := refuse.As(err)
	if !ok || !errors.Is(err, downloads.ErrConfirmLink) {
		return err
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusGone, "gone.html", "Link not valid", gonePage{Message: re.Msg})
}

// confirmForm is where the emailed link leads: a page with a button, so
// that a mail scanner fetching the link confirms nothing.
func (s *handler) confirmForm(w http.ResponseWriter, r *http.Request) error {
	raw := linkToken(r)
	e, rel, err := downloads.PeekEmailRequest(r.Context(), s.DB(), raw, s.Clock().Now())
	if err != nil {
		return s.gone(w, r, err)
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "confirm.html", "Confirm your address", confirmPage{Release: rel, Email: e.Email, Token: raw})
}

// confirm uses the link and shows the files with links signed for the
// request. The page is the only place the links are shown; it is not
// stored by the browser, and a reload asks to confirm again, which a used
// link refuses.
func (s *handler) confirm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ok, err := s.Allow(r, s.Bucket(limitConfirm, "trial-confirm:net", web.Network(r)))
	if err != nil {
		return err
	}
	if !ok {
		return &web.Error{Status: http.StatusTooManyRequests, Message: web.MsgRateLimited}
	}
	raw := linkToken(r)
	ctx, now := r.Context(), s.Clock().Now()
	var e downloads.EmailRequest
	var rel releases.Release
	err = s.DB().Tx(ctx, func(tx *sql.Tx) error {
		var err error
		e, rel, err = downloads.ConfirmEmailRequest(ctx, tx, raw, now)
		return err
	})
	if err != nil {
		return s.gone(w, r, err)
	}
	notes, err := releases.NotesHTML(rel.Notes)
	if err != nil {
		return err
	}
	// A link lasts LinkTTL, never beyond the request's access.
	until := now.Add(downloads.LinkTTL)
	if e.AccessUntil.Before(until) {
		until = e.AccessUntil
	}
	g := downloads.Grant{Kind: downloads.ByEmail, ID: e.ID}
	page := filesPage{Release: rel, Notes: notes, LinksUntil: until.UTC().Format("2 January 2006, 15:04 UTC"),
		AccessUntil: e.AccessUntil.UTC().Format("2 January 2006")}
	for _, a := range rel.Artifacts {
		page.Files = append(page.Files, fileLink{Artifact: a, Link: s.links.Path(a, g, until), SignatureLink: s.links.SignaturePath(a, g, until)})
	}
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "files.html", "Download "+rel.ProductName+" "+rel.Version.String(), page)
}
