package licensetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// Server is a fake license API (docs/license-format.md) on an httptest server: every answer
// is signed with the issuer's key, the nonce is echoed, replays of a nonce are refused.
type Server struct {
	*httptest.Server
	Issuer *Issuer

	// FileLifetime is the fexp of the files it makes, after fiat (30 days if 0).
	FileLifetime time.Duration
	// Tamper, if set, may change an answer after it was signed (tests of a hostile network).
	Tamper func(status *int, h http.Header, body *[]byte)

	mu          sync.Mutex
	now         func() time.Time
	licenses    map[string]*fakeLicense // by license id
	nonces      map[string]bool
	rateLimited time.Duration
	requests    []Request
}

// Request is a request the server received, for assertions.
type Request struct {
	Path string
	Body map[string]any
}

type fakeLicense struct {
	spec     Spec
	key      string
	state    license.State
	grace    time.Time
	machines map[string]*fakeMachine
	order    []string
}

type fakeMachine struct {
	id          int64
	fingerprint string
	hostname    string
	activated   time.Time
	checkIn     time.Time
}

// NewServer starts a fake server signing with TestKey(0), its clock time.Now. Close it when
// done (or use NewTestServer).
func NewServer() *Server { return NewServerWith(NewIssuer()) }

// NewServerWith starts a fake server for the issuer.
func NewServerWith(i *Issuer) *Server {
	s := &Server{
		Issuer:   i,
		now:      time.Now,
		licenses: make(map[string]*fakeLicense),
		nonces:   make(map[string]bool),
	}
	s.Server = httptest.NewServer(s)
	return s
}

// NewTestServer starts a fake server closed when the test ends.
func NewTestServer(t interface{ Cleanup(func()) }) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

// SetClock sets the server's clock (the same injected clock as the product's, usually).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Client returns an SDK client for this server with the given clock (time.Now if nil).
func (s *Server) Client(now func() time.Time) *license.Client {
	c := license.NewClient(s.URL, s.Issuer.Verifier())
	c.HTTPClient = s.Server.Client()
	c.HTTPClient.Timeout = 10 * time.Second
	c.HTTPClient.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.Now = now
	return c
}

// Issue registers a license and returns its key.
func (s *Server) Issue(spec Spec) string {
	if spec.ID == "" {
		spec.ID = spec.id()
	}
	key := s.Issuer.Key(spec)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.licenses[spec.ID] = &fakeLicense{spec: spec, key: key, state: license.StateActive, machines: map[string]*fakeMachine{}}
	return key
}

func (s *Server) with(key string, f func(l *fakeLicense)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.licenses {
		if l.key == key {
			f(l)
			return
		}
	}
	panic("licensetest: no license for that key")
}

// SetState sets a license's state (active, suspended, revoked; expired and in_grace follow
// from the expiry and grace end and the clock, but may be set too).
func (s *Server) SetState(key string, st license.State) {
	s.with(key, func(l *fakeLicense) { l.state = st })
}

// SetExpiry sets a license's expiry (zero: perpetual) and grace end (zero: none), as a
// renewal or an extension would.
func (s *Server) SetExpiry(key string, exp, grace time.Time) {
	s.with(key, func(l *fakeLicense) { l.spec.ExpiresAt, l.grace = exp, grace })
}

// SetMachineLimit sets a license's machine limit (0: unlimited).
func (s *Server) SetMachineLimit(key string, n int) {
	s.with(key, func(l *fakeLicense) { l.spec.MaxMachines = n })
}

// Machines returns the fingerprints holding a seat of the license.
func (s *Server) Machines(key string) []string {
	var out []string
	s.with(key, func(l *fakeLicense) {
		for _, fp := range l.order {
			if _, ok := l.machines[fp]; ok {
				out = append(out, fp)
			}
		}
	})
	return out
}

