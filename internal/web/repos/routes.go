// Package repos is the web area of the package repositories a license
// opens: APT under /apt/PRODUCT and YUM/DNF under /yum/PRODUCT, each
// authenticated by HTTP Basic with the license key as the password and
// listing only the packages that license covers, and the repository key's
// public half at /.well-known/storekeep-repo-key.asc (and .gpg). The
// indexes are built by internal/repos; who may have what is
// internal/downloads.
package repos

import (
	"net/http"
	"time"

	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/downloads"
	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/web"
)

// Public key paths.
const (
	KeyPathArmored = "/.well-known/storekeep-repo-key.asc"
	KeyPathBinary  = "/.well-known/storekeep-repo-key.gpg"
)

// BadKeysPerNetwork limits wrong repository credentials per network: the
// key is a secret, so guesses are counted and refused beyond this.
var BadKeysPerNetwork = ratelimit.Limit{Max: 30, Window: 10 * time.Minute}

// Options are what the area needs. Without all three the repositories are
// not mounted (nothing to sign with, no keys to check, no files).
type Options struct {
	Keys     licensing.PublicKeys
	Releases *releases.Releases
	Signer   *repos.Signer
	// Observer records each authenticated request for the fraud signals
	// (a repository credential used from many networks); nil records
	// nothing.
	Observer *detect.Observer
}

type handler struct {
	*web.Server
	db       *db.DB
	clock    clock.Clock
	keys     licensing.PublicKeys
	store    releases.Store
	signer   *repos.Signer
	observer *detect.Observer
	aptCache *metaCache[string, *repos.APT] // the APT metadata, by what it is made of
	pages    *web.Pages                     // the account's repository page
}

// Mount registers the repositories' routes on s, when configured, and
// the account's repository page always (it says when there are none).
func Mount(s *web.Server, o Options) error {
	if o.Keys == nil || o.Releases == nil || o.Releases.Store == nil || o.Signer == nil {
		return (&handler{Server: s, db: s.DB(), clock: s.Clock()}).mountAccount()
	}
	h := &handler{Server: s, db: s.DB(), clock: s.Clock(), keys: o.Keys, store: o.Releases.Store, signer: o.Signer, observer: o.Observer}
	s.Handle("GET "+KeyPathArmored, h.publicKey(o.Signer.PublicKey(), "application/pgp-keys"))
	s.Handle("GET "+KeyPathBinary, h.publicKey(o.Signer.PublicKeyBinary(), "application/octet-stream"))
	h.mountAPT()
	h.mountYUM()
	return h.mountAccount()
}

func (h *handler) publicKey(key []byte, typ string) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", typ)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, err := w.Write(key)
		return err
	}
}

// license authenticates a repository request: HTTP Basic, any user name,
// the license key as the password (apt_auth.conf(5), dnf's password=).
// It answers the request itself and returns ok false when there is no
// usable license: 401 with a challenge when no credentials came (apt and
// dnf send them only when challenged), 401 for a wrong key (counted
// against BadKeysPerNetwork, 429 beyond), 403 with the reason when the
// license is for another product or no longer in good standing
// (suspended, revoked, expired): the repository closes at once.
func (h *handler) license(w http.ResponseWriter, r *http.Request, product string) (licensing.License, bool, error) {
	_, key, ok := r.BasicAuth()
	if !ok || key == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+product+` packages", charset="UTF-8"`)
		http.Error(w, "Give your license key as the password (see your account's repository page).", http.StatusUnauthorized)
		return licensing.License{}, false, nil
	}
	l, err := downloads.LicenseByKey(r.Context(), h.db, h.keys, key, h.clock.Now())
	if e, isRefusal := refuse.As(err); isRefusal && e.Code == downloads.ErrBadKey.Code {
		allowed, err := h.Allow(r, h.Bucket(BadKeysPerNetwork, "repo:badkey:net", web.Network(r)))
		if err != nil {
			return licensing.License{}, false, err
		}
		if !allowed {
			w.Header().Set("Retry-After", "600")
			http.Error(w, "Too many wrong license keys from your network: wait ten minutes.", http.StatusTooManyRequests)
			return licensing.License{}, false, nil
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="`+product+` packages", charset="UTF-8"`)
		http.Error(w, e.Msg, http.StatusUnauthorized)
		return licensing.License{}, false, nil
	}
	if err != nil {
		return licensing.License{}, false, err
	}
	if l.Product != product {
		http.Error(w, downloads.ErrOtherProduct.Msg, http.StatusForbidden)
		return licensing.License{}, false, nil
	}
	if msg := closed(l); msg != "" {
		http.Error(w, msg, http.StatusForbidden)
		return licensing.License{}, false, nil
	}
	// A queued row with a keyed hash of the network, off the request path.
	h.observer.Repository(h.clock.Now(), web.ClientIP(r), l.ID, l.CustomerID)
	return l, true, nil
}

// closed is why license l opens no repository (suspended, revoked,
// expired); "" when it is in good standing.
func closed(l licensing.License) string {
	switch l.State {
	case licensing.StateSuspended:
		return downloads.ErrSuspended.Msg
	case licensing.StateRevoked:
		return downloads.ErrRevoked.Msg
	case licensing.StateExpired:
		return downloads.ErrExpired.Msg
	}
	return ""
}
