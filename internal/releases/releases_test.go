package releases_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storekeep/storekeep/internal/audit"
	"github.com/storekeep/storekeep/internal/catalog"
	"github.com/storekeep/storekeep/internal/clock"
	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/refuse"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/releases/releasetest"
	"github.com/storekeep/storekeep/internal/testutil"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fixture is a database with the product "acme", a store and a signing
// key in temporary directories.
type fixture struct {
	rs       *releases.Releases
	clk      *clock.Fixed
	storeDir string
	keyDir   string
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		_, err := catalog.Create(ctx, tx, catalog.NewProduct{Slug: "acme", Name: "Acme Filter"}, t0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	storeDir, keyDir := t.TempDir(), filepath.Join(t.TempDir(), "keys")
	store, err := releases.NewDirStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := releases.GenerateSigningKey(keyDir, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFixed(t0)
	return fixture{rs: &releases.Releases{DB: d, Store: store, Signer: signer, Clock: clk, MaxSize: 1 << 20}, clk: clk, storeDir: storeDir, keyDir: keyDir}
}

// storedFiles lists the files in the store, temporary ones included.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countRows(t *testing.T, d *db.DB, table string) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var staff = audit.Staff(1)

// failingReader yields n bytes, then fails, as a dropped upload does.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset by peer")
	}
	k := min(len(p), f.n)
	for i := range p[:k] {
		p[i] = 'x'
	}
	f.n -= k
	return k, nil
}

