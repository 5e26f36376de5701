package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/web"
)

// The request bodies (docs/license-format.md, "The API").
type (
	validateRequest struct {
		Key          string   `json:"key"`
		Fingerprint  string   `json:"fingerprint"`
		Product      string   `json:"product"`
		Entitlements []string `json:"entitlements"`
		Version      string   `json:"version"`
		Nonce        string   `json:"nonce"`
	}
	activateRequest struct {
		Key         string `json:"key"`
		Fingerprint string `json:"fingerprint"`
		Hostname    string `json:"hostname"`
		Platform    string `json:"platform"`
		Nonce       string `json:"nonce"`
	}
	deactivateRequest struct {
		Key         string `json:"key"`
		Fingerprint string `json:"fingerprint"`
		Nonce       string `json:"nonce"`
	}
	checkInRequest struct {
		Key         string `json:"key"`
		Fingerprint string `json:"fingerprint"`
		Version     string `json:"version"`
		Nonce       string `json:"nonce"`
	}
	fileRequest struct {
		Key         string `json:"key"`
		Fingerprint string `json:"fingerprint"`
		Nonce       string `json:"nonce"`
	}
)

// Limits of the typed members, in characters.
const (
	maxFingerprint  = licensing.MaxFingerprint
	maxHostname     = 253
	maxPlatform     = 100
	maxVersion      = licensing.MaxVersion
	maxProduct      = 64
	maxEntitlement  = 64
	maxEntitlements = 64
)

// read decodes the body into dst and checks the nonce, the key's presence
// and the typed text (check adds the endpoint's own). It answers a
// request that cannot be read itself (400, with the nonce when it was
// readable) and then returns ok false.
func (h *handler) read(w http.ResponseWriter, r *http.Request, dst any, check func(p *[]error)) (nonce string, ok bool, err error) {
	if err := decode(r, dst); err != nil {
		var b *badRequest
		errors.As(err, &b)
		return "", false, h.refused(w, r, err, b.nonce)
	}
	v := reflect.ValueOf(dst).Elem()
	nonce = v.FieldByName("Nonce").String()
	if err := checkNonce(nonce); err != nil {
		return "", false, h.refused(w, r, err, "")
	}
	key := v.FieldByName("Key")
	key.SetString(strings.TrimSpace(key.String()))
	var problems []error
	if key.String() == "" {
		problems = append(problems, bad("The member \"key\" is missing: send the license key."))
	}
	if check != nil {
		check(&problems)
	}
	if len(problems) > 0 {
		return "", false, h.refused(w, r, errors.Join(problems...), nonce)
	}
	return nonce, true, nil
}

// refused answers 400 BAD_REQUEST with the messages of err's refusals.
func (h *handler) refused(w http.ResponseWriter, r *http.Request, err error, nonce string) error {
	var msgs []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var b *badRequest
		if errors.As(e, &b) {
			msgs = append(msgs, b.msg)
		}
	}
	walk(err)
	if len(msgs) == 0 {
		return err
	}
	return h.fail(w, r, http.StatusBadRequest, codeBadRequest, strings.Join(msgs, " "), nonce)
}

// domainError answers a refusal of the domain (input no product sends)
// as 400 BAD_REQUEST, and a failure of ours as a logged 500
// INTERNAL_ERROR without its cause, both with the nonce. A client gone
// away is left to the core.
func (h *handler) domainError(w http.ResponseWriter, r *http.Request, err error, nonce string) error {
	if rf, ok := refuse.As(err); ok && rf.Kind == refuse.Invalid {
		return h.fail(w, r, http.StatusBadRequest, codeBadRequest, rf.Msg, nonce)
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return err
	}
	h.Log().LogAttrs(r.Context(), slog.LevelError, "internal error",
		slog.String("method", r.Method), slog.String("route", r.Pattern),
		slog.Int("status", http.StatusInternalServerError), slog.String("error", err.Error()))
	return h.fail(w, r, http.StatusInternalServerError, codeInternal, msgInternal, nonce)
}

func required(p *[]error, member, v string) {
	if v == "" {
		*p = append(*p, bad("The member %q is missing.", member))
	}
}

// guessing reports whether a code says the key is not one of ours or not
// known: the answers that count against BadKeysPerNetwork.
func guessing(c licensing.Code) bool {
	return c == licensing.CodeInvalidKey || c == licensing.CodeUnknownKeyID || c == licensing.CodeNotFound
}

// answer replies with res unless it is a guess over the network's limit.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, res licensing.Result, nonce string, file string) error {
	if guessing(res.Code) {
		ok, err := h.Allow(r, h.Bucket(BadKeysPerNetwork, "api:badkey:net", web.Network(r)))
		if err != nil {
			return h.domainError(w, r, err, nonce)
		}
		if !ok {
			return h.limited(w, r, BadKeysPerNetwork.Window, nonce)
		}
	}
	return h.reply(w, r, answer{Code: res.Code, Message: res.Message, Nonce: nonce,
		License: licenseOf(res.License), Machine: machineOf(res.Machine), File: file})
}

