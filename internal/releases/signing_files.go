package releases

import (
	"io"
	"time"

	"aead.dev/minisign"
)

// SignFile signs the content read from r as signRead signs an uploaded
// artifact: a prehashed minisign signature whose trusted comment names the
// time, the file, the product and the version. It is for files made
// outside the release store, such as Storekeep's own release build
// (internal/packaging); with the same key, content and time it gives the
// same signature, since Ed25519 signatures are deterministic.
func (s *Signer) SignFile(r io.Reader, at time.Time, file, product, version string) (string, error) {
	mr := minisign.NewReader(r)
	if _, err := io.Copy(io.Discard, mr); err != nil {
		return "", err
	}
	return s.signRead(mr, at, file, product, version), nil
}
