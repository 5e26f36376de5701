package license

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/storekeep/storekeep/sdk/go/internal/token"
)

// Size limits, checked before anything is decoded.
const (
	// MaxKeyLen is the longest license key accepted (docs/license-format.md).
	MaxKeyLen = 4096
	// MaxFileLen is the largest license file accepted, armour included.
	MaxFileLen = 16 << 10
	// FutureFileTolerance: a license file issued further than this in the verifier's future
	// means the clock was set back (CLOCK_SKEW).
	FutureFileTolerance = 24 * time.Hour
)

// State is a license's state as the server knew it.
type State string

const (
	StateActive    State = "active"
	StateSuspended State = "suspended"
	StateRevoked   State = "revoked"
	StateExpired   State = "expired"
	StateInGrace   State = "in_grace"
)

// License is what a verified key or file says.
type License struct {
	Version      int
	KeyID        string // the kid that signed the key (for a file, the file's signer is FileKeyID)
	ID           string // lic_…
	Product      string
	Edition      string
	Entitlements []string
	IssuedAt     time.Time
	ExpiresAt    time.Time // zero: perpetual
	UpdatesUntil time.Time // zero: no limit
	MaxMachines  int       // 0: unlimited
	Key          string    // the license key

	// Set by VerifyFile only.
	State             State     // the state when the file was made
	GraceUntil        time.Time // zero: no grace period
	FileKeyID         string
	FileIssuedAt      time.Time
	FileExpiresAt     time.Time
	FingerprintSHA256 string // "" when the file is for any machine

	// Code is VALID or IN_GRACE for a usable license (VerifyFile), or the code of the error
	// returned with it. VerifyKey leaves it VALID: a key's signature says what was sold, not
	// whether it is still good.
	Code Code
}

// Perpetual reports whether the license never expires.
func (l License) Perpetual() bool { return l.ExpiresAt.IsZero() }

// Entitled reports whether the license carries the entitlement (feature name).
func (l License) Entitled(feature string) bool {
	for _, e := range l.Entitlements {
		if e == feature {
			return true
		}
	}
	return false
}

// CoversRelease reports whether a release published at t falls within the updates window.
func (l License) CoversRelease(published time.Time) bool {
	return l.UpdatesUntil.IsZero() || !published.After(l.UpdatesUntil)
}

// Verifier verifies keys and files offline against embedded public keys. It is safe for
// concurrent use.
type Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewVerifier returns a verifier for the given public keys. Each kid must be the one the key
// derives (KeyID).
func NewVerifier(keys ...PublicKey) (*Verifier, error) {
	if len(keys) == 0 {
		return nil, newError(CodeInvalidKey, "no public keys")
	}
	v := &Verifier{keys: make(map[string]ed25519.PublicKey, len(keys))}
	for _, k := range keys {
		if len(k.Key) != ed25519.PublicKeySize {
			return nil, newError(CodeInvalidKey, fmt.Sprintf("key %q is not an Ed25519 public key", k.KeyID))
		}
		if want := KeyID(k.Key); k.KeyID != want {
			return nil, newError(CodeInvalidKey, fmt.Sprintf("key id %q does not match its key (%s)", k.KeyID, want))
		}
		v.keys[k.KeyID] = append(ed25519.PublicKey(nil), k.Key...)
	}
	return v, nil
}

// NewVerifierFromJSON returns a verifier for the keys of a well-known key set document,
// typically embedded in the product with go:embed.
func NewVerifierFromJSON(doc []byte) (*Verifier, error) {
	keys, err := ParseKeySet(doc)
	if err != nil {
		return nil, err
	}
	return NewVerifier(keys...)
}

// PublicKey returns the public key with the kid.
func (v *Verifier) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := v.keys[kid]
	return k, ok
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// open splits, decodes, parses and verifies a token.
func (v *Verifier) open(tok, prefix, domain string, need uint32, what string) (*payload, error) {
	pre, rest, ok1 := strings.Cut(tok, ".")
	pb, sb, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 {
		return nil, newError(CodeInvalidKey, what+" is not three parts separated by dots")
	}
	if pre != prefix {
		return nil, newError(CodeInvalidKey, fmt.Sprintf("%s does not start with %s. (format version 1)", what, prefix))
	}
	if pb == "" || !isB64URL(pb) || !isB64URL(sb) {
		return nil, newError(CodeInvalidKey, what+" is not base64url without padding")
	}
	payloadBytes, err := token.B64.DecodeString(pb)
	if err != nil {
		return nil, wrapError(CodeInvalidKey, what+": payload is not base64url", err)
	}
	sig, err := token.B64.DecodeString(sb)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, newError(CodeInvalidKey, what+": signature is not 64 bytes of base64url")
	}
	p, err := parsePayload(payloadBytes, need)
	if err != nil {
		return nil, wrapError(CodeInvalidKey, what+": malformed payload", err)
	}
	pub, ok := v.keys[p.kid]
	if !ok {
		return nil, newError(CodeUnknownKeyID, fmt.Sprintf("%s signed by unknown key id %q", what, p.kid))
	}
	if !ed25519.Verify(pub, token.Message(domain, payloadBytes), sig) {
		return nil, newError(CodeInvalidKey, what+": signature does not verify")
	}
	if p.v != 1 {
		return nil, newError(CodeInvalidKey, fmt.Sprintf("%s: format version %d is not supported (want 1)", what, p.v))
	}
	return p, nil
}