// SetRateLimited makes every request answer 429 RATE_LIMITED with the Retry-After (0: off).
func (s *Server) SetRateLimited(retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimited = retryAfter
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type answer struct {
	Code    license.Code  `json:"code"`
	Message string        `json:"message"`
	Nonce   string        `json:"nonce"`
	License *licenseState `json:"license,omitempty"`
	Machine *machineState `json:"machine,omitempty"`
	File    string        `json:"file,omitempty"`
}

type licenseState struct {
	V     int           `json:"v"`
	Kid   string        `json:"kid"`
	Lic   string        `json:"lic"`
	Prd   string        `json:"prd"`
	Ed    string        `json:"ed"`
	Ent   []string      `json:"ent"`
	Iat   int64         `json:"iat"`
	Exp   int64         `json:"exp"`
	Upd   int64         `json:"upd"`
	Max   int           `json:"max"`
	St    license.State `json:"st"`
	Grace int64         `json:"grace"`
}

type machineState struct {
	ID          int64 `json:"id"`
	ActivatedAt int64 `json:"activated_at"`
	LastCheckIn int64 `json:"last_check_in"`
}

type request struct {
	Key          string   `json:"key"`
	Fingerprint  string   `json:"fingerprint"`
	Product      string   `json:"product"`
	Entitlements []string `json:"entitlements"`
	Hostname     string   `json:"hostname"`
	Platform     string   `json:"platform"`
	Version      string   `json:"version"`
	Nonce        string   `json:"nonce"`
}

// allowed members per endpoint; others are refused (BAD_REQUEST).
var endpoints = map[string][]string{
	"/api/v1/licenses/validate":   {"key", "fingerprint", "product", "entitlements", "nonce"},
	"/api/v1/machines/activate":   {"key", "fingerprint", "hostname", "platform", "nonce"},
	"/api/v1/machines/deactivate": {"key", "fingerprint", "nonce"},
	"/api/v1/machines/check-in":   {"key", "fingerprint", "version", "nonce"},
	"/api/v1/licenses/file":       {"key", "fingerprint", "nonce"},
}

// ServeHTTP answers the license API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/.well-known/storekeep-license-keys.json" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.Issuer.KeySetJSON())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	status, a := s.answer(r, now)
	body, _ := json.Marshal(a)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		h.Set("Retry-After", strconv.Itoa(int(s.rateLimited.Seconds())))
	}
	if err := httpsig.SignResponse(h, status, body, a.Nonce, now.UTC().Format(http.TimeFormat), now.Unix(), s.Issuer.KeyID(), s.Issuer.Signer); err != nil {
		panic(err)
	}
	if s.Tamper != nil {
		s.Tamper(&status, h, &body)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func bad(msg string) (int, answer) {
	return http.StatusBadRequest, answer{Code: license.CodeBadRequest, Message: msg}
}

func (s *Server) answer(r *http.Request, now time.Time) (int, answer) {
	allowed, ok := endpoints[r.URL.Path]
	if !ok {
		return http.StatusNotFound, answer{Code: license.CodeBadRequest, Message: "no such endpoint"}
	}
	if s.rateLimited > 0 {
		return http.StatusTooManyRequests, answer{Code: license.CodeRateLimited, Message: "too many requests"}
	}
	if r.Method != http.MethodPost {
		return bad("POST only")
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 16<<10+1))
	if err != nil || len(raw) > 16<<10 {
		return bad("body larger than 16 KiB")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return bad("body is not a JSON object")
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return bad("body: " + err.Error())
	}
	generic := map[string]any{}
	_ = json.Unmarshal(raw, &generic)
	s.requests = append(s.requests, Request{Path: r.URL.Path, Body: generic})
	for name := range members {
		if !slices.Contains(allowed, name) {
			return bad("unknown member " + name)
		}
	}
	if n := len(req.Nonce); n < 16 || n > 128 || strings.ContainsAny(req.Nonce, "\r\n\x00") {
		return bad("nonce must be 16 to 128 characters")
	}
	if s.nonces[req.Nonce] {
		return http.StatusBadRequest, answer{Code: license.CodeBadRequest, Message: "nonce already used", Nonce: req.Nonce}
	}
	s.nonces[req.Nonce] = true
	a := answer{Nonce: req.Nonce}
	code, msg, l := s.judge(req, now)
	a.Code, a.Message = code, msg
	if l != nil {
		a.License = s.stateOf(l, now)
	}
	if code != license.CodeValid && code != license.CodeInGrace {
		return http.StatusOK, a
	}
	switch r.URL.Path {
	case "/api/v1/licenses/validate":
		if req.Fingerprint != "" {
			m, ok := l.machines[req.Fingerprint]
			if !ok {
				a.Code, a.Message = license.CodeNotActivated, "this machine holds no seat"
				return http.StatusOK, a
			}
			a.Machine = machineOf(m)
		}
	case "/api/v1/machines/activate":
		if req.Fingerprint == "" {
			return bad("fingerprint required")
		}
		m, ok := l.machines[req.Fingerprint]
		if !ok {
			if l.spec.MaxMachines > 0 && len(l.machines) >= l.spec.MaxMachines {
				a.Code, a.Message = license.CodeTooManyMachines, fmt.Sprintf("all %d seats are taken", l.spec.MaxMachines)
				return http.StatusOK, a
			}
			m = &fakeMachine{id: int64(len(l.order) + 1), fingerprint: req.Fingerprint, hostname: req.Hostname, activated: now, checkIn: now}
			l.machines[req.Fingerprint] = m
			l.order = append(l.order, req.Fingerprint)
		}
		a.Machine = machineOf(m)
	case "/api/v1/machines/deactivate", "/api/v1/machines/check-in":
		m, ok := l.machines[req.Fingerprint]
		if !ok {
			a.Code, a.Message = license.CodeNotActivated, "this machine holds no seat"
			return http.StatusOK, a
		}
		if strings.HasSuffix(r.URL.Path, "deactivate") {
			delete(l.machines, req.Fingerprint)
		} else {
			m.checkIn = now
			a.Machine = machineOf(m)
		}
	case "/api/v1/licenses/file":
		if req.Fingerprint != "" && l.spec.MaxMachines > 0 {
			if _, ok := l.machines[req.Fingerprint]; !ok {
				a.Code, a.Message = license.CodeNotActivated, "this machine holds no seat"
				return http.StatusOK, a
			}
		}
		life := s.FileLifetime
		if life == 0 {
			life = 30 * 24 * time.Hour
		}
		st := s.stateOf(l, now).St
		a.File = string(s.Issuer.File(FileSpec{
			Key: l.key, License: l.spec, State: st, GraceUntil: l.grace,
			IssuedAt: now, ExpiresAt: now.Add(life), Fingerprint: req.Fingerprint,
		}))
	}
	return http.StatusOK, a
}

