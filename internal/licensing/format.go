package licensing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Version 1 of the format (docs/license-format.md): prefixes and the
// contexts each signature is bound to, so a key's signature can never pass
// for a file's and the other way round.
const (
	FormatVersion = 1
	keyPrefix     = "SK1"
	filePrefix    = "SKF1"
	keyContext    = "storekeep-license-key-v1"
	fileContext   = "storekeep-license-file-v1"
	// MaxKeyLength is the longest key accepted, checked before decoding.
	MaxKeyLength = 4096
	// MaxFileLength is the longest license file accepted, armour included.
	MaxFileLength = 16384
	fileBegin     = "-----BEGIN STOREKEEP LICENSE FILE-----"
	fileEnd       = "-----END STOREKEEP LICENSE FILE-----"
)

// b64 decodes strictly: non-zero trailing bits are refused, so each
// payload has one encoding.
var b64 = base64.RawURLEncoding.Strict()

// Payload is the signed content of a license key, members in the order the
// format lists them.
type Payload struct {
	V            int      `json:"v"`
	KID          string   `json:"kid"`
	License      string   `json:"lic"`
	Product      string   `json:"prd"`
	Edition      string   `json:"ed"`
	Entitlements []string `json:"ent"`
	IssuedAt     int64    `json:"iat"`
	Expires      int64    `json:"exp"` // 0 = perpetual
	UpdatesUntil int64    `json:"upd"` // 0 = no limit
	MaxMachines  int      `json:"max"` // 0 = unlimited
}

// FilePayload is the signed content of a license file: the key's members
// and the state the server knew when it made the file.
type FilePayload struct {
	Payload
	Type        string `json:"typ"` // "file"
	Key         string `json:"key"`
	State       State  `json:"st"`
	Grace       int64  `json:"grace"` // end of the grace period; 0 = none
	FileIssued  int64  `json:"fiat"`
	FileExpires int64  `json:"fexp"`
	Fingerprint string `json:"fp"` // SHA-256 hex of the bound fingerprint; "" = any machine
}

// FormatError is why a key or file was refused: Code is INVALID_KEY or
// UNKNOWN_KEY_ID, Reason says what was wrong, for logs and tests.
type FormatError struct {
	Code   Code
	Reason string
}

func (e *FormatError) Error() string { return string(e.Code) + ": " + e.Reason }

func invalid(format string, args ...any) error {
	return &FormatError{Code: CodeInvalidKey, Reason: fmt.Sprintf(format, args...)}
}

// PublicKeys finds the public key of a key id; Keyring and KeySet are two.
type PublicKeys interface {
	PublicKey(kid string) (ed25519.PublicKey, bool)
}

// KeySet is a fixed set of public keys by key id (a verifier's embedded
// keys, the test vectors).
type KeySet map[string]ed25519.PublicKey

// PublicKey returns the key with id kid.
func (s KeySet) PublicKey(kid string) (ed25519.PublicKey, bool) {
	k, ok := s[kid]
	return k, ok
}

// KeyID is the key id of pub: the first 8 bytes of SHA-256 over it, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// FingerprintHash is how a machine fingerprint is stored and bound into a
// file: SHA-256 of its bytes, in lower-case hex.
func FingerprintHash(fingerprint string) string {
	sum := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(sum[:])
}

// Signer signs with one private key (the active key of a Keyring).
type Signer struct {
	KID  string
	Priv ed25519.PrivateKey
}

func signed(ctxText string, payload []byte) []byte {
	msg := make([]byte, 0, len(ctxText)+1+len(payload))
	msg = append(msg, ctxText...)
	msg = append(msg, 0)
	return append(msg, payload...)
}

func (s Signer) token(prefix, ctxText string, payload []byte) string {
	sig := ed25519.Sign(s.Priv, signed(ctxText, payload))
	return prefix + "." + b64.EncodeToString(payload) + "." + b64.EncodeToString(sig)
}

// MakeKey signs p as a license key; p.V and p.KID are set from s.
func MakeKey(s Signer, p Payload) (string, error) {
	p.V, p.KID = FormatVersion, s.KID
	if p.Entitlements == nil {
		p.Entitlements = []string{}
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode license key: %w", err)
	}
	return s.token(keyPrefix, keyContext, payload), nil
}

// MakeFile signs p as a license file and armours it; p.V, p.KID and
// p.Type are set here.
func MakeFile(s Signer, p FilePayload) ([]byte, error) {
	p.V, p.KID, p.Type = FormatVersion, s.KID, "file"
	if p.Entitlements == nil {
		p.Entitlements = []string{}
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode license file: %w", err)
	}
	tok := s.token(filePrefix, fileContext, payload)
	var b bytes.Buffer
	b.WriteString(fileBegin + "\n")
	for len(tok) > 64 {
		b.WriteString(tok[:64] + "\n")
		tok = tok[64:]
	}
	b.WriteString(tok + "\n" + fileEnd + "\n")
	return b.Bytes(), nil
}