func unix(t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	return time.Unix(t, 0).UTC()
}

// VerifyKey verifies a license key offline: format, key id, signature, version. Leading and
// trailing white space is ignored. A valid key says what was sold; whether the license is
// still good is the API's answer or, offline, a license file's.
func (v *Verifier) VerifyKey(key string) (License, error) {
	if len(key) > MaxKeyLen+64 {
		return License{}, newError(CodeInvalidKey, "license key longer than 4096 bytes")
	}
	key = strings.TrimSpace(key)
	if len(key) > MaxKeyLen {
		return License{}, newError(CodeInvalidKey, "license key longer than 4096 bytes")
	}
	p, err := v.open(key, token.KeyPrefix, token.KeyDomain, keyMembers, "license key")
	if err != nil {
		return License{}, err
	}
	return licenseOf(p, key), nil
}

func licenseOf(p *payload, key string) License {
	return License{
		Version:      int(p.v),
		KeyID:        p.kid,
		ID:           p.lic,
		Product:      p.prd,
		Edition:      p.ed,
		Entitlements: p.ent,
		IssuedAt:     unix(p.iat),
		ExpiresAt:    unix(p.exp),
		UpdatesUntil: unix(p.upd),
		MaxMachines:  int(min(p.max, 1<<31-1)),
		Key:          key,
		Code:         CodeValid,
	}
}

// FingerprintHash is the value a license file's fp member holds for a machine fingerprint:
// the SHA-256 of the fingerprint's bytes, as lower-case hex.
func FingerprintHash(fingerprint string) string {
	sum := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(sum[:])
}

// VerifyFile verifies an armoured license file offline for the machine with the fingerprint,
// at the time now: format, key id, signature, version, the key inside, the clock (CLOCK_SKEW
// for a file issued more than 24 hours in the future), the file's own expiry (FILE_EXPIRED),
// the machine binding (FINGERPRINT_SCOPE_MISMATCH) and the license's state and expiry.
//
// A usable license returns a nil error and Code VALID or IN_GRACE (keep working, warn).
// SUSPENDED, REVOKED and EXPIRED return the License (for messages) with an *Error.
func (v *Verifier) VerifyFile(armoured []byte, fingerprint string, now time.Time) (License, error) {
	if len(armoured) > MaxFileLen {
		return License{}, newError(CodeInvalidKey, "license file larger than 16 KiB")
	}
	tok, err := token.Dearmour(armoured)
	if err != nil {
		return License{}, wrapError(CodeInvalidKey, "not a license file", err)
	}
	p, err := v.open(tok, token.FilePrefix, token.FileDomain, fileMembers, "license file")
	if err != nil {
		return License{}, err
	}
	if p.typ != "file" {
		return License{}, newError(CodeInvalidKey, fmt.Sprintf("license file: typ %q, want \"file\"", p.typ))
	}
	inner, err := v.VerifyKey(p.key)
	if err != nil {
		e := err.(*Error)
		return License{}, &Error{Code: e.Code, Message: "license file: the key inside: " + e.Message, Err: e.Err}
	}
	if inner.ID != p.lic || inner.Product != p.prd {
		return License{}, newError(CodeInvalidKey, "license file: the key inside is for another license")
	}
	if p.fexp == 0 || p.fexp < p.fiat {
		return License{}, newError(CodeInvalidKey, "license file: fexp is not after fiat")
	}
	l := licenseOf(p, p.key)
	l.KeyID = inner.KeyID
	l.State = State(p.st)
	l.GraceUntil = unix(p.grace)
	l.FileKeyID = p.kid
	l.FileIssuedAt = unix(p.fiat)
	l.FileExpiresAt = unix(p.fexp)
	l.FingerprintSHA256 = p.fp

	t := now.Unix()
	if p.fiat > now.Add(FutureFileTolerance).Unix() {
		return License{}, newError(CodeClockSkew, fmt.Sprintf("license file issued at %s, more than 24 hours after this machine's clock (%s): was the clock set back?",
			l.FileIssuedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if t > p.fexp {
		return License{}, newError(CodeFileExpired, "license file expired at "+l.FileExpiresAt.Format(time.RFC3339)+": download a new one")
	}
	if p.fp != "" && !strings.EqualFold(p.fp, FingerprintHash(fingerprint)) {
		return License{}, newError(CodeFingerprintScopeMismatch, "license file is bound to another machine")
	}
	var code Code
	switch l.State {
	case StateSuspended:
		code = CodeSuspended
	case StateRevoked:
		code = CodeRevoked
	case StateExpired:
		code = CodeExpired
	case StateActive, StateInGrace:
		code = CodeValid
		if l.State == StateInGrace {
			code = CodeInGrace
		}
		if p.exp != 0 && t > p.exp {
			code = CodeInGrace
			if p.grace == 0 || t > p.grace {
				code = CodeExpired
			}
		}
	default:
		return License{}, newError(CodeInvalidKey, fmt.Sprintf("license file: unknown state %q", p.st))
	}
	l.Code = code
	switch code {
	case CodeSuspended:
		return l, newError(code, "license suspended")
	case CodeRevoked:
		return l, newError(code, "license revoked")
	case CodeExpired:
		return l, newError(code, "license expired")
	}
	return l, nil
}
