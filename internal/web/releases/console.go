package releases

import (
	"errors"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/web"
)

// productReleases is one product of the list with its releases.
type productReleases struct {
	Product  catalog.Product
	Releases []releases.Summary
}

// newForm is the new-release form, as typed.
type newForm struct {
	Product, Version, Channel, Notes string
	Requires                         string // entitlements, comma-separated
	EmailGated                       bool
}

// listPage is the content of list.html.
type listPage struct {
	Products []productReleases
	Form     newForm
	Channels []releases.Channel
	Error    string
	Missing  string // what is not configured, "" when releases can be published
}

// releasePage is the content of release.html.
type releasePage struct {
	Release releases.Release
	Notes   template.HTML
	Notice  string
	Missing string
	MaxSize string
	// Action and Error are a refused form: which one, and why.
	Action, Error string
}

var notices = web.Notices{
	"created":   "The draft is created: add its files, then publish it.",
	"uploaded":  "The file is uploaded, checked and signed.",
	"removed":   "The file is removed from the draft.",
	"published": "The release is published with its signed checksums file.",
	"yanked":    "The release is withdrawn.",
	"notes":     "The release notes are saved.",
}

// missing says what the operator has to configure before releases can
// be published, "" when nothing.
func (s *handler) missing() string {
	switch {
	case s.rs.Signer == nil:
		return releases.ErrNoKey.Msg
	case s.rs.Store == nil:
		return releases.ErrNoStore.Msg
	}
	return ""
}

func (s *handler) list(w http.ResponseWriter, r *http.Request) error {
	return s.renderList(w, r, http.StatusOK, listPage{Form: newForm{Channel: string(releases.Stable)}})
}

func (s *handler) renderList(w http.ResponseWriter, r *http.Request, status int, page listPage) error {
	ctx := r.Context()
	ps, err := catalog.All(ctx, s.db)
	if err != nil {
		return err
	}
	for _, p := range ps {
		rels, err := releases.List(ctx, s.db, p.ID)
		if err != nil {
			return err
		}
		page.Products = append(page.Products, productReleases{Product: p, Releases: rels})
	}
	page.Channels, page.Missing = releases.Channels, s.missing()
	return s.render(w, r, status, "list.html", "Releases", page)
}

func actor(r *http.Request) audit.Actor {
	return audit.Staff(web.StaffSession(r).Account.ID).From(web.Network(r))
}

func (s *handler) create(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	f := newForm{Product: r.PostForm.Get("product"), Version: strings.TrimSpace(r.PostForm.Get("version")),
		Channel: r.PostForm.Get("channel"), Notes: r.PostForm.Get("notes"), Requires: r.PostForm.Get("requires"),
		EmailGated: r.PostForm.Get("email_gated") == "yes"}
	rel, err := s.rs.Create(r.Context(), actor(r), releases.NewRelease{Product: f.Product, Version: f.Version,
		Channel: releases.Channel(f.Channel), Notes: f.Notes, EmailGated: f.EmailGated,
		Requires: strings.FieldsFunc(f.Requires, func(r rune) bool { return r == ',' || r == ' ' })})
	if err == nil {
		http.Redirect(w, r, "/staff/releases/"+web.Itoa(rel.ID)+"?done=created", http.StatusSeeOther)
		return nil
	}
	rf, ok := refuse.As(err)
	if !ok {
		return err
	}
	return s.renderList(w, r, web.StatusOf(rf), listPage{Form: f, Error: rf.Msg})
}

func (s *handler) byPath(r *http.Request) (releases.Release, error) {
	id, err := web.PathID(r, "id")
	if err != nil {
		return releases.Release{}, err
	}
	rel, err := releases.ByID(r.Context(), s.db, id)
	if errors.Is(err, releases.ErrNotFound) {
		return rel, web.NotFound("There is no such release.")
	}
	return rel, err
}

func (s *handler) show(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	return s.renderRelease(w, r, http.StatusOK, releasePage{Release: rel, Notice: notices.For(r)})
}

func (s *handler) renderRelease(w http.ResponseWriter, r *http.Request, status int, page releasePage) error {
	var err error
	if page.Notes, err = releases.NotesHTML(page.Release.Notes); err != nil {
		return err
	}
	page.Missing, page.MaxSize = s.missing(), releases.FormatSize(s.rs.MaxSizeOrDefault())
	return s.render(w, r, status, "release.html", page.Release.Product+" "+page.Release.Version.String(), page)
}

