package license_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/httpsig"
	"github.com/storekeep/storekeep/sdk/go/licensetest"
)

// clock is an injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func setup(t *testing.T) (*licensetest.Server, *license.Client, *clock, string) {
	t.Helper()
	clk := &clock{t: t0}
	srv := licensetest.NewTestServer(t)
	srv.SetClock(clk.Now)
	key := srv.Issue(baseSpec)
	return srv, srv.Client(clk.Now), clk, key
}

var ctx = context.Background()

func TestClientFlow(t *testing.T) {
	srv, c, clk, key := setup(t)
	r, err := c.Validate(ctx, license.ValidateRequest{Key: key, Product: "example-milter", Entitlements: []string{"dkim"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != license.CodeValid || r.License == nil || r.License.ID != baseSpec.ID || r.License.State != license.StateActive ||
		!r.License.ExpiresAt.Equal(baseSpec.ExpiresAt) || r.SignedBy != srv.Issuer.KeyID() || !r.SignedAt.Equal(t0) || r.HTTPStatus != 200 {
		t.Fatalf("%+v %+v", r, r.License)
	}
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key, Product: "other"}); license.CodeOf(err) != license.CodeWrongProduct {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key, Entitlements: []string{"spam"}}); license.CodeOf(err) != license.CodeEntitlementsMissing {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key, Fingerprint: "fp-1"}); license.CodeOf(err) != license.CodeNotActivated {
		t.Fatal(err)
	}
	// Machine limit 3: the fourth machine is refused, a known one is idempotent.
	for i, fp := range []string{"fp-1", "fp-2", "fp-3", "fp-1"} {
		r, err := c.Activate(ctx, license.ActivateRequest{Key: key, Fingerprint: fp, Hostname: "mx" + fp, Platform: "linux/amd64"})
		if err != nil || r.Machine == nil || r.Machine.ID == "" || !r.Machine.ActivatedAt.Equal(t0) {
			t.Fatalf("activation %d: %v %+v", i, err, r)
		}
	}
	r, err = c.Activate(ctx, license.ActivateRequest{Key: key, Fingerprint: "fp-4"})
	if license.CodeOf(err) != license.CodeTooManyMachines || r == nil || r.Code != license.CodeTooManyMachines {
		t.Fatal(err)
	}
	if got := srv.Machines(key); len(got) != 3 {
		t.Fatal(got)
	}
	clk.Add(time.Hour)
	r, err = c.CheckIn(ctx, license.CheckInRequest{Key: key, Fingerprint: "fp-2", Version: "1.2.3"})
	if err != nil || !r.Machine.LastCheckIn.Equal(t0.Add(time.Hour)) {
		t.Fatal(err, r)
	}
	if _, err := c.Deactivate(ctx, license.DeactivateRequest{Key: key, Fingerprint: "fp-2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckIn(ctx, license.CheckInRequest{Key: key, Fingerprint: "fp-2"}); license.CodeOf(err) != license.CodeNotActivated {
		t.Fatal(err)
	}
	if _, err := c.Activate(ctx, license.ActivateRequest{Key: key, Fingerprint: "fp-4"}); err != nil {
		t.Fatal(err)
	}
	srv.SetMachineLimit(key, 0)
	if _, err := c.Activate(ctx, license.ActivateRequest{Key: key, Fingerprint: "fp-5"}); err != nil {
		t.Fatal(err)
	}
	// A license file for this machine verifies offline.
	r, err = c.File(ctx, license.FileRequest{Key: key, Fingerprint: "fp-1"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := c.Verifier.VerifyFile([]byte(r.File), "fp-1", clk.Now())
	if err != nil || l.ID != baseSpec.ID || l.FingerprintSHA256 != license.FingerprintHash("fp-1") {
		t.Fatal(l, err)
	}
	// Every request had its own nonce, of the allowed length, and only known members.
	seen := map[string]bool{}
	for _, q := range srv.Requests() {
		n, _ := q.Body["nonce"].(string)
		if len(n) < 16 || len(n) > 128 || seen[n] {
			t.Fatalf("nonce %q", n)
		}
		seen[n] = true
	}
}

func TestClientStates(t *testing.T) {
	srv, c, clk, key := setup(t)
	srv.SetState(key, license.StateSuspended)
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); license.CodeOf(err) != license.CodeSuspended {
		t.Fatal(err)
	}
	srv.SetState(key, license.StateRevoked)
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); license.CodeOf(err) != license.CodeRevoked {
		t.Fatal(err)
	}
	srv.SetState(key, license.StateActive)
	srv.SetExpiry(key, t0.AddDate(0, 0, 1), t0.AddDate(0, 0, 8))
	clk.Add(48 * time.Hour)
	r, err := c.Validate(ctx, license.ValidateRequest{Key: key})
	if err != nil || r.Code != license.CodeInGrace || r.License.State != license.StateInGrace || !r.License.GraceUntil.Equal(t0.AddDate(0, 0, 8)) {
		t.Fatal(err, r)
	}
	clk.Add(7 * 24 * time.Hour)
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); license.CodeOf(err) != license.CodeExpired {
		t.Fatal(err)
	}
	// Keys the server does not know, or cannot read.
	other := srv.Issuer.Key(licensetest.Spec{ID: "lic_UNKNOWN", Product: "p", Edition: "e", IssuedAt: t0})
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: other}); license.CodeOf(err) != license.CodeNotFound {
		t.Fatal(err)
	}
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: "SK1.garbage.x"}); license.CodeOf(err) != license.CodeInvalidKey {
		t.Fatal(err)
	}
	srv.SetRateLimited(30 * time.Second)
	_, err = c.Validate(ctx, license.ValidateRequest{Key: key})
	var e *license.Error
	if !errorsAs(err, &e) || e.Code != license.CodeRateLimited || e.RetryAfter != 30*time.Second || e.HTTPStatus != 429 {
		t.Fatal(err)
	}
}

