package license

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/storekeep/storekeep/sdk/go/httpsig"
)

// Defaults of the online client.
const (
	DefaultTimeout = 20 * time.Second
	// DefaultMaxResponseBytes caps the body the client reads; a larger answer is refused.
	DefaultMaxResponseBytes = 1 << 20
	// MaxSignatureAge is how far a signed answer's creation time may lie from the client's
	// clock, either way.
	MaxSignatureAge = 5 * time.Minute
)

// Client calls the license API (/api/v1) and trusts an answer only after verifying it: the
// Content-Digest against the body, the RFC 9421 signature against the embedded public keys,
// the echoed nonce against the one sent, and the signature's creation time against the
// clock. It is safe for concurrent use.
type Client struct {
	// BaseURL is the site, e.g. https://shop.example.com (a trailing /api/v1 is accepted).
	BaseURL  string
	Verifier *Verifier
	// HTTPClient, if nil, is a client with DefaultTimeout that follows no redirects.
	HTTPClient *http.Client
	// Now is the clock (time.Now if nil); Rand the nonce source (crypto/rand if nil).
	Now  func() time.Time
	Rand io.Reader
	// MaxResponseBytes caps the body read (DefaultMaxResponseBytes if 0).
	MaxResponseBytes int64
	UserAgent        string
}

// NewClient returns a client for the site at baseURL.
func NewClient(baseURL string, v *Verifier) *Client {
	return &Client{BaseURL: baseURL, Verifier: v}
}

var defaultHTTPClient = &http.Client{
	Timeout: DefaultTimeout,
	// A key is not sent to wherever a redirect points; a redirect is not an answer.
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport: func() http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxResponseHeaderBytes = 64 << 10
		return t
	}(),
}

// ValidateRequest asks whether a key is good, optionally for a machine, a product and
// entitlements (all must be held).
type ValidateRequest struct {
	Key          string   `json:"key"`
	Fingerprint  string   `json:"fingerprint,omitempty"`
	Product      string   `json:"product,omitempty"`
	Entitlements []string `json:"entitlements,omitempty"`
	// Version is the installed product version (optional, as in
	// CheckInRequest). Omitted when empty: a server older than the field
	// refuses members it does not know, so set it only against a server
	// that documents it in ValidateRequest.
	Version string `json:"version,omitempty"`
}

// ActivateRequest takes a seat for a machine.
type ActivateRequest struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	Hostname    string `json:"hostname,omitempty"`
	Platform    string `json:"platform,omitempty"`
}

// DeactivateRequest frees a machine's seat.
type DeactivateRequest struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
}

// CheckInRequest tells the server a machine is still in use.
type CheckInRequest struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	Version     string `json:"version,omitempty"`
}

// FileRequest asks for a license file, bound to the machine when Fingerprint is set.
type FileRequest struct {
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint,omitempty"`
}

// UpgradeRequest asks which release the product should install (Upgrade).
type UpgradeRequest struct {
	Key string `json:"key"`
	// Channel is "stable" (the default: stable releases only) or "beta"
	// (beta and stable releases).
	Channel string `json:"channel,omitempty"`
	// Version is the version installed now; empty asks for the newest.
	Version string `json:"version,omitempty"`
}

// Upgrade is the answer's upgrade member: the newest release the license
// covers on the channel, and a newer one it does not cover.
type Upgrade struct {
	// Available is true when Release is newer than the version sent.
	Available bool            `json:"available"`
	Release   *UpgradeRelease `json:"release"`
	// Beyond is a newer release published after the license's updates
	// ended: tell the user why and where to renew.
	Beyond *BeyondRelease `json:"beyond"`
}

// UpgradeRelease is a release the license may install.
type UpgradeRelease struct {
	Version   string        `json:"version"`
	Channel   string        `json:"channel"`
	Published Time          `json:"published"`
	Notes     string        `json:"notes"` // Markdown
	Files     []UpgradeFile `json:"files"`
	// Checksums is the release's signed SHA256SUMS, when published.
	Checksums *struct {
		Text      string `json:"text"`
		Signature string `json:"signature"`
	} `json:"checksums"`
}

// UpgradeFile is one file of a release. Verify what you download: its
// SHA-256, and its minisign Signature against the vendor's release key.
type UpgradeFile struct {
	Name      string `json:"name"`
	Platform  string `json:"platform"` // os/arch or "any"
	Kind      string `json:"kind"`     // tarball, deb, rpm, other
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
	Signature string `json:"signature"`
	URL       string `json:"url"` // signed, valid for a day; Range requests resume
}