func (h *handler) validate(w http.ResponseWriter, r *http.Request) error {
	var req validateRequest
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "fingerprint", "The fingerprint", maxFingerprint, &req.Fingerprint)
		text(p, "product", "The product", maxProduct, &req.Product)
		if len(req.Entitlements) > maxEntitlements {
			*p = append(*p, bad("Ask for at most %d entitlements.", maxEntitlements))
			return
		}
		for i := range req.Entitlements {
			text(p, "entitlements", "An entitlement", maxEntitlement, &req.Entitlements[i])
		}
		versionText(p, &req.Version)
	})
	if !ok {
		h.valid.count(codeBadRequest, nil)
		return err
	}
	res, err := licensing.Validate(r.Context(), h.DB(), h.keys, licensing.Check{Key: req.Key, Fingerprint: req.Fingerprint,
		Product: req.Product, Entitlements: req.Entitlements, Version: req.Version}, h.Clock().Now())
	h.valid.count(res.Code, err)
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	return h.answer(w, r, res, nonce, "")
}

func (h *handler) activate(w http.ResponseWriter, r *http.Request) error {
	var req activateRequest
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "fingerprint", "The fingerprint", maxFingerprint, &req.Fingerprint)
		required(p, "fingerprint", req.Fingerprint)
		text(p, "hostname", "The host name", maxHostname, &req.Hostname)
		text(p, "platform", "The platform", maxPlatform, &req.Platform)
	})
	if !ok {
		return err
	}
	// Every activation counts, per network and, for a key that is ours,
	// per license.
	// The key is verified once, here, for both.
	checks := []web.LimitCheck{h.Bucket(ActivationsPerNetwork, "api:activate:net", web.Network(r))}
	window := ActivationsPerNetwork.Window
	key := licensing.ReadKey(h.keys, req.Key)
	if lic, ok := key.License(); ok {
		checks = append(checks, h.Bucket(ActivationsPerLicense, "api:activate:lic", lic))
	}
	allowed, err := h.Allow(r, checks...)
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	if !allowed {
		return h.limited(w, r, window, nonce)
	}
	now := h.Clock().Now()
	res, err := licensing.ActivateKey(r.Context(), h.DB(), key,
		licensing.MachineInfo{Fingerprint: req.Fingerprint, Hostname: req.Hostname, Platform: req.Platform}, now)
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	if res.License != nil && res.Machine != nil {
		// For the fraud signals: a queued row, off the request path. A
		// machine activated at this moment took a new seat.
		h.observer.Activation(now, web.ClientIP(r), res.License.ID, res.License.CustomerID, res.Machine.Fingerprint, res.Machine.ActivatedAt.Equal(now.UTC()))
	}
	return h.answer(w, r, res, nonce, "")
}

func (h *handler) deactivate(w http.ResponseWriter, r *http.Request) error {
	var req deactivateRequest
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "fingerprint", "The fingerprint", maxFingerprint, &req.Fingerprint)
		required(p, "fingerprint", req.Fingerprint)
	})
	if !ok {
		return err
	}
	res, err := licensing.Deactivate(r.Context(), h.DB(), h.keys, req.Key, req.Fingerprint, h.Clock().Now())
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	res.Machine = nil // the seat is free: the answer names the license only
	return h.answer(w, r, res, nonce, "")
}

func (h *handler) checkIn(w http.ResponseWriter, r *http.Request) error {
	var req checkInRequest
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "fingerprint", "The fingerprint", maxFingerprint, &req.Fingerprint)
		required(p, "fingerprint", req.Fingerprint)
		versionText(p, &req.Version)
	})
	if !ok {
		return err
	}
	now := h.Clock().Now()
	res, err := licensing.CheckIn(r.Context(), h.DB(), h.keys, req.Key, req.Fingerprint, req.Version, now)
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	if res.License != nil && res.Machine != nil {
		h.observer.CheckIn(now, web.ClientIP(r), res.License.ID, res.License.CustomerID, res.Machine.Fingerprint)
	}
	return h.answer(w, r, res, nonce, "")
}

func (h *handler) file(w http.ResponseWriter, r *http.Request) error {
	var req fileRequest
	nonce, ok, err := h.read(w, r, &req, func(p *[]error) {
		text(p, "fingerprint", "The fingerprint", maxFingerprint, &req.Fingerprint)
	})
	if !ok {
		return err
	}
	file, res, err := licensing.File(r.Context(), h.DB(), h.keys, req.Key, req.Fingerprint, h.Clock().Now())
	if err != nil {
		return h.domainError(w, r, err, nonce)
	}
	res.Machine = nil
	return h.answer(w, r, res, nonce, string(file))
}

// versionText checks the installed version a request reports
// (licensing.CheckVersion).
func versionText(p *[]error, v *string) {
	out, err := licensing.CheckVersion(*v)
	if err != nil {
		*p = append(*p, bad("%s", licensing.ErrVersion.Msg))
		return
	}
	*v = out
}
