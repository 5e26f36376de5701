package releases

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"aead.dev/minisign"
)

// The files of a release signing key directory (storekeep release keygen).
const (
	SecretKeyFile = "release.key" // minisign secret key, unencrypted, mode 0600
	PublicKeyFile = "release.pub" // minisign public key, as published
)

// Signer signs artifacts and checksums files with the release signing
// key, an Ed25519 key in minisign's format, kept in a directory outside
// the database as the license keys are. Customers verify with the
// ordinary minisign tool and the published public key.
type Signer struct {
	priv minisign.PrivateKey
	pub  minisign.PublicKey
}

// GenerateSigningKey creates a release signing key in dir (made 0700 if
// needed): release.key (mode 0600) and release.pub. It never replaces a
// key: customers' verification depends on the public key staying the same.
func GenerateSigningKey(dir string, rand io.Reader) (*Signer, error) {
	pub, priv, err := minisign.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("generate release signing key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("release key directory: %w", err)
	}
	secretPath := filepath.Join(dir, SecretKeyFile)
	if _, err := os.Stat(secretPath); err == nil {
		return nil, fmt.Errorf("%s exists already: a release key is never replaced, since customers verify downloads with its public key (use another --dir to make a new one)", secretPath)
	}
	secret, _ := priv.MarshalText()
	pubText, _ := pub.MarshalText()
	f, err := os.OpenFile(secretPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write release signing key: %w", err)
	}
	if _, err := f.Write(append(secret, '\n')); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write release signing key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write release signing key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, PublicKeyFile), append(pubText, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write release public key: %w", err)
	}
	return &Signer{priv: priv, pub: pub}, nil
}

// LoadSigner reads the release signing key from dir. A key file others
// can read, or a public key that is not the secret key's, is refused with
// what to do.
func LoadSigner(dir string) (*Signer, error) {
	secretPath := filepath.Join(dir, SecretKeyFile)
	info, err := os.Stat(secretPath)
	if err != nil {
		return nil, fmt.Errorf("release signing key: %w (create it with: storekeep release keygen --dir %s)", err, dir)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("release signing key %s can be read by other users (mode %v): run chmod 600 %s", secretPath, info.Mode().Perm(), secretPath)
	}
	raw, err := os.ReadFile(secretPath)
	if err != nil {
		return nil, fmt.Errorf("release signing key: %w", err)
	}
	var priv minisign.PrivateKey
	if err := priv.UnmarshalText(bytes.TrimSpace(raw)); err != nil {
		return nil, fmt.Errorf("release signing key %s: %w (Storekeep signs without a password, so the key is kept unencrypted with mode 0600)", secretPath, err)
	}
	pub := priv.Public().(minisign.PublicKey)
	pubPath := filepath.Join(dir, PublicKeyFile)
	if raw, err := os.ReadFile(pubPath); err == nil {
		var onDisk minisign.PublicKey
		if err := onDisk.UnmarshalText(bytes.TrimSpace(raw)); err != nil || !onDisk.Equal(pub) {
			return nil, fmt.Errorf("%s is not the public key of %s: restore it from a backup, or delete it and Storekeep writes it anew", pubPath, secretPath)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		text, _ := pub.MarshalText()
		if err := os.WriteFile(pubPath, append(text, '\n'), 0o644); err != nil {
			return nil, fmt.Errorf("write release public key: %w", err)
		}
	} else {
		return nil, fmt.Errorf("release public key: %w", err)
	}
	return &Signer{priv: priv, pub: pub}, nil
}

// KeyID is the key's minisign id, as minisign prints it.
func (s *Signer) KeyID() string { return strings.ToUpper(strconv.FormatUint(s.pub.ID(), 16)) }

// PublicKey is the public key in minisign's format, as
// /.well-known/storekeep-release-key.pub serves it and `minisign -p`
// reads it.
func (s *Signer) PublicKey() []byte {
	text, _ := s.pub.MarshalText()
	return append(text, '\n')
}

// trustedComment is what a signature's signed comment says: when, which
// file, of which product and version. minisign -V prints it.
func trustedComment(at time.Time, file, product, version string) string {
	return fmt.Sprintf("timestamp:%d\tfile:%s\tproduct:%s\tversion:%s\thashed", at.Unix(), file, product, version)
}

func (s *Signer) untrusted() string {
	return "signature from Storekeep release key " + s.KeyID()
}

// signRead signs what r has read (the whole file, hashed with BLAKE2b as
// it was stored): minisign's prehashed signature, which `minisign -V`
// verifies.
func (s *Signer) signRead(r *minisign.Reader, at time.Time, file, product, version string) string {
	return string(r.SignWithComments(s.priv, trustedComment(at, file, product, version), s.untrusted()))
}

// signBytes signs a small file (the checksums file) the same way.
func (s *Signer) signBytes(b []byte, at time.Time, file, product, version string) string {
	r := minisign.NewReader(bytes.NewReader(b))
	_, _ = io.Copy(io.Discard, r)
	return s.signRead(r, at, file, product, version)
}

// Verify checks a signature made by this key of content (tests, and a
// check before serving).
func (s *Signer) Verify(content io.Reader, signature string) (bool, error) {
	r := minisign.NewReader(content)
	if _, err := io.Copy(io.Discard, r); err != nil {
		return false, err
	}
	return r.Verify(s.pub, []byte(signature)), nil
}

// Checksums is a release's checksums file in sha256sum's format (one
// "<hex>  <name>" line per artifact, by name), which `sha256sum -c`
// checks.
func Checksums(artifacts []Artifact) string {
	lines := make([]string, 0, len(artifacts))
	for _, a := range artifacts {
		lines = append(lines, a.SHA256+"  "+a.FileName+"\n")
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i][66:] < lines[j][66:] })
	return strings.Join(lines, "")
}
