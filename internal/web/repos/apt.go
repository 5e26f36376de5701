package repos

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/web"
)

// mountAPT registers the APT repository of each product:
//
//	/apt/PRODUCT/dists/SUITE/{InRelease,Release,Release.gpg}
//	/apt/PRODUCT/dists/SUITE/main/binary-ARCH/Packages(.gz)
//	/apt/PRODUCT/pool/main/ARTIFACT/FILE.deb
//
// Every request is authenticated by the license key (h.license); the
// metadata lists what that license covers, and a package is served only
// when the license covers its release, whatever URL was asked for.
func (h *handler) mountAPT() {
	h.aptCache = newMetaCache[string, *repos.APT](0, MetadataCacheBytes)
	h.Handle("GET /apt/{product}/dists/{suite}/{file}", h.aptRelease)
	h.Handle("GET /apt/{product}/dists/{suite}/main/{dir}/{file}", h.aptIndex)
	h.Handle("GET /apt/{product}/pool/main/{artifact}/{file}", h.aptPool)
}

// aptMetadata is the suite's metadata for license l: from the cache when
// another request (any license's) with the same covered packages built it.
func (h *handler) aptMetadata(r *http.Request, l licensing.License, suite string) (*repos.APT, bool, error) {
	if _, ok := repos.SuiteIncludes(suite, ""); !ok {
		return nil, false, nil
	}
	rels, err := downloads.Covered(r.Context(), h.db, l, "")
	if err != nil {
		return nil, false, err
	}
	v, err := h.Vendor(r)
	if err != nil {
		return nil, false, err
	}
	label := l.Product
	if len(rels) > 0 {
		label = rels[0].ProductName
	}
	key := aptKey(suite, v.Name, label, rels)
	if a, ok := h.aptCache.get(key); ok {
		return a, true, nil
	}
	a, err := repos.BuildAPT(rels, repos.APTSuite{Suite: suite, Origin: v.Name, Label: label, Date: h.clock.Now(), Signer: h.signer})
	if err != nil {
		return nil, false, err
	}
	for _, s := range a.Skipped {
		// The vendor's upload is at fault, not the request: say which.
		h.Log().Warn("apt: a .deb is not indexed", "artifact", s.ArtifactID, "reason", s.Reason)
	}
	h.aptCache.put(key, a, a.Size())
	return a, true, nil
}

// aptKey names a suite's metadata by what it is made of: the suite, the
// names in the Release file and the .deb artifacts of the covered
// releases (an artifact never changes once its release is published).
func aptKey(suite, origin, label string, rels []releases.Release) string {
	hash := sha256.New()
	for _, s := range []string{suite, origin, label} {
		hash.Write([]byte(s))
		hash.Write([]byte{0})
	}
	var b [24]byte
	for _, r := range rels {
		if in, _ := repos.SuiteIncludes(suite, r.Channel); !in {
			continue
		}
		for _, a := range r.Artifacts {
			if a.Kind == releases.Deb {
				hash.Write(append(strconv.AppendInt(b[:0], a.ID, 10), 0))
			}
		}
	}
	return string(hash.Sum(nil))
}

// aptSuite authenticates a metadata request and returns the metadata of
// the path's suite for its license; ok is false when the request was
// answered already (h.license).
func (h *handler) aptSuite(w http.ResponseWriter, r *http.Request) (*repos.APT, bool, error) {
	l, ok, err := h.license(w, r, r.PathValue("product"))
	if err != nil || !ok {
		return nil, false, err
	}
	a, ok, err := h.aptMetadata(r, l, r.PathValue("suite"))
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, web.NotFound("There is no such suite: use stable or beta.")
	}
	return a, true, nil
}

func (h *handler) aptRelease(w http.ResponseWriter, r *http.Request) error {
	a, ok, err := h.aptSuite(w, r)
	if err != nil || !ok {
		return err
	}
	switch r.PathValue("file") {
	case "InRelease":
		return serveMeta(w, a.InRelease, "text/plain; charset=utf-8")
	case "Release":
		return serveMeta(w, a.Release, "text/plain; charset=utf-8")
	case "Release.gpg":
		return serveMeta(w, a.ReleaseGPG, "application/pgp-signature")
	}
	return web.NotFound("There is no such file.")
}

func (h *handler) aptIndex(w http.ResponseWriter, r *http.Request) error {
	a, ok, err := h.aptSuite(w, r)
	if err != nil || !ok {
		return err
	}
	name := repos.Component + "/" + r.PathValue("dir") + "/" + r.PathValue("file")
	b, ok := a.Files[name]
	if !ok {
		return web.NotFound("There is no such index in this repository.")
	}
	typ := "text/plain; charset=utf-8"
	if strings.HasSuffix(name, ".gz") {
		typ = "application/gzip"
	}
	return serveMeta(w, b, typ)
}

// serveMeta sends repository metadata: private (it is one license's
// view), never transformed (its checksums are in the Release file).
func serveMeta(w http.ResponseWriter, b []byte, typ string) error {
	h := w.Header()
	h.Set("Content-Type", typ)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "private, no-cache, no-transform")
	_, err := w.Write(b)
	return err
}

// aptPool serves a .deb the license covers and records the download. The
// path names the artifact by id; the product and file name must be that
// artifact's, so a URL made up to reach another product's or a release's
// other file is not found, and a package the license does not cover (a
// release after its updates window, a draft, a feature it lacks) is
// refused with the reason.
func (h *handler) aptPool(w http.ResponseWriter, r *http.Request) error {
	product := r.PathValue("product")
	l, ok, err := h.license(w, r, product)
	if err != nil || !ok {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("artifact"), 10, 64)
	if err != nil || id <= 0 {
		return web.NotFound("There is no such package.")
	}
	a, rel, err := releases.ArtifactByID(r.Context(), h.db, id)
	if errors.Is(err, releases.ErrNotFound) || (err == nil && (rel.Product != product || a.FileName != r.PathValue("file") || a.Kind != releases.Deb)) {
		return web.NotFound("There is no such package.")
	}
	if err != nil {
		return err
	}
	if err := downloads.Covers(l, rel); err != nil {
		if e, ok := refuse.As(err); ok && e.Kind == refuse.Forbidden {
			// Said plainly to apt, which shows the body's first line.
			http.Error(w, e.Msg, http.StatusForbidden)
			return nil
		}
		return err
	}
	if r.Method == http.MethodGet && !downloads.SendsNothing(r, a) {
		err := downloads.Record(r.Context(), h.db, downloads.Download{ArtifactID: a.ID, LicenseID: l.ID, CustomerID: l.CustomerID,
			Via: downloads.ViaAPT, Network: web.ClientIP(r), FirstByte: downloads.FirstByte(r), At: h.clock.Now()})
		if err != nil {
			return err
		}
	}
	return downloads.Serve(w, r, h.store, a)
}