func TestReleaseLifecycle(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		rs := f.rs

		rel, err := rs.Create(ctx, staff, releases.NewRelease{Product: "acme", Version: "v1.2.0", Notes: "# Changes\n\n- Faster."})
		if err != nil {
			t.Fatal(err)
		}
		if rel.Version.String() != "1.2.0" || rel.Channel != releases.Stable || rel.State() != "draft" {
			t.Fatalf("created %+v", rel)
		}
		// The same version again, also with build metadata: refused.
		for _, v := range []string{"1.2.0", "1.2.0+build.7"} {
			if _, err := rs.Create(ctx, staff, releases.NewRelease{Product: "acme", Version: v}); !errors.Is(err, releases.ErrExists) {
				t.Errorf("version %s again: %v, want ErrExists", v, err)
			}
		}
		for _, nr := range []releases.NewRelease{{Product: "acme", Version: "1.2"}, {Product: "nope", Version: "1.0.0"},
			{Product: "acme", Version: "1.3.0", Channel: "nightly"}, {Product: "acme", Version: "1.3.0", Notes: "bad\x00notes"}} {
			_, err := rs.Create(ctx, staff, nr)
			if rf, ok := refuse.As(err); !ok || rf.Kind != refuse.Invalid {
				t.Errorf("Create(%+v): %v, want an input refusal", nr, err)
			}
		}
		if n := countRows(t, d, "releases"); n != 1 {
			t.Fatalf("%d releases after the refusals, want 1", n)
		}

		deb := releasetest.Deb(t, "acme-filter", "1.2.0", "amd64")
		rpm := releasetest.RPM(t, "acme-filter", "1.2.0", "arm64")
		tgz := releasetest.Tarball(t, "acme/README", []byte("read me"))
		add := func(name, platform string, content []byte) (releases.Artifact, error) {
			return rs.AddArtifact(ctx, staff, rel.ID, releases.NewArtifact{FileName: name, Platform: platform, Content: bytes.NewReader(content)})
		}
		a, err := add("acme-filter_1.2.0_amd64.deb", "", deb)
		if err != nil {
			t.Fatal(err)
		}
		if a.Kind != releases.Deb || a.Platform != "linux/amd64" || a.Package.Name != "acme-filter" || a.Package.Version != "1.2.0-1" || a.Size != int64(len(deb)) {
			t.Errorf("deb artifact %+v", a)
		}
		if a, err := add("acme-filter-1.2.0-1.aarch64.rpm", "", rpm); err != nil || a.Kind != releases.RPM || a.Platform != "linux/arm64" || a.Package.Arch != "aarch64" {
			t.Errorf("rpm artifact %+v, %v", a, err)
		}
		if a, err := add("acme-1.2.0-src.tar.gz", "any", tgz); err != nil || a.Kind != releases.Tarball {
			t.Errorf("tarball %+v, %v", a, err)
		}
		files := len(storedFiles(t, f.storeDir))

		// Refusals leave no row and no file.
		refusals := []struct {
			name, platform string
			content        io.Reader
			want           error
		}{
			{"acme-filter_1.2.0_amd64.deb", "", bytes.NewReader(deb), releases.ErrExists},       // duplicate name
			{"fake_1.2.0_amd64.deb", "", strings.NewReader("#!/bin/sh\n"), releases.ErrContent}, // not a .deb
			{"../../etc/passwd", "", strings.NewReader("x"), nil},                               // path trick
			{"big.bin", "", bytes.NewReader(make([]byte, 1<<20+1)), nil},                        // too large
			{"cut.tar.gz", "", &failingReader{n: 300 << 10}, nil},                               // the upload fails midway
			{"odd.bin", "Linux/AMD64", strings.NewReader("x"), nil},                             // platform
		}
		for _, c := range refusals {
			_, err := rs.AddArtifact(ctx, staff, rel.ID, releases.NewArtifact{FileName: c.name, Platform: c.platform, Content: c.content})
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("%s: %v, want a refusal (%v)", c.name, err, c.want)
			}
		}
		if n := countRows(t, d, "release_artifacts"); n != 3 {
			t.Errorf("%d artifacts after the refusals, want 3", n)
		}
		if n := len(storedFiles(t, f.storeDir)); n != files {
			t.Errorf("%d files in the store after the refusals, want %d: %v", n, files, storedFiles(t, f.storeDir))
		}

		f.clk.Advance(time.Hour)
		pub, err := rs.Publish(ctx, staff, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pub.State() != "published" || !pub.PublishedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("published %+v", pub)
		}
		lines := strings.Split(strings.TrimSpace(pub.Checksums), "\n")
		if len(lines) != 3 || !strings.HasSuffix(lines[0], "  acme-1.2.0-src.tar.gz") {
			t.Errorf("checksums file:\n%s", pub.Checksums)
		}
		if _, err := add("late.tar.gz", "", tgz); !errors.Is(err, releases.ErrState) {
			t.Errorf("adding to a published release: %v, want ErrState", err)
		}
		if _, err := rs.Publish(ctx, staff, rel.ID); !errors.Is(err, releases.ErrState) {
			t.Errorf("publishing twice: %v", err)
		}
		if _, err := rs.Yank(ctx, staff, rel.ID, " "); err == nil {
			t.Error("yank without a reason accepted")
		}
		y, err := rs.Yank(ctx, staff, rel.ID, "corrupts the configuration on upgrade")
		if err != nil || y.State() != "yanked" || y.YankReason != "corrupts the configuration on upgrade" {
			t.Fatalf("yank: %+v, %v", y, err)
		}
		if _, err := rs.Yank(ctx, staff, rel.ID, "again"); !errors.Is(err, releases.ErrState) {
			t.Errorf("yanking twice: %v", err)
		}

		// Every action is in the audit log, as the staff member.
		entries, err := audit.List(ctx, d, audit.Filter{SubjectType: "release", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range entries {
			if e.ActorType != audit.ActorStaff || e.ActorID != 1 {
				t.Errorf("entry %s by %s %d", e.Action, e.ActorType, e.ActorID)
			}
			actions = append(actions, e.Action)
		}
		got := strings.Join(actions, ",")
		for _, want := range []string{"release.created", "release.artifact_added", "release.published", "release.yanked"} {
			if !strings.Contains(got, want) {
				t.Errorf("audit log %s lacks %s", got, want)
			}
		}
		if _, err := audit.Verify(ctx, d, nil); err != nil {
			t.Errorf("audit chain: %v", err)
		}

		// A draft without files cannot be published; list order is semver's.
		for _, v := range []string{"1.10.0", "1.2.1-rc.1", "1.9.0"} {
			if _, err := rs.Create(ctx, staff, releases.NewRelease{Product: "acme", Version: v, Channel: releases.Beta}); err != nil {
				t.Fatal(err)
			}
		}
		list, err := releases.List(ctx, d, rel.ProductID)
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, s := range list {
			order = append(order, s.Version.String())
		}
		if strings.Join(order, " ") != "1.10.0 1.9.0 1.2.1-rc.1 1.2.0" {
			t.Errorf("list order %v", order)
		}
		if _, err := rs.Publish(ctx, staff, list[0].ID); !errors.Is(err, releases.ErrState) {
			t.Errorf("publishing an empty draft: %v", err)
		}
	})
}

// TestInterruptedUploadLeavesNothing: a reader failing midway and a
// cancelled upload leave no file (not even a temporary one) and no row.
func TestInterruptedUploadLeavesNothing(t *testing.T) {
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		rel, err := f.rs.Create(ctx, staff, releases.NewRelease{Product: "acme", Version: "2.0.0"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.rs.AddArtifact(ctx, staff, rel.ID, releases.NewArtifact{FileName: "acme.tar.gz", Content: &failingReader{n: 200 << 10}})
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("failing reader: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.rs.AddArtifact(cctx, staff, rel.ID, releases.NewArtifact{FileName: "acme.bin", Content: strings.NewReader("abc")}); err == nil {
			t.Error("a cancelled upload was stored")
		}
		if files := storedFiles(t, f.storeDir); len(files) != 0 {
			t.Errorf("files left: %v", files)
		}
		if n := countRows(t, d, "release_artifacts"); n != 0 {
			t.Errorf("%d artifact rows left", n)
		}
	})
}

