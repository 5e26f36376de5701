// Package licensetest lets a product's tests use Storekeep licensing offline: fixed test
// keys, an Issuer that makes license keys and files exactly as docs/license-format.md says,
// and a fake license API server (Server) with signed answers, settable states, machine
// limits and clock. Nothing here is secret: never embed these keys in a product build.
package licensetest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	license "github.com/storekeep/storekeep/sdk/go"
	"github.com/storekeep/storekeep/sdk/go/internal/token"
)

// TestKey returns test signing key n, derived from a fixed seed (SHA-256 of
// "storekeep-licensetest-key-<n>"), the same in every run.
func TestKey(n int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("storekeep-licensetest-key-" + strconv.Itoa(n)))
	return ed25519.NewKeyFromSeed(seed[:])
}

// PublicKeyOf returns the kid and public key of a private key.
func PublicKeyOf(k ed25519.PrivateKey) license.PublicKey {
	pub := k.Public().(ed25519.PublicKey)
	return license.PublicKey{KeyID: license.KeyID(pub), Key: pub}
}

// Spec is what a license key says.
type Spec struct {
	ID           string // lic_…; derived from the other fields when empty
	Product      string
	Edition      string
	Entitlements []string
	IssuedAt     time.Time
	ExpiresAt    time.Time // zero: perpetual
	UpdatesUntil time.Time // zero: no limit
	MaxMachines  int       // 0: unlimited
	// Extra members, to test that verifiers ignore what they do not know.
	Extra map[string]any
}

// FileSpec is what a license file says besides its license.
type FileSpec struct {
	Key         string        // the license key the file stands for
	License     Spec          // the license as it is now (expiry after renewal, entitlements)
	State       license.State // active when empty
	GraceUntil  time.Time
	IssuedAt    time.Time
	ExpiresAt   time.Time
	Fingerprint string // the machine's fingerprint (hashed into fp); "" for any machine
	Extra       map[string]any
}

// Issuer signs keys and files.
type Issuer struct {
	Signer ed25519.PrivateKey
	// Keys are the public keys verifiers trust; the signer's first, then any older ones.
	Keys []license.PublicKey
}

// NewIssuer returns an issuer signing with TestKey(0).
func NewIssuer() *Issuer { return NewIssuerWith(TestKey(0)) }

// NewIssuerWith returns an issuer signing with k, trusting k and the extra keys.
func NewIssuerWith(k ed25519.PrivateKey, trusted ...ed25519.PrivateKey) *Issuer {
	i := &Issuer{Signer: k, Keys: []license.PublicKey{PublicKeyOf(k)}}
	for _, t := range trusted {
		i.Keys = append(i.Keys, PublicKeyOf(t))
	}
	return i
}

// KeyID is the signer's kid.
func (i *Issuer) KeyID() string { return license.KeyID(i.Signer.Public().(ed25519.PublicKey)) }

// Verifier returns a verifier trusting the issuer's keys.
func (i *Issuer) Verifier() *license.Verifier {
	v, err := license.NewVerifier(i.Keys...)
	if err != nil {
		panic(err)
	}
	return v
}

// KeySetJSON is the /.well-known/storekeep-license-keys.json document for the issuer's keys.
func (i *Issuer) KeySetJSON() []byte { return license.MarshalKeySet(i.Keys) }

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// LicenseID derives a stable lic_ id from a seed string (tests want the same id each run).
func LicenseID(seed string) string {
	sum := sha256.Sum256([]byte("lic:" + seed))
	return "lic_" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16])[:26]
}

func (s Spec) id() string {
	if s.ID != "" {
		return s.ID
	}
	return LicenseID(s.Product + "/" + s.Edition + "/" + strconv.FormatInt(unix(s.IssuedAt), 10))
}

// orderedJSON writes members in the given order (the order Storekeep writes them), then the
// extra members.
type member struct {
	name  string
	value any
}

func orderedJSON(ms []member, extra map[string]any) []byte {
	b := []byte{'{'}
	add := func(name string, v any) {
		if len(b) > 1 {
			b = append(b, ',')
		}
		n, _ := json.Marshal(name)
		val, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		b = append(append(append(b, n...), ':'), val...)
	}
	for _, m := range ms {
		add(m.name, m.value)
	}
	// Deterministic order for extras.
	names := make([]string, 0, len(extra))
	for k := range extra {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		add(k, extra[k])
	}
	return append(b, '}')
}

func keyMembers(s Spec, kid string) []member {
	ent := append([]string{}, s.Entitlements...)
	slices.Sort(ent)
	return []member{
		{"v", 1}, {"kid", kid}, {"lic", s.id()}, {"prd", s.Product}, {"ed", s.Edition},
		{"ent", ent}, {"iat", unix(s.IssuedAt)}, {"exp", unix(s.ExpiresAt)},
		{"upd", unix(s.UpdatesUntil)}, {"max", s.MaxMachines},
	}
}

// KeyPayload returns the exact payload bytes of a key for s.
func (i *Issuer) KeyPayload(s Spec) []byte { return orderedJSON(keyMembers(s, i.KeyID()), s.Extra) }

// Key issues a license key.
func (i *Issuer) Key(s Spec) string {
	return token.Sign(token.KeyPrefix, token.KeyDomain, i.KeyPayload(s), i.Signer)
}

// SignKeyPayload signs arbitrary payload bytes as a key (for tests of bad input).
func (i *Issuer) SignKeyPayload(payload []byte) string {
	return token.Sign(token.KeyPrefix, token.KeyDomain, payload, i.Signer)
}

// SignFilePayload signs arbitrary payload bytes as an armoured file.
func (i *Issuer) SignFilePayload(payload []byte) []byte {
	return token.Armour(token.Sign(token.FilePrefix, token.FileDomain, payload, i.Signer))
}

// FilePayload returns the exact payload bytes of a file for f.
func (i *Issuer) FilePayload(f FileSpec) []byte {
	st := f.State
	if st == "" {
		st = license.StateActive
	}
	fp := ""
	if f.Fingerprint != "" {
		fp = license.FingerprintHash(f.Fingerprint)
	}
	ms := append(keyMembers(f.License, i.KeyID()),
		member{"typ", "file"}, member{"key", f.Key}, member{"st", string(st)},
		member{"grace", unix(f.GraceUntil)}, member{"fiat", unix(f.IssuedAt)},
		member{"fexp", unix(f.ExpiresAt)}, member{"fp", fp})
	return orderedJSON(ms, f.Extra)
}

// File issues an armoured license file.
func (i *Issuer) File(f FileSpec) []byte { return i.SignFilePayload(i.FilePayload(f)) }
