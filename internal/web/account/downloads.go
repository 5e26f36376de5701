package account

import (
	"errors"
	"html/template"
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/downloads"

	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/web"
)

// downloadsPage is the content of downloads.html: the releases a license
// covers, newest first, and those it does not with the reason.
type downloadsPage struct {
	License  licenseView
	Covered  []releaseView
	Excluded []excludedView
	// Closed says why the license opens no downloads at all (suspended,
	// revoked, expired), with where to go next.
	Closed, Next, NextText string
	Expires                time.Time // when the page's links stop working
}

type releaseView struct {
	releases.Release
	NotesHTML template.HTML
	Files     []fileView
	Newest    bool
}

type fileView struct {
	releases.Artifact
	Href, SignatureHref string
	Size                string
}

type excludedView struct {
	releases.Release
	Reason string
	Next   string
}

// accountDownloads lists what the license lets its holder download, with
// signed links that work for a day (long enough to fetch a file on a
// server with curl), checksums, signatures and notes.
func (s *handler) accountDownloads(w http.ResponseWriter, r *http.Request) error {
	_, l, ok, err := s.customerLicense(w, r)
	if err != nil || !ok {
		return err
	}
	now := s.clock.Now()
	names, err := s.editionNames(r)
	if err != nil {
		return err
	}
	page := downloadsPage{Expires: now.Add(downloads.LinkTTL)}
	if page.License, err = s.view(r, l, names, now); err != nil {
		return err
	}
	all, err := releases.Published(r.Context(), s.db, l.Product)
	if err != nil {
		return err
	}
	links := downloads.NewLinks(s.Secret())
	grant := downloads.Grant{Kind: downloads.ByLicense, ID: l.ID}
	for _, rel := range all {
		err := downloads.Covers(l, rel)
		switch {
		case err == nil:
			v := releaseView{Release: rel, Newest: len(page.Covered) == 0}
			if v.NotesHTML, err = releases.NotesHTML(rel.Notes); err != nil {
				return err
			}
			for _, a := range rel.Artifacts {
				v.Files = append(v.Files, fileView{Artifact: a, Size: releases.FormatSize(a.Size),
					Href: links.Path(a, grant, page.Expires), SignatureHref: links.SignaturePath(a, grant, page.Expires)})
			}
			page.Covered = append(page.Covered, v)
		case isLicenseWide(err):
			page.Closed, page.Next = err.Error(), downloads.RenewalPath(l, err)
		default:
			page.Excluded = append(page.Excluded, excludedView{Release: rel, Reason: err.Error(), Next: downloads.RenewalPath(l, err)})
		}
	}
	if page.Closed != "" {
		page.Covered, page.Excluded = nil, nil
	}
	page.NextText = "Renew the license"
	if l.Perpetual() {
		page.NextText = "See the current editions"
	}
	// The page holds working download links: it stays out of caches.
	web.NoStore(w)
	return s.render(w, r, http.StatusOK, "downloads.html", "Downloads for "+page.License.Name, page)
}

// isLicenseWide reports refusals that close every release of the license,
// not one.
func isLicenseWide(err error) bool {
	for _, e := range []error{downloads.ErrSuspended, downloads.ErrRevoked, downloads.ErrExpired, downloads.ErrOtherProduct} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