// TestSignaturesVerifyWithMinisign checks what a customer checks: each
// artifact and the checksums file verify with Debian's minisign against
// the published public key, and a tampered file is refused by it.
func TestSignaturesVerifyWithMinisign(t *testing.T) {
	bin, err := exec.LookPath("minisign")
	if err != nil {
		if testutil.Required() {
			t.Fatal("minisign is not installed (apt-get install minisign)")
		}
		t.Skip("minisign is not installed")
	}
	d := testutil.SQLite(t)
	ctx := context.Background()
	f := newFixture(t, d)
	rel, err := f.rs.Create(ctx, staff, releases.NewRelease{Product: "acme", Version: "3.1.4-beta.2", Channel: releases.Beta})
	if err != nil {
		t.Fatal(err)
	}
	deb := releasetest.Deb(t, "acme-filter", "3.1.4", "amd64")
	a, err := f.rs.AddArtifact(ctx, staff, rel.ID, releases.NewArtifact{FileName: "acme-filter_3.1.4_amd64.deb", Content: bytes.NewReader(deb)})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := f.rs.Publish(ctx, staff, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	key := write("release.pub", f.rs.Signer.PublicKey())
	minisign := func(file, sig string) (string, error) {
		out, err := exec.Command(bin, "-V", "-p", key, "-m", file, "-x", sig).CombinedOutput()
		return string(out), err
	}
	file := write(a.FileName, deb)
	sig := write(a.FileName+".minisig", []byte(a.Signature))
	out, err := minisign(file, sig)
	if err != nil {
		t.Fatalf("minisign refused the artifact: %v\n%s", err, out)
	}
	if !strings.Contains(out, "file:acme-filter_3.1.4_amd64.deb") || !strings.Contains(out, "version:3.1.4-beta.2") || !strings.Contains(out, "timestamp:"+itoa(t0.Unix())) {
		t.Errorf("trusted comment does not name the file, version and time:\n%s", out)
	}
	sums := write("SHA256SUMS", []byte(pub.Checksums))
	sumsSig := write("SHA256SUMS.minisig", []byte(pub.ChecksumsSignature))
	if out, err := minisign(sums, sumsSig); err != nil {
		t.Fatalf("minisign refused the checksums file: %v\n%s", err, out)
	}
	cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}

	// Tampering: one byte of the file, the checksums file, and the
	// trusted comment.
	tampered := bytes.Clone(deb)
	tampered[len(tampered)/2] ^= 1
	write(a.FileName, tampered)
	if out, err := minisign(file, sig); err == nil {
		t.Errorf("minisign accepted a tampered artifact:\n%s", out)
	}
	write("SHA256SUMS", []byte(strings.Replace(pub.Checksums, a.SHA256[:8], "00000000", 1)))
	if out, err := minisign(sums, sumsSig); err == nil {
		t.Errorf("minisign accepted a tampered checksums file:\n%s", out)
	}
	write(a.FileName, deb)
	write(a.FileName+".minisig", []byte(strings.Replace(a.Signature, "version:3.1.4-beta.2", "version:9.9.9", 1)))
	if out, err := minisign(file, sig); err == nil {
		t.Errorf("minisign accepted a signature with a changed trusted comment:\n%s", out)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestLoadSignerChecksTheKeyFiles: a key others can read and a public key
// that is not the secret key's are refused with what to do; a good
// directory loads the same key.
func TestLoadSignerChecksTheKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "key")
	made, err := releases.GenerateSigningKey(dir, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := releases.LoadSigner(dir)
	if err != nil || loaded.KeyID() != made.KeyID() || !bytes.Equal(loaded.PublicKey(), made.PublicKey()) {
		t.Fatalf("loaded %v, %v", loaded, err)
	}
	other, err := releases.GenerateSigningKey(filepath.Join(t.TempDir(), "other"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(dir, releases.PublicKeyFile)
	if err := os.WriteFile(pub, other.PublicKey(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := releases.LoadSigner(dir); err == nil || !strings.Contains(err.Error(), "is not the public key") {
		t.Errorf("a foreign public key: %v", err)
	}
	if err := os.Remove(pub); err != nil {
		t.Fatal(err)
	}
	if _, err := releases.LoadSigner(dir); err != nil {
		t.Errorf("without release.pub: %v", err)
	}
	if b, err := os.ReadFile(pub); err != nil || !bytes.Equal(b, made.PublicKey()) {
		t.Errorf("release.pub written anew: %q, %v", b, err)
	}
	if err := os.Chmod(filepath.Join(dir, releases.SecretKeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := releases.LoadSigner(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key others can read: %v", err)
	}
	if _, err := releases.GenerateSigningKey(dir, rand.Reader); err == nil {
		t.Error("keygen replaced a key")
	}
}
