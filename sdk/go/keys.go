package license

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/storekeep/storekeep/sdk/go/internal/token"
)

// PublicKey is one license signing key: its key id and Ed25519 public key.
type PublicKey struct {
	KeyID string
	Key   ed25519.PublicKey
}

// KeyID returns the key id of a public key: the first 8 bytes of SHA-256 over the 32-byte
// key, as 16 lower-case hex digits.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// maxKeySet bounds the well-known document the SDK parses.
const maxKeySet = 64 << 10

// ParseKeySet parses the document published at /.well-known/storekeep-license-keys.json:
// {"keys":[{"kid":"…","alg":"Ed25519","public_key":"<base64url, 32 bytes>"}]}. Every key must
// be Ed25519 and its kid must be the one derived from the key. Unknown members are ignored.
func ParseKeySet(doc []byte) ([]PublicKey, error) {
	if len(doc) > maxKeySet {
		return nil, newError(CodeInvalidKey, "key set larger than 64 KiB")
	}
	var set struct {
		Keys []struct {
			KID       string `json:"kid"`
			Alg       string `json:"alg"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		return nil, wrapError(CodeInvalidKey, "key set is not the well-known JSON", err)
	}
	if len(set.Keys) == 0 {
		return nil, newError(CodeInvalidKey, "key set has no keys")
	}
	out := make([]PublicKey, 0, len(set.Keys))
	for _, k := range set.Keys {
		if k.Alg != "Ed25519" {
			return nil, newError(CodeInvalidKey, fmt.Sprintf("key %q: alg %q, want Ed25519", k.KID, k.Alg))
		}
		raw, err := token.B64.DecodeString(k.PublicKey)
		if err != nil || len(raw) != ed25519.PublicKeySize || strings.ContainsAny(k.PublicKey, "\r\n") {
			return nil, newError(CodeInvalidKey, fmt.Sprintf("key %q: public_key is not 32 bytes of base64url", k.KID))
		}
		out = append(out, PublicKey{KeyID: k.KID, Key: ed25519.PublicKey(raw)})
	}
	return out, nil
}

// MarshalKeySet returns the well-known JSON document for keys (for tests and tools).
func MarshalKeySet(keys []PublicKey) []byte {
	type entry struct {
		KID       string `json:"kid"`
		Alg       string `json:"alg"`
		PublicKey string `json:"public_key"`
	}
	var set struct {
		Keys []entry `json:"keys"`
	}
	set.Keys = []entry{}
	for _, k := range keys {
		set.Keys = append(set.Keys, entry{k.KeyID, "Ed25519", token.B64.EncodeToString(k.Key)})
	}
	b, _ := json.Marshal(set)
	return b
}
