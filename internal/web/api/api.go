// Package api is the license API under /api/v1: JSON requests, answers
// signed as RFC 9421 says with an RFC 9530 Content-Digest (every answer,
// errors too), the OpenAPI 3.1 document that describes it, and the public
// keys at /.well-known/storekeep-license-keys.json. The contract is
// docs/license-format.md; the checks themselves are internal/licensing's.
//
// One file per concern: api.go mounts the routes and holds the limits,
// answer.go writes signed answers, decode.go reads request bodies,
// licenses.go has the five endpoints, openapi.go the document and the
// keys.
package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/fraud/detect"
	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/ratelimit"
	"github.com/storekeep/storekeep/internal/web"
)

// Prefix is where the API lives; every answer under it is signed.
const Prefix = "/api/v1/"

// Options are what the API needs besides the core.
type Options struct {
	// Keys are the license signing keys: the active one signs answers,
	// every one verifies license keys and is published.
	Keys *licensing.Keyring
	// Observer records activations and check-ins for the fraud signals
	// (key sharing, many replacements); nil records nothing. Validation
	// records nothing: it is the hot path, and key sharing is seen in
	// activations and check-ins.
	Observer *detect.Observer
}

// The rate limits. Activations count per license and per network, always;
// the other endpoints count per network only the answers that say a key
// is not ours or not known (INVALID_KEY, UNKNOWN_KEY_ID, NOT_FOUND), so a
// product checking a good key costs no write, and someone trying keys is
// answered 429 once over the limit.
var (
	ActivationsPerLicense = ratelimit.Limit{Max: 20, Window: 10 * time.Minute}
	ActivationsPerNetwork = ratelimit.Limit{Max: 60, Window: 10 * time.Minute}
	BadKeysPerNetwork     = ratelimit.Limit{Max: 30, Window: 10 * time.Minute}
)

type handler struct {
	*web.Server
	keys     *licensing.Keyring
	observer *detect.Observer
	valid    validations
}

// Mount registers the API's routes on s. Without signing keys there is no
// API (it cannot sign an answer): nothing is mounted and /api/v1 answers
// 404 like any unknown address.
func Mount(s *web.Server, o Options) error {
	if o.Keys == nil {
		return nil
	}
	h := &handler{Server: s, keys: o.Keys, observer: o.Observer, valid: newValidations()}
	if err := s.RegisterCollector(h.valid.c); err != nil {
		return err
	}
	s.SetAPIErrors(Prefix, h.coreError)
	s.SetAPIErrors(KeysPath, h.coreError)
	s.Handle("POST /api/v1/licenses/validate", h.validate)
	s.Handle("POST /api/v1/machines/activate", h.activate)
	s.Handle("POST /api/v1/machines/deactivate", h.deactivate)
	s.Handle("POST /api/v1/machines/check-in", h.checkIn)
	s.Handle("POST /api/v1/licenses/file", h.file)
	s.Handle("POST /api/v1/releases/upgrade", h.upgradeCheck)
	s.Handle("GET /api/v1/openapi.json", h.openAPI)
	// Everything else under the prefix: a signed 404, or 405 with Allow
	// for a known address asked with another method.
	s.Handle("/api/v1/", h.unknown)
	// The prefix without its slash: the router would redirect it (an
	// unsigned answer of another shape); a signed 404 says where to look.
	s.Handle(strings.TrimSuffix(Prefix, "/"), h.unknown)
	s.Handle("GET "+KeysPath, h.publicKeys)
	// Other methods on the keys: a signed 405, not the site's page.
	s.Handle(KeysPath, h.unknown)
	return nil
}

// KeysPath is where the public keys are published, outside the prefix;
// its answers are signed too, errors included.
const KeysPath = "/.well-known/storekeep-license-keys.json"

// routes lists the API's addresses with their method, for 405 answers.
var routes = map[string]string{
	"/api/v1/licenses/validate":   http.MethodPost,
	"/api/v1/machines/activate":   http.MethodPost,
	"/api/v1/machines/deactivate": http.MethodPost,
	"/api/v1/machines/check-in":   http.MethodPost,
	"/api/v1/licenses/file":       http.MethodPost,
	"/api/v1/openapi.json":        http.MethodGet,
	KeysPath:                      http.MethodGet,
}

func (h *handler) unknown(w http.ResponseWriter, r *http.Request) error {
	if m, ok := routes[r.URL.Path]; ok {
		allow := m
		if m == http.MethodGet {
			allow = "GET, HEAD"
		}
		w.Header().Set("Allow", allow)
		return h.fail(w, r, http.StatusMethodNotAllowed, codeBadRequest, "This address answers "+m+" requests only.", "")
	}
	return h.fail(w, r, http.StatusNotFound, codeBadRequest, msgNoEndpoint, "")
}