// verify checks a token's prefix and signature and returns the payload
// bytes exactly as signed.
func verify(keys PublicKeys, tok, prefix, ctxText string) ([]byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, invalid("want three parts separated by dots, have %d", len(parts))
	}
	if parts[0] != prefix {
		return nil, invalid("prefix %.8q is not %s", parts[0], prefix)
	}
	if !isB64URL(parts[1]) || !isB64URL(parts[2]) {
		return nil, invalid("a character outside base64url (padding, white space, +, /)")
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, invalid("payload is not base64url: %v", err)
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, invalid("signature is not base64url: %v", err)
	}
	if len(sig) != ed25519.SignatureSize {
		return nil, invalid("signature has %d bytes, want %d", len(sig), ed25519.SignatureSize)
	}
	var head struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, invalid("payload is not JSON: %v", err)
	}
	pub, ok := keys.PublicKey(head.KID)
	if !ok {
		return nil, &FormatError{Code: CodeUnknownKeyID, Reason: fmt.Sprintf("no public key with id %.20q", head.KID)}
	}
	if !ed25519.Verify(pub, signed(ctxText, payload), sig) {
		return nil, invalid("signature does not verify")
	}
	return payload, nil
}

// ParseKey verifies a license key against keys and returns its payload. A
// refusal is a *FormatError with the code INVALID_KEY (malformed,
// truncated, tampered, not ours) or UNKNOWN_KEY_ID.
func ParseKey(keys PublicKeys, key string) (Payload, error) {
	key = strings.TrimSpace(key) // around a pasted key
	if len(key) > MaxKeyLength {
		return Payload{}, invalid("longer than %d bytes", MaxKeyLength)
	}
	payload, err := verify(keys, key, keyPrefix, keyContext)
	if err != nil {
		return Payload{}, err
	}
	if err := checkMembers(payload, keyMembers); err != nil {
		return Payload{}, err
	}
	var p Payload
	if err := json.Unmarshal(payload, &p); err != nil {
		return Payload{}, invalid("payload: %v", err)
	}
	if p.Entitlements == nil {
		p.Entitlements = []string{}
	}
	if p.V != FormatVersion {
		return Payload{}, invalid("format version %d, want %d", p.V, FormatVersion)
	}
	return p, nil
}

// FileToken returns the token between a license file's armour lines: lines
// outside the armour, blank lines and spaces are ignored.
func FileToken(file []byte) (string, error) {
	if len(file) > MaxFileLength {
		return "", invalid("license file longer than %d bytes", MaxFileLength)
	}
	var tok strings.Builder
	in, done := false, false
	for _, line := range strings.Split(string(file), "\n") {
		line = strings.Join(strings.Fields(line), "")
		switch {
		case line == strings.ReplaceAll(fileBegin, " ", "") && !in && !done:
			in = true
		case line == strings.ReplaceAll(fileEnd, " ", "") && in:
			in, done = false, true
		case in:
			tok.WriteString(line)
		}
	}
	if !done {
		return "", invalid("no complete license file armour")
	}
	return tok.String(), nil
}

// ParseFile verifies an armoured license file against keys and returns its
// payload, refusing as ParseKey does; the key inside must verify too and
// name the same license. Whether the file is still current (fexp, fiat
// against the clock) is the caller's decision.
func ParseFile(keys PublicKeys, file []byte) (FilePayload, error) {
	tok, err := FileToken(file)
	if err != nil {
		return FilePayload{}, err
	}
	payload, err := verify(keys, tok, filePrefix, fileContext)
	if err != nil {
		return FilePayload{}, err
	}
	if err := checkMembers(payload, fileMembers); err != nil {
		return FilePayload{}, err
	}
	var p FilePayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return FilePayload{}, invalid("payload: %v", err)
	}
	if p.Entitlements == nil {
		p.Entitlements = []string{}
	}
	switch {
	case p.V != FormatVersion || p.Type != "file":
		return FilePayload{}, invalid("format version %d type %q, want %d file", p.V, p.Type, FormatVersion)
	case p.FileExpires == 0 || p.FileExpires < p.FileIssued:
		return FilePayload{}, invalid("the file expires (%d) before it was issued (%d)", p.FileExpires, p.FileIssued)
	case !slices.Contains([]State{StateActive, StateSuspended, StateRevoked, StateExpired, StateInGrace}, p.State):
		return FilePayload{}, invalid("unknown state %.20q", p.State)
	}
	k, err := ParseKey(keys, p.Key)
	if err != nil {
		return FilePayload{}, err
	}
	if k.License != p.License || k.Product != p.Product {
		return FilePayload{}, invalid("the file's key is of license %s (%s), the file of %s (%s)", k.License, k.Product, p.License, p.Product)
	}
	return p, nil
}
