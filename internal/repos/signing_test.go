package repos

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

// TestRepositoryKeyRoundTrip: a generated key loads again, is never
// replaced, refuses a readable secret file, and signs so that it verifies
// (and a changed text does not).
func TestRepositoryKeyRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := GenerateKey(dir, "Example Vendor", clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateKey(dir, "Example Vendor", clockAt(t0)); err == nil {
		t.Fatal("a second keygen replaced the key")
	}
	l, err := LoadSigner(dir, clockAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	if l.Fingerprint() != s.Fingerprint() || len(l.Fingerprint()) != 40 {
		t.Fatalf("loaded %s, made %s", l.Fingerprint(), s.Fingerprint())
	}
	sig, err := l.DetachSign([]byte("Origin: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Verify([]byte("Origin: x\n"), sig); err != nil {
		t.Fatalf("own signature: %v", err)
	}
	if err := s.Verify([]byte("Origin: y\n"), sig); err == nil {
		t.Fatal("a changed text verified")
	}
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(dir, clockAt(t0)); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a readable key: %v", err)
	}
	if _, err := LoadSigner(t.TempDir(), clockAt(t0)); err == nil || !strings.Contains(err.Error(), "keygen") {
		t.Fatalf("no key: %v", err)
	}
}

// TestSignaturesVerifyWithGpgv: what apt runs (gpgv) accepts InRelease
// and Release.gpg made with the key, and refuses them for changed text.
func TestSignaturesVerifyWithGpgv(t *testing.T) {
	gpgv, err := exec.LookPath("gpgv")
	if err != nil {
		if testutil.Required() {
			t.Fatal("gpgv is not installed (Debian's gpgv, which apt uses)")
		}
		t.Skip("gpgv not installed")
	}
	dir := t.TempDir()
	s, err := GenerateKey(dir, "Example Vendor", clockAt(time.Now().Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	ring := filepath.Join(dir, "ring.gpg")
	if err := os.WriteFile(ring, s.PublicKeyBinary(), 0o644); err != nil {
		t.Fatal(err)
	}
	release := []byte("Origin: Example\nSuite: stable\nSHA256:\n abc 12 main/binary-amd64/Packages\n")
	in, err := s.ClearSign(release)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) error {
		out, err := exec.Command(gpgv, append([]string{"--keyring", ring}, args...)...).CombinedOutput()
		t.Logf("gpgv %v: %s", args, out)
		return err
	}
	if err := run(write("InRelease", in)); err != nil {
		t.Fatalf("gpgv refused InRelease: %v", err)
	}
	if err := run(write("InRelease.bad", []byte(strings.Replace(string(in), "Suite: stable", "Suite: stablf", 1)))); err == nil {
		t.Fatal("gpgv accepted a changed InRelease")
	}
	sig, err := s.DetachSign(release)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(write("Release.gpg", sig), write("Release", release)); err != nil {
		t.Fatalf("gpgv refused Release.gpg: %v", err)
	}
	if err := run(filepath.Join(dir, "Release.gpg"), write("Release2", append(release, 'x'))); err == nil {
		t.Fatal("gpgv accepted a changed Release")
	}
}
