package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/web"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// Codes of answers that are not a license's: the request could not be
// read, was over a rate limit, or failed on our side.
const (
	codeBadRequest  = licensing.CodeBadRequest
	codeRateLimited = licensing.CodeRateLimited
	// codeInternal is a failure of ours (500).
	codeInternal licensing.Code = "INTERNAL_ERROR"
)

// msgNoEndpoint answers an address where the API has nothing.
const msgNoEndpoint = "There is no API endpoint at this address: see /api/v1/openapi.json."

const msgInternal = "Something went wrong on our side and the request could not be answered. Please try again in a few minutes."

// answer is the body of every answer of the five license endpoints.
type answer struct {
	Code    licensing.Code `json:"code"`
	Message string         `json:"message"`
	Nonce   string         `json:"nonce"`
	License *license       `json:"license,omitempty"`
	Machine *machine       `json:"machine,omitempty"`
	File    string         `json:"file,omitempty"`
}

// license is a license as the API tells it: the members of the key's
// payload (docs/license-format.md) with the server's current expiry and
// machine limit, and, as a license file says them, the state (st) and the
// end of the grace period (grace). Times are Unix seconds; 0 is none.
type license struct {
	V            int             `json:"v"`
	KID          string          `json:"kid"`
	License      string          `json:"lic"`
	Product      string          `json:"prd"`
	Edition      string          `json:"ed"`
	Entitlements []string        `json:"ent"`
	IssuedAt     int64           `json:"iat"`
	Expires      int64           `json:"exp"`
	UpdatesUntil int64           `json:"upd"`
	MaxMachines  int             `json:"max"`
	State        licensing.State `json:"st"`
	Grace        int64           `json:"grace"`
}

// machine is the seat a request named.
type machine struct {
	ID          int64 `json:"id"`
	ActivatedAt int64 `json:"activated_at"`
	LastCheckIn int64 `json:"last_check_in"` // 0 before the first
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func licenseOf(l *licensing.License) *license {
	if l == nil {
		return nil
	}
	ent := l.Entitlements
	if ent == nil {
		ent = []string{}
	}
	return &license{
		V: licensing.FormatVersion, KID: l.KID, License: l.LicenseID, Product: l.Product, Edition: l.Edition,
		Entitlements: ent, IssuedAt: unix(l.IssuedAt), Expires: unix(l.ExpiresAt),
		UpdatesUntil: unix(l.UpdatesUntil), MaxMachines: l.MaxMachines, State: l.State, Grace: unix(l.GraceEndsAt),
	}
}

func machineOf(m *licensing.Machine) *machine {
	if m == nil {
		return nil
	}
	return &machine{ID: m.ID, ActivatedAt: unix(m.ActivatedAt), LastCheckIn: unix(m.LastCheckIn)}
}

// statusOf is the HTTP status of a code: a license's own state is 200
// whatever it says; only a request that cannot be answered is not.
func statusOf(c licensing.Code) int {
	switch c {
	case codeBadRequest:
		return http.StatusBadRequest
	case codeRateLimited:
		return http.StatusTooManyRequests
	case codeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusOK
}

// reply writes a as the answer, with status from its code.
func (h *handler) reply(w http.ResponseWriter, r *http.Request, a answer) error {
	if a.Message == "" {
		a.Message = licensing.Message(a.Code)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return h.write(w, r, statusOf(a.Code), body, a.Nonce)
}

// fail writes an answer that is not a license's, with its own status.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, c licensing.Code, msg, nonce string) error {
	body, err := json.Marshal(answer{Code: c, Message: msg, Nonce: nonce})
	if err != nil {
		return err
	}
	return h.write(w, r, status, body, nonce)
}

// limited answers 429 with Retry-After: the seconds until the window of
// lim ends.
func (h *handler) limited(w http.ResponseWriter, r *http.Request, window time.Duration, nonce string) error {
	now := h.Clock().Now()
	left := now.UTC().Truncate(window).Add(window).Sub(now)
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(left.Seconds())))))
	return h.fail(w, r, http.StatusTooManyRequests, codeRateLimited,
		"Too many requests of this kind from this network or for this license: try again after the time in Retry-After.", nonce)
}

// write sends body with status, signed: Content-Digest, Date,
// Storekeep-Nonce, Signature-Input and Signature (httpsig), never cached.
func (h *handler) write(w http.ResponseWriter, r *http.Request, status int, body []byte, nonce string) error {
	hd := w.Header()
	hd.Del("Content-Length")
	hd.Del("Content-Disposition")
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	s, now := h.keys.Signer(), h.Clock().Now()
	if strings.ContainsAny(nonce, "\r\n") {
		return errors.New("api: the nonce holds a line break")
	}
	// The SDK's implementation of RFC 9421 signs here too: one code for
	// both ends of the signature.
	if err := httpsig.SignResponse(hd, status, body, nonce, now.UTC().Format(http.TimeFormat), now.Unix(), s.KID, s.Priv); err != nil {
		return err
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
	return nil
}

// coreError answers, signed, the errors the core found for a request under
// the prefix (the router's, a refused cross-site request, a form that
// cannot be read, a panic, an error a handler returned). The nonce is not
// known there: the answer carries an empty one.
func (h *handler) coreError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	code := codeBadRequest
	switch {
	case status == http.StatusNotFound && msg == web.MsgNotFound:
		msg = msgNoEndpoint // the site's words speak of pages
	case status == http.StatusNotFound, status == http.StatusMethodNotAllowed, status == http.StatusForbidden:
	case status == http.StatusTooManyRequests:
		code = codeRateLimited
	case status >= 500:
		code, status = codeInternal, http.StatusInternalServerError
		msg = msgInternal
	default:
		status = http.StatusBadRequest // 413, 422: the body cannot be read
	}
	if err := h.fail(w, r, status, code, msg, ""); err != nil {
		h.Log().LogAttrs(r.Context(), slog.LevelError, "api error answer", slog.String("error", err.Error()))
		w.WriteHeader(http.StatusInternalServerError)
	}
}