// refused shows the release again with why an action was refused, or
// returns err when it is no refusal.
func (s *handler) refused(w http.ResponseWriter, r *http.Request, id int64, action string, err error) error {
	rf, ok := refuse.As(err)
	if !ok || errors.Is(err, releases.ErrNotFound) {
		return err
	}
	rel, lerr := releases.ByID(r.Context(), s.db, id)
	if lerr != nil {
		return lerr
	}
	return s.renderRelease(w, r, web.StatusOf(rf), releasePage{Release: rel, Action: action, Error: rf.Msg})
}

func (s *handler) done(w http.ResponseWriter, r *http.Request, id int64, what string) error {
	http.Redirect(w, r, "/staff/releases/"+web.Itoa(id)+"?done="+what, http.StatusSeeOther)
	return nil
}

// upload streams the form's file into the store: the multipart body is
// read part by part, never buffered whole or spilled to a temporary file
// by the form parser. The platform field comes before the file in the
// form, so it is known when the file arrives.
func (s *handler) upload(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	// A large file over a slow line takes longer than the server's read
	// timeout for ordinary requests. This is a network deadline, so it is
	// the wall clock's, not the injected one.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(4 * time.Hour))
	mr, err := r.MultipartReader()
	if err != nil {
		return web.BadRequest("The upload could not be read: send the form as multipart/form-data.")
	}
	platform := ""
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return s.refused(w, r, rel.ID, "upload", refuse.Field("file", "Choose a file to upload."))
		}
		if err != nil {
			return tooLargeOr(err, web.BadRequest("The upload could not be read. Try again."))
		}
		switch part.FormName() {
		case "platform":
			b, err := io.ReadAll(io.LimitReader(part, 64))
			if err != nil {
				return tooLargeOr(err, web.BadRequest("The upload could not be read. Try again."))
			}
			platform = strings.TrimSpace(string(b))
		case "file":
			return s.uploadFile(w, r, rel, part, platform)
		}
		_ = part.Close()
	}
}

func (s *handler) uploadFile(w http.ResponseWriter, r *http.Request, rel releases.Release, part *multipart.Part, platform string) error {
	if part.FileName() == "" {
		return s.refused(w, r, rel.ID, "upload", refuse.Field("file", "Choose a file to upload."))
	}
	_, err := s.rs.AddArtifact(r.Context(), actor(r), rel.ID, releases.NewArtifact{FileName: part.FileName(), Platform: platform, Content: part})
	if err != nil {
		if _, ok := refuse.As(err); ok {
			return s.refused(w, r, rel.ID, "upload", err)
		}
		return tooLargeOr(err, err)
	}
	return s.done(w, r, rel.ID, "uploaded")
}

// tooLargeOr is the body's size error when err is one (the core answers
// 413), else other.
func tooLargeOr(err, other error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return tooLarge
	}
	return other
}

func (s *handler) remove(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	aid, err := web.PathID(r, "artifact")
	if err != nil {
		return err
	}
	if err := s.rs.RemoveArtifact(r.Context(), actor(r), rel.ID, aid); err != nil {
		return s.refused(w, r, rel.ID, "remove", err)
	}
	return s.done(w, r, rel.ID, "removed")
}

func (s *handler) publish(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	if _, err := s.rs.Publish(r.Context(), actor(r), rel.ID); err != nil {
		return s.refused(w, r, rel.ID, "publish", err)
	}
	return s.done(w, r, rel.ID, "published")
}

func (s *handler) notes(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	if _, err := s.rs.SetNotes(r.Context(), actor(r), rel.ID, r.PostForm.Get("notes")); err != nil {
		return s.refused(w, r, rel.ID, "notes", err)
	}
	return s.done(w, r, rel.ID, "notes")
}

func (s *handler) yank(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	rel, err := s.byPath(r)
	if err != nil {
		return err
	}
	if _, err := s.rs.Yank(r.Context(), actor(r), rel.ID, r.PostForm.Get("reason")); err != nil {
		return s.refused(w, r, rel.ID, "yank", err)
	}
	return s.done(w, r, rel.ID, "yanked")
}
