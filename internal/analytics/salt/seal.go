package salt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
)

// sealInfo starts the HKDF info of every sealing key; the rest binds the
// key to its day, generation and both public keys, so a sealed value moved
// to another row, day or generation does not open.
const sealInfo = "storekeep analytics salt v1"

// sealedSize is the length of a sealed salt: GCM's random nonce (12), the
// salt (32) and the tag (16).
const sealedSize = 12 + 32 + 16

// errRefused is what opening a sealed value that is not genuine reports.
// It says nothing of the value, the keys or the salt, so it can be logged.
var errRefused = errors.New("the sealed salt does not open with this instance's key (forged, corrupt, or sealed to another key)")

// errBadKey is what a public key that is no usable X25519 point gives.
var errBadKey = errors.New("not a usable X25519 public key")

// sealKey derives the AES-256 key one peer uses to seal the salt to
// another: HKDF-SHA256 over their X25519 shared secret. The caller clears
// the result.
func sealKey(private *[32]byte, peerPublic []byte, day string, gen int64, from, to []byte) ([]byte, error) {
	priv, err := ecdh.X25519().NewPrivateKey(private[:])
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(peerPublic)
	if err != nil {
		return nil, errBadKey
	}
	shared, err := priv.ECDH(pub)
	if err != nil { // a low-order point: all-zero shared secret
		return nil, errBadKey
	}
	defer clear(shared)
	info := make([]byte, 0, len(sealInfo)+len(day)+24+len(from)+len(to))
	info = append(info, sealInfo...)
	info = append(info, 0)
	info = append(info, day...)
	info = append(info, 0)
	info = strconv.AppendInt(info, gen, 10)
	info = append(info, 0)
	info = append(info, from...)
	info = append(info, to...)
	return hkdf.Key(sha256.New, shared, nil, string(info), 32)
}

// seal seals salt to the peer whose public key is to, by the peer whose
// private key is private (and public key from).
func seal(private *[32]byte, from, to []byte, day string, gen int64, salt *[32]byte) ([]byte, error) {
	key, err := sealKey(private, to, day, gen, from, to)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := gcm(key)
	if err != nil {
		return nil, err
	}
	// A random nonce: a holder that seals to the same peer twice (after
	// a refused value) uses the same key twice.
	var nonce [12]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	return aead.Seal(nonce[:], nonce[:], salt[:], nil), nil
}

// open opens a salt sealed by the peer whose public key is from to this
// peer (private key private, public key to).
func open(private *[32]byte, to, from []byte, day string, gen int64, sealed []byte, salt *[32]byte) error {
	if len(sealed) != sealedSize {
		return errRefused
	}
	key, err := sealKey(private, from, day, gen, from, to)
	if err != nil {
		return err
	}
	defer clear(key)
	aead, err := gcm(key)
	if err != nil {
		return err
	}
	// Opened into salt's own memory: no second copy to clear.
	n := aead.NonceSize()
	if _, err := aead.Open(salt[:0], sealed[:n], sealed[n:], nil); err != nil {
		clear(salt[:])
		return errRefused
	}
	return nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// publicKey is the X25519 public key of private.
func publicKey(private *[32]byte) ([]byte, error) {
	priv, err := ecdh.X25519().NewPrivateKey(private[:])
	if err != nil {
		return nil, err
	}
	return priv.PublicKey().Bytes(), nil
}
