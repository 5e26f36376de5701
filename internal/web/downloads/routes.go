// Package downloads is the web area that hands out release files: GET
// /downloads/ID/NAME with a signed, expiring link (from the account's
// downloads page, the API's upgrade answer or a confirmed email-gated
// request), the file's minisign signature beside it, and each release's
// signed checksums file. Every use of a link checks its grant again (the
// license still covers the release, the request is still valid), records
// the download and streams the file with Range support. Who may have
// what is internal/downloads.
package downloads

import (
	"embed"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/web"
)

//go:embed templates
var templates embed.FS

// Options are what the area needs: the release store the files are in.
// Without one nothing is mounted.
type Options struct {
	Releases *releases.Releases
}

type handler struct {
	*web.Server
	db    *db.DB
	clock clock.Clock
	pages *web.Pages
	store releases.Store
	links downloads.Links
}

// Mount registers the area's routes on s.
func Mount(s *web.Server, o Options) error {
	if o.Releases == nil || o.Releases.Store == nil {
		return nil
	}
	pages, err := s.NewPages("downloads", templates, web.Public, nil)
	if err != nil {
		return err
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), pages: pages, store: o.Releases.Store, links: downloads.NewLinks(s.Secret())}
	s.Handle("GET /downloads/{id}/{name}", h.download)
	return nil
}

// refusedPage is the content of refused.html.
type refusedPage struct {
	Reason string
	// Next is where renewing or a new link helps, with its words.
	Next, NextText string
}

// download serves a file or its signature for a signed link.
func (h *handler) download(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return h.refused(w, r, downloads.ErrLinkInvalid, "", "")
	}
	now := h.clock.Now()
	g, err := h.links.Check(id, r.URL.Query(), now)
	if errors.Is(err, downloads.ErrLinkExpired) && strings.HasPrefix(r.URL.Query().Get("g"), string(downloads.ByEmail)) {
		// Expired, so signed: the grant is an email-gated request, whose
		// visitor has no account and asks again on the product's page.
		if _, rel, err := releases.ArtifactByID(r.Context(), h.db, id); err == nil {
			return h.refused(w, r, downloads.ErrEmailLinkExpired, "/products/"+rel.Product, "Ask for a new link")
		}
	}
	if err != nil {
		return h.refused(w, r, err, "/account", "Go to your account")
	}
	a, rel, err := releases.ArtifactByID(r.Context(), h.db, id)
	if errors.Is(err, releases.ErrNotFound) {
		return h.refused(w, r, downloads.ErrNotPublished, "", "")
	}
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	signature := name == a.FileName+".minisig"
	if name != a.FileName && !signature {
		return h.refused(w, r, downloads.ErrLinkInvalid, "", "")
	}
	d := downloads.Download{ArtifactID: a.ID, Network: web.ClientIP(r), FirstByte: downloads.FirstByte(r), At: now}
	switch g.Kind {
	case downloads.ByLicense:
		l, err := licensing.ByID(r.Context(), h.db, g.ID, now)
		if errors.Is(err, licensing.ErrNotFound) {
			return h.refused(w, r, downloads.ErrLinkInvalid, "", "")
		}
		if err != nil {
			return err
		}
		if err := downloads.Covers(l, rel); err != nil {
			if next := downloads.RenewalPath(l, err); next != "" {
				text := "Renew the license"
				if l.Perpetual() {
					text = "See the current editions"
				}
				return h.refused(w, r, err, next, text)
			}
			return h.refused(w, r, err, "", "")
		}
		if err := fraud.AccessHeld(r.Context(), h.db, l.ID); err != nil {
			return h.refused(w, r, err, "", "")
		}
		d.Via, d.LicenseID, d.CustomerID = downloads.ViaAccount, l.ID, l.CustomerID
	case downloads.ByEmail:
		if err := downloads.CheckEmailGrant(r.Context(), h.db, g.ID, rel, now); err != nil {
			return h.refused(w, r, err, "/products/"+rel.Product, "Ask for a new link")
		}
		d.Via, d.RequestID = downloads.ViaEmail, g.ID
	default:
		return h.refused(w, r, downloads.ErrLinkInvalid, "", "")
	}
	if signature {
		downloads.ServeSignature(w, a)
		return nil
	}
	if r.Method == http.MethodGet && !prefetch(r) && !downloads.SendsNothing(r, a) {
		if err := downloads.Record(r.Context(), h.db, d); err != nil {
			return err
		}
	}
	return downloads.Serve(w, r, h.store, a)
}

// prefetch reports a browser's speculative fetch: Sec-Purpose (the
// Fetch standard's, "prefetch" or "prefetch;prerender") or the older
// Purpose header.
func prefetch(r *http.Request) bool {
	for _, h := range []string{"Sec-Purpose", "Purpose"} {
		v, _, _ := strings.Cut(r.Header.Get(h), ";")
		if strings.EqualFold(strings.TrimSpace(v), "prefetch") {
			return true
		}
	}
	return false
}

// refused answers a link that does not lead to a file with the reason and
// the way on.
func (h *handler) refused(w http.ResponseWriter, r *http.Request, err error, next, text string) error {
	e, ok := refuse.As(err)
	if !ok {
		return err
	}
	return h.Render(w, r, web.StatusOf(e), h.pages, "refused.html", "Download not available", refusedPage{Reason: e.Msg, Next: next, NextText: text})
}
