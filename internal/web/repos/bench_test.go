package repos_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/storekeep/storekeep/internal/licensing"
	"github.com/storekeep/storekeep/internal/releases"
	"github.com/storekeep/storekeep/internal/repos"
	"github.com/storekeep/storekeep/internal/testutil"
	webrepos "github.com/storekeep/storekeep/internal/web/repos"
)

// benchVersions is the product's number of package versions.
const benchVersions = 1000

// seedVersions writes n published releases of Mailguard with one amd64
// .deb each straight into the tables (publishing a thousand releases
// through the domain would measure nfpm and signing, not the metadata);
// the control paragraphs are the size nfpm's are.
func seedVersions(b *testing.B, w *world, n int) {
	b.Helper()
	ctx := context.Background()
	d := w.s.DB
	var pid int64
	if err := d.QueryRowContext(ctx, `SELECT id FROM products WHERE slug = 'mailguard'`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	now := w.s.Clock.Now()
	// Writes go through a transaction (the writer connection).
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := range n {
			v := fmt.Sprintf("1.%d.%d", i/100, i%100)
			var rid int64
			err := tx.QueryRowContext(ctx, `INSERT INTO releases (product_id, version, version_core, channel, notes, requires, email_gated, created_at, updated_at, published_at)
			VALUES ($1, $2, $2, 'stable', '', '', FALSE, $3, $3, $3) RETURNING id`, pid, v, now).Scan(&rid)
			if err != nil {
				return err
			}
			ctl := fmt.Sprintf("Package: mailguard\nVersion: %s-1\nSection: mail\nPriority: optional\nArchitecture: amd64\nMaintainer: Milterworks <packages@milterworks.example>\n"+
				"Installed-Size: 2048\nDepends: libc6 (>= 2.34), postfix\nHomepage: https://milterworks.example\n"+
				"Description: Stops spam before it reaches inboxes\n Mailguard is a milter for Postfix that scores and rejects spam\n during the SMTP dialogue.\n", v)
			sum := sha256.Sum256([]byte(v))
			_, err = tx.ExecContext(ctx, `INSERT INTO release_artifacts (release_id, file_name, platform, kind, size, sha256, signature, store_key, pkg_name, pkg_version, pkg_arch, pkg_control, created_at)
			VALUES ($1, $2, 'linux/amd64', 'deb', 1048576, $3, 'sig', $4, 'mailguard', $5, 'amd64', $6, $7)`,
				rid, "mailguard_"+v+"-1_amd64.deb", hex.EncodeToString(sum[:]), hex.EncodeToString(sum[:])+"-0000000000000000", v+"-1", ctl, now)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPTMetadata generates and serves a product's APT metadata
// with 1,000 package versions over a real connection, as apt-get update
// fetches it (InRelease, then Packages.gz): "cold" builds and signs it on
// every request (the cache emptied first), "cached" serves what another
// request built. It reports the sizes.
//
//	go test -run '^$' -bench BenchmarkAPTMetadata -benchtime 20x ./internal/web/repos/
func BenchmarkAPTMetadata(b *testing.B) {
	w := newWorld(b, testutil.SQLite(b))
	seedVersions(b, w, benchVersions)
	l := w.issue(b, w.customer, licensing.Policy{Kind: licensing.Perpetual})
	rels, err := releases.Published(context.Background(), w.s.DB, "mailguard")
	if err != nil || len(rels) != benchVersions {
		b.Fatalf("%d releases, %v", len(rels), err)
	}
	srv := httptest.NewServer(w.s.H)
	defer srv.Close()
	fetch := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.SetBasicAuth("license", l.Key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		return len(body)
	}
	a, err := repos.BuildAPT(rels, repos.APTSuite{Suite: repos.SuiteStable, Origin: "Milterworks", Label: "Mailguard", Date: w.s.Clock.Now(), Signer: w.signer})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d versions: Packages %d bytes, Packages.gz %d bytes, InRelease %d bytes, held in the cache %d bytes",
		benchVersions, len(a.Files["main/binary-amd64/Packages"]), len(a.Files["main/binary-amd64/Packages.gz"]), len(a.InRelease), a.Size())
	update := func() {
		fetch("/apt/mailguard/dists/stable/InRelease")
		fetch("/apt/mailguard/dists/stable/main/binary-amd64/Packages.gz")
	}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := repos.BuildAPT(rels, repos.APTSuite{Suite: repos.SuiteStable, Origin: "Milterworks", Label: "Mailguard", Date: w.s.Clock.Now(), Signer: w.signer}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		update()
		for b.Loop() {
			update()
		}
	})
	// An instance whose cache keeps nothing builds on every request.
	defer func(n int) { webrepos.MetadataCacheBytes = n }(webrepos.MetadataCacheBytes)
	webrepos.MetadataCacheBytes = 0
	srv.Config.Handler = w.s.Another(b, w.opts...).H
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			update()
		}
	})
}