// BeyondRelease is a release the license does not cover.
type BeyondRelease struct {
	Version   string `json:"version"`
	Published Time   `json:"published"`
	Reason    string `json:"reason"`
	RenewURL  string `json:"renew_url"`
}

// Response is a verified answer.
type Response struct {
	Code    Code          `json:"code"`
	Message string        `json:"message"`
	Nonce   string        `json:"nonce"`
	License *LicenseState `json:"license"`
	Machine *Machine      `json:"machine"`
	// File is the armoured license file (File only); check it with Verifier.VerifyFile.
	File string `json:"file"`
	// Upgrade is what to install (Upgrade only, when the license lets the product run).
	Upgrade *Upgrade `json:"upgrade"`

	HTTPStatus int       `json:"-"`
	SignedBy   string    `json:"-"` // the kid of the signature
	SignedAt   time.Time `json:"-"` // the signature's created
}

// LicenseState is the license in an answer: the payload's fields with the current expiry,
// state and grace end.
type LicenseState struct {
	Version      int      `json:"v"`
	KeyID        string   `json:"kid"`
	ID           string   `json:"lic"`
	Product      string   `json:"prd"`
	Edition      string   `json:"ed"`
	Entitlements []string `json:"ent"`
	IssuedAt     Time     `json:"iat"`
	ExpiresAt    Time     `json:"exp"`
	UpdatesUntil Time     `json:"upd"`
	MaxMachines  int      `json:"max"`
	State        State    `json:"st"`
	GraceUntil   Time     `json:"grace"`
}

// Machine is a machine in an answer.
type Machine struct {
	ID          MachineID `json:"id"`
	ActivatedAt Time      `json:"activated_at"`
	LastCheckIn Time      `json:"last_check_in"`
}

// MachineID is the server's opaque id of a machine: it writes a number; a string is read too.
type MachineID string

// UnmarshalJSON reads a JSON number or string.
func (m *MachineID) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*m = MachineID(s)
		return err
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*m = MachineID(n.String())
	return nil
}

// Time is a time in an answer: Unix seconds (0 or absent: none). An RFC 3339 string is
// accepted too.
type Time struct{ time.Time }

// UnmarshalJSON reads Unix seconds, null or an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case s == "null":
		t.Time = time.Time{}
		return nil
	case strings.HasPrefix(s, `"`):
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		if str == "" {
			t.Time = time.Time{}
			return nil
		}
		v, err := time.Parse(time.RFC3339, str)
		t.Time = v.UTC()
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("time %s: not Unix seconds", s)
	}
	t.Time = unix(n)
	return nil
}

// MarshalJSON writes Unix seconds (0 for none).
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("0"), nil
	}
	return strconv.AppendInt(nil, t.Unix(), 10), nil
}

// Validate asks whether a key is good. A verified answer other than VALID or IN_GRACE comes
// back with an *Error of its code (and the Response, for its message and license).
func (c *Client) Validate(ctx context.Context, r ValidateRequest) (*Response, error) {
	return c.call(ctx, "/licenses/validate", r)
}

// Activate takes a seat for a machine.
func (c *Client) Activate(ctx context.Context, r ActivateRequest) (*Response, error) {
	return c.call(ctx, "/machines/activate", r)
}

// Deactivate frees a machine's seat.
func (c *Client) Deactivate(ctx context.Context, r DeactivateRequest) (*Response, error) {
	return c.call(ctx, "/machines/deactivate", r)
}

// CheckIn tells the server the machine is in use.
func (c *Client) CheckIn(ctx context.Context, r CheckInRequest) (*Response, error) {
	return c.call(ctx, "/machines/check-in", r)
}

// File downloads a license file; Response.File holds it, to check with VerifyFile.
func (c *Client) File(ctx context.Context, r FileRequest) (*Response, error) {
	return c.call(ctx, "/licenses/file", r)
}