func machineOf(m *fakeMachine) *machineState {
	return &machineState{ID: m.id, ActivatedAt: m.activated.Unix(), LastCheckIn: m.checkIn.Unix()}
}

// judge finds the license and its code.
func (s *Server) judge(req request, now time.Time) (license.Code, string, *fakeLicense) {
	lic, err := s.Issuer.Verifier().VerifyKey(req.Key)
	if err != nil {
		var e *license.Error
		if errors.As(err, &e) {
			return e.Code, e.Message, nil
		}
		return license.CodeInvalidKey, err.Error(), nil
	}
	l, ok := s.licenses[lic.ID]
	if !ok || l.key != strings.TrimSpace(req.Key) {
		return license.CodeNotFound, "no such license", nil
	}
	st := s.stateOf(l, now).St
	switch st {
	case license.StateSuspended:
		return license.CodeSuspended, "license suspended", l
	case license.StateRevoked:
		return license.CodeRevoked, "license revoked", l
	case license.StateExpired:
		return license.CodeExpired, "license expired", l
	}
	if req.Product != "" && req.Product != l.spec.Product {
		return license.CodeWrongProduct, "license is for " + l.spec.Product, l
	}
	for _, e := range req.Entitlements {
		if !slices.Contains(l.spec.Entitlements, e) {
			return license.CodeEntitlementsMissing, "license lacks " + e, l
		}
	}
	if st == license.StateInGrace {
		return license.CodeInGrace, "license expired; in grace until " + l.grace.UTC().Format(time.RFC3339), l
	}
	return license.CodeValid, "license valid", l
}

func (s *Server) stateOf(l *fakeLicense, now time.Time) *licenseState {
	st := l.state
	if st == license.StateActive && !l.spec.ExpiresAt.IsZero() && now.Unix() > l.spec.ExpiresAt.Unix() {
		st = license.StateExpired
		if !l.grace.IsZero() && now.Unix() <= l.grace.Unix() {
			st = license.StateInGrace
		}
	}
	ent := append([]string{}, l.spec.Entitlements...)
	slices.Sort(ent)
	return &licenseState{
		V: 1, Kid: s.Issuer.KeyID(), Lic: l.spec.ID, Prd: l.spec.Product, Ed: l.spec.Edition, Ent: ent,
		Iat: unix(l.spec.IssuedAt), Exp: unix(l.spec.ExpiresAt), Upd: unix(l.spec.UpdatesUntil),
		Max: l.spec.MaxMachines, St: st, Grace: unix(l.grace),
	}
}
