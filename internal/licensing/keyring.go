package licensing

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Keyring holds the license signing keys: every key loaded (to keep
// verifying what they signed) and the active one, which signs new keys,
// files and API responses. It is read-only once loaded and safe for
// concurrent use.
type Keyring struct {
	active string
	priv   map[string]ed25519.PrivateKey
	kids   []string // sorted
}

// NewKeyring is a keyring of the given keys, the first active (tests, the
// vectors).
func NewKeyring(active ed25519.PrivateKey, others ...ed25519.PrivateKey) *Keyring {
	k := &Keyring{priv: map[string]ed25519.PrivateKey{}}
	for _, p := range append([]ed25519.PrivateKey{active}, others...) {
		kid := KeyID(p.Public().(ed25519.PublicKey))
		k.priv[kid] = p
		k.kids = append(k.kids, kid)
	}
	slices.Sort(k.kids)
	k.active = KeyID(active.Public().(ed25519.PublicKey))
	return k
}

var kidFile = regexp.MustCompile(`^[0-9a-f]{16}\.key$`)

// LoadKeyring reads the directory dir: every <kid>.key (PEM "PRIVATE KEY",
// PKCS #8, Ed25519) and the file active naming the kid that signs. A key
// whose id is not its file name, a key file others can read, or an active
// kid without its key is refused with what to do.
func LoadKeyring(dir string) (*Keyring, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("license keys: %w (create them with: storekeep license keygen --dir %s)", err, dir)
	}
	k := &Keyring{priv: map[string]ed25519.PrivateKey{}}
	for _, e := range entries {
		if !kidFile.MatchString(e.Name()) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("license keys: %w", err)
		}
		if info.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("license key %s can be read by other users (mode %v): run chmod 600 %s", path, info.Mode().Perm(), path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("license keys: %w", err)
		}
		priv, err := parsePrivateKey(raw)
		if err != nil {
			return nil, fmt.Errorf("license key %s: %w", path, err)
		}
		kid := KeyID(priv.Public().(ed25519.PublicKey))
		if kid+".key" != e.Name() {
			return nil, fmt.Errorf("license key %s has the key id %s: rename it to %s.key", path, kid, kid)
		}
		k.priv[kid] = priv
		k.kids = append(k.kids, kid)
	}
	if len(k.kids) == 0 {
		return nil, fmt.Errorf("license keys: no <kid>.key file in %s (create one with: storekeep license keygen --dir %s)", dir, dir)
	}
	slices.Sort(k.kids)
	active, err := os.ReadFile(filepath.Join(dir, "active"))
	if err != nil {
		return nil, fmt.Errorf("license keys: %w (write the signing key's id into %s)", err, filepath.Join(dir, "active"))
	}
	k.active = strings.TrimSpace(string(active))
	if _, ok := k.priv[k.active]; !ok {
		return nil, fmt.Errorf("license keys: %s names %q, but there is no %s.key in %s", filepath.Join(dir, "active"), k.active, k.active, dir)
	}
	return k, nil
}

func parsePrivateKey(raw []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New(`not a PEM "PRIVATE KEY" block`)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS #8 key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, want Ed25519", key)
	}
	return priv, nil
}

// GenerateKey creates a signing key from rand in dir (made 0700 if it does
// not exist), writes it to <kid>.key with mode 0600 and makes it the
// active key. It never overwrites a key file.
func GenerateKey(dir string, rand io.Reader) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return "", fmt.Errorf("generate license key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode license key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("license key directory: %w", err)
	}
	kid := KeyID(pub)
	path := filepath.Join(dir, kid+".key")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("write license key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		_ = f.Close()
		return "", fmt.Errorf("write license key: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write license key: %w", err)
	}
	tmp := filepath.Join(dir, ".active.tmp")
	if err := os.WriteFile(tmp, []byte(kid+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the active key id: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "active")); err != nil {
		return "", fmt.Errorf("write the active key id: %w", err)
	}
	return kid, nil
}

// ActiveKID is the id of the key that signs.
func (k *Keyring) ActiveKID() string { return k.active }

// Signer is the active key.
func (k *Keyring) Signer() Signer { return Signer{KID: k.active, Priv: k.priv[k.active]} }

// Sign signs message with the active key (the API's response signatures)
// and returns the key id with the signature.
func (k *Keyring) Sign(message []byte) (kid string, sig []byte) {
	return k.active, ed25519.Sign(k.priv[k.active], message)
}

// PublicKey returns the public key with id kid.
func (k *Keyring) PublicKey(kid string) (ed25519.PublicKey, bool) {
	p, ok := k.priv[kid]
	if !ok {
		return nil, false
	}
	return p.Public().(ed25519.PublicKey), true
}

// PublishedKey is one entry of /.well-known/storekeep-license-keys.json.
type PublishedKey struct {
	KID       string `json:"kid"`
	Alg       string `json:"alg"`
	PublicKey string `json:"public_key"` // base64url without padding, 32 bytes
}

// Published lists every public key, by key id, as the well-known document
// publishes them: {"keys": k.Published()}.
func (k *Keyring) Published() []PublishedKey {
	out := make([]PublishedKey, 0, len(k.kids))
	for _, kid := range k.kids {
		pub, _ := k.PublicKey(kid)
		out = append(out, PublishedKey{KID: kid, Alg: "Ed25519", PublicKey: b64.EncodeToString(pub)})
	}
	return out
}