// hostile runs one call against a server whose answers are changed by tamper after signing.
func hostile(t *testing.T, tamper func(status *int, h http.Header, body *[]byte)) error {
	t.Helper()
	srv, c, _, key := setup(t)
	srv.Tamper = tamper
	_, err := c.Validate(ctx, license.ValidateRequest{Key: key})
	return err
}

func TestClientRefusesTamperedAnswers(t *testing.T) {
	other := licensetest.TestKey(7)
	var captured struct {
		status int
		h      http.Header
		body   []byte
	}
	cases := map[string]struct {
		tamper func(status *int, h http.Header, body *[]byte)
		code   license.Code
	}{
		"body changed": {func(s *int, h http.Header, b *[]byte) {
			*b = bytes.Replace(*b, []byte("VALID"), []byte("VALIX"), 1)
		}, license.CodeUnverifiedResponse},
		"body and digest changed": {func(s *int, h http.Header, b *[]byte) {
			*b = bytes.Replace(*b, []byte(`"st":"active"`), []byte(`"st":"revoked"`), 1)
			h.Set("Content-Digest", httpsig.ContentDigest(*b))
		}, license.CodeUnverifiedResponse},
		"status changed": {func(s *int, h http.Header, b *[]byte) { *s = 201 }, license.CodeUnverifiedResponse},
		"no signature":   {func(s *int, h http.Header, b *[]byte) { h.Del("Signature") }, license.CodeUnverifiedResponse},
		"no input":       {func(s *int, h http.Header, b *[]byte) { h.Del("Signature-Input") }, license.CodeUnverifiedResponse},
		"no digest":      {func(s *int, h http.Header, b *[]byte) { h.Del("Content-Digest") }, license.CodeUnverifiedResponse},
		"date changed":   {func(s *int, h http.Header, b *[]byte) { h.Set("Date", "Mon, 30 Nov 2026 08:00:00 GMT") }, license.CodeUnverifiedResponse},
		"garbage headers": {func(s *int, h http.Header, b *[]byte) {
			h.Set("Signature-Input", "sk=(\"@status\"")
			h.Set("Signature", "sk=:@@:")
		}, license.CodeUnverifiedResponse},
		"other signer": {func(s *int, h http.Header, b *[]byte) {
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(other).KeyID, other)
		}, license.CodeUnverifiedResponse},
		"other signer claiming our kid": {func(s *int, h http.Header, b *[]byte) {
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, other)
		}, license.CodeUnverifiedResponse},
		"nonce replaced, re-signed by us": {func(s *int, h http.Header, b *[]byte) {
			// A validly signed answer to a different request: the nonce does not match.
			var m map[string]any
			json.Unmarshal(*b, &m)
			m["nonce"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			*b, _ = json.Marshal(m)
			httpsig.SignResponse(h, *s, *b, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnverifiedResponse},
		"body nonce differs": {func(s *int, h http.Header, b *[]byte) {
			var m map[string]any
			json.Unmarshal(*b, &m)
			m["nonce"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			*b, _ = json.Marshal(m)
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnverifiedResponse},
		"empty nonce on 200": {func(s *int, h http.Header, b *[]byte) {
			var m map[string]any
			json.Unmarshal(*b, &m)
			m["nonce"] = ""
			*b, _ = json.Marshal(m)
			httpsig.SignResponse(h, *s, *b, "", h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnverifiedResponse},
		"created 6 minutes ago": {func(s *int, h http.Header, b *[]byte) {
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Add(-6*time.Minute).Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeClockSkew},
		"created 6 minutes ahead": {func(s *int, h http.Header, b *[]byte) {
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Add(6*time.Minute).Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeClockSkew},
		"huge body": {func(s *int, h http.Header, b *[]byte) {
			*b = bytes.Repeat([]byte("x"), 3<<20)
			h.Set("Content-Digest", httpsig.ContentDigest(*b))
		}, license.CodeUnverifiedResponse},
		"signed garbage body": {func(s *int, h http.Header, b *[]byte) {
			*b = []byte("<html>hello</html>")
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnverifiedResponse},
		"VALID on 500": {func(s *int, h http.Header, b *[]byte) {
			*s = 500
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnverifiedResponse},
		"signed 500 INTERNAL": {func(s *int, h http.Header, b *[]byte) {
			*s = 500
			*b = []byte(`{"code":"INTERNAL","message":"oops","nonce":"` + h.Get(httpsig.NonceHeader) + `"}`)
			httpsig.SignResponse(h, *s, *b, h.Get(httpsig.NonceHeader), h.Get("Date"), t0.Unix(), licensetest.PublicKeyOf(licensetest.TestKey(0)).KeyID, licensetest.TestKey(0))
		}, license.CodeUnavailable},
		"unsigned 502": {func(s *int, h http.Header, b *[]byte) {
			*s = 502
			*b = []byte("Bad Gateway")
			for k := range h {
				h.Del(k)
			}
		}, license.CodeUnavailable},
		"redirect": {func(s *int, h http.Header, b *[]byte) {
			*s = 307
			h.Set("Location", "https://evil.example/")
		}, license.CodeUnavailable},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := hostile(t, c.tamper); license.CodeOf(err) != c.code {
				t.Fatalf("got %v, want %s", err, c.code)
			}
		})
	}
	// A captured answer replayed to a later request is refused: its nonce is the old one.
	t.Run("replay", func(t *testing.T) {
		srv, c, _, key := setup(t)
		srv.Tamper = func(s *int, h http.Header, b *[]byte) {
			if captured.h == nil {
				captured.status, captured.h, captured.body = *s, h.Clone(), append([]byte{}, *b...)
				return
			}
			*s, *b = captured.status, captured.body
			for k := range h {
				h.Del(k)
			}
			for k, v := range captured.h {
				h[k] = v
			}
		}
		if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); license.CodeOf(err) != license.CodeUnverifiedResponse {
			t.Fatal(err)
		}
	})
}

func TestClientTimeoutAndUnreachable(t *testing.T) {
	block := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-block:
		}
	}))
	c := license.NewClient(hang.URL, licensetest.NewIssuer().Verifier())
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.Validate(cctx, license.ValidateRequest{Key: "k"}); license.CodeOf(err) != license.CodeUnavailable || !strings.Contains(err.Error(), "timed out") {
		t.Fatal(err)
	}
	close(block)
	hang.Close()
	if _, err := c.Validate(ctx, license.ValidateRequest{Key: "k"}); license.CodeOf(err) != license.CodeUnavailable {
		t.Fatal(err)
	}
	if _, err := (&license.Client{BaseURL: hang.URL}).Validate(ctx, license.ValidateRequest{Key: "k"}); license.CodeOf(err) != license.CodeUnverifiedResponse {
		t.Fatal("a client without a verifier must not trust anything", err)
	}
}

// TestClientBaseURL: the site URL with or without /api/v1 reaches the same endpoints.
func TestClientBaseURL(t *testing.T) {
	srv, _, clk, key := setup(t)
	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/api/v1", srv.URL + "/api/v1/"} {
		c := srv.Client(clk.Now)
		c.BaseURL = base
		if _, err := c.Validate(ctx, license.ValidateRequest{Key: key}); err != nil {
			t.Fatal(base, err)
		}
	}
}

func TestWellKnownFromFake(t *testing.T) {
	srv, _, _, key := setup(t)
	resp, err := srv.Server.Client().Get(srv.URL + "/.well-known/storekeep-license-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	v, err := license.NewVerifierFromJSON(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyKey(key); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.PublicKey(srv.Issuer.KeyID()); !ok {
		t.Fatal("kid")
	}
	_ = ed25519.PublicKeySize
}

func TestAnswerTypesTolerant(t *testing.T) {
	var m license.Machine
	if err := json.Unmarshal([]byte(`{"id":42,"activated_at":1796112000,"last_check_in":0}`), &m); err != nil || m.ID != "42" || !m.ActivatedAt.Equal(t0) || !m.LastCheckIn.IsZero() {
		t.Fatal(m, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"mch_1","activated_at":"2026-12-01T08:00:00Z","last_check_in":null}`), &m); err != nil || m.ID != "mch_1" || !m.ActivatedAt.Equal(t0) {
		t.Fatal(m, err)
	}
	if err := json.Unmarshal([]byte(`{"activated_at":1.5}`), &m); err == nil {
		t.Fatal("a fraction was read as a time")
	}
}