// Upgrade asks for the newest release the license may install on the channel. Like every
// answer it is verified (digest, signature, nonce, time) before it is returned; a license that
// does not let the product run comes back as an *Error of its code.
func (c *Client) Upgrade(ctx context.Context, r UpgradeRequest) (*Response, error) {
	return c.call(ctx, "/releases/upgrade", r)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// NewNonce returns a random nonce: 32 bytes from r as base64url, 43 characters.
func NewNonce(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (c *Client) endpoint(path string) string {
	base := strings.TrimRight(c.BaseURL, "/")
	base = strings.TrimSuffix(base, "/api/v1")
	return base + "/api/v1" + path
}

func (c *Client) call(ctx context.Context, path string, req any) (*Response, error) {
	if c.Verifier == nil {
		return nil, newError(CodeUnverifiedResponse, "client has no Verifier: no answer could be trusted")
	}
	nonce, err := NewNonce(c.Rand)
	if err != nil {
		return nil, wrapError(CodeUnavailable, "no randomness for the nonce", err)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, wrapError(CodeBadRequest, "request not encodable", err)
	}
	// Add the nonce as the last member of the object.
	body = append(body[:len(body)-1], `,"nonce":"`+nonce+`"}`...)
	if len(body) > 16<<10 {
		return nil, newError(CodeBadRequest, "request larger than 16 KiB")
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), bytes.NewReader(body))
	if err != nil {
		return nil, wrapError(CodeBadRequest, "bad base URL", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		hreq.Header.Set("User-Agent", c.UserAgent)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	hresp, err := hc.Do(hreq)
	if err != nil {
		msg := "license API unreachable"
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
			msg = "license API timed out"
		}
		return nil, wrapError(CodeUnavailable, msg, err)
	}
	defer hresp.Body.Close()
	return c.verify(hresp, nonce)
}

func (c *Client) verify(hresp *http.Response, nonce string) (*Response, error) {
	limit := c.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(hresp.Body, limit+1))
	if err != nil {
		return nil, wrapError(CodeUnavailable, "reading the answer", err)
	}
	if int64(len(body)) > limit {
		return nil, newError(CodeUnverifiedResponse, fmt.Sprintf("answer larger than %d bytes", limit))
	}
	unverified := func(msg string, err error) (*Response, error) {
		if hresp.StatusCode >= 500 || hresp.StatusCode >= 300 && hresp.StatusCode < 400 {
			// Proxies and load balancers answer 5xx unsigned; so does a misrouted request.
			return nil, wrapError(CodeUnavailable, fmt.Sprintf("HTTP %d, unsigned (%s)", hresp.StatusCode, msg), err)
		}
		return nil, wrapError(CodeUnverifiedResponse, fmt.Sprintf("HTTP %d: %s", hresp.StatusCode, msg), err)
	}
	sig, err := httpsig.VerifyResponse(hresp.StatusCode, hresp.Header, body, c.Verifier.PublicKey)
	if err != nil {
		return unverified("signature", err)
	}
	if exp, ok := sig.Params.Int("expires"); ok && c.now().Unix() > exp {
		return unverified("signature expired", nil)
	}
	created := time.Unix(sig.Created, 0)
	if d := c.now().Sub(created); d > MaxSignatureAge || d < -MaxSignatureAge {
		return nil, newError(CodeClockSkew, fmt.Sprintf("answer signed at %s, more than five minutes from this machine's clock (%s)",
			created.UTC().Format(time.RFC3339), c.now().UTC().Format(time.RFC3339)))
	}
	echoed := hresp.Header.Get(httpsig.NonceHeader)
	// An answer with an empty nonce can only be an error the server gave before it read the
	// request (rate limit, unreadable body): it cannot make the product trust anything.
	if echoed != nonce && !(echoed == "" && hresp.StatusCode >= 400) {
		return unverified("the nonce is not the one sent (a replayed answer?)", nil)
	}
	var r Response
	if err := json.Unmarshal(body, &r); err != nil {
		return unverified("the body is not the API's JSON", err)
	}
	if r.Nonce != echoed {
		return unverified("the body's nonce differs from the header's", nil)
	}
	if r.Code == "" {
		return unverified("the answer has no code", nil)
	}
	r.HTTPStatus = hresp.StatusCode
	r.SignedBy = sig.KeyID
	r.SignedAt = created.UTC()
	if hresp.StatusCode == http.StatusOK && (r.Code == CodeValid || r.Code == CodeInGrace) {
		return &r, nil
	}
	e := &Error{Code: r.Code, Message: r.Message, HTTPStatus: hresp.StatusCode}
	if e.Message == "" {
		e.Message = "the license API says " + string(r.Code)
	}
	if hresp.StatusCode >= 500 {
		// A server error says nothing about the license: no answer, try again later.
		e.Code, e.Message = CodeUnavailable, fmt.Sprintf("HTTP %d %s: %s", hresp.StatusCode, r.Code, e.Message)
	}
	if ra := hresp.Header.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = max(t.Sub(c.now()), 0)
		}
	}
	if hresp.StatusCode != http.StatusOK && (r.Code == CodeValid || r.Code == CodeInGrace) {
		return nil, newError(CodeUnverifiedResponse, fmt.Sprintf("code %s with HTTP status %d", r.Code, hresp.StatusCode))
	}
	return &r, e
}
