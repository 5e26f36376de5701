// Package repos builds the APT and YUM package repositories that a
// license opens: the indexes of the packages the license covers, signed
// with the vendor's repository key (OpenPGP, as apt and dnf verify it).
package repos

import (
	"bytes"
	"crypto"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// The repository key's files, in the release keys directory beside the
// minisign key: the secret key (mode 0600) and its public half, both
// ASCII-armored.
const (
	KeyFile       = "repo-signing.key"
	PublicKeyFile = "repo-signing.asc"
)

// Signer signs repository metadata (InRelease, Release.gpg,
// repomd.xml.asc) with the repository key: an OpenPGP v4 Ed25519 key,
// which apt's gpgv and dnf's librepo both verify.
type Signer struct {
	entity *openpgp.Entity
	now    func() time.Time
	public []byte // armored
	binary []byte // the public key as a binary keyring (apt's signed-by .gpg)
}

func config(now func() time.Time) *packet.Config {
	return &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, DefaultHash: crypto.SHA512, Time: now}
}

// GenerateKey makes the repository key in dir (made 0700 if needed), named
// after the vendor, and returns its signer. It never replaces a key:
// every customer's apt and dnf trust the public key it has now.
func GenerateKey(dir, vendor string, now func() time.Time) (*Signer, error) {
	if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
		return nil, fmt.Errorf("%s exists already: a repository key is never replaced, because every customer's package manager trusts it", filepath.Join(dir, KeyFile))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	e, err := openpgp.NewEntity(vendor+" package repositories", "", "", config(now))
	if err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	var sec bytes.Buffer
	w, err := armor.Encode(&sec, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.SerializePrivate(w, config(now)); err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	s, err := newSigner(e, now)
	if err != nil {
		return nil, err
	}
	// The secret key is created exclusively: two keygens at once cannot
	// both write one.
	keyPath := filepath.Join(dir, KeyFile)
	f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if _, err := f.Write(sec.Bytes()); err != nil {
		_ = f.Close()
		_ = os.Remove(keyPath)
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(keyPath)
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), s.public, 0o644); err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	return s, nil
}

// ErrNoKey is LoadSigner's answer when dir holds no repository key.
var ErrNoKey = errors.New("no repository key")

// LoadSigner reads the repository key from dir: ErrNoKey when there is
// none; a secret key others can read is refused with what to do.
func LoadSigner(dir string, now func() time.Time) (*Signer, error) {
	p := filepath.Join(dir, KeyFile)
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: run `storekeep release keygen --dir %s` to add one", ErrNoKey, dir, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s can be read by other users: run chmod 600 %s", p, p)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	defer f.Close()
	ring, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil || len(ring) != 1 || ring[0].PrivateKey == nil || ring[0].PrivateKey.Encrypted {
		return nil, fmt.Errorf("%s is not an unencrypted OpenPGP secret key (%v)", p, err)
	}
	return newSigner(ring[0], now)
}

func newSigner(e *openpgp.Entity, now func() time.Time) (*Signer, error) {
	s := &Signer{entity: e, now: now}
	var pub, bin bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := e.Serialize(&bin); err != nil {
		return nil, fmt.Errorf("repository key: %w", err)
	}
	s.public, s.binary = append(pub.Bytes(), '\n'), bin.Bytes()
	return s, nil
}

// PublicKey is the public key, ASCII-armored (dnf's gpgkey=, apt's
// signed-by= accepts it as a .asc file).
func (s *Signer) PublicKey() []byte { return s.public }

// PublicKeyBinary is the public key as a binary keyring, for a
// signed-by= .gpg file.
func (s *Signer) PublicKeyBinary() []byte { return s.binary }

// Fingerprint is the key's fingerprint in upper-case hex, as gpg shows it.
func (s *Signer) Fingerprint() string { return fmt.Sprintf("%X", s.entity.PrimaryKey.Fingerprint) }

// ClearSign returns data clear-signed (APT's InRelease).
func (s *Signer) ClearSign(data []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, s.entity.PrivateKey, config(s.now))
	if err != nil {
		return nil, fmt.Errorf("clear-sign: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return nil, fmt.Errorf("clear-sign: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("clear-sign: %w", err)
	}
	return withChecksum(out.Bytes())
}

// withChecksum adds the armor checksum line (CRC-24, RFC 4880 section
// 6.1) that the library leaves out of clear-signed text, and the final
// line break: without the checksum GnuPG 2.2 (the gpgv that apt runs)
// reads on past the armor's end and refuses the file.
func withChecksum(signed []byte) ([]byte, error) {
	const begin, end = "-----BEGIN PGP SIGNATURE-----\n", "\n-----END PGP SIGNATURE-----"
	i := bytes.Index(signed, []byte(begin))
	j := bytes.LastIndex(signed, []byte(end))
	if i < 0 || j < i {
		return nil, errors.New("clear-sign: no signature block")
	}
	block := signed[i+len(begin) : j]
	if k := bytes.Index(block, []byte("\n\n")); k >= 0 { // armor headers
		block = block[k+2:]
	}
	block = bytes.TrimLeft(block, "\n")
	if bytes.Contains(block, []byte("\n=")) || bytes.HasPrefix(block, []byte("=")) {
		return append(bytes.TrimRight(signed, "\n"), '\n'), nil // has one already
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(block, []byte("\n"), nil)))
	if err != nil {
		return nil, fmt.Errorf("clear-sign: %w", err)
	}
	var crc [4]byte
	binary.BigEndian.PutUint32(crc[:], crc24(raw))
	sum := base64.StdEncoding.EncodeToString(crc[1:])
	var out bytes.Buffer
	out.Write(signed[:j])
	out.WriteString("\n=" + sum + end + "\n")
	return out.Bytes(), nil
}

// crc24 is OpenPGP's armor checksum.
func crc24(b []byte) uint32 {
	const init, poly = 0xB704CE, 0x1864CFB
	crc := uint32(init)
	for _, c := range b {
		crc ^= uint32(c) << 16
		for range 8 {
			crc <<= 1
			if crc&0x1000000 != 0 {
				crc ^= poly
			}
		}
	}
	return crc & 0xFFFFFF
}

// DetachSign returns an armored detached signature of data (APT's
// Release.gpg, YUM's repomd.xml.asc).
func (s *Signer) DetachSign(data []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&out, s.entity, bytes.NewReader(data), config(s.now)); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// Verify checks a detached signature of data by this key (tests).
func (s *Signer) Verify(data, signature []byte) error {
	_, err := openpgp.CheckArmoredDetachedSignature(openpgp.EntityList{s.entity}, bytes.NewReader(data), bytes.NewReader(signature), config(s.now))
	return err
}
