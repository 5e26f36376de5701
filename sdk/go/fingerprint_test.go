package license_test

import (
	"errors"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	license "github.com/storekeep/storekeep/sdk/go"
)

func fakeFS(files map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestFingerprint(t *testing.T) {
	const mid = "4b1f0a9c2e7d4c1ba3e5f60718293a4b"
	env := map[string]string{}
	files := map[string]string{"/etc/machine-id": mid + "\n", "/run/secrets/fp": " container-7 \n", "/var/lib/dbus/machine-id": "ffffffffffffffffffffffffffffffff\n"}
	opts := license.FingerprintOptions{App: "example-milter", Getenv: func(k string) string { return env[k] }, ReadFile: fakeFS(files)}
	fp, err := license.Fingerprint(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(fp) || strings.Contains(fp, mid) {
		t.Fatalf("fingerprint %q", fp)
	}
	// Stable: the same source gives the same fingerprint (a restart).
	if again, _ := license.Fingerprint(opts); again != fp {
		t.Fatal("not stable")
	}
	// Salted per application.
	other := opts
	other.App = "another-product"
	if fp2, _ := license.Fingerprint(other); fp2 == fp {
		t.Fatal("not salted")
	}
	// Falls back to the D-Bus machine id.
	noEtc := opts
	noEtc.ReadFile = fakeFS(map[string]string{"/var/lib/dbus/machine-id": mid})
	if fp3, _ := license.Fingerprint(noEtc); fp3 != fp {
		t.Fatal("dbus fallback")
	}
	// Overrides: the variable, then the file variable, then an explicit file, each win.
	env[license.FingerprintFileEnv] = "/run/secrets/fp"
	fromFile, _ := license.Fingerprint(opts)
	env[license.FingerprintEnv] = "container-7"
	fromEnv, _ := license.Fingerprint(opts)
	if fromFile == fp || fromFile != fromEnv {
		t.Fatal("overrides", fromFile, fromEnv, fp)
	}
	explicit := opts
	explicit.File = "/etc/machine-id"
	if e, _ := license.Fingerprint(explicit); e != fp {
		t.Fatal("explicit file")
	}
	// Errors: no salt, no identity, an uninitialised machine id, a missing override file.
	if _, err := license.Fingerprint(license.FingerprintOptions{}); err == nil {
		t.Fatal("no App")
	}
	bare := license.FingerprintOptions{App: "x", Getenv: func(string) string { return "" }, ReadFile: fakeFS(map[string]string{"/etc/machine-id": "uninitialized\n"})}
	if _, err := license.Fingerprint(bare); err == nil || !strings.Contains(err.Error(), license.FingerprintEnv) {
		t.Fatal(err)
	}
	missing := explicit
	missing.File = "/nope"
	if _, err := license.Fingerprint(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
}

// TestFingerprintHere runs against this machine, when it has a machine id.
func TestFingerprintHere(t *testing.T) {
	fp, err := license.Fingerprint(license.FingerprintOptions{App: "storekeep-sdk-test"})
	if err != nil {
		t.Skip(err)
	}
	if fp2, _ := license.Fingerprint(license.FingerprintOptions{App: "storekeep-sdk-test"}); fp2 != fp {
		t.Fatal("not stable")
	}
}
