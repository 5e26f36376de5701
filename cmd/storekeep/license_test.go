package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/licensing"
)

// TestLicenseKeygen: keygen writes <kid>.key with mode 0600 and names it
// in active; a second key becomes active and the first stays; the keyring
// loads both; mistakes say what to do.
func TestLicenseKeygen(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "keys")
	out, err := execute(t, ctx, "license", "keygen", "--dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	first, err := os.ReadFile(filepath.Join(dir, "active"))
	if err != nil {
		t.Fatal(err)
	}
	kid1 := strings.TrimSpace(string(first))
	if !strings.Contains(out, kid1) || !strings.Contains(out, "--license-keys "+dir) {
		t.Errorf("keygen said %q", out)
	}
	info, err := os.Stat(filepath.Join(dir, kid1+".key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v; want mode 0600", info, err)
	}
	if _, err := execute(t, ctx, "license", "keygen", "--dir", dir); err != nil {
		t.Fatal(err)
	}
	k, err := licensing.LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Published()) != 2 || k.ActiveKID() == kid1 {
		t.Fatalf("after a second keygen: %d keys, active %s (first %s)", len(k.Published()), k.ActiveKID(), kid1)
	}
	if _, ok := k.PublicKey(kid1); !ok {
		t.Fatal("the first key is gone from the keyring")
	}

	_, err = execute(t, ctx, "license", "keygen")
	var ue usageError
	if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), "--dir") {
		t.Fatalf("keygen without --dir: %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, kid1+".key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := licensing.LoadKeyring(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key others can read: %v", err)
	}
	if _, err := licensing.LoadKeyring(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "storekeep license keygen") {
		t.Fatalf("a missing directory: %v", err)
	}
}
