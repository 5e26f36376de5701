package repos

import (
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/web"
)

// YUM repository paths: a .repo file's baseurl is
// https://SHOP/yum/PRODUCT/CHANNEL/, under which dnf asks for
// repodata/repomd.xml (and .asc) and the files it names, and the
// packages at the locations primary.xml gives.
const (
	yumRepodata = "GET /yum/{product}/{channel}/repodata/{file}"
	yumPackage  = "GET /yum/{product}/{channel}/packages/{artifact}/{name}"
)

// Bounds of the YUM metadata cache: views are kept by the set of packages
// they list, so licenses that see the same set share one entry.
const (
	yumCacheEntries = 256
	yumCacheBytes   = 64 << 20
)

// mountYUM registers the YUM/DNF repository: /yum/{product}/{channel}/
// repodata/... and the packages, each request authenticated by license
// key (h.license), each license seeing the packages it covers.
func (h *handler) mountYUM() {
	c := newMetaCache[[32]byte, *repos.YUMMetadata](yumCacheEntries, yumCacheBytes)
	h.Handle(yumRepodata, h.yumRepodata(c))
	h.Handle(yumPackage, h.yumPackage)
}

// yumChannel reads the channel of the path: stable or beta, ok false
// (and a 404 written) otherwise.
func yumChannel(w http.ResponseWriter, r *http.Request) (releases.Channel, bool) {
	switch ch := releases.Channel(r.PathValue("channel")); ch {
	case releases.Stable, releases.Beta:
		return ch, true
	}
	http.Error(w, "There is no such channel: the repositories are /yum/PRODUCT/stable/ and /yum/PRODUCT/beta/.", http.StatusNotFound)
	return "", false
}

// yumRepodata serves repomd.xml, its signature and the files it names,
// built from the releases this license covers on the channel. The
// metadata is cached by the set of packages it lists (bounded), so the
// few requests of one dnf refresh, and licenses covering the same
// releases, build it once.
func (h *handler) yumRepodata(c *metaCache[[32]byte, *repos.YUMMetadata]) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		product := r.PathValue("product")
		channel, ok := yumChannel(w, r)
		if !ok {
			return nil
		}
		l, ok, err := h.license(w, r, product)
		if err != nil || !ok {
			return err
		}
		rels, err := downloads.Covered(r.Context(), h.db, l, "")
		if err != nil {
			return err
		}
		arts, stale := repos.YUMArtifacts(rels, channel)
		if len(stale) > 0 {
			ids := make([]int64, len(stale))
			for i, a := range stale {
				ids[i] = a.ID
			}
			h.Log().Warn("yum: packages left out of the repository", "product", product, "artifacts", ids, "why", releases.ErrNoRPMMeta.Error())
		}
		at := newestRelease(rels, arts)
		key := yumKey(channel, at, arts)
		md, ok := c.get(key)
		if !ok {
			pkgs, err := repos.YUMPackages(arts)
			if err != nil {
				return err
			}
			if md, err = repos.BuildYUM(pkgs, at, h.signer); err != nil {
				return err
			}
			c.put(key, md, md.Size())
		}
		file := r.PathValue("file")
		body, ok := md.File(file)
		if !ok {
			// A name from an older repomd.xml: dnf fetches repomd.xml again.
			http.Error(w, "There is no such file in this repository's metadata: refresh it (dnf makecache).", http.StatusNotFound)
			return nil
		}
		hd := w.Header()
		switch file {
		case "repomd.xml":
			hd.Set("Content-Type", "application/xml")
		case "repomd.xml.asc":
			hd.Set("Content-Type", "application/pgp-signature")
		default:
			hd.Set("Content-Type", "application/gzip")
		}
		// Per license: no shared cache may keep it.
		hd.Set("Cache-Control", "private, no-cache")
		hd.Set("Content-Length", strconv.Itoa(len(body)))
		if r.Method == http.MethodHead {
			return nil
		}
		_, err = w.Write(body)
		return err
	}
}

// newestRelease is the publication time of the newest release with a
// listed package: the metadata's time, which changes when what is listed
// grows. Nothing listed: the Unix epoch.
func newestRelease(rels []releases.Release, arts []releases.Artifact) time.Time {
	listed := map[int64]bool{}
	for _, a := range arts {
		listed[a.ReleaseID] = true
	}
	at := time.Unix(0, 0).UTC()
	for _, r := range rels {
		if listed[r.ID] && r.PublishedAt.After(at) {
			at = r.PublishedAt
		}
	}
	return at
}

// yumKey identifies a view of the repository: the channel, the time and
// each listed artifact (artifacts never change once uploaded).
func yumKey(channel releases.Channel, at time.Time, arts []releases.Artifact) [32]byte {
	h := sha256.New()
	h.Write([]byte(channel))
	var b [24]byte
	h.Write(append(strconv.AppendInt(b[:0], at.Unix(), 10), 0))
	for _, a := range arts {
		h.Write(append(strconv.AppendInt(b[:0], a.ID, 10), 0))
		h.Write([]byte(a.SHA256))
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// yumPackage serves one package: the license must cover its release (as
// for any download), the channel must list it, and the download is
// recorded like every other.
func (h *handler) yumPackage(w http.ResponseWriter, r *http.Request) error {
	product := r.PathValue("product")
	channel, ok := yumChannel(w, r)
	if !ok {
		return nil
	}
	l, ok, err := h.license(w, r, product)
	if err != nil || !ok {
		return err
	}
	notFound := func() error {
		http.Error(w, downloads.ErrNotPublished.Msg, http.StatusNotFound)
		return nil
	}
	id, err := strconv.ParseInt(r.PathValue("artifact"), 10, 64)
	if err != nil || id <= 0 {
		return notFound()
	}
	a, rel, err := releases.ArtifactByID(r.Context(), h.db, id)
	if errors.Is(err, releases.ErrNotFound) {
		return notFound()
	}
	if err != nil {
		return err
	}
	if rel.Product != product || a.Kind != releases.RPM || a.FileName != r.PathValue("name") ||
		channel == releases.Stable && rel.Channel != releases.Stable {
		return notFound()
	}
	if err := downloads.Covers(l, rel); err != nil {
		e, _ := refuse.As(err)
		if e == nil {
			return err
		}
		http.Error(w, e.Msg, web.StatusOf(e))
		return nil
	}
	// A HEAD downloads nothing: only a GET is a row of the log.
	if r.Method == http.MethodGet && !downloads.SendsNothing(r, a) {
		err = downloads.Record(r.Context(), h.db, downloads.Download{ArtifactID: a.ID, LicenseID: l.ID, CustomerID: l.CustomerID,
			Via: downloads.ViaYUM, Network: web.ClientIP(r), FirstByte: downloads.FirstByte(r), At: h.clock.Now()})
		if err != nil {
			return err
		}
	}
	return downloads.Serve(w, r, h.store, a)
}
