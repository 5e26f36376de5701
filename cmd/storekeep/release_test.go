package main

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/testutil"
)

// TestReleaseCommands: keygen writes a 0600 key and refuses to replace
// it; publish uploads, signs and publishes (a failed run is finished by
// running it again); the signatures verify with minisign; yank needs a
// reason; mistakes say what to do.
func TestReleaseCommands(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	keys, store, dbPath := filepath.Join(tmp, "key"), filepath.Join(tmp, "store"), filepath.Join(tmp, "sk.db")
	out, err := execute(t, ctx, "release", "keygen", "--dir", keys)
	if err != nil || !strings.Contains(out, "--release-keys "+keys) {
		t.Fatalf("keygen: %v: %s", err, out)
	}
	if info, err := os.Stat(filepath.Join(keys, releases.SecretKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v, %v; want mode 0600", info, err)
	}
	if info, err := os.Stat(filepath.Join(keys, repos.KeyFile)); err != nil || info.Mode().Perm() != 0o600 || !strings.Contains(out, "created the repository key") {
		t.Fatalf("repository key file %v, %v; want mode 0600 (%s)", info, err, out)
	}
	if _, err := execute(t, ctx, "release", "keygen", "--dir", keys); err == nil || !strings.Contains(err.Error(), "never replaced") ||
		!strings.Contains(err.Error(), "both keys") {
		t.Fatalf("a second keygen in the same directory: %v", err)
	}
	// A directory with only the release key (made before repositories
	// existed) gets the repository key, and keeps its release key.
	pub, _ := os.ReadFile(filepath.Join(keys, releases.PublicKeyFile))
	if err := os.Remove(filepath.Join(keys, repos.KeyFile)); err != nil {
		t.Fatal(err)
	}
	out, err = execute(t, ctx, "release", "keygen", "--dir", keys)
	if err != nil || !strings.Contains(out, "kept the release signing key") || !strings.Contains(out, "created the repository key") {
		t.Fatalf("keygen adding the repository key: %v: %s", err, out)
	}
	if again, _ := os.ReadFile(filepath.Join(keys, releases.PublicKeyFile)); string(again) != string(pub) || len(pub) == 0 {
		t.Fatal("keygen replaced the release key")
	}
	if _, err := repos.LoadSigner(keys, time.Now); err != nil {
		t.Fatalf("the repository key does not load: %v", err)
	}

	if _, err := execute(t, ctx, "migrate", "--db", dbPath); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "acme", Name: "Acme"}, time.Now())
		return err
	})
	d.Close()
	if err != nil {
		t.Fatal(err)
	}

	files := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(files, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deb := write("acme_1.0.0_amd64.deb", releasetest.Deb(t, "acme", "1.0.0", "amd64"))
	tgz := write("acme-1.0.0-darwin-arm64.tar.gz", releasetest.Tarball(t, "acme", []byte("binary")))
	fake := write("broken_1.0.0_amd64.deb", []byte("not a package"))
	notes := write("NOTES.md", []byte("First release."))
	common := []string{"--db", dbPath, "--release-keys", keys, "--release-store", store}
	publish := func(args ...string) (string, error) {
		return execute(t, ctx, append(append([]string{"release", "publish"}, common...), args...)...)
	}

	// A bad file stops the run; the draft keeps what was added.
	out, err = publish("--product", "acme", "--version", "1.0.0", "--notes", notes, deb, fake)
	if err == nil || !strings.Contains(err.Error(), "run the same command again") || !strings.Contains(err.Error(), "named like a Debian package") {
		t.Fatalf("publish with a fake .deb: %v\n%s", err, out)
	}
	// Run again with the right files: the .deb is skipped, the rest added.
	out, err = publish("--product", "acme", "--version", "1.0.0", deb, tgz+"=darwin/arm64")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"continuing the draft acme 1.0.0", "acme_1.0.0_amd64.deb is in the draft already",
		"added acme-1.0.0-darwin-arm64.tar.gz: tarball, darwin/arm64", "published acme 1.0.0 with 2 files"} {
		if !strings.Contains(out, want) {
			t.Errorf("publish said:\n%s\nwant %q", out, want)
		}
	}
	if _, err := publish("--product", "acme", "--version", "1.0.0", deb); err == nil || !strings.Contains(err.Error(), "publish a new version") {
		t.Errorf("publishing a published version again: %v", err)
	}
	for _, args := range [][]string{{"--version", "1.0.1", deb}, {"--product", "acme", "--version", "1.0.1", filepath.Join(files, "missing.tar")},
		{"--product", "acme", "--version", "1.0.1", deb, deb}} {
		var ue usageError
		if _, err := publish(args...); !errors.As(err, &ue) {
			t.Errorf("publish %v: %v, want a usage error", args, err)
		}
	}

	// An add-on's build, also offered to anyone who confirms an address.
	if out, err := publish("--product", "acme", "--version", "1.1.0", "--requires", "reports,dkim", "--email-gated", "--draft", tgz); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := publish("--product", "acme", "--version", "1.2.0", "--requires", "Not A Name", tgz); err == nil || !strings.Contains(err.Error(), "is not a feature name") {
		t.Errorf("--requires with a bad name: %v", err)
	}

	// What a customer does: minisign -V with the published key.
	d, err = db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := releases.ByVersion(ctx, d, "acme", "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	addon, err := releases.ByVersion(ctx, d, "acme", "1.1.0")
	d.Close()
	if err != nil || !addon.EmailGated || strings.Join(addon.Requires, ",") != "dkim,reports" {
		t.Fatalf("the add-on's release: %+v, %v", addon, err)
	}
	if rel.Notes != "First release." || len(rel.Artifacts) != 2 {
		t.Errorf("release %+v", rel)
	}
	bin, err := exec.LookPath("minisign")
	if err != nil && testutil.Required() {
		t.Fatal("minisign is not installed (apt-get install minisign)")
	}
	if err == nil {
		for _, a := range rel.Artifacts {
			sig := write(a.FileName+".minisig", []byte(a.Signature))
			if out, err := exec.Command(bin, "-Vq", "-p", filepath.Join(keys, releases.PublicKeyFile), "-m", filepath.Join(files, a.FileName), "-x", sig).CombinedOutput(); err != nil {
				t.Errorf("minisign %s: %v\n%s", a.FileName, err, out)
			}
		}
	}

	yank := func(args ...string) (string, error) {
		return execute(t, ctx, append(append([]string{"release", "yank"}, common...), args...)...)
	}
	if _, err := yank("--product", "acme", "--version", "1.0.0"); err == nil || !strings.Contains(err.Error(), "Say why") {
		t.Errorf("yank without a reason: %v", err)
	}
	if out, err := yank("--product", "acme", "--version", "1.0.0", "--reason", "wrong build"); err != nil || !strings.Contains(out, "withdrew acme 1.0.0") {
		t.Errorf("yank: %v\n%s", err, out)
	}
}
